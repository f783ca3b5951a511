// Which strings are selectors, and the one canonical spelling of each (Calico's String()).
#include "tartan/selector/selector.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace tartan::selector {
namespace {

struct CanonicalCase {
  std::string input;
  std::string canonical;
};

void checkCanonical(const std::vector<CanonicalCase>& cases) {
  for (const CanonicalCase& c : cases) {
    INFO("selector: " << c.input);
    auto parsed = parse(c.input);
    REQUIRE(parsed);
    CHECK(parsed->canonical() == c.canonical);
    // The canonical form is a fixed point: it parses back to itself.
    auto again = parse(parsed->canonical());
    REQUIRE(again);
    CHECK(again->canonical() == c.canonical);
    CHECK(again->hash() == parsed->hash());
    CHECK(again->uniqueId() == parsed->uniqueId());
  }
}

TEST_CASE("Calico's canonicalisation cases print as Calico prints them", "[selector]") {
  checkCanonical({
      {"", "all()"},
      {" all() ", "all()"},
      {" (all() )", "all()"},
      {"! (has( b)||! has(a ))", "!(has(b) || !has(a))"},
      {R"(! (a == "b"&&! c != "d"))", R"(!(a == "b" && !c != "d"))"},
      {R"(a == "'")", R"(a == "'")"},
      {R"(a == '"')", R"(a == '"')"},
      {R"(a contains '"')", R"(a contains '"')"},
      {R"(a contains "'")", R"(a contains "'")"},
      {R"(a startswith '"')", R"(a starts with '"')"},
      {R"(a endswith "'")", R"(a ends with "'")"},
      {R"(a!='"')", R"(a != '"')"},
      {R"(a in {"d"})", R"(a in {"d"})"},
      {R"(a in {"a", "b"})", R"(a in {"a", "b"})"},
      {R"(a in {"d", "a", "b"})", R"(a in {"a", "b", "d"})"},
      {R"(a in {"z", "x", "y", "a"})", R"(a in {"a", "x", "y", "z"})"},
      {R"(a in {"z", "z", "x", "y", "x", "a"})", R"(a in {"a", "x", "y", "z"})"},
      // From Calico's visitor tests, without the prefix.
      {"k == 'v'", R"(k == "v")"},
      {"k != 'v'", R"(k != "v")"},
      {"k contains 'v'", R"(k contains "v")"},
      {"k starts with 'v'", R"(k starts with "v")"},
      {"k ends with 'v'", R"(k ends with "v")"},
      {"k == 'v' && x == 'y'", R"((k == "v" && x == "y"))"},
      {"k == 'v' || has(x)", R"((k == "v" || has(x)))"},
      {"!(k == 'v')", R"(!k == "v")"},
      {"k in {'v'}", R"(k in {"v"})"},
      {"k not in {'v'}", R"(k not in {"v"})"},
      {"!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
       R"(!(!((k == "v" && has(t)) || all()) && a in {"b", "c"}))"},
  });
}

TEST_CASE("every operator has one spelling", "[selector]") {
  checkCanonical({
      {"a==\"b\"", R"(a == "b")"},
      {"a == 'b'", R"(a == "b")"},
      {"a!=\"b\"", R"(a != "b")"},
      {"a != 'b'", R"(a != "b")"},
      {"a contains'b'", R"(a contains "b")"},
      {"a contains\"b\"", R"(a contains "b")"},
      {"a starts with 'b'", R"(a starts with "b")"},
      {"a starts  with 'b'", R"(a starts with "b")"},
      {"a starts\twith 'b'", R"(a starts with "b")"},
      {"a startswith'b'", R"(a starts with "b")"},
      {"a ends with 'b'", R"(a ends with "b")"},
      {"a ends  with 'b'", R"(a ends with "b")"},
      {"a endswith'b'", R"(a ends with "b")"},
      {"a in {'b'}", R"(a in {"b"})"},
      {"a in{'b'}", R"(a in {"b"})"},
      {"a not in {'b'}", R"(a not in {"b"})"},
      {"a not  in {'b'}", R"(a not in {"b"})"},
      {"a notin{'b'}", R"(a not in {"b"})"},
      {"has(a)", "has(a)"},
      {"has( a )", "has(a)"},
      {"has(\ta\t)", "has(a)"},
      {"all()", "all()"},
      {"all( )", "all()"},
      {"global()", "global()"},
      {"global(  )", "global()"},
      {" global() ", "global()"},
  });
}

TEST_CASE("sets are sorted bytewise and de-duplicated; empty sets and a trailing comma are allowed",
          "[selector]") {
  checkCanonical({
      {"a in {}", "a in {}"},
      {"a not in {}", "a not in {}"},
      {"a in { }", "a in {}"},
      {"a in {'x',}", R"(a in {"x"})"},
      {"a in {'x' , 'y' ,}", R"(a in {"x", "y"})"},
      {"a in {'x','x','x'}", R"(a in {"x"})"},
      {"a in {'b','B','a','A'}", R"(a in {"A", "B", "a", "b"})"},
      {"a in {'10','9','1'}", R"(a in {"1", "10", "9"})"},
      {R"(a in {"'", '"', "c"})", R"(a in {'"', "'", "c"})"},
      {R"(a not in {"'", '"', "c"})", R"(a not in {'"', "'", "c"})"},
      {"a in {''}", R"(a in {""})"},
      {"a in {'', 'x', ''}", R"(a in {"", "x"})"},
      {"a in {'\xc3\xbc', 'z'}", "a in {\"z\", \"\xc3\xbc\"}"},
  });
}

TEST_CASE("and/or are parenthesised, nested as written, and bind || loosest", "[selector]") {
  checkCanonical({
      {"has(a) && has(b) && has(c)", "(has(a) && has(b) && has(c))"},
      {"has(a) || has(b) || has(c)", "(has(a) || has(b) || has(c))"},
      {"has(a) || has(b) && has(c)", "(has(a) || (has(b) && has(c)))"},
      {"has(a) && has(b) || has(c)", "((has(a) && has(b)) || has(c))"},
      {"has(a) && (has(b) || has(c))", "(has(a) && (has(b) || has(c)))"},
      {"(has(a) && has(b)) && has(c)", "((has(a) && has(b)) && has(c))"},
      {"has(a) && (has(b) && has(c))", "(has(a) && (has(b) && has(c)))"},
      {"(has(a) || has(b)) || has(c)", "((has(a) || has(b)) || has(c))"},
      {"((((has(a)))))", "has(a)"},
      {"(has(a)) && ((has(b)))", "(has(a) && has(b))"},
      {"has(a)&&has(b)||has(c)&&has(d)", "((has(a) && has(b)) || (has(c) && has(d)))"},
      {"all() && global()", "(all() && global())"},
      {"(all()) || (global())", "(all() || global())"},
  });
}

TEST_CASE("! binds tightest and a run of ! collapses to one or none", "[selector]") {
  checkCanonical({
      {"!has(a)", "!has(a)"},
      {"! has(a)", "!has(a)"},
      {"!!has(a)", "has(a)"},
      {"!!!has(a)", "!has(a)"},
      {"!! ! has(a)", "!has(a)"},
      {"! !!has(a)", "!has(a)"},
      {"!!!!has(a)", "has(a)"},
      {"!a == 'b'", R"(!a == "b")"},
      {"!a in {'b'}", R"(!a in {"b"})"},
      {"!a != 'b'", R"(!a != "b")"},
      {"!has(a) && has(b)", "(!has(a) && has(b))"},
      {"!(has(a) && has(b))", "!(has(a) && has(b))"},
      {"!(has(a)) && has(b)", "(!has(a) && has(b))"},
      // Calico prints these "!!has(a)" and "!!!has(a)", which do not read back as themselves.
      {"!(!has(a))", "has(a)"},
      {"!(!(!has(a)))", "!has(a)"},
      {"!(!(has(a) && has(b)))", "(has(a) && has(b))"},
      {"!!(!has(a))", "!has(a)"},
      {"!(!!has(a))", "!has(a)"},
      {"!all()", "!all()"},
      {"!global()", "!global()"},
      {"! a == 'a1' || ! b == 'b1'", R"((!a == "a1" || !b == "b1"))"},
  });
}

TEST_CASE(
    "label keys take letters, digits and _ . / - ; operator words are labels before an "
    "operator",
    "[selector]") {
  checkCanonical({
      {"calico/k8s_ns == \"kube-system\" && k8s-app == \"kube-dns\"",
       R"((calico/k8s_ns == "kube-system" && k8s-app == "kube-dns"))"},
      {"has(calico/k8s_NS-.1/role)", "has(calico/k8s_NS-.1/role)"},
      {"app.kubernetes.io/name == 'x'", R"(app.kubernetes.io/name == "x")"},
      {"projectcalico.org/namespace in {'a'}", R"(projectcalico.org/namespace in {"a"})"},
      {"_ == '_'", R"(_ == "_")"},
      {"- == '-'", R"(- == "-")"},
      {"/ == '/'", R"(/ == "/")"},
      {". == '.'", R"(. == ".")"},
      {"123 == '456'", R"(123 == "456")"},
      {"contains contains \"contains\"", R"(contains contains "contains")"},
      {"contains contains 'contains'", R"(contains contains "contains")"},
      {"startswith starts with \"value\"", R"(startswith starts with "value")"},
      {"endswith ends with \"value\"", R"(endswith ends with "value")"},
      {"in in {'in'}", R"(in in {"in"})"},
      {"not in {'a'}", R"(not in {"a"})"},
      {"not not in {'a'}", R"(not not in {"a"})"},
      {"all == 'x'", R"(all == "x")"},
      {"has == 'x'", R"(has == "x")"},
      {"global == 'x'", R"(global == "x")"},
      {"has(has)", "has(has)"},
      {"has(all)", "has(all)"},
      {"has(contains)", "has(contains)"},
      {"allx == 'y'", R"(allx == "y")"},
      {"a==\"b\"&&c==\"d\"", R"((a == "b" && c == "d"))"},
  });
}

TEST_CASE("string literals have no escapes and keep every byte between the quotes", "[selector]") {
  checkCanonical({
      {"a == ''", R"(a == "")"},
      {"a == \"\"", R"(a == "")"},
      {"a == 'b c'", R"(a == "b c")"},
      {"a == '  '", R"(a == "  ")"},
      {"a == '\t'", "a == \"\t\""},
      {R"(a == 'x\y')", R"(a == "x\y")"},
      {R"(a == "x\")", R"(a == "x\")"},
      {R"(a == 'x\')", R"(a == "x\")"},
      {R"(a == "it's")", R"(a == "it's")"},
      {R"(a == 'say "hi"')", R"(a == 'say "hi"')"},
      {"a == '&& || ! ( ) { } , == !='", R"(a == "&& || ! ( ) { } , == !=")"},
      {"a == 'has(b)'", R"x(a == "has(b)")x"},
      {"a == '\xc3\xbc\xe2\x82\xac'", "a == \"\xc3\xbc\xe2\x82\xac\""},
      {"a == 'line\nbreak'", "a == \"line\nbreak\""},
      {"a contains ''", R"(a contains "")"},
      {"a starts with ''", R"(a starts with "")"},
      {"a ends with ''", R"(a ends with "")"},
  });
}

TEST_CASE("spaces and tabs are the only whitespace and are never significant", "[selector]") {
  checkCanonical({
      {"\t\ta == 'b'\t\t", R"(a == "b")"},
      {"   a   ==   'b'   ", R"(a == "b")"},
      {"a\t==\t'b'\t&&\thas(c)", R"((a == "b" && has(c)))"},
      {" ( has(a) ) ", "has(a)"},
      {" ! has(a) ", "!has(a)"},
      {"a in { 'x' , 'y' }", R"(a in {"x", "y"})"},
      {" ", "all()"},
      {"\t", "all()"},
      {" \t \t ", "all()"},
  });
}

TEST_CASE("deep nesting and long selectors parse", "[selector]") {
  SECTION("256 levels of parentheses") {
    std::string input = std::string(256, '(') + "has(a)" + std::string(256, ')');
    auto parsed = parse(input);
    REQUIRE(parsed);
    CHECK(parsed->canonical() == "has(a)");
  }
  SECTION("256 nested ands") {
    std::string input;
    std::string expected;
    for (int i = 0; i < 255; ++i) {
      input += "(has(a) && ";
      expected += "(has(a) && ";
    }
    input += "has(b)" + std::string(255, ')');
    expected += "has(b)" + std::string(255, ')');
    auto parsed = parse(input);
    REQUIRE(parsed);
    CHECK(parsed->canonical() == expected);
  }
  SECTION("a thousand !") {
    auto parsed = parse(std::string(1000, '!') + "has(a)");
    REQUIRE(parsed);
    CHECK(parsed->canonical() == "has(a)");
    parsed = parse(std::string(1001, '!') + "has(a)");
    REQUIRE(parsed);
    CHECK(parsed->canonical() == "!has(a)");
  }
  SECTION("ten thousand terms") {
    std::string input = "has(k0)";
    std::string expected = "(has(k0)";
    for (int i = 1; i < 10000; ++i) {
      input += " || has(k" + std::to_string(i) + ")";
      expected += " || has(k" + std::to_string(i) + ")";
    }
    expected += ")";
    auto parsed = parse(input);
    REQUIRE(parsed);
    CHECK(parsed->canonical() == expected);
  }
  SECTION("the longest label and a long value") {
    std::string key(512, 'k');
    std::string value(100000, 'v');
    auto parsed = parse(key + " == '" + value + "'");
    REQUIRE(parsed);
    CHECK(parsed->canonical() == key + " == \"" + value + "\"");
  }
  SECTION("a set of a thousand members") {
    std::string input = "a in {";
    for (int i = 999; i >= 0; --i) input += "'" + std::to_string(i) + "',";
    input += "}";
    auto parsed = parse(input);
    REQUIRE(parsed);
    CHECK(parsed->canonical().starts_with(R"(a in {"0", "1", "10", "100", "101")"));
  }
}

TEST_CASE("selectors compare by canonical form", "[selector]") {
  CHECK(*parse("a == 'b'") == *parse("a==\"b\""));
  CHECK(*parse("") == *parse("all()"));
  CHECK_FALSE(*parse("all()") == *parse("global()"));
  CHECK_FALSE(*parse("has(a) && has(b)") == *parse("has(b) && has(a)"));
  Selector copy = *parse("has(a)");
  Selector other = copy;
  CHECK(other == copy);
  CHECK(other.canonical() == "has(a)");
}

}  // namespace
}  // namespace tartan::selector

