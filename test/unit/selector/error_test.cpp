// What is not a selector, and where and why parse() says so.
#include "tartan/selector/selector.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace tartan::selector {
namespace {

struct ErrorCase {
  std::string input;
  int column;        // 1-based byte column the error points at
  std::string what;  // the error's `what` starts with this
};

void checkErrors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    INFO("selector: " << c.input);
    auto parsed = parse(c.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().where == "column " + std::to_string(c.column));
    CHECK(parsed.error().field.empty());
    INFO("what: " << parsed.error().what);
    CHECK(parsed.error().what.starts_with(c.what));
  }
}

TEST_CASE("Calico's bad selectors are rejected", "[selector]") {
  checkErrors({
      {"b == b", 6, "expected a string after ==, found label 'b'"},
      {"b contains b", 12, "expected a string after contains, found label 'b'"},
      {"b starts with b", 15, "expected a string after starts with, found label 'b'"},
      {"b ends with b", 13, "expected a string after ends with, found label 'b'"},
      {"'b1' == b", 1, "unexpected string literal"},
      {"b", 2, "expected an operator after label 'b', found end of selector"},
      {"a b", 3, "expected an operator after label 'a'"},
      {"!", 2, "unexpected end of selector"},
      {R"(foo == "bar" &)", 14, "expected '&&' but found a single '&'"},
      {R"(foo == "bar" |)", 14, "expected '||' but found a single '|'"},
      {"foo != ||", 8, "expected a string after !=, found '||'"},
      {R"(foo in {"", ||)", 13, "expected a string or '}' in the set, found '||'"},
      {R"(foo in "")", 8, "expected a set literal '{' after in, found string literal"},
      {R"("FOO)", 1, "unterminated string"},
      {R"("FOO')", 1, "unterminated string"},
      {R"('FOO)", 1, "unterminated string"},
      {"(", 2, "unexpected end of selector"},
      {R"((a == "foo")", 12, "expected ')' to close the '(' at column 1, found end of selector"},
      {")", 1, "unexpected ')'"},
      {"()", 2, "unexpected ')'"},
      {"%", 1, "unexpected character '%'"},
      {R"(a == "b" && %)", 13, "unexpected character '%'"},
      {R"(a == "b" || %)", 13, "unexpected character '%'"},
      {"a ", 3, "expected an operator after label 'a', found end of selector"},
      {"has(foo) &&", 12, "unexpected end of selector"},
      // From Calico's tokenizer tests.
      {R"(label starts foo "value")", 14, "expected 'with' after 'starts'"},
      {R"(label ends foo "value")", 12, "expected 'with' after 'ends'"},
      {R"(label squiggles "value")", 7, "expected an operator after label 'label'"},
      {R"(a not in "bar" && !has(foo) || b in c)", 10, "expected a set literal '{' after not in"},
  });
}

TEST_CASE("an operator must be followed by its operand", "[selector]") {
  checkErrors({
      {"a ==", 5, "expected a string after ==, found end of selector"},
      {"a == ", 6, "expected a string after ==, found end of selector"},
      {"a != )", 6, "expected a string after !=, found ')'"},
      {"a == == 'b'", 6, "expected a string after ==, found '=='"},
      {"a == {'b'}", 6, "expected a string after ==, found '{'"},
      {"a contains", 11, "expected a string after contains, found end of selector"},
      {"a containsb 'x'", 11, "expected a string after contains, found label 'b'"},
      {"a in", 5, "expected a set literal '{' after in, found end of selector"},
      {"a in 'b'", 6, "expected a set literal '{' after in, found string literal"},
      {"a not in ('b')", 10, "expected a set literal '{' after not in, found '('"},
      {"a inb {'x'}", 5, "expected a set literal '{' after in, found label 'b'"},
      {"a in {", 7, "expected a string or '}' in the set, found end of selector"},
      {"a in {'b'", 10, "expected a string or '}' in the set, found end of selector"},
      {"a in {'b' 'c'}", 11, "expected a string or '}' in the set, found string literal"},
      {"a in {,}", 7, "expected a string or '}' in the set, found ','"},
      {"a in {'b',,}", 11, "expected a string or '}' in the set, found ','"},
      {"a in {b}", 7, "expected a string or '}' in the set, found label 'b'"},
      {"a in {'b'))", 10, "expected a string or '}' in the set, found ')'"},
      {"a = 'b'", 3, "expected '==' but found a single '='"},
      {"a === 'b'", 5, "expected '==' but found a single '='"},
      {"a !== 'b'", 5, "expected '==' but found a single '='"},
      {"a starts 'b'", 10, "expected 'with' after 'starts'"},
      {"a starts", 9, "expected 'with' after 'starts'"},
      {"a ends", 7, "expected 'with' after 'ends'"},
      {"a not 'b'", 7, "expected 'in' after 'not'"},
      {"a not", 6, "expected 'in' after 'not'"},
      {"a (", 3, "expected an operator after label 'a', found '('"},
      {"a && b", 3, "expected an operator after label 'a', found '&&'"},
      {"a, b", 2, "expected an operator after label 'a', found ','"},
      {"a has(b)", 3, "expected an operator after label 'a'"},
      {"a !", 3, "expected an operator after label 'a', found '!'"},
  });
}

TEST_CASE("has(), all() and global() need their parentheses closed", "[selector]") {
  checkErrors({
      {"has(", 5, "expected a label name after 'has('"},
      {"has()", 5, "expected a label name after 'has('"},
      {"has( )", 6, "expected a label name after 'has('"},
      {"has('a')", 5, "expected a label name after 'has('"},
      {"has(a", 6, "expected ')' to close 'has(a'"},
      {"has(a b)", 7, "expected ')' to close 'has(a'"},
      {"has(a,b)", 6, "expected ')' to close 'has(a'"},
      {"all(", 5, "expected ')' after 'all('"},
      {"all(x)", 5, "expected ')' after 'all('"},
      {"global(", 8, "expected ')' after 'global('"},
      {"global(a)", 8, "expected ')' after 'global('"},
      {"has (a)", 5, "expected an operator after label 'has', found '('"},
      {"all ()", 5, "expected an operator after label 'all', found '('"},
  });
}

TEST_CASE("operands must be joined by && or || and brackets must balance", "[selector]") {
  checkErrors({
      {R"(a == "b"))", 9, "unexpected ')' (expected '&&', '||' or the end)"},
      {R"(a == "b" c == "d")", 10, "unexpected label 'c'"},
      {"has(a) has(b)", 8, "unexpected 'has(b)'"},
      {"has(a)has(b)", 7, "unexpected 'has(b)'"},
      {"all()all()", 6, "unexpected 'all()'"},
      {"all() 'x'", 7, "unexpected string literal"},
      {"&& has(a)", 1, "unexpected '&&'"},
      {"|| has(a)", 1, "unexpected '||'"},
      {"has(a) ||", 10, "unexpected end of selector"},
      {"has(a) && && has(b)", 11, "unexpected '&&'"},
      {"has(a) &&& has(b)", 10, "expected '&&' but found a single '&'"},
      {"has(a) ||| has(b)", 10, "expected '||' but found a single '|'"},
      {"has(a) & has(b)", 8, "expected '&&' but found a single '&'"},
      {"has(a) && ()", 12, "unexpected ')'"},
      {"((has(a))", 10, "expected ')' to close the '(' at column 1, found end of selector"},
      {"(has(a) has(b))", 9, "expected ')' to close the '(' at column 1, found 'has(b)'"},
      {"has(a))", 7, "unexpected ')'"},
      {"{", 1, "unexpected '{'"},
      {"}", 1, "unexpected '}'"},
      {",", 1, "unexpected ','"},
      {"!= 'a'", 1, "unexpected '!='"},
      {"== 'a'", 1, "unexpected '=='"},
      {"has(a) && !", 12, "unexpected end of selector"},
      {"!!", 3, "unexpected end of selector"},
      {"!)", 2, "unexpected ')'"},
      {"a == 'b' && 'c'", 13, "unexpected string literal"},
  });
}

TEST_CASE("only spaces and tabs are whitespace; other bytes outside strings are errors", "[selector]") {
  checkErrors({
      {"a == 'b'\n", 9, "unexpected character byte 0x0a"},
      {"\na == 'b'", 1, "unexpected character byte 0x0a"},
      {"a == 'b'\r\n", 9, "unexpected character byte 0x0d"},
      {"has(a)\f", 7, "unexpected character byte 0x0c"},
      {"a\v== 'b'", 2, "expected an operator after label 'a'"},
      {std::string("has(a)\0", 7), 7, "unexpected character byte 0x00"},
      {"\xc3\xbc == 'x'", 1, "unexpected character byte 0xc3"},
      {"a\xc3\xbc == 'x'", 2, "expected an operator after label 'a'"},
      {"a == 'b' # comment", 10, "unexpected character '#'"},
      {"a == `b`", 6, "unexpected character '`'"},
      {"a:b == 'x'", 2, "expected an operator after label 'a'"},
      {"a == b'", 7, "unterminated string"},
      {"a == 'b", 6, "unterminated string"},
      {"a == \"b'", 6, "unterminated string"},
      {"a in {'b}", 7, "unterminated string"},
  });
}

TEST_CASE("parentheses may nest 256 deep, not deeper", "[selector]") {
  std::string input = std::string(257, '(') + "has(a)" + std::string(257, ')');
  checkErrors({
      {input, 257, "parentheses nest deeper than 256 levels"},
      {"!(" + input + ")", 258, "parentheses nest deeper than 256 levels"},
      {std::string(100000, '('), 257, "parentheses nest deeper than 256 levels"},
  });
}

TEST_CASE("an error is returned as a value with a readable message", "[selector]") {
  auto parsed = parse("app == web");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().toString() == "column 8: expected a string after ==, found label 'web'");
}

