// Bounds on what one manifest may cost: a document over kMaxDocumentBytes and a network set of
// more than kMaxNetworkSetNets nets are refused with one clear error, before the rest is parsed.
#include "tartan/common/limits.hpp"

#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

namespace {

std::string globalNetworkSet(size_t nets, const std::string& net) {
  std::string text =
      "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: feed\nspec:\n  nets:\n";
  text.reserve(text.size() + nets * (net.size() + 5));
  for (size_t i = 0; i < nets; ++i) text += "  - " + net + "\n";
  return text;
}

}  // namespace

TEST_CASE("a document over the size limit is refused before it is parsed, at its first line",
          "[model][limits]") {
  const std::string big = globalNetworkSet(tartan::kMaxDocumentBytes / 16 + 1, "10.0.0.0/32");
  REQUIRE(big.size() > tartan::kMaxDocumentBytes);
  const std::string small =
      "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: t\nspec:\n  order: 1\n";

  SECTION("alone") {
    Error e = onlyError(big);
    CHECK(e.where == "in.yaml:1:1");
    CHECK(e.field.empty());
    CHECK_THAT(e.what, Catch::StartsWith("document is " + std::to_string(big.size()) +
                                         " bytes, over the limit of 4194304 (4 MiB)"));
  }
  SECTION("after a good document: the error names the big one's first line, its ---") {
    Error e = onlyError(small + "---\n" + big);
    CHECK(e.where == "in.yaml:7:1");
  }
  SECTION("a document just under the limit is decoded") {
    const std::string fits = globalNetworkSet((tartan::kMaxDocumentBytes - 200) / 16, "10.0.0.0/32");
    REQUIRE(fits.size() <= tartan::kMaxDocumentBytes);
    // Too many nets for one set, but that is the next bound: the document itself was read.
    Error e = onlyError(fits);
    CHECK(e.field == "spec.nets");
  }
}

TEST_CASE("a network set of more than the limit of nets is refused with one error, no net parsed",
          "[model][limits]") {
  SECTION("valid nets") {
    Error e = onlyError(globalNetworkSet(tartan::kMaxNetworkSetNets + 1, "10.1.2.3"));
    CHECK(e.where == "in.yaml:7:3");  // the list, at its first item
    CHECK(e.field == "spec.nets");
    CHECK_THAT(e.what, Catch::StartsWith("too many nets (100001 > 100000)"));
  }
  SECTION("nets that are not CIDRs are not even looked at") {
    Error e = onlyError(globalNetworkSet(tartan::kMaxNetworkSetNets + 1, "bogus"));
    CHECK(e.field == "spec.nets");
  }
  SECTION("up to the limit is accepted") {
    DecodeResult result = decode(globalNetworkSet(1000, "10.1.2.3"), "in.yaml");
    INFO(errorsText(result));
    CHECK(result.ok());
  }
}
