// tartan/common/log.hpp — one logger per component, each line prefixed with its context.
//
// Components ask for a named logger once ("agent", "bgp", "datastore") and prefix each line with
// the object it concerns (an endpoint, a peer). The severity is set once for the process from a
// --log-level flag; logs go to stderr so that a supervisor collects them.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace tartan::log {

// The logger for a component, created on first use.
std::shared_ptr<spdlog::logger> get(std::string_view component);

// Sets the level of every logger: "trace", "debug", "info", "warn", "error", "off".
// Returns false if the name is not a level.
bool setLevel(std::string_view level);

}  // namespace tartan::log
