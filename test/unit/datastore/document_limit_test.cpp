// A file over the document size limit is refused before yaml-cpp parses it: it would otherwise
// cost some 30 times its size in memory, under the store's lock.
#include "tartan/common/limits.hpp"
#include "tartan/datastore/datastore.hpp"

#include "test_util.hpp"

#include <catch2/catch.hpp>

using namespace tartan::datastore;
using tartan::datastore::test::Reports;
using tartan::datastore::test::TempDir;
using tartan::datastore::test::writeText;

TEST_CASE("a hand-placed document over the size limit is reported and not served", "[unit]") {
  TempDir dir;
  {
    auto store = open(dir.spec());
    REQUIRE(store);
    REQUIRE((*store)->create(Key{"Tier", "", "t"}, "order: 1"));
  }
  writeText(dir.path() + "/tier/big.yaml",
            "order: 2\n# " + std::string(tartan::kMaxDocumentBytes, 'x') + "\n");

  Reports reports;
  OpenOptions options;
  options.onInvalidDocument = reports.callback();
  auto store = open(dir.spec(), options);
  REQUIRE(store);
  CHECK_FALSE((*store)->get(Key{"Tier", "", "big"}));
  REQUIRE(reports.waitForCount(1));
  CHECK(reports.errors[0].error.where.ends_with("tier/big.yaml"));
  CHECK(reports.errors[0].error.what.find("over the limit of 4194304 (4 MiB)") != std::string::npos);
  CHECK((*store)->get(Key{"Tier", "", "t"})->value == "order: 1");
}
