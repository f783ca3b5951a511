// The hash and the unique id name kernel objects, so their values are pinned here: a change
// to either would rename every IP set on upgrade.
#include "tartan/selector/selector.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <unordered_set>

namespace tartan::selector {
namespace {

TEST_CASE("uniqueId() equals Calico's UniqueID() for Calico's published vectors", "[selector]") {
  struct Case {
    const char* input;
    const char* id;
  } cases[] = {
      {"", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
      {" all() ", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
      {" (all() )", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
      {"! (has( b)||! has(a ))", "s:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q"},
      {R"(! (a == "b"&&! c != "d"))", "s:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w"},
  };
  for (const Case& c : cases) {
    INFO("selector: " << c.input);
    auto parsed = parse(c.input);
    REQUIRE(parsed);
    CHECK(parsed->uniqueId() == c.id);
  }
  CHECK(Selector().uniqueId() == "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug");
}

TEST_CASE("uniqueId() is s: and 38 base64url characters", "[selector]") {
  for (const char* input : {"has(a)", "a in {'x', 'y'}", "a == '\xff\xfe'", "global()"}) {
    auto parsed = parse(input);
    REQUIRE(parsed);
    const std::string id = parsed->uniqueId();
    CHECK(id.size() == 40);
    CHECK(id.starts_with("s:"));
    CHECK(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 2) ==
          std::string::npos);
  }
}

TEST_CASE("hash() is FNV-1a 64 of the canonical form, pinned", "[selector]") {
  CHECK(Selector().hash() == 0x68f9c1bb7305fd57ULL);
  CHECK(parse("")->hash() == 0x68f9c1bb7305fd57ULL);
  CHECK(parse("a=='b'&&has(c)")->hash() == 0x4798cf9a5c4f0261ULL);
  CHECK(parse("app == 'web'")->hash() == 0x5133e7c38c070188ULL);
}

TEST_CASE("equal selectors share hash and id; different ones do not", "[selector]") {
  CHECK(parse("a == 'b'")->hash() == parse(" a==\"b\" ")->hash());
  CHECK(parse("a == 'b'")->uniqueId() == parse("(a==\"b\")")->uniqueId());
  std::set<uint64_t> hashes;
  std::set<std::string> ids;
  const char* distinct[] = {"all()",
                            "global()",
                            "has(a)",
                            "!has(a)",
                            "a == 'b'",
                            "a != 'b'",
                            "a in {'b'}",
                            "a not in {'b'}",
                            "a contains 'b'",
                            "a starts with 'b'",
                            "a ends with 'b'",
                            "b == 'a'",
                            "(has(a) && has(b))",
                            "(has(a) || has(b))"};
  for (const char* input : distinct) {
    auto parsed = parse(input);
    REQUIRE(parsed);
    hashes.insert(parsed->hash());
    ids.insert(parsed->uniqueId());
  }
  CHECK(hashes.size() == std::size(distinct));
  CHECK(ids.size() == std::size(distinct));
}

TEST_CASE("selectors key unordered containers by canonical form", "[selector]") {
  std::unordered_set<Selector> selectors;
  for (const char* input : {"a == 'b'", "a==\"b\"", "(a == 'b')", "has(a)", "", "all()"}) {
    selectors.insert(parse(input).value());
  }
  CHECK(selectors.size() == 3);
  CHECK(selectors.count(Selector()) == 1);
}

}  // namespace
}  // namespace tartan::selector
