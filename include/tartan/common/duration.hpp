// tartan/common/duration.hpp — Go durations ("90s", "1m30s", "500ms", "1.5h"), one grammar for
// every reader: the model's validation, the agent's configuration and bgpd's timers.
//
// The grammar is Go's time.ParseDuration: an optional sign, then one or more decimal numbers
// (with an optional fraction) each followed by a unit of ns, us, µs (U+00B5 or U+03BC), ms, s, m
// or h; "0" alone needs no unit. Pure; errors as an empty optional.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tartan {

std::optional<std::chrono::nanoseconds> parseGoDuration(std::string_view text);

// The duration in whole seconds, rounded down; empty if `text` is not a Go duration.
std::optional<std::chrono::seconds> parseGoDurationSeconds(std::string_view text);

}  // namespace tartan
