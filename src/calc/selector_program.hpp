// selector_program.hpp — a selector compiled against interned labels, with its index anchor.
//
// Why not selector::Selector::matches(): that takes a std::map of strings, which the calc graph
// does not keep (labels are interned ids, split into own + namespace + service-account parts).
// The program is built from the selector's canonical form (selector::parse() validates and
// normalises first, so the canonical text is a small regular grammar) and evaluates over a
// LabelView without allocating. Semantics are the selector module's (Calico's): an absent
// label fails ==, has, in, contains..., and passes != and not in.
//
// The anchor is one label (key, value) set, or one key, that every match must carry; the
// selector index files the selector under it so a label change only re-evaluates the selectors
// anchored on a label the endpoint had or has.
#pragma once

#include "labels.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::calc {

struct Anchor {
  enum class Kind { kNone, kLabels, kKey } kind = Kind::kNone;
  StrId key = kNoStr;
  std::vector<StrId> values;  // kLabels: the selector needs key == one of these
};

class SelectorProgram {
 public:
  // Compiles a canonical selector. Returns nullptr if it does not parse (a bug upstream).
  static std::shared_ptr<const SelectorProgram> compile(std::string_view canonical, Interner& interner);

  bool matches(const LabelView& labels, const Interner& interner) const { return eval(0, labels, interner); }
  // The anchor chosen from the selector alone (fewest values; orchestrator last).
  const Anchor& anchor() const { return anchor_; }
  // Every anchor the selector admits (each positive label test every match must pass), for a
  // caller that knows how many label sets carry each and can pick the rarest. Computed on call.
  std::vector<Anchor> anchors() const;

 private:
  enum class Op : uint8_t { kAll, kHas, kEq, kNe, kContains, kStarts, kEnds, kIn, kNotIn, kNot, kAnd, kOr };
  // 24 bytes: thousands of programs live as long as their policies.
  struct Term {
    Op op;
    uint32_t end;  // one past the subtree
    StrId key = kNoStr;
    StrId value = kNoStr;    // the literal of ==, !=, contains, starts/ends with (interned)
    uint32_t firstItem = 0;  // kIn/kNotIn: items_[firstItem, firstItem + itemCount), sorted
    uint32_t itemCount = 0;
  };
  friend class ProgramParser;
  friend std::string prefixSelectorKeys(std::string_view canonical, std::string_view prefix);
  bool eval(uint32_t index, const LabelView& labels, const Interner& interner) const;
  void computeAnchor(StrId orchestratorKey);

  std::vector<Term> terms_;
  std::vector<StrId> items_;
  Anchor anchor_;
};

// Calico's PrefixVisitor: every label key of the selector gets `prefix` ("pcns.", "pcsa.").
// Input and output are canonical selector text. Returns "" if `canonical` does not parse.
std::string prefixSelectorKeys(std::string_view canonical, std::string_view prefix);

}  // namespace tartan::calc
