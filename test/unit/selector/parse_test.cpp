// Parsing, canonical form and ids of selectors.
#include "tartan/selector/selector.hpp"

#include <catch2/catch.hpp>

namespace tartan::selector {
namespace {

TEST_CASE("a simple selector parses, matches and prints canonically", "[selector]") {
  auto selector = parse("app=='web'&&has( tier )");
  REQUIRE(selector);
  CHECK(selector->canonical() == "(app == \"web\" && has(tier))");
  CHECK(selector->matches({{"app", "web"}, {"tier", "x"}}));
  CHECK_FALSE(selector->matches({{"app", "web"}}));
}

TEST_CASE("the default selector is all()", "[selector]") {
  Selector selector;
  CHECK(selector.canonical() == "all()");
  CHECK(selector.matches({}));
  CHECK(selector == *parse(""));
}

TEST_CASE("parse errors name the column", "[selector]") {
  auto selector = parse("a == ");
  REQUIRE_FALSE(selector);
  CHECK(selector.error().where == "column 6");
  CHECK(selector.error().what.find("expected a string after ==") == 0);
}

}  // namespace
}  // namespace tartan::selector
