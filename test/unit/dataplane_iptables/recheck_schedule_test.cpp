// When a re-check runs after someone else changed the ruleset: after a quiet spell, never later
// than the burst's limit, and backing off while another writer fights every repair.
#include "tartan/dataplane/iptables/recheck_schedule.hpp"

#include <catch2/catch.hpp>

using namespace tartan::dataplane::iptables;
using namespace std::chrono_literals;
using Clock = RecheckSchedule::Clock;

TEST_CASE("nothing is due until something changes", "[recheck]") {
  RecheckSchedule s;
  const auto t0 = Clock::time_point{} + 1h;
  CHECK_FALSE(s.dueAt().has_value());
  CHECK_FALSE(s.due(t0 + 1h));
  s.checked(t0, false);
  CHECK_FALSE(s.dueAt().has_value());
}

TEST_CASE("a change is re-checked once the ruleset has been quiet for the debounce", "[recheck]") {
  RecheckSchedule s;
  const auto t0 = Clock::time_point{} + 1h;
  s.changed(t0);
  CHECK_FALSE(s.due(t0 + 149ms));
  CHECK(s.due(t0 + 150ms));
  // Another change in the burst moves it on.
  s.changed(t0 + 100ms);
  CHECK_FALSE(s.due(t0 + 200ms));
  CHECK(s.due(t0 + 250ms));
}

TEST_CASE("a burst that never goes quiet is re-checked at its limit", "[recheck]") {
  RecheckSchedule s;
  const auto t0 = Clock::time_point{} + 1h;
  for (auto t = 0ms; t < 2s; t += 50ms) s.changed(t0 + t);
  CHECK(s.dueAt() == t0 + 500ms);
}

TEST_CASE("a check covers the changes seen before it, not those after", "[recheck]") {
  RecheckSchedule s;
  const auto t0 = Clock::time_point{} + 1h;
  s.changed(t0);
  s.checked(t0 + 150ms, false);
  CHECK_FALSE(s.dueAt().has_value());
  s.changed(t0 + 100ms);
  s.changed(t0 + 200ms);  // while the check ran
  s.checked(t0 + 150ms, false);
  CHECK(s.dueAt() == t0 + 350ms);
}

TEST_CASE("a writer that undoes every repair is met with a growing back-off, ended by a clean check",
          "[recheck]") {
  RecheckSchedule s;
  auto t = Clock::time_point{} + 1h;
  // Four repairs in a row, each at debounce speed: no back-off yet (drift of several kinds in a row
  // is no fight).
  for (int i = 0; i < 4; ++i) {
    s.changed(t);
    t = *s.dueAt();
    s.checked(t, true);
  }
  CHECK(s.currentBackoff() == 0s);
  s.changed(t);
  t = *s.dueAt();
  CHECK(t - Clock::time_point{} - 1h < 1s);
  s.checked(t, true);
  CHECK(s.currentBackoff() == 1s);
  s.changed(t + 10ms);
  CHECK(s.dueAt() == t + 1s);
  // It keeps fighting: the back-off doubles up to its limit.
  for (int i = 0; i < 10; ++i) {
    t = *s.dueAt();
    s.checked(t, true);
    s.changed(t + 10ms);
  }
  CHECK(s.currentBackoff() == 30s);
  // A check that finds nothing to repair ends the fight.
  t = *s.dueAt();
  s.checked(t, false);
  CHECK(s.currentBackoff() == 0s);
  s.changed(t + 10s);
  CHECK(s.dueAt() == t + 10s + 150ms);
}

TEST_CASE("repairs far apart are no fight", "[recheck]") {
  RecheckSchedule s;
  auto t = Clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) {
    s.changed(t);
    s.checked(*s.dueAt(), true);
    t += 5s;
  }
  CHECK(s.currentBackoff() == 0s);
}
