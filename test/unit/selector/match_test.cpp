// Which label sets a selector matches: truth tables, Calico's first, then our own edge cases.
#include "tartan/selector/selector.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace tartan::selector {
namespace {

struct MatchCase {
  std::string selector;
  std::vector<Labels> matching;
  std::vector<Labels> notMatching;
};

std::string show(const Labels& labels) {
  std::string out = "{";
  for (const auto& [key, value] : labels) out += key + "=" + value + " ";
  return out + "}";
}

void checkMatches(const std::vector<MatchCase>& cases) {
  for (const MatchCase& c : cases) {
    INFO("selector: " << c.selector);
    auto parsed = parse(c.selector);
    REQUIRE(parsed);
    // The canonical form must select exactly what the original does.
    auto canonical = parse(parsed->canonical());
    REQUIRE(canonical);
    for (const Labels& labels : c.matching) {
      INFO("labels: " << show(labels));
      CHECK(parsed->matches(labels));
      CHECK(canonical->matches(labels));
    }
    for (const Labels& labels : c.notMatching) {
      INFO("labels: " << show(labels));
      CHECK_FALSE(parsed->matches(labels));
      CHECK_FALSE(canonical->matches(labels));
    }
  }
}

TEST_CASE("Calico's selector truth tables", "[selector]") {
  checkMatches({
      {R"(a == "b")", {{{"a", "b"}}, {{"a", "b"}, {"c", "d"}}}, {{}, {{"a", "c"}}, {{"c", "d"}}}},
      {R"(a == "b" && c == "d")",
       {{{"a", "b"}, {"c", "d"}}},
       {{}, {{"a", "b"}, {"c", "e"}}, {{"a", "c"}, {"c", "d"}}, {{"c", "d"}}, {{"a", "b"}}}},
      {R"(a == "b" || c == "d")",
       {{{"a", "b"}, {"c", "d"}}, {{"a", "b"}}, {{"c", "d"}}},
       {{}, {{"a", "e"}, {"c", "e"}}, {{"c", "e"}}, {{"a", "e"}}}},
      {R"(a in {"'", '"', "c"})", {{{"a", "c"}}, {{"a", "\""}}, {{"a", "'"}}}, {{}, {{"a", "e"}}}},
      {R"(a not in {"'", '"', "c"})", {{}, {{"a", "e"}}}, {{{"a", "c"}}, {{"a", "\""}}, {{"a", "'"}}}},
      {"a == 'a'", {{{"a", "a"}}}, {{{"a", "b"}}, {}}},
      {"a == \"a\"", {{{"a", "a"}}}, {}},
      {"a != \"b\"", {{{"a", "a"}}}, {}},
      {"a != \"a\"", {{}}, {{{"a", "a"}}}},
      {"a != 'a'", {}, {{{"a", "a"}}}},
      {"a contains \"a\"",
       {{{"a", "a"}}, {{"a", "bab"}}, {{"a", "aaa"}, {"b", "c"}}},
       {{}, {{"a", "b"}}, {{"b", "aaa"}}}},
      {"a starts with \"a\"",
       {{{"a", "a"}}, {{"a", "abb"}}, {{"a", "aaa"}, {"b", "c"}}},
       {{}, {{"a", "b"}}, {{"a", "baa"}}, {{"b", "aaa"}}}},
      {"a ends with \"a\"",
       {{{"a", "a"}}, {{"a", "bba"}}, {{"a", "aaa"}, {"b", "c"}}},
       {{}, {{"a", "b"}}, {{"a", "aab"}}, {{"b", "aaa"}}}},
      {"a in {\"a\"}", {{{"a", "a"}}}, {{{"a", "b"}}}},
      {"!a in {\"a\"}", {{{"a", "b"}}}, {}},
      {"a in {\"a\", \"b\"}", {{{"a", "a"}}, {{"a", "b"}}}, {{{"a", "c"}}}},
      {"a not in {\"d\", \"e\"}", {{{"a", "a"}}}, {}},
      {"a not in {\"a\"}", {}, {{{"a", "a"}}}},
      {"has(a)", {{{"a", "b"}}}, {}},
      {"has(b)", {}, {{{"a", "b"}}}},
      {"!has(a)", {{{"b", "b"}}}, {{{"a", "b"}}}},
      {"!!has(b)", {}, {{{"a", "b"}}}},
      {"! has(a)", {}, {{{"a", "b"}}}},
      {"!!! has(a)", {}, {{{"a", "b"}}}},
      {"!!!has(a)", {}, {{{"a", "b"}}}},
      {"!! ! has(a)", {}, {{{"a", "b"}}}},
      {"! !!has(a)", {}, {{{"a", "b"}}}},
      {"", {{}, {{"a", "b"}}}, {}},
      {" ", {{}}, {}},
      {"all()", {{}}, {}},
      {" all()", {{}, {{"a", "b"}}}, {}},
      {"global()", {{}}, {}},
      {" global()", {{}, {{"a", "b"}}}, {}},
      {"a == 'a1' && b == 'b1'", {{{"a", "a1"}, {"b", "b1"}}}, {}},
      {"a == 'a1' && b != 'b1'", {}, {{{"a", "a1"}, {"b", "b1"}}}},
      {"a != 'a1' && b == 'b1'", {}, {{{"a", "a1"}, {"b", "b1"}}}},
      {"a != 'a1' && b != 'b1'", {}, {{{"a", "a1"}, {"b", "b1"}}}},
      {"a != 'a1' && !b == 'b1'", {}, {{{"a", "a1"}, {"b", "b1"}}}},
      {"!a == 'a1' && b == 'b1'", {}, {{{"a", "a1"}, {"b", "b1"}}}},
      {"has(a) && !has(b)", {{{"a", "a"}}}, {}},
      {"!has(b) && has(a)", {{{"a", "a"}}}, {}},
      {"!(!has(a) || has(b))", {{{"a", "a"}}}, {}},
      {"!(has(b) || !has(a))", {{{"a", "a"}}}, {}},
      {"a == 'a1' || b == 'b1'", {{{"a", "a1"}, {"b", "b1"}}}, {}},
      {"a == 'a1' || b != 'b1'", {{{"a", "a1"}, {"b", "b1"}}}, {}},
      {"a != 'a1' || b == 'b1'", {{{"a", "a1"}, {"b", "b1"}}}, {}},
      {"a != 'a1' || b != 'b1'", {}, {{{"a", "a1"}, {"b", "b1"}}}},
      {"! a == 'a1' || ! b == 'b1'", {}, {{{"a", "a1"}, {"b", "b1"}}}},
  });
}

TEST_CASE("an absent label fails ==, in, has and the string tests, and passes != and not in", "[selector]") {
  const Labels none;
  const Labels other{{"b", "x"}};
  checkMatches({
      {"a == 'x'", {}, {none, other}},
      {"a == ''", {{{"a", ""}}}, {none, other}},
      {"a != 'x'", {none, other, {{"a", ""}}}, {{{"a", "x"}}}},
      {"a != ''", {none, other, {{"a", "x"}}}, {{{"a", ""}}}},
      {"a in {'x'}", {}, {none, other}},
      {"a in {''}", {{{"a", ""}}}, {none, other}},
      {"a not in {'x'}", {none, other, {{"a", "y"}}}, {{{"a", "x"}}}},
      {"a not in {''}", {none, other}, {{{"a", ""}}}},
      {"a contains ''", {{{"a", ""}}, {{"a", "x"}}}, {none, other}},
      {"a starts with ''", {{{"a", ""}}}, {none, other}},
      {"a ends with ''", {{{"a", ""}}}, {none, other}},
      {"has(a)", {{{"a", ""}}}, {none, other}},
      {"!a == 'x'", {none, other, {{"a", "y"}}}, {{{"a", "x"}}}},
      {"!a != 'x'", {{{"a", "x"}}}, {none, other, {{"a", "y"}}}},
      {"!a not in {'x'}", {{{"a", "x"}}}, {none, other}},
      {"!a contains 'x'", {none, other}, {{{"a", "x"}}}},
  });
}

TEST_CASE("sets: membership is exact; the empty set holds nothing", "[selector]") {
  checkMatches({
      {"a in {}", {}, {{}, {{"a", ""}}, {{"a", "x"}}}},
      {"a not in {}", {{}, {{"a", ""}}, {{"a", "x"}}}, {}},
      {"a in {'', 'x'}", {{{"a", ""}}, {{"a", "x"}}}, {{}, {{"a", "y"}}, {{"a", " "}}}},
      {"a in {'x', 'y', 'z', 'w', 'v'}",
       {{{"a", "v"}}, {{"a", "w"}}, {{"a", "x"}}, {{"a", "y"}}, {{"a", "z"}}},
       {{{"a", "u"}}, {{"a", "xx"}}, {{"a", "X"}}, {{"a", ""}}}},
      {"a in {'x', 'x'}", {{{"a", "x"}}}, {{{"a", "xx"}}}},
      {"a in {'ab'}", {{{"a", "ab"}}}, {{{"a", "a"}}, {{"a", "abc"}}, {{"a", "b"}}}},
      {"a in {'1', '10', '9'}", {{{"a", "1"}}, {{"a", "9"}}, {{"a", "10"}}}, {{{"a", "2"}}}},
      {"a not in {'x', 'y'}", {{{"a", "z"}}, {}}, {{{"a", "x"}}, {{"a", "y"}}}},
  });
}

TEST_CASE("string tests compare bytes, case-sensitively", "[selector]") {
  checkMatches({
      {"a == 'B'", {{{"a", "B"}}}, {{{"a", "b"}}, {{"a", "B "}}, {{"a", " B"}}}},
      {"A == 'b'", {{{"A", "b"}}}, {{{"a", "b"}}}},
      {"a contains 'ell'", {{{"a", "hello"}}, {{"a", "ell"}}}, {{{"a", "ELL"}}, {{"a", "el"}}}},
      {"a starts with 'he'", {{{"a", "he"}}, {{"a", "hello"}}}, {{{"a", "h"}}, {{"a", "She"}}}},
      {"a ends with 'lo'", {{{"a", "lo"}}, {{"a", "hello"}}}, {{{"a", "o"}}, {{"a", "lox"}}}},
      {"a contains 'hello world'", {{{"a", "say hello world!"}}}, {{{"a", "hello"}}}},
      {"a == '\xc3\xbc'", {{{"a", "\xc3\xbc"}}}, {{{"a", "u"}}, {{"a", "\xc3"}}}},
      {R"(a == 'say "hi"')", {{{"a", "say \"hi\""}}}, {{{"a", "say hi"}}}},
      {R"(a == "it's")", {{{"a", "it's"}}}, {{{"a", "its"}}}},
      {R"(a == "x\y")", {{{"a", "x\\y"}}}, {{{"a", "xy"}}}},
  });
}

TEST_CASE("label keys match exactly, never by prefix", "[selector]") {
  checkMatches({
      {"has(a)", {{{"a", "1"}}}, {{{"ab", "1"}}, {{"a/b", "1"}}, {{"A", "1"}}, {{"", "1"}}}},
      {"has(a/b)", {{{"a/b", "1"}}}, {{{"a", "1"}}, {{"b", "1"}}, {{"a/bc", "1"}}}},
      {"app.kubernetes.io/name == 'x'",
       {{{"app.kubernetes.io/name", "x"}}},
       {{{"app.kubernetes.io/nam", "x"}}, {{"name", "x"}}}},
      {"contains contains 'contains'", {{{"contains", "xcontainsx"}}}, {{{"contains", "x"}}}},
  });
}

TEST_CASE("precedence: ! then && then ||; parentheses override", "[selector]") {
  const Labels a{{"a", "1"}};
  const Labels b{{"b", "1"}};
  const Labels c{{"c", "1"}};
  const Labels ab{{"a", "1"}, {"b", "1"}};
  const Labels ac{{"a", "1"}, {"c", "1"}};
  const Labels bc{{"b", "1"}, {"c", "1"}};
  const Labels abc{{"a", "1"}, {"b", "1"}, {"c", "1"}};
  const Labels none;
  checkMatches({
      {"has(a) || has(b) && has(c)", {a, ab, ac, bc, abc}, {none, b, c}},
      {"(has(a) || has(b)) && has(c)", {ac, bc, abc}, {none, a, b, c, ab}},
      {"has(a) && has(b) || has(c)", {ab, c, ac, bc, abc}, {none, a, b}},
      {"has(a) && (has(b) || has(c))", {ab, ac, abc}, {none, a, b, c, bc}},
      {"!has(a) && has(b)", {b, bc}, {none, a, ab, abc}},
      {"!(has(a) && has(b))", {none, a, b, c, ac, bc}, {ab, abc}},
      {"!has(a) || has(b)", {none, b, c, ab, bc, abc}, {a, ac}},
      {"!(has(a) || has(b))", {none, c}, {a, b, ab, abc}},
      {"!!(has(a) || has(b))", {a, b, ab}, {none, c}},
      {"has(a) && has(b) && has(c)", {abc}, {none, a, ab, ac, bc}},
      {"has(a) || has(b) || has(c)", {a, b, c, abc}, {none}},
      {"!has(a) && !has(b) && !has(c)", {none}, {a, b, c}},
      {"(has(a) && has(b)) || (has(a) && has(c))", {ab, ac, abc}, {a, bc, none}},
      {"((has(a) || has(b)) && (has(b) || has(c)))", {b, ac, ab, bc, abc}, {a, c, none}},
  });
}

TEST_CASE("all() and global() match every label set", "[selector]") {
  checkMatches({
      {"all()", {{}, {{"a", "b"}}}, {}},
      {"global()", {{}, {{"a", "b"}}}, {}},
      {"!all()", {}, {{}, {{"a", "b"}}}},
      {"!global()", {}, {{}, {{"a", "b"}}}},
      {"all() && has(a)", {{{"a", "b"}}}, {{}}},
      {"global() && has(a)", {{{"a", "b"}}}, {{}}},
      {"!all() || has(a)", {{{"a", "b"}}}, {{}}},
  });
}

TEST_CASE("deep and wide selectors evaluate", "[selector]") {
  SECTION("256 levels of parentheses around alternating negations") {
    std::string input;
    for (int i = 0; i < 256; ++i) input += "!(";
    input += "has(a)" + std::string(256, ')');
    auto parsed = parse(input);
    REQUIRE(parsed);
    CHECK(parsed->matches({{"a", "1"}}));  // an even number of negations
    CHECK_FALSE(parsed->matches({}));
  }
  SECTION("a thousand-term and, every label required") {
    std::string input = "k0 == 'v'";
    Labels all{{"k0", "v"}};
    for (int i = 1; i < 1000; ++i) {
      input += " && k" + std::to_string(i) + " == 'v'";
      all.emplace("k" + std::to_string(i), "v");
    }
    auto parsed = parse(input);
    REQUIRE(parsed);
    CHECK(parsed->matches(all));
    all["k999"] = "w";
    CHECK_FALSE(parsed->matches(all));
    all.erase("k999");
    CHECK_FALSE(parsed->matches(all));
  }
  SECTION("a thousand-term or, any label enough") {
    std::string input = "has(k0)";
    for (int i = 1; i < 1000; ++i) input += " || has(k" + std::to_string(i) + ")";
    auto parsed = parse(input);
    REQUIRE(parsed);
    CHECK(parsed->matches({{"k500", ""}}));
    CHECK(parsed->matches({{"k999", ""}}));
    CHECK_FALSE(parsed->matches({{"k1000", ""}}));
  }
  SECTION("a long value") {
    std::string value(100000, 'v');
    auto parsed = parse("a == '" + value + "'");
    REQUIRE(parsed);
    CHECK(parsed->matches({{"a", value}}));
    CHECK_FALSE(parsed->matches({{"a", value + "v"}}));
  }
}

TEST_CASE("a selector is evaluated concurrently by many copies", "[selector]") {
  auto parsed = parse("app == 'web' && tier in {'a', 'b'} && !has(debug)");
  REQUIRE(parsed);
  Selector copy = *parsed;
  parsed = parse("all()");  // the copy keeps the tree alive
  CHECK(copy.matches({{"app", "web"}, {"tier", "b"}}));
  CHECK_FALSE(copy.matches({{"app", "web"}, {"tier", "b"}, {"debug", ""}}));
}

}  // namespace
}  // namespace tartan::selector

