// tartan/dataplane/iptables/recheck_schedule.hpp — when to re-check the kernel after someone
// else changed the ruleset.
//
// What: a debounce. Changes arrive in bursts (iptables-nft commits one transaction per command,
// a script runs many), so a re-check waits until the ruleset has been quiet for `quiet`, but no
// longer than `maxDelay` after the first change of a burst. A fight with another writer (it undoes
// each repair at once, we redo it) would otherwise loop at debounce speed: after `fightAfter`
// re-checks in a row that each had to repair, each within `fightWindow` of the last, the next
// waits `backoff`, doubling up to `maxBackoff`; a re-check that finds nothing to repair ends it.
// Pure: times are passed in. Threading: none; one owner.
#pragma once

#include <chrono>
#include <optional>

namespace tartan::dataplane::iptables {

class RecheckSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = Clock::duration;
  struct Options {
    Duration quiet = std::chrono::milliseconds(150);
    Duration maxDelay = std::chrono::milliseconds(500);
    int fightAfter = 5;
    Duration fightWindow = std::chrono::seconds(2);
    Duration backoff = std::chrono::seconds(1);
    Duration maxBackoff = std::chrono::seconds(30);
  };

  RecheckSchedule() = default;
  explicit RecheckSchedule(Options options) : options_(options) {}

  // Someone changed the ruleset at `now`.
  void changed(Clock::time_point now);
  // When the pending re-check is due; nullopt when none is pending.
  std::optional<Clock::time_point> dueAt() const;
  bool due(Clock::time_point now) const {
    auto at = dueAt();
    return at && now >= *at;
  }
  // A re-check ran at `now` (whoever asked for it); `repaired`: it found drift and wrote.
  void checked(Clock::time_point now, bool repaired);

  // The wait a fight currently imposes (zero when there is none), for logs and tests.
  Duration currentBackoff() const { return backoff_; }

 private:
  Options options_;
  std::optional<Clock::time_point> first_, last_;  // the pending burst
  std::optional<Clock::time_point> lastCheck_, lastRepair_;
  int repairsInARow_ = 0;
  Duration backoff_{0};
};

}  // namespace tartan::dataplane::iptables
