// Recursive-descent parser of Calico's selector grammar:
//
//   selector  := <empty> | or
//   or        := and ( '||' and )*
//   and       := operation ( '&&' operation )*
//   operation := '!'* ( 'all()' | 'global()' | 'has(' label ')' | '(' or ')'
//                     | label ( '==' | '!=' | 'contains' | 'starts with' | 'ends with' ) string
//                     | label ( 'in' | 'not in' ) '{' [ string ( ',' string )* [','] ] '}' )
//
// As in Calico: a run of '!' collapses to one negation or none; '(' ')' build no node of
// their own; an and/or of one operand is that operand; set members are sorted and de-duplicated.
#include "lexer.hpp"
#include "program.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <limits>

namespace tartan::selector {
namespace {

using detail::Token;
using detail::TokenKind;

// Parentheses may nest this deep. Calico has no limit (Go stacks grow); ours is the bound on
// the recursion of parsing, evaluating and printing, far above any selector a person writes.
constexpr int kMaxNesting = 256;

// The tree as parsed, before it is flattened into a Node. Strings are views into the input.
struct Expr {
  Op op = Op::kAll;
  std::string_view key;
  std::string_view value;
  std::vector<std::string_view> set;
  std::vector<Expr> children;
};

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  Result<Expr> parseSelector() {
    if (peek().kind == TokenKind::kEnd) return Expr{};  // the empty selector is all()
    Result<Expr> expr = parseOr();
    if (!expr) return expr;
    if (peek().kind != TokenKind::kEnd) {
      return fail(peek(), fmt::format("unexpected {} (expected '&&', '||' or the end)", describe(peek())));
    }
    return expr;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  // Callers check peek() first, so this never moves past the final kEnd.
  const Token& take() {
    assert(tokens_[pos_].kind != TokenKind::kEnd);
    return tokens_[pos_++];
  }
  static Error fail(const Token& at, std::string what) {
    return makeError(detail::columnAt(at.offset), "", std::move(what));
  }

  // One or more operands joined by `joiner`, each parsed by `operand`.
  template <class Operand>
  Result<Expr> parseList(TokenKind joiner, Op op, Operand operand) {
    Result<Expr> first = (this->*operand)();
    if (!first) return first;
    if (peek().kind != joiner) return first;
    Expr list;
    list.op = op;
    list.children.push_back(std::move(*first));
    while (peek().kind == joiner) {
      take();
      Result<Expr> next = (this->*operand)();
      if (!next) return next;
      list.children.push_back(std::move(*next));
    }
    return list;
  }

  Result<Expr> parseOr() { return parseList(TokenKind::kOr, Op::kOr, &Parser::parseAnd); }
  Result<Expr> parseAnd() { return parseList(TokenKind::kAnd, Op::kAnd, &Parser::parseOperation); }

  Result<Expr> parseOperation() {
    bool negated = false;
    while (peek().kind == TokenKind::kNot) {
      take();
      negated = !negated;
    }
    Result<Expr> expr = parseTerm();
    if (!expr || !negated) return expr;
    // "!(!x)" is x. Calico keeps both negations and prints "!!x", which reads back as x: a
    // canonical form that is not its own canonical form. Cancelling them here keeps
    // parse(canonical()) == canonical() for every selector.
    if (expr->op == Op::kNot) {
      Expr inner = std::move(expr->children.front());
      return inner;
    }
    Expr notExpr;
    notExpr.op = Op::kNot;
    notExpr.children.push_back(std::move(*expr));
    return notExpr;
  }

  Result<Expr> parseTerm() {
    if (peek().kind == TokenKind::kEnd) {
      return fail(peek(), "unexpected end of selector (expected an expression)");
    }
    const Token& token = take();
    Expr expr;
    switch (token.kind) {
      case TokenKind::kAll:
        expr.op = Op::kAll;
        return expr;
      case TokenKind::kGlobal:
        expr.op = Op::kGlobal;
        return expr;
      case TokenKind::kHas:
        expr.op = Op::kHas;
        expr.key = token.text;
        return expr;
      case TokenKind::kLabel:
        return parseComparison(token);
      case TokenKind::kLParen:
        return parseParenthesised(token);
      default:
        return fail(token, fmt::format("unexpected {}", describe(token)));
    }
  }

  Result<Expr> parseParenthesised(const Token& open) {
    if (++depth_ > kMaxNesting) {
      return fail(open, fmt::format("parentheses nest deeper than {} levels", kMaxNesting));
    }
    Result<Expr> inner = parseOr();
    if (!inner) return inner;
    if (peek().kind != TokenKind::kRParen) {
      return fail(peek(), fmt::format("expected ')' to close the '(' at column {}, found {}", open.offset + 1,
                                      describe(peek())));
    }
    take();
    --depth_;
    return inner;
  }

  Result<Expr> parseComparison(const Token& label) {
    Expr expr;
    expr.key = label.text;
    const Token& op = peek();
    const char* spelling = nullptr;
    switch (op.kind) {
      case TokenKind::kEq:
        expr.op = Op::kEq;
        spelling = "==";
        break;
      case TokenKind::kNe:
        expr.op = Op::kNe;
        spelling = "!=";
        break;
      case TokenKind::kContains:
        expr.op = Op::kContains;
        spelling = "contains";
        break;
      case TokenKind::kStartsWith:
        expr.op = Op::kStartsWith;
        spelling = "starts with";
        break;
      case TokenKind::kEndsWith:
        expr.op = Op::kEndsWith;
        spelling = "ends with";
        break;
      case TokenKind::kIn:
        expr.op = Op::kIn;
        break;
      case TokenKind::kNotIn:
        expr.op = Op::kNotIn;
        break;
      default:
        return fail(op, fmt::format("expected an operator after label '{}', found {}",
                                    detail::shown(label.text), describe(op)));
    }
    take();
    if (spelling != nullptr) {
      if (peek().kind != TokenKind::kString) {
        return fail(peek(), fmt::format("expected a string after {}, found {}", spelling, describe(peek())));
      }
      expr.value = take().text;
      return expr;
    }
    return parseSet(std::move(expr), op.kind == TokenKind::kIn ? "in" : "not in");
  }

  Result<Expr> parseSet(Expr expr, const char* spelling) {
    if (peek().kind != TokenKind::kLBrace) {
      return fail(peek(),
                  fmt::format("expected a set literal '{{' after {}, found {}", spelling, describe(peek())));
    }
    take();
    // Members separated by commas; Calico allows one trailing comma and the empty set.
    while (peek().kind == TokenKind::kString) {
      expr.set.push_back(take().text);
      if (peek().kind != TokenKind::kComma) break;
      take();
    }
    if (peek().kind != TokenKind::kRBrace) {
      return fail(peek(), fmt::format("expected a string or '}}' in the set, found {}", describe(peek())));
    }
    take();
    std::sort(expr.set.begin(), expr.set.end());
    expr.set.erase(std::unique(expr.set.begin(), expr.set.end()), expr.set.end());
    return expr;
  }

  const std::vector<Token>& tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// Appends `expr` and its subtree to `node` in pre-order.
class Flattener {
 public:
  explicit Flattener(Node& node) : node_(node) {}

  void add(const Expr& expr) {
    const auto index = static_cast<uint32_t>(node_.terms.size());
    node_.terms.push_back(Term{});
    Term term;
    term.op = expr.op;
    term.key = intern(expr.key);
    term.value = intern(expr.value);
    term.firstItem = static_cast<uint32_t>(node_.setItems.size());
    term.itemCount = static_cast<uint32_t>(expr.set.size());
    for (std::string_view item : expr.set) node_.setItems.push_back(intern(item));
    for (const Expr& child : expr.children) add(child);
    term.end = static_cast<uint32_t>(node_.terms.size());
    node_.terms[index] = term;
  }

 private:
  Span intern(std::string_view text) {
    if (text.empty()) return {};
    Span span{static_cast<uint32_t>(node_.arena.size()), static_cast<uint32_t>(text.size())};
    node_.arena.append(text);
    return span;
  }

  Node& node_;
};

}  // namespace

Result<std::shared_ptr<const Node>> compile(std::string_view input) {
  // Offsets in a Node are 32-bit; no real selector comes near this.
  if (input.size() > std::numeric_limits<int32_t>::max()) {
    return makeError(detail::columnAt(0), "", "selector longer than 2 GiB");
  }
  Result<std::vector<Token>> tokens = detail::tokenize(input);
  if (!tokens) return tokens.error();
  Result<Expr> expr = Parser(*tokens).parseSelector();
  if (!expr) return expr.error();
  auto node = std::make_shared<Node>();
  Flattener(*node).add(*expr);
  return std::shared_ptr<const Node>(std::move(node));
}

}  // namespace tartan::selector
