// Files a writer staged and never committed: removed by the next process to open the store when
// their writer is gone, kept while their writer holds the lock.
#include "tartan/datastore/datastore.hpp"

#include "file_state.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <future>

using namespace tartan::datastore;
using tartan::datastore::test::readText;
using tartan::datastore::test::TempDir;
using tartan::datastore::test::writeText;

namespace {

const Key kTier{"Tier", "", "t"};
const Key kNetPol{"NetworkPolicy", "prod", "allow-web"};

std::unique_ptr<Datastore> openStore(const TempDir& dir) {
  auto store = open(dir.spec());
  REQUIRE(store);
  return std::move(*store);
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

}  // namespace

TEST_CASE("files staged by a writer killed before its redo log are removed by the next opener", "[unit]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(kTier, "order: 1"));
    REQUIRE(store->create(kNetPol, "order: 5"));
  }
  // As if `kill -9` hit a writer while it staged: temp files, no redo log, no commit.
  const std::vector<std::string> staged = {dir.path() + "/tier/.t.yaml.4242.0.tmp",
                                           dir.path() + "/tier/.new.yaml.4242.1.tmp",
                                           dir.path() + "/networkpolicy/prod/.allow-web.yaml.4242.2.tmp"};
  for (const auto& path : staged) writeText(path, "order: 9\n");
  // Hidden files that only look similar are somebody else's.
  const std::vector<std::string> others = {dir.path() + "/tier/.t.yaml.swp", dir.path() + "/tier/.notes.tmp",
                                           dir.path() + "/tier/.t.yaml.x.0.tmp",
                                           dir.path() + "/networkpolicy/prod/.keep"};
  for (const auto& path : others) writeText(path, "mine\n");

  auto store = openStore(dir);
  for (const auto& path : staged) {
    INFO(path);
    CHECK_FALSE(exists(path));
  }
  for (const auto& path : others) {
    INFO(path);
    CHECK(exists(path));
  }
  CHECK(store->get(kTier)->value == "order: 1");
  CHECK(store->get(kNetPol)->value == "order: 5");
  CHECK_FALSE(store->get(Key{"Tier", "", "new"}));
}

TEST_CASE("files staged by a writer that holds the lock are left to it", "[unit]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(kTier, "order: 1"));
  }
  const std::string staged = dir.path() + "/tier/.t.yaml." + std::to_string(::getpid()) + ".7.tmp";
  auto lock = file::FileLock::acquire(dir.path() + "/.tartan/lock");
  REQUIRE(lock.has_value());
  writeText(staged, "order: 2\n");

  // Another process opening the store now waits for the lock; whenever it gets to run, the
  // writer's staged file is still there until the writer itself moves it.
  auto opening = std::async(std::launch::async, [&] { return open(dir.spec()); });
  opening.wait_for(std::chrono::milliseconds(200));
  CHECK(exists(staged));
  std::filesystem::rename(staged, dir.path() + "/tier/t.yaml");
  { auto released = std::move(*lock); }

  auto store = opening.get();
  REQUIRE(store);
  CHECK((*store)->get(kTier)->value == "order: 2\n");
}