TEST_CASE("an error quotes at most 40 characters of a label, however long the label", "[selector]") {
  const std::string label(512, 'x');  // the longest a label may be
  const std::string shown = std::string(40, 'x') + "...";
  checkErrors({
      {label + " y", 514, "expected an operator after label '" + shown + "' ("},
      {"has(" + label, 517, "expected ')' to close 'has(" + shown + "'"},
      {"a == " + label, 6, "expected a string after ==, found label '" + shown + "'"},
      {"a == 'b' has(" + label + ")", 10, "unexpected 'has(" + shown + ")'"},
      {std::string(40, 'x') + " y", 42, "expected an operator after label '" + std::string(40, 'x') + "' ("},
  });
  for (const std::string& input : {label + " y", "has(" + label, "a == " + label}) {
    auto parsed = parse(input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().what.size() < 200);
  }
}

}  // namespace
}  // namespace tartan::selector

namespace tartan::selector {

TEST_CASE("a label is at most 512 bytes, as Calico's tokenizer reads labels", "[selector]") {
  const std::string max(512, 'a');
  const std::string over(513, 'a');
  CHECK(parse(max + " == 'x'"));
  CHECK(parse("has(" + max + ")"));
  checkErrors({
      {over + " == 'x'", 1, "label too long (513 > 512 bytes)"},
      {"a == 'b' && has(" + over + ")", 17, "label too long (513 > 512 bytes)"},
  });
}

}  // namespace tartan::selector
