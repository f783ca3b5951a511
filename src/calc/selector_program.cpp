#include "selector_program.hpp"

#include <algorithm>

namespace tartan::calc {

// Reads the canonical form printed by the selector module: and/or always parenthesised with
// " && "/" || " between operands, "!" glued to its operand, literals in double quotes (single
// when the literal holds a double quote), sets as {"a", "b"}.
class ProgramParser {
 public:
  ProgramParser(std::string_view text, Interner* interner) : text_(text), interner_(interner) {}

  bool parse(std::vector<SelectorProgram::Term>& out, std::vector<StrId>& items) {
    out_ = &out;
    items_ = &items;
    if (!expr()) return false;
    return pos_ == text_.size();
  }
  const std::vector<std::size_t>& keyOffsets() const { return keyOffsets_; }

 private:
  using Op = SelectorProgram::Op;
  using Term = SelectorProgram::Term;

  bool eat(std::string_view token) {
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  uint32_t push(Op op) {
    if (out_ != nullptr) out_->push_back(Term{op, 0});
    return static_cast<uint32_t>(count_++);
  }
  void close(uint32_t index) {
    if (out_ != nullptr) (*out_)[index].end = static_cast<uint32_t>(count_);
  }
  Term* term(uint32_t index) { return out_ != nullptr ? &(*out_)[index] : nullptr; }
  StrId intern(std::string_view s) { return interner_ != nullptr ? interner_->intern(s) : kNoStr; }

  bool key(std::string_view& out) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ' ' && text_[pos_] != ')') ++pos_;
    if (pos_ == start) return false;
    keyOffsets_.push_back(start);
    out = text_.substr(start, pos_ - start);
    return true;
  }
  bool literal(std::string_view& out) {
    if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) return false;
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return false;
    out = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }

  bool expr() {
    if (eat("all()") || eat("global()")) {
      close(push(Op::kAll));
      return true;
    }
    if (eat("has(")) {
      const uint32_t index = push(Op::kHas);
      std::string_view k;
      if (!key(k) || !eat(")")) return false;
      if (Term* t = term(index)) t->key = intern(k);
      close(index);
      return true;
    }
    if (eat("!")) {
      const uint32_t index = push(Op::kNot);
      if (!expr()) return false;
      close(index);
      return true;
    }
    if (eat("(")) {
      // The and/or node goes first (pre-order); its op is fixed once the separator is seen.
      const uint32_t index = push(Op::kAnd);
      if (!expr()) return false;
      bool first = true;
      while (!eat(")")) {
        Op op;
        if (eat(" && ")) {
          op = Op::kAnd;
        } else if (eat(" || ")) {
          op = Op::kOr;
        } else {
          return false;
        }
        if (Term* t = term(index); t != nullptr && first) t->op = op;
        first = false;
        if (!expr()) return false;
      }
      close(index);
      return true;
    }
    std::string_view k;
    if (!key(k)) return false;
    struct Binary {
      std::string_view spelling;
      Op op;
    };
    static constexpr Binary kBinary[] = {{" == ", Op::kEq},
                                         {" != ", Op::kNe},
                                         {" contains ", Op::kContains},
                                         {" starts with ", Op::kStarts},
                                         {" ends with ", Op::kEnds},
                                         {" in ", Op::kIn},
                                         {" not in ", Op::kNotIn}};
    for (const Binary& b : kBinary) {
      if (!eat(b.spelling)) continue;
      const uint32_t index = push(b.op);
      if (Term* t = term(index)) t->key = intern(k);
      if (b.op == Op::kIn || b.op == Op::kNotIn) {
        if (!eat("{")) return false;
        std::vector<StrId> items;
        bool firstItem = true;
        while (!eat("}")) {
          if (!firstItem && !eat(", ")) return false;
          firstItem = false;
          std::string_view item;
          if (!literal(item)) return false;
          items.push_back(intern(item));
        }
        std::sort(items.begin(), items.end());
        if (Term* t = term(index)) {
          t->firstItem = static_cast<uint32_t>(items_->size());
          t->itemCount = static_cast<uint32_t>(items.size());
          items_->insert(items_->end(), items.begin(), items.end());
        }
      } else {
        std::string_view value;
        if (!literal(value)) return false;
        if (Term* t = term(index)) t->value = intern(value);
      }
      close(index);
      return true;
    }
    return false;
  }

  std::string_view text_;
  Interner* interner_;
  std::vector<Term>* out_ = nullptr;
  std::vector<StrId>* items_ = nullptr;
  std::size_t count_ = 0;
  std::size_t pos_ = 0;
  std::vector<std::size_t> keyOffsets_;
};