namespace tartan::selector {
namespace {

TEST_CASE("withKeyPrefix() prefixes every label key, as Calico's PrefixVisitor", "[selector]") {
  // Calico's visitor test table, with its "visited/" prefix.
  struct Case {
    const char* input;
    const char* output;
  } cases[] = {
      {"k == 'v'", R"(visited/k == "v")"},
      {"k != 'v'", R"(visited/k != "v")"},
      {"k contains 'v'", R"(visited/k contains "v")"},
      {"k starts with 'v'", R"(visited/k starts with "v")"},
      {"k ends with 'v'", R"(visited/k ends with "v")"},
      {"k == 'v' && x == 'y'", R"((visited/k == "v" && visited/x == "y"))"},
      {"k == 'v' || has(x)", R"((visited/k == "v" || has(visited/x)))"},
      {"!(k == 'v')", R"(!visited/k == "v")"},
      {"k in {'v'}", R"(visited/k in {"v"})"},
      {"k not in {'v'}", R"(visited/k not in {"v"})"},
      {"!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
       R"(!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"}))"},
      {"", "all()"},
      {"global()", "global()"},
      {"k in {}", "visited/k in {}"},
      {"k == ''", R"(visited/k == "")"},
  };
  for (const Case& c : cases) {
    INFO("selector: " << c.input);
    auto parsed = parse(c.input);
    REQUIRE(parsed);
    Selector prefixed = parsed->withKeyPrefix("visited/");
    CHECK(prefixed.canonical() == c.output);
    CHECK(prefixed == *parse(c.output));
    CHECK(prefixed.hash() == parse(c.output)->hash());
  }
  CHECK(parse("team == 'x'")->withKeyPrefix("pcns.").matches({{"pcns.team", "x"}}));
  CHECK(parse("has(a)")->withKeyPrefix("").canonical() == "has(a)");
}

