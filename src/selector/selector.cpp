#include "lexer.hpp"
#include "program.hpp"

#include <algorithm>
#include <array>
#include <cassert>

namespace tartan::selector {
namespace {

// FNV-1a, 64-bit (offset basis and prime from the FNV specification). The hash names IP sets
// and chains, so it is spelled out here rather than taken from std::hash, whose value may change
// with the standard library.
constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = kFnvOffsetBasis;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

// Calico quotes a literal with double quotes unless it contains one. A literal never holds both
// kinds (it was read between quotes of one kind), so the printed form always reparses.
void appendQuoted(std::string& out, std::string_view value) {
  const char quote = value.find('"') == std::string_view::npos ? '"' : '\'';
  out += quote;
  out += value;
  out += quote;
}

const char* spelling(Op op) {
  switch (op) {
    case Op::kEq:
      return " == ";
    case Op::kNe:
      return " != ";
    case Op::kContains:
      return " contains ";
    case Op::kStartsWith:
      return " starts with ";
    case Op::kEndsWith:
      return " ends with ";
    case Op::kIn:
      return " in ";
    case Op::kNotIn:
      return " not in ";
    case Op::kAnd:
      return " && ";
    case Op::kOr:
      return " || ";
    default:
      return "";
  }
}

}  // namespace

template <class Lookup>
bool Node::evaluate(uint32_t index, const Lookup& lookup) const {
  const Term& term = terms[index];
  switch (term.op) {
    case Op::kAll:
    case Op::kGlobal:
      // global() matches every label set; its meaning (non-namespaced resources only) is applied
      // by whoever evaluates a namespaceSelector, as in Calico.
      return true;
    case Op::kNot:
      return !evaluate(index + 1, lookup);
    case Op::kAnd:
      for (uint32_t child = index + 1; child < term.end; child = terms[child].end) {
        if (!evaluate(child, lookup)) return false;
      }
      return true;
    case Op::kOr:
      for (uint32_t child = index + 1; child < term.end; child = terms[child].end) {
        if (evaluate(child, lookup)) return true;
      }
      return false;
    default:
      break;
  }
  const std::string* found = lookup(text(term.key));
  const bool present = found != nullptr;
  // An absent label fails every positive test and passes != and not in, as in Calico.
  switch (term.op) {
    case Op::kHas:
      return present;
    case Op::kEq:
      return present && *found == text(term.value);
    case Op::kNe:
      return !present || *found != text(term.value);
    case Op::kContains:
      return present && found->find(text(term.value)) != std::string::npos;
    case Op::kStartsWith:
      return present && found->starts_with(text(term.value));
    case Op::kEndsWith:
      return present && found->ends_with(text(term.value));
    case Op::kIn:
    case Op::kNotIn: {
      bool member = false;
      if (present) {
        auto first = setItems.begin() + term.firstItem;
        auto last = first + term.itemCount;
        const std::string_view value = *found;
        auto it = std::lower_bound(first, last, value,
                                   [this](Span item, std::string_view v) { return text(item) < v; });
        member = it != last && text(*it) == value;
      }
      return term.op == Op::kIn ? member : !member;
    }
    default:
      break;
  }
  assert(false && "unhandled selector op");
  return false;
}

void Node::print(uint32_t index, std::string& out) const {
  const Term& term = terms[index];
  switch (term.op) {
    case Op::kAll:
      out += "all()";
      return;
    case Op::kGlobal:
      out += "global()";
      return;
    case Op::kHas:
      out += "has(";
      out += text(term.key);
      out += ')';
      return;
    case Op::kNot:
      out += '!';
      print(index + 1, out);
      return;
    case Op::kAnd:
    case Op::kOr:
      // Calico wraps every and/or in parentheses, even at the top level.
      out += '(';
      for (uint32_t child = index + 1; child < term.end; child = terms[child].end) {
        if (child != index + 1) out += spelling(term.op);
        print(child, out);
      }
      out += ')';
      return;
    case Op::kIn:
    case Op::kNotIn:
      out += text(term.key);
      out += spelling(term.op);
      out += '{';
      for (uint32_t i = 0; i < term.itemCount; ++i) {
        if (i != 0) out += ", ";
        appendQuoted(out, text(setItems[term.firstItem + i]));
      }
      out += '}';
      return;
    default:
      out += text(term.key);
      out += spelling(term.op);
      appendQuoted(out, text(term.value));
      return;
  }
}

std::shared_ptr<const Node> allNode() {
  static const std::shared_ptr<const Node> kAll = [] {
    auto node = std::make_shared<Node>();
    node->terms.push_back(Term{Op::kAll, 1, {}, {}, 0, 0});
    return std::shared_ptr<const Node>(std::move(node));
  }();
  return kAll;
}

Selector::Selector() : Selector(allNode(), "all()") {}

Selector::Selector(std::shared_ptr<const Node> root, std::string canonical)
    : root_(std::move(root)), canonical_(std::move(canonical)), hash_(fnv1a64(canonical_)) {}

bool Selector::matches(const Labels& labels) const {
  return root_->evaluate(0, [&labels](std::string_view key) -> const std::string* {
    auto it = labels.find(key);
    return it == labels.end() ? nullptr : &it->second;
  });
}

bool Selector::matches(const Labels& labels, const Labels& inherited) const {
  return root_->evaluate(0, [&](std::string_view key) -> const std::string* {
    if (auto it = labels.find(key); it != labels.end()) return &it->second;
    auto it = inherited.find(key);
    return it == inherited.end() ? nullptr : &it->second;
  });
}

std::vector<std::string_view> Selector::labelKeys() const {
  std::vector<std::string_view> keys;
  for (const Term& term : root_->terms) {
    if (term.key.length != 0) keys.push_back(root_->text(term.key));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

size_t Selector::termCount() const { return root_->terms.size(); }

TermView Selector::term(size_t index) const {
  assert(index < root_->terms.size());
  return TermView(root_.get(), static_cast<uint32_t>(index));
}

Operator TermView::op() const { return node_->terms[index_].op; }
uint32_t TermView::end() const { return node_->terms[index_].end; }
std::string_view TermView::key() const { return node_->text(node_->terms[index_].key); }
std::string_view TermView::value() const { return node_->text(node_->terms[index_].value); }
size_t TermView::itemCount() const { return node_->terms[index_].itemCount; }
std::string_view TermView::item(size_t i) const {
  const Term& term = node_->terms[index_];
  assert(i < term.itemCount);
  return node_->text(node_->setItems[term.firstItem + i]);
}

Selector Selector::withKeyPrefix(std::string_view prefix) const {
  // A prefix of other characters would print a canonical form that does not parse: a bug of
  // the caller, whose prefixes are constants ("pcns.", "pcsa.").
  assert(std::all_of(prefix.begin(), prefix.end(), detail::isLabelChar));
  auto node = std::make_shared<Node>(*root_);
  node->arena.clear();
  auto intern = [&](std::string_view head, std::string_view tail) {
    Span span{static_cast<uint32_t>(node->arena.size()), static_cast<uint32_t>(head.size() + tail.size())};
    node->arena.append(head);
    node->arena.append(tail);
    return span;
  };
  for (Term& term : node->terms) {
    if (term.key.length != 0) term.key = intern(prefix, root_->text(term.key));
    if (term.value.length != 0) term.value = intern({}, root_->text(term.value));
  }
  for (Span& item : node->setItems) {
    if (item.length != 0) item = intern({}, root_->text(item));
  }
  std::string canonical;
  node->print(0, canonical);
  return Selector(std::move(node), std::move(canonical));
}

Result<Selector> parse(std::string_view text) {
  Result<std::shared_ptr<const Node>> node = compile(text);
  if (!node) return node.error();
  std::string canonical;
  (*node)->print(0, canonical);
  return Selector(std::move(*node), std::move(canonical));
}

}  // namespace tartan::selector
