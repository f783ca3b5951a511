// tartan/selector/selector.hpp — Calico's label selector language.
//
// What it does: parses a selector string ("app == 'web' && has(tier)") into an immutable
// expression tree, evaluates it against a label map, prints its canonical form and a stable hash of
// that form (the hash names IP sets, so it must never change between releases).
// Owns: nothing shared; a Selector is a value, cheap to copy (shared immutable tree).
// Threading: a parsed Selector may be evaluated from any number of threads at once.
// Failure: parse() returns an Error whose `where` is "column N" (1-based) of the input.
#pragma once

#include "tartan/common/result.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace tartan::selector {

// Labels as Kubernetes and Calico hold them. std::less<> lets lookups take a string_view
// without building a std::string, so evaluation does not allocate.
using Labels = std::map<std::string, std::string, std::less<>>;

struct Node;  // the expression tree; private to the module

class Selector {
 public:
  // The selector "all()", which matches every label set.
  Selector();

  // True if the labels satisfy the selector. Never allocates.
  bool matches(const Labels& labels) const;

  // The canonical form: one spelling for every way of writing the same expression
  // (whitespace, quoting and redundant parentheses normalised), e.g. "(a == \"b\" && has(c))".
  const std::string& canonical() const { return canonical_; }

  // A stable 64-bit hash of canonical(), equal across processes and releases.
  uint64_t hash() const { return hash_; }

  // A printable stable id of the canonical form: "s:" followed by a base64url SHA-224 prefix.
  std::string uniqueId() const;

  bool operator==(const Selector& other) const { return canonical_ == other.canonical_; }

 private:
  friend Result<Selector> parse(std::string_view text);
  Selector(std::shared_ptr<const Node> root, std::string canonical);

  std::shared_ptr<const Node> root_;
  std::string canonical_;
  uint64_t hash_ = 0;
};

// Prints the canonical form (so that test failures and logs show the selector).
inline std::ostream& operator<<(std::ostream& os, const Selector& selector) {
  return os << selector.canonical();
}

// Parses Calico selector syntax. An empty or all-whitespace string is all(), as in Calico.
Result<Selector> parse(std::string_view text);

}  // namespace tartan::selector
