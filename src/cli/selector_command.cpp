// selector: print a selector's canonical form, or test it against labels — exit 0 on a match,
// 1 on no match, 2 on an invalid selector or labels, as grep does.
#include "cli.hpp"

#include "tartan/selector/selector.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace tartan::cli {

namespace {

constexpr int kInvalid = 2;

// "--labels" takes a JSON object of strings or "k=v,k2=v2".
Result<selector::Labels> parseLabels(const std::string& text) {
  selector::Labels labels;
  auto first = text.find_first_not_of(" \t\n");
  if (first != std::string::npos && text[first] == '{') {
    auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object())
      return makeError("--labels", "", "is not a JSON object of strings");
    for (auto it = json.begin(); it != json.end(); ++it) {
      if (!it.value().is_string()) return makeError("--labels", it.key(), "the value must be a string");
      labels.emplace(it.key(), it.value().get<std::string>());
    }
    return labels;
  }
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string pair = text.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      return makeError("--labels", "", "\"" + pair + "\" is not key=value");
    labels[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return labels;
}

}  // namespace

int runSelector(const Context& ctx, const std::string& expression, const std::optional<std::string>& labels) {
  auto parsed = selector::parse(expression);
  if (!parsed) {
    *ctx.err << "tartanctl: invalid selector: " << parsed.error().toString() << "\n";
    return kInvalid;
  }
  if (!labels) {
    *ctx.out << parsed->canonical() << "\n";
    return 0;
  }
  auto labelMap = parseLabels(*labels);
  if (!labelMap) {
    *ctx.err << "tartanctl: " << labelMap.error().toString() << "\n";
    return kInvalid;
  }
  bool match = parsed->matches(*labelMap);
  *ctx.out << (match ? "match" : "no match") << ": " << parsed->canonical() << "\n";
  return match ? 0 : 1;
}

}  // namespace tartan::cli