std::shared_ptr<const SelectorProgram> SelectorProgram::compile(std::string_view canonical,
                                                                Interner& interner) {
  auto program = std::make_shared<SelectorProgram>();
  ProgramParser parser(canonical, &interner);
  if (!parser.parse(program->terms_, program->items_)) return nullptr;
  program->terms_.shrink_to_fit();  // thousands of programs live as long as their policies
  program->items_.shrink_to_fit();
  program->computeAnchor(interner.intern("projectcalico.org/orchestrator"));
  return program;
}

bool SelectorProgram::eval(uint32_t index, const LabelView& labels, const Interner& interner) const {
  const Term& t = terms_[index];
  switch (t.op) {
    case Op::kAll:
      return true;
    case Op::kNot:
      return !eval(index + 1, labels, interner);
    case Op::kAnd:
      for (uint32_t child = index + 1; child < t.end; child = terms_[child].end) {
        if (!eval(child, labels, interner)) return false;
      }
      return true;
    case Op::kOr:
      for (uint32_t child = index + 1; child < t.end; child = terms_[child].end) {
        if (eval(child, labels, interner)) return true;
      }
      return false;
    default:
      break;
  }
  const std::optional<StrId> value = labels.get(t.key);
  switch (t.op) {
    case Op::kHas:
      return value.has_value();
    case Op::kEq:
      return value && *value == t.value;
    case Op::kNe:
      return !value || *value != t.value;
    case Op::kIn:
    case Op::kNotIn: {
      const auto first = items_.begin() + t.firstItem;
      const bool member = value && std::binary_search(first, first + t.itemCount, *value);
      return t.op == Op::kIn ? member : !member;
    }
    case Op::kContains:
      return value && interner.text(*value).find(interner.text(t.value)) != std::string_view::npos;
    case Op::kStarts:
      return value && interner.text(*value).starts_with(interner.text(t.value));
    case Op::kEnds:
      return value && interner.text(*value).ends_with(interner.text(t.value));
    default:
      return false;
  }
}

std::vector<Anchor> SelectorProgram::anchors() const {
  auto anchorOf = [this](uint32_t index) -> Anchor {
    const Term& t = terms_[index];
    Anchor a;
    if (t.op == Op::kEq) {
      a.kind = Anchor::Kind::kLabels;
      a.key = t.key;
      a.values = {t.value};
    } else if (t.op == Op::kIn) {
      a.kind = Anchor::Kind::kLabels;
      a.key = t.key;
      a.values.assign(items_.begin() + t.firstItem, items_.begin() + t.firstItem + t.itemCount);
    } else if (t.op == Op::kHas || t.op == Op::kContains || t.op == Op::kStarts || t.op == Op::kEnds) {
      a.kind = Anchor::Kind::kKey;
      a.key = t.key;
    }
    return a;
  };
  // Candidates: the root if it is a positive label test, or any positive operand of a root &&
  // (and of && nested in it): every one of them must hold, so any of them may anchor.
  std::vector<Anchor> out;
  std::vector<uint32_t> pending = {0};
  while (!pending.empty()) {
    const uint32_t index = pending.back();
    pending.pop_back();
    if (terms_[index].op == Op::kAnd) {
      for (uint32_t child = index + 1; child < terms_[index].end; child = terms_[child].end) {
        pending.push_back(child);
      }
      continue;
    }
    Anchor a = anchorOf(index);
    if (a.kind != Anchor::Kind::kNone) out.push_back(std::move(a));
  }
  return out;
}

void SelectorProgram::computeAnchor(StrId orchestratorKey) {
  // Lower is more selective: one value beats a few values beats "has the key".
  // projectcalico.org/orchestrator == "k8s" is on every pod: a last resort.
  auto rank = [orchestratorKey](const Anchor& a) -> std::size_t {
    if (a.kind == Anchor::Kind::kLabels && a.key == orchestratorKey) return 500000;
    if (a.kind == Anchor::Kind::kLabels) return a.values.size();
    if (a.kind == Anchor::Kind::kKey) return 1000000;
    return ~std::size_t{0};
  };
  for (Anchor& a : anchors()) {
    if (rank(a) < rank(anchor_)) anchor_ = std::move(a);
  }
}

std::string prefixSelectorKeys(std::string_view canonical, std::string_view prefix) {
  ProgramParser parser(canonical, nullptr);
  std::vector<SelectorProgram::Term> scratch;
  std::vector<StrId> scratchItems;
  if (!parser.parse(scratch, scratchItems)) return {};
  std::string out;
  out.reserve(canonical.size() + parser.keyOffsets().size() * prefix.size());
  std::size_t last = 0;
  for (std::size_t offset : parser.keyOffsets()) {
    out.append(canonical.substr(last, offset - last));
    out.append(prefix);
    last = offset;
  }
  out.append(canonical.substr(last));
  return out;
}

}  // namespace tartan::calc
