// Error messages a person can act on: where (file:line:column), which field, and what, kept to one
// readable line however large the input.
#include "test_support.hpp"

#include <algorithm>

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

namespace {

struct Case {
  std::string name;
  std::string text;
  std::string where;
  std::string field;
  std::string what;  // the start of the message
};

void checkCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(c.text);
      CHECK(e.where == c.where);
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::StartsWith(c.what));
    }
  }
}

std::string resource(const std::string& kind, const std::string& name, const std::string& rest = "") {
  return "apiVersion: projectcalico.org/v3\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n" + rest;
}

std::string gnp(const std::string& spec) { return resource("GlobalNetworkPolicy", "p", "spec:\n" + spec); }

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("an unterminated quote is refused at the quote, also at the end of the file", "[model][errors]") {
  checkCases({
      {"a double quote at the end of the file", gnp("  selector: \"all()\n"), "in.yaml:6:13", "",
       "invalid YAML: a quoted string is not closed"},
      {"a single quote at the end of the file", gnp("  selector: 'all()\n"), "in.yaml:6:13", "",
       "invalid YAML: a quoted string is not closed"},
      {"with no line break after it", gnp("  selector: \"all()"), "in.yaml:6:13", "",
       "invalid YAML: a quoted string is not closed"},
      {"running over the lines after it", gnp("  selector: \"all()\n  order: 10\n"), "in.yaml:6:13", "",
       "invalid YAML: a quoted string is not closed"},
      {"after closed quotes, an escaped quote and a comment",
       gnp("  selector: \"a == \\\"b\\\"\"  # it's here\n  ingress:\n  - action: 'Allow'\n    protocol: "
           "\"TCP\n"),
       "in.yaml:9:15", "", "invalid YAML: a quoted string is not closed"},
      {"in a document before another", gnp("  selector: \"all()\n") + "---\n" + resource("Tier", "t"),
       "in.yaml:6:13", "", "invalid YAML: a quoted string is not closed"},
  });
}

TEST_CASE("quotes inside plain scalars and closed quotes still decode", "[model][errors]") {
  DecodeResult result = decode(gnp("  selector: 'a == \"it''s\"'\n  ingress:\n  - action: Allow\n"
                                   "    metadata:\n      annotations:\n        note: it's fine\n"),
                               "in.yaml");
  INFO(errorsText(result));
  CHECK(result.ok());
}

TEST_CASE("nesting beyond the limit is refused where it goes too deep, not as \"bad file\"",
          "[model][errors]") {
  // metadata and spec are levels 1 and 2, ingress 3: its 99th '[' is level 101.
  Error e = onlyError(gnp("  ingress: " + nested(2000) + "\n"));
  CHECK(e.where == "in.yaml:6:" + std::to_string(12 + 98));
  CHECK(e.what == "invalid YAML: nested more than 100 levels deep");
  // Just within the limit it is an ordinary type error.
  Error within = onlyError(gnp("  ingress: " + nested(98) + "\n"));
  CHECK(within.what.find("nested") == std::string::npos);
}

TEST_CASE("a long invalid selector is quoted around its error, not whole", "[model][errors]") {
  const std::string label(512, 'b');  // the longest a label may be
  SECTION("the error far into the selector") {
    std::string terms;  // some 200 KB of valid terms before the error
    for (int i = 0; i < 390; ++i) terms += "has(" + label + ") && ";
    const std::string selector = "has(a) && " + terms + label + " == 'c' && %";
    Error e = onlyError(gnp("  selector: " + selector + "\n"));
    CHECK(e.field == "spec.selector");
    CHECK(e.what.size() < 300);
    CHECK_THAT(e.what, Catch::StartsWith("invalid selector \"...bbb"));
    CHECK_THAT(e.what, Catch::Contains("bbb == 'c' && %\" at column " + std::to_string(selector.size()) +
                                       ": unexpected character '%'"));
  }
  SECTION("the error near its start") {
    Error e = onlyError(gnp("  selector: a b " + label + "\n"));
    CHECK(e.what.size() < 300);
    CHECK_THAT(e.what, Catch::StartsWith("invalid selector \"a b bbb"));
    CHECK_THAT(e.what, Catch::Contains("bbb...\" at column 3"));
  }
  SECTION("a long label in the message itself") {
    Error e = onlyError(gnp("  selector: " + label + " x\n"));
    CHECK(e.what.size() < 300);
    CHECK_THAT(e.what, Catch::Contains("after label '" + std::string(40, 'b') + "...'"));
  }
  SECTION("a short selector is quoted whole") {
    Error e = onlyError(gnp("  selector: a b\n"));
    CHECK_THAT(e.what, Catch::StartsWith("invalid selector \"a b\" at column 3"));
  }
}