namespace tartan::selector {
namespace {

TEST_CASE("with inherited labels, an endpoint's own label wins and absent ones fall through", "[selector]") {
  const Labels own{{"app", "web"}, {"env", "dev"}};
  const Labels inherited{{"env", "prod"}, {"pcns.team", "payments"}};
  struct Case {
    const char* selector;
    bool matches;
  } cases[] = {
      {"app == 'web'", true},
      {"env == 'dev'", true},  // own value overrides the inherited one
      {"env == 'prod'", false},
      {"pcns.team == 'payments'", true},
      {"has(pcns.team) && app == 'web'", true},
      {"has(missing)", false},
      {"missing != 'x'", true},
      {"pcns.team not in {'payments'}", false},
      {"all()", true},
  };
  for (const Case& c : cases) {
    INFO("selector: " << c.selector);
    auto parsed = parse(c.selector);
    REQUIRE(parsed);
    CHECK(parsed->matches(own, inherited) == c.matches);
    // The same as evaluating the merged map.
    Labels merged = inherited;
    for (const auto& [key, value] : own) merged[key] = value;
    CHECK(parsed->matches(merged) == c.matches);
  }
  CHECK(parse("has(a)")->matches({}, {{"a", ""}}));
  CHECK_FALSE(parse("has(a)")->matches({}, {}));
}

TEST_CASE("labelKeys() lists every key the selector reads, once, sorted", "[selector]") {
  struct Case {
    const char* selector;
    std::vector<std::string_view> keys;
  } cases[] = {
      {"", {}},
      {"all() && global()", {}},
      {"has(b) && a == 'x' || !(c in {'y'}) && b != 'z'", {"a", "b", "c"}},
      {"k contains 'v' || k starts with 'w' || j ends with 'u' || i not in {}", {"i", "j", "k"}},
  };
  for (const Case& c : cases) {
    INFO("selector: " << c.selector);
    auto parsed = parse(c.selector);
    REQUIRE(parsed);
    CHECK(parsed->labelKeys() == c.keys);
  }
}

}  // namespace
}  // namespace tartan::selector
