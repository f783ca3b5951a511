// tartan/common/log.hpp — one logger per component, each line prefixed with its context.
//
// Components ask for a named logger once ("agent", "bgp", "datastore") and prefix each line with
// the object it concerns (an endpoint, a peer). Every logger writes to the same destinations:
// the screen (standard error, so that a supervisor collects it), and optionally a file and
// syslog, each with a severity of its own. The destinations may change while the process runs
// (the agent follows its configuration's logFilePath and logSeverity* fields): loggers made
// before and after the change write where the latest setDestinations() said.
// Threading: every function may be called from any thread.
// Failure: a log file that cannot be opened is returned as an error; the other destinations are
// set regardless.
#pragma once

#include "tartan/common/result.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace tartan::log {

// The logger for a component, created on first use.
std::shared_ptr<spdlog::logger> get(std::string_view component);

// Sets the screen's severity: "trace", "debug", "info", "warn", "error", "critical", "off".
// Returns false if the name is not a level.
bool setLevel(std::string_view level);

// Where lines go, and from which severity on (spdlog::level::off: not there at all).
struct Destinations {
  spdlog::level::level_enum screen = spdlog::level::info;
  std::string file;  // a path, appended to; empty: no file
  spdlog::level::level_enum fileLevel = spdlog::level::off;
  spdlog::level::level_enum syslogLevel = spdlog::level::off;
  std::string syslogIdent = "tartan";  // the program name syslog records

  bool operator==(const Destinations&) const = default;
};

// Replaces the destinations. A file is opened (its directory created) only when it changes.
Result<void> setDestinations(const Destinations& destinations);
Destinations destinations();

}  // namespace tartan::log
