// One Go duration grammar for the model, the agent and bgpd: Go's time.ParseDuration.
#include "tartan/common/duration.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using tartan::parseGoDuration;
using tartan::parseGoDurationSeconds;

TEST_CASE("Go durations parse as time.ParseDuration parses them", "[duration]") {
  struct Case {
    const char* text;
    std::chrono::nanoseconds want;
  };
  const Case valid[] = {
      {"0", 0ns},
      {"90s", 90s},
      {"1m30s", 90s},
      {"1h", 1h},
      {"1.5h", 90min},
      {"500ms", 500ms},
      {"500us", 500us},
      {"500\xC2\xB5s", 500us},
      {"500\xCE\xBCs", 500us},
      {"10ns", 10ns},
      {".5s", 500ms},
      {"1.s", 1s},
      {"+2m", 2min},
      {"-1s", -1s},
      {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
  };
  for (const Case& c : valid) {
    INFO(c.text);
    REQUIRE(parseGoDuration(c.text).has_value());
    CHECK(*parseGoDuration(c.text) == c.want);
  }
  for (const char* text :
       {"", "s", "90", "1.5", ".s", "1d", "1 s", "ten seconds", "1s2", "--1s", "-", "0.0"}) {
    INFO(text);
    CHECK_FALSE(parseGoDuration(text).has_value());
  }
}

TEST_CASE("in whole seconds a duration rounds down", "[duration]") {
  CHECK(parseGoDurationSeconds("1500ms") == std::chrono::seconds(1));
  CHECK(parseGoDurationSeconds("500us") == std::chrono::seconds(0));
  CHECK(parseGoDurationSeconds("2m") == std::chrono::seconds(120));
  CHECK_FALSE(parseGoDurationSeconds("2 minutes").has_value());
}
