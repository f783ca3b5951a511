// Tokenizer of the selector language (private to the module).
//
// It follows Calico's tokenizer rule for rule, because the same string must be accepted or
// rejected by Tartan exactly as by Calico: whitespace is only space and tab; a string runs from
// its quote to the next quote of the same kind with no escapes; `contains`, `starts with`,
// `ends with`, `in` and `not in` are operators only right after a label (so a label may be named
// `contains`), and the words of the two-word operators may be joined (`startswith`, `notin`);
// `has(`, `all(` and `global(` are recognised only with the parenthesis attached.
#pragma once

#include "tartan/common/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::selector::detail {

enum class TokenKind {
  kLabel,   // text = the label key
  kString,  // text = the literal's contents, without quotes
  kLBrace,
  kRBrace,
  kComma,
  kEq,
  kNe,
  kIn,
  kNotIn,
  kNot,
  kContains,
  kStartsWith,
  kEndsWith,
  kAll,
  kGlobal,
  kHas,  // text = the label key inside has( )
  kLParen,
  kRParen,
  kAnd,
  kOr,
  kEnd,
};

struct Token {
  TokenKind kind;
  std::string_view text;  // a view into the input
  size_t offset;          // 0-based byte offset of the token's first character in the input
};

// Splits `input` into tokens ending with one kEnd; the views point into `input`.
Result<std::vector<Token>> tokenize(std::string_view input);

// The characters of a label key, as Calico's tokenizer accepts them: [a-zA-Z0-9_./-].
bool isLabelChar(char c);

// "column N" for a 0-based byte offset: the `where` of every selector error.
std::string columnAt(size_t offset);

// A label as an error message quotes it: at most 40 characters, then "...". A selector may be
// any length (200 KB of label has been seen); an error line should fit a terminal.
std::string shown(std::string_view label);

// How a token is named in an error message: "')'", "'&&'", "label 'app'", "end of selector".
std::string describe(const Token& token);

}  // namespace tartan::selector::detail
