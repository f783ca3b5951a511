// tartan/selector/selector.hpp — Calico's label selector language.
//
// What it does: parses a selector string ("app == 'web' && has(tier)") into an immutable
// expression tree, evaluates it against a label map, prints its canonical form and a stable hash of
// that form (the hash names IP sets, so it must never change between releases).
// Owns: nothing shared; a Selector is a value, cheap to copy (shared immutable tree).
// Threading: a parsed Selector may be evaluated from any number of threads at once.
// Failure: parse() returns an Error whose `where` is "column N" (1-based byte column of the
// input) and whose `what` says what was expected; it never throws for any input.
//
// Compatibility: the grammar, the evaluation and the canonical form are Calico's
// (libcalico-go/lib/selector), so the same string selects the same endpoints and uniqueId()
// equals Calico's UniqueID(). In particular: whitespace is only space and tab (a newline is an
// error, as in Calico); strings have no escapes; `a != "x"` and `a not in {...}` match when
// label a is absent; the empty selector is all(); global() matches every label set (its
// "non-namespaced only" meaning belongs to whoever evaluates a namespaceSelector).
// Two deliberate differences, both for inputs no person writes: parentheses nest at most 256
// deep (the parser and evaluator recurse), and "!(!x)" prints as "x" where Calico prints "!!x",
// which would not read back as itself.
#pragma once

#include "tartan/common/result.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::selector {

// Labels as Kubernetes and Calico hold them. std::less<> lets lookups take a string_view
// without building a std::string, so evaluation does not allocate.
using Labels = std::map<std::string, std::string, std::less<>>;

struct Node;  // the expression tree; private to the module

// The kinds of term in an expression.
enum class Operator : uint8_t {
  kAll,
  kGlobal,
  kHas,
  kEq,
  kNe,
  kContains,
  kStartsWith,
  kEndsWith,
  kIn,
  kNotIn,
  kNot,
  kAnd,
  kOr,
};

// A read-only view of one term of a parsed selector, for modules that compile selectors into
// their own form (against interned labels, say) without parsing the text a second time. The
// views point into the Selector's shared tree and stay valid while it or a copy lives.
class TermView {
 public:
  Operator op() const;
  // Index one past the last term of this term's subtree. The operand of kNot is at index + 1;
  // the operands of kAnd/kOr start at index + 1, each next one at the previous one's end().
  uint32_t end() const;
  // The label key of kHas and of the comparisons; empty otherwise.
  std::string_view key() const;
  // The literal of kEq, kNe, kContains, kStartsWith, kEndsWith; empty otherwise.
  std::string_view value() const;
  // The members of kIn/kNotIn, sorted bytewise and unique.
  size_t itemCount() const;
  std::string_view item(size_t i) const;

 private:
  friend class Selector;
  TermView(const Node* node, uint32_t index) : node_(node), index_(index) {}
  const Node* node_;
  uint32_t index_;
};

class Selector {
 public:
  // The selector "all()", which matches every label set.
  Selector();

  // True if the labels satisfy the selector. Never allocates.
  bool matches(const Labels& labels) const;

  // The same over two layers of labels: a key absent from `labels` is looked up in `inherited`
  // (an endpoint's own labels override those it inherits from its namespace or profile, as in
  // Calico's label index), so callers need not build the merged map. Never allocates.
  bool matches(const Labels& labels, const Labels& inherited) const;

  // The label keys the selector reads, sorted and unique (views into the shared tree, valid while
  // this Selector or a copy lives). A change to any other key cannot change matches().
  std::vector<std::string_view> labelKeys() const;

  // The terms of the expression in pre-order; term(0) is the root. all() is one kAll term.
  size_t termCount() const;
  TermView term(size_t index) const;

  // This selector with `prefix` put before every label key, as Calico's PrefixVisitor does
  // ("has(a)" with "pcns." is "has(pcns.a)"). `prefix` must consist of label key characters.
  Selector withKeyPrefix(std::string_view prefix) const;

  // The canonical form: one spelling for every way of writing the same expression
  // (whitespace, quoting and redundant parentheses normalised), e.g. "(a == \"b\" && has(c))".
  const std::string& canonical() const { return canonical_; }

  // A stable 64-bit hash of canonical(), equal across processes and releases.
  uint64_t hash() const { return hash_; }

  // A printable stable id of the canonical form, equal to Calico's UniqueID():
  // "s:" + unpadded base64url(SHA-224("s:" + canonical())).
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

// Selectors as keys of unordered containers (e.g. one IP set per distinct selector).
template <>
struct std::hash<tartan::selector::Selector> {
  size_t operator()(const tartan::selector::Selector& selector) const noexcept {
    return static_cast<size_t>(selector.hash());
  }
};
