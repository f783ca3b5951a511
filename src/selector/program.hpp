// The compiled form of a selector (private to the module).
//
// Why flat: a selector is evaluated millions of times (every endpoint against every selector
// when labels churn) and parsed rarely. So the tree is stored as one pre-order array of terms,
// each knowing where its subtree ends, with every string in one arena: evaluation walks a
// contiguous array, allocates nothing, and looks labels up by string_view.
#pragma once

#include "tartan/selector/selector.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::selector {

// The public Operator, under a short name for the module's own code.
using Op = Operator;

// A slice of Node::arena.
struct Span {
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct Term {
  Op op = Op::kAll;
  // Index one past the last term of this term's subtree; children of kAnd/kOr follow their
  // parent back to back, the next one starting at the previous one's `end`.
  uint32_t end = 0;
  Span key;    // label key (kHas and the comparisons)
  Span value;  // the literal of ==, !=, contains, starts/ends with
  // kIn/kNotIn: the set is Node::setItems[firstItem, firstItem + itemCount), sorted, unique.
  uint32_t firstItem = 0;
  uint32_t itemCount = 0;
};

// The whole expression (the name is the one the public header forward-declares).
struct Node {
  std::vector<Term> terms;  // pre-order; terms[0] is the root
  std::string arena;
  std::vector<Span> setItems;

  std::string_view text(Span span) const { return {arena.data() + span.offset, span.length}; }
  // `lookup(key)` returns the label's value or nullptr if the label is absent.
  template <class Lookup>
  bool evaluate(uint32_t index, const Lookup& lookup) const;
  void print(uint32_t index, std::string& out) const;
};

// Parses into a Node; the public parse() wraps it into a Selector.
Result<std::shared_ptr<const Node>> compile(std::string_view input);

// The Node of all(), shared by every default-constructed Selector.
std::shared_ptr<const Node> allNode();

}  // namespace tartan::selector