TEST_CASE("term() exposes the tree in pre-order", "[selector]") {
  auto parsed = parse("!(a == 'x') && (has(b) || c in {'z', 'y', 'z'}) && all()");
  REQUIRE(parsed);
  // (!a == "x" && (has(b) || c in {"y", "z"}) && all())
  REQUIRE(parsed->termCount() == 7);
  TermView root = parsed->term(0);
  CHECK(root.op() == Operator::kAnd);
  CHECK(root.end() == 7);
  CHECK(parsed->term(1).op() == Operator::kNot);
  CHECK(parsed->term(1).end() == 3);
  CHECK(parsed->term(2).op() == Operator::kEq);
  CHECK(parsed->term(2).key() == "a");
  CHECK(parsed->term(2).value() == "x");
  CHECK(parsed->term(3).op() == Operator::kOr);
  CHECK(parsed->term(3).end() == 6);
  CHECK(parsed->term(4).op() == Operator::kHas);
  CHECK(parsed->term(4).key() == "b");
  CHECK(parsed->term(4).value().empty());
  TermView set = parsed->term(5);
  CHECK(set.op() == Operator::kIn);
  CHECK(set.key() == "c");
  REQUIRE(set.itemCount() == 2);
  CHECK(set.item(0) == "y");
  CHECK(set.item(1) == "z");
  CHECK(parsed->term(6).op() == Operator::kAll);
  CHECK(parsed->term(6).end() == 7);

  Selector all;
  REQUIRE(all.termCount() == 1);
  CHECK(all.term(0).op() == Operator::kAll);
  CHECK(all.term(0).key().empty());
  CHECK(all.term(0).itemCount() == 0);
}

}  // namespace
}  // namespace tartan::selector
