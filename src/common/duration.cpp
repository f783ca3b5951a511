// Go's time.ParseDuration; see tartan/common/duration.hpp.
#include "tartan/common/duration.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace tartan {

namespace {

// The unit at the front of `text` in nanoseconds, and its length; {0, 0} if none.
std::pair<double, std::size_t> unitAt(std::string_view text) {
  struct Unit {
    std::string_view name;
    double nanoseconds;
  };
  // Longer names first, so "ms" is not read as "m".
  static constexpr Unit kUnits[] = {{"ns", 1},   {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
                                    {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9}};
  for (const Unit& u : kUnits)
    if (text.substr(0, u.name.size()) == u.name) return {u.nanoseconds, u.name.size()};
  return {0, 0};
}

}  // namespace

std::optional<std::chrono::nanoseconds> parseGoDuration(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return std::nullopt;
  double total = 0;
  while (!text.empty()) {
    // A number: digits, optionally a fraction; at least one digit on one side of the point.
    std::size_t i = 0;
    double value = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i++] - '0');
      ++digits;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value += (text[i++] - '0') * scale;
        scale /= 10;
        ++digits;
      }
    }
    if (digits == 0) return std::nullopt;
    text.remove_prefix(i);
    const auto [nanoseconds, length] = unitAt(text);
    if (length == 0) return std::nullopt;  // Go requires a unit on every number but a lone "0"
    text.remove_prefix(length);
    total += value * nanoseconds;
  }
  if (!(total <= static_cast<double>(std::numeric_limits<std::int64_t>::max())))
    return std::nullopt;  // Go: overflow
  const auto ns = static_cast<std::int64_t>(std::llround(total));
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

std::optional<std::chrono::seconds> parseGoDurationSeconds(std::string_view text) {
  const auto d = parseGoDuration(text);
  if (!d) return std::nullopt;
  return std::chrono::floor<std::chrono::seconds>(*d);
}

}  // namespace tartan
