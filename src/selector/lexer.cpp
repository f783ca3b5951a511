#include "lexer.hpp"

#include <fmt/format.h>

namespace tartan::selector::detail {
namespace {

// Calico's tokenizer skips only spaces and tabs; a newline is an unexpected character there too.
bool isSpace(char c) { return c == ' ' || c == '\t'; }

std::string printable(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", byte);
}

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  Result<std::vector<Token>> run() {
    for (;;) {
      skipSpace();
      if (pos_ >= input_.size()) {
        tokens_.push_back({TokenKind::kEnd, {}, input_.size()});
        return std::move(tokens_);
      }
      bool afterLabel = !tokens_.empty() && tokens_.back().kind == TokenKind::kLabel;
      if (auto error = next(afterLabel)) return std::move(*error);
    }
  }

 private:
  void skipSpace() {
    while (pos_ < input_.size() && isSpace(input_[pos_])) ++pos_;
  }
  bool startsWith(std::string_view word) const { return input_.substr(pos_).starts_with(word); }
  void emit(TokenKind kind, size_t start, std::string_view text = {}) {
    tokens_.push_back({kind, text, start});
  }
  static std::optional<Error> fail(size_t offset, std::string what) {
    return makeError(columnAt(offset), "", std::move(what));
  }
  // Calico's tokenizer reads a label as 1 to 512 label characters; a longer run is no label.
  static constexpr size_t kMaxLabelLength = 512;
  static std::optional<Error> labelTooLong(size_t offset, size_t length) {
    return fail(offset, fmt::format("label too long ({} > {} bytes)", length, kMaxLabelLength));
  }
  size_t labelLength() const {
    size_t end = pos_;
    while (end < input_.size() && isLabelChar(input_[end])) ++end;
    return end - pos_;
  }

  // Reads one token at pos_ (not whitespace, not the end); returns an error if there is none.
  std::optional<Error> next(bool afterLabel) {
    const size_t start = pos_;
    const char c = input_[pos_];
    switch (c) {
      case '(':
        ++pos_;
        emit(TokenKind::kLParen, start);
        return std::nullopt;
      case ')':
        ++pos_;
        emit(TokenKind::kRParen, start);
        return std::nullopt;
      case '{':
        ++pos_;
        emit(TokenKind::kLBrace, start);
        return std::nullopt;
      case '}':
        ++pos_;
        emit(TokenKind::kRBrace, start);
        return std::nullopt;
      case ',':
        ++pos_;
        emit(TokenKind::kComma, start);
        return std::nullopt;
      case '"':
      case '\'': {
        // No escapes: the literal ends at the next quote of the same kind, as in Calico.
        size_t close = input_.find(c, pos_ + 1);
        if (close == std::string_view::npos) {
          return fail(start, fmt::format("unterminated string: no closing {} for this quote",
                                         c == '"' ? "'\"'" : "\"'\""));
        }
        emit(TokenKind::kString, start, input_.substr(pos_ + 1, close - pos_ - 1));
        pos_ = close + 1;
        return std::nullopt;
      }
      case '=':
        return twoChar('=', TokenKind::kEq, "expected '==' but found a single '='");
      case '&':
        return twoChar('&', TokenKind::kAnd, "expected '&&' but found a single '&'");
      case '|':
        return twoChar('|', TokenKind::kOr, "expected '||' but found a single '|'");
      case '!':
        if (pos_ + 1 < input_.size() && input_[pos_ + 1] == '=') {
          pos_ += 2;
          emit(TokenKind::kNe, start);
        } else {
          ++pos_;
          emit(TokenKind::kNot, start);
        }
        return std::nullopt;
      default:
        break;
    }
    if (afterLabel) return labelOperator();
    if (startsWith("has(")) return hasCall();
    if (startsWith("all(")) return emptyCall("all(", TokenKind::kAll);
    if (startsWith("global(")) return emptyCall("global(", TokenKind::kGlobal);
    if (size_t length = labelLength()) {
      if (length > kMaxLabelLength) return labelTooLong(start, length);
      emit(TokenKind::kLabel, start, input_.substr(start, length));
      pos_ += length;
      return std::nullopt;
    }
    return fail(start, fmt::format("unexpected character {}", printable(c)));
  }