TEST_CASE("a name whose only fault is its length is told it is too long, with both lengths",
          "[model][errors]") {
  const std::string n64(64, 'a'), n253(253, 'a'), n254(254, 'a'), n100(100, 'a');
  checkCases({
      {"a tier name of 64", resource("Tier", n64), "in.yaml:4:9", "metadata.name",
       "tier name is too long (64 > 63 characters)"},
      {"a tier name of 253", resource("Tier", n253), "in.yaml:4:9", "metadata.name",
       "tier name is too long (253 > 63 characters)"},
      {"a policy name of 100", resource("GlobalNetworkPolicy", n100, "spec:\n  selector: all()\n"),
       "in.yaml:4:9", "metadata.name", "name is too long (100 > 63 characters)"},
      {"a policy name of 254", resource("GlobalNetworkPolicy", n254, "spec:\n  selector: all()\n"),
       "in.yaml:4:9", "metadata.name", "name is too long (254 > 253 characters)"},
      {"a tiered policy name with a long part",
       resource("GlobalNetworkPolicy", "t." + n64, "spec:\n  tier: t\n"), "in.yaml:4:9", "metadata.name",
       "a part of the name is too long (64 > 63 characters)"},
      {"a policy's tier of 64", resource("GlobalNetworkPolicy", "p", "spec:\n  tier: " + n64 + "\n"),
       "in.yaml:6:9", "spec.tier", "tier is too long (64 > 63 characters)"},
      {"a namespace of 64", resource("NetworkPolicy", "p", "  namespace: " + n64 + "\n"), "in.yaml:5:14",
       "metadata.namespace", "namespace is too long (64 > 63 characters)"},
      {"a Kubernetes namespace name of 70",
       "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + std::string(70, 'n') + "\n", "in.yaml:4:9",
       "metadata.name", "a namespace name is too long (70 > 63 characters)"},
      {"a network set name of 254", resource("GlobalNetworkSet", n254), "in.yaml:4:9", "metadata.name",
       "name is too long (254 > 253 characters)"},
      {"a long name that breaks the pattern gets the pattern", resource("Tier", std::string(70, 'A')),
       "in.yaml:4:9", "metadata.name", "tier name must consist of lower case"},
  });
}

TEST_CASE("a network set name of 64 to 253 characters is a valid DNS-1123 subdomain", "[model][errors]") {
  DecodeResult result = decode(resource("GlobalNetworkSet", std::string(253, 'a')), "in.yaml");
  INFO(errorsText(result));
  CHECK(result.ok());
}

TEST_CASE("each decoded resource says where it is, so a duplicate can be shown at its line",
          "[model][errors]") {
  DecodeResult result =
      decode(resource("Tier", "t") + "---\n" + resource("Tier", "\"u\"") +
                 "---\napiVersion: v1\nkind: List\nitems:\n- " +
                 "apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata:\n    name: w\n",
             "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  REQUIRE(result.locations.size() == 3);
  CHECK(result.locations[0] == "in.yaml:4:9");
  CHECK(result.locations[1] == "in.yaml:9:9");
  CHECK(result.locations[2] == "in.yaml:17:11");
}
