// Fuzzes the selector parser with arbitrary bytes. Selectors come from users' manifests, so
// parse() must never crash on any input; and whatever parses must print a canonical form that
// parses back to itself and selects exactly the same label sets.
#include "tartan/selector/selector.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tartan::selector::Labels;

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '/' || c == '-';
}

// Label sets to evaluate against: a few fixed ones, and ones built from the words of the input
// itself, so that the fuzzer's own keys and values can be present, absent, or swapped.
std::vector<Labels> labelSets(std::string_view input) {
  std::vector<std::string> words;
  std::string word;
  for (char c : input) {
    if (isWordChar(c)) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  if (words.size() > 64) words.resize(64);

  std::vector<Labels> sets = {{}, {{"a", "b"}}, {{"a", ""}, {"b", "a"}}};
  Labels keysToThemselves, keysToNext, keysToEmpty, everyOther;
  for (size_t i = 0; i < words.size(); ++i) {
    keysToThemselves.emplace(words[i], words[i]);
    keysToNext.emplace(words[i], words[(i + 1) % words.size()]);
    keysToEmpty.emplace(words[i], "");
    if (i % 2 == 0) everyOther.emplace(words[i], words[i]);
  }
  for (Labels* set : {&keysToThemselves, &keysToNext, &keysToEmpty, &everyOther}) {
    sets.push_back(std::move(*set));
  }
  return sets;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = tartan::selector::parse(input);
  if (!parsed) {
    // An error always points inside the input or just past its end.
    if (parsed.error().where.rfind("column ", 0) != 0) __builtin_trap();
    return 0;
  }
  auto reparsed = tartan::selector::parse(parsed->canonical());
  if (!reparsed) __builtin_trap();
  if (reparsed->canonical() != parsed->canonical()) __builtin_trap();
  if (reparsed->hash() != parsed->hash()) __builtin_trap();
  const std::vector<Labels> sets = labelSets(input);
  for (size_t i = 0; i < sets.size(); ++i) {
    const Labels& labels = sets[i];
    if (parsed->matches(labels) != reparsed->matches(labels)) __builtin_trap();
    // Two layers of labels select what their merged map selects.
    const Labels& inherited = sets[(i + 1) % sets.size()];
    Labels merged = inherited;
    for (const auto& [key, value] : labels) merged[key] = value;
    if (parsed->matches(labels, inherited) != parsed->matches(merged)) __builtin_trap();
  }
  if (parsed->labelKeys() != reparsed->labelKeys()) __builtin_trap();

  // The tree view covers every term; a prefixed selector prints a form that reads back.
  if (parsed->term(0).end() != parsed->termCount()) __builtin_trap();
  const tartan::selector::Selector prefixed = parsed->withKeyPrefix("pcns.");
  auto prefixedAgain = tartan::selector::parse(prefixed.canonical());
  if (!prefixedAgain || prefixedAgain->canonical() != prefixed.canonical()) __builtin_trap();
  return 0;
}