  std::optional<Error> twoChar(char second, TokenKind kind, const char* what) {
    const size_t start = pos_;
    if (pos_ + 1 < input_.size() && input_[pos_ + 1] == second) {
      pos_ += 2;
      emit(kind, start);
      return std::nullopt;
    }
    return fail(start, what);
  }

  // After a label only a word operator may follow (symbols were handled by the caller). Like
  // Calico, the words are matched as prefixes, without a word boundary.
  std::optional<Error> labelOperator() {
    const size_t start = pos_;
    const std::string_view label = tokens_.back().text;
    if (startsWith("contains")) {
      pos_ += 8;
      emit(TokenKind::kContains, start);
      return std::nullopt;
    }
    struct TwoWord {
      std::string_view first, second;
      TokenKind kind;
    };
    for (const TwoWord& op :
         {TwoWord{"starts", "with", TokenKind::kStartsWith}, TwoWord{"ends", "with", TokenKind::kEndsWith},
          TwoWord{"not", "in", TokenKind::kNotIn}}) {
      if (!startsWith(op.first)) continue;
      pos_ += op.first.size();
      skipSpace();
      if (!startsWith(op.second)) {
        return fail(pos_, fmt::format("expected '{}' after '{}'", op.second, op.first));
      }
      pos_ += op.second.size();
      emit(op.kind, start);
      return std::nullopt;
    }
    if (startsWith("in")) {
      pos_ += 2;
      emit(TokenKind::kIn, start);
      return std::nullopt;
    }
    return fail(start, fmt::format("expected an operator after label '{}' (==, !=, in, not in, "
                                   "contains, starts with, ends with)",
                                   shown(label)));
  }

  std::optional<Error> hasCall() {
    const size_t start = pos_;
    pos_ += 4;
    skipSpace();
    size_t length = labelLength();
    if (length == 0) return fail(pos_, "expected a label name after 'has('");
    if (length > kMaxLabelLength) return labelTooLong(pos_, length);
    std::string_view label = input_.substr(pos_, length);
    pos_ += length;
    skipSpace();
    if (!startsWith(")")) {
      return fail(pos_, fmt::format("expected ')' to close 'has({}'", shown(label)));
    }
    ++pos_;
    emit(TokenKind::kHas, start, label);
    return std::nullopt;
  }

  std::optional<Error> emptyCall(std::string_view word, TokenKind kind) {
    const size_t start = pos_;
    pos_ += word.size();
    skipSpace();
    if (!startsWith(")")) return fail(pos_, fmt::format("expected ')' after '{}'", word));
    ++pos_;
    emit(kind, start);
    return std::nullopt;
  }

  std::string_view input_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view input) { return Lexer(input).run(); }

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '/' || c == '-';
}

std::string columnAt(size_t offset) { return fmt::format("column {}", offset + 1); }

std::string shown(std::string_view label) {
  constexpr size_t kMax = 40;
  if (label.size() <= kMax) return std::string(label);
  return std::string(label.substr(0, kMax)) + "...";
}

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kLabel:
      return fmt::format("label '{}'", shown(token.text));
    case TokenKind::kString:
      return "string literal";
    case TokenKind::kLBrace:
      return "'{'";
    case TokenKind::kRBrace:
      return "'}'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kEq:
      return "'=='";
    case TokenKind::kNe:
      return "'!='";
    case TokenKind::kIn:
      return "'in'";
    case TokenKind::kNotIn:
      return "'not in'";
    case TokenKind::kNot:
      return "'!'";
    case TokenKind::kContains:
      return "'contains'";
    case TokenKind::kStartsWith:
      return "'starts with'";
    case TokenKind::kEndsWith:
      return "'ends with'";
    case TokenKind::kAll:
      return "'all()'";
    case TokenKind::kGlobal:
      return "'global()'";
    case TokenKind::kHas:
      return fmt::format("'has({})'", shown(token.text));
    case TokenKind::kLParen:
      return "'('";
    case TokenKind::kRParen:
      return "')'";
    case TokenKind::kAnd:
      return "'&&'";
    case TokenKind::kOr:
      return "'||'";
    case TokenKind::kEnd:
      return "end of selector";
  }
  return "token";
}

}  // namespace tartan::selector::detail
