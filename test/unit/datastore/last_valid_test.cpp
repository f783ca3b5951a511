// The last valid version of every resource is kept beside its file: a damaged file is reported and
// served at that version, by a store opened afterwards too, until its bytes are repaired.
#include "tartan/datastore/datastore.hpp"

#include "support/eventually.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <mutex>

using namespace tartan::datastore;
using tartan::datastore::test::Recorder;
using tartan::datastore::test::TempDir;
using tartan::datastore::test::writeText;
using tartan::test::eventually;

namespace {

const Key kPolicy{"NetworkPolicy", "shop", "deny"};
const std::string kGood = "kind: NetworkPolicy\nspec: {order: 1}\n";
const std::string kPolicyPath = "/networkpolicy/shop/deny.yaml";

std::unique_ptr<Datastore> openStore(const TempDir& dir, OpenOptions options = {}) {
  auto store = open(dir.spec(), std::move(options));
  REQUIRE(store);
  return std::move(*store);
}

// What onDamage said last, and how often it spoke.
struct DamageLog {
  std::mutex mutex;
  std::vector<Damage> current;
  int calls = 0;

  void attach(OpenOptions& options) {
    options.onDamage = [this](const std::vector<Damage>& damaged) {
      std::lock_guard lock(mutex);
      current = damaged;
      ++calls;
    };
  }
  std::vector<Damage> now() {
    std::lock_guard lock(mutex);
    return current;
  }
  int count() {
    std::lock_guard lock(mutex);
    return calls;
  }
};

}  // namespace

TEST_CASE("a damaged file is served at its last valid version, also by a store opened after the damage",
          "[unit]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(kPolicy, kGood));
  }
  writeText(dir.path() + kPolicyPath, "kind: NetworkPolicy\nspec: {order: [\n");

  // A new process: what a restarted agent reads is the version a running one kept.
  DamageLog damage;
  OpenOptions options;
  damage.attach(options);
  auto store = openStore(dir, options);
  auto got = store->get(kPolicy);
  REQUIRE(got);
  CHECK(got->value == kGood);
  CHECK(got->revision == 1);
  Recorder recorder;
  auto watch = store->watch(WatchOptions{}, recorder.callbacks());
  REQUIRE(watch);
  REQUIRE(recorder.waitForInSync());
  auto events = recorder.snapshot();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kv.value == kGood);

  auto damaged = store->damaged();
  REQUIRE(damaged.size() == 1);
  CHECK(damaged[0].path == dir.path() + kPolicyPath);
  CHECK(damaged[0].key == kPolicy);
  CHECK(damaged[0].servedRevision == 1);
  CHECK(damaged[0].problem.find("not valid YAML") != std::string::npos);
  CHECK(damaged[0].toString().find("serving its last valid version (revision 1)") != std::string::npos);
  REQUIRE(damage.now().size() == 1);
}

TEST_CASE("a document the validator refuses is damage, not a revision", "[unit]") {
  TempDir dir;
  OpenOptions options;
  options.validate = [](const Key&, std::string_view document) -> std::optional<std::string> {
    if (document.find("typo") != std::string_view::npos) return "spec.typo: unknown field";
    return std::nullopt;
  };
  {
    auto store = openStore(dir, options);
    REQUIRE(store->create(kPolicy, kGood));
  }
  writeText(dir.path() + kPolicyPath, "kind: NetworkPolicy\nspec: {typo: 1}\n");
  auto store = openStore(dir, options);
  auto listed = store->list("NetworkPolicy", "shop");
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  CHECK(listed->items[0].value == kGood);
  CHECK(listed->revision == 1);
  REQUIRE(store->damaged().size() == 1);
  CHECK(store->damaged()[0].problem == "spec.typo: unknown field");
}

TEST_CASE("writing back exactly the original bytes is noticed: the damage report clears, no event",
          "[unit]") {
  TempDir dir;
  DamageLog damage;
  OpenOptions options;
  damage.attach(options);
  auto store = openStore(dir, options);
  REQUIRE(store->create(kPolicy, kGood));
  Recorder recorder;
  auto watch = store->watch(WatchOptions{}, recorder.callbacks());
  REQUIRE(watch);
  REQUIRE(recorder.waitForInSync());

  writeText(dir.path() + kPolicyPath, "kind: NetworkPolicy\nspec: {order: [\n");
  REQUIRE(eventually([&] { return damage.now().size() == 1; }));
  CHECK(damage.now()[0].key == kPolicy);

  writeText(dir.path() + kPolicyPath, kGood);  // the original bytes: the index's hash again
  REQUIRE(eventually([&] { return damage.count() == 2 && damage.now().empty(); }));
  CHECK(store->damaged().empty());
  // The store never changed: the watch saw the snapshot only.
  REQUIRE(store->apply(Key{"Tier", "", "marker"}, "order: 1"));
  REQUIRE(recorder.waitForEvents(2));
  auto events = recorder.snapshot();
  REQUIRE(events.size() == 2);
  CHECK(events[1].kv.key == Key{"Tier", "", "marker"});
  CHECK(store->get(kPolicy)->revision == 1);
}

TEST_CASE("a repair with new valid content is a revision and clears the report", "[unit]") {
  TempDir dir;
  DamageLog damage;
  OpenOptions options;
  damage.attach(options);
  auto store = openStore(dir, options);
  REQUIRE(store->create(kPolicy, kGood));
  writeText(dir.path() + kPolicyPath, "kind: NetworkPolicy\nspec: {order: [\n");
  REQUIRE(store->get(kPolicy)->value == kGood);
  REQUIRE(damage.now().size() == 1);
  const std::string fixed = "kind: NetworkPolicy\nspec: {order: 2}\n";
  writeText(dir.path() + kPolicyPath, fixed);
  auto got = store->get(kPolicy);
  REQUIRE(got);
  CHECK(got->value == fixed);
  CHECK(got->revision == 2);
  CHECK(damage.now().empty());
  // The new version is the one kept now: damaged again, it is what is served.
  writeText(dir.path() + kPolicyPath, "garbage: [\n");
  auto reopened = openStore(dir);
  CHECK(reopened->get(kPolicy)->value == fixed);
}

TEST_CASE("a store written before last valid versions were kept gets them as its files are read", "[unit]") {
  TempDir dir;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(kPolicy, kGood));
  }
  std::filesystem::remove_all(dir.path() + "/.tartan/valid");
  {
    auto store = openStore(dir);
    REQUIRE(store->get(kPolicy));  // the file matches the index: its copy is made now
  }
  writeText(dir.path() + kPolicyPath, "garbage: [\n");
  auto store = openStore(dir);
  auto got = store->get(kPolicy);
  REQUIRE(got);
  CHECK(got->value == kGood);
}

TEST_CASE("copies of versions nothing names any more are swept", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(kPolicy, kGood));
  REQUIRE(store->apply(kPolicy, "kind: NetworkPolicy\nspec: {order: 2}\n"));
  REQUIRE(store->remove(Key{"NetworkPolicy", "shop", "deny"}));
  REQUIRE(store->create(Key{"Tier", "", "t"}, "order: 1"));
  auto reopened = openStore(dir);  // loading the state sweeps
  REQUIRE(reopened->get(Key{"Tier", "", "t"}));
  size_t copies = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/.tartan/valid")) {
    (void)entry;
    ++copies;
  }
  CHECK(copies == 1);
}

TEST_CASE("a version swept by another process is kept again when a hand edit brings it back", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(kPolicy, kGood));
  REQUIRE(store->apply(kPolicy, "kind: NetworkPolicy\nspec: {order: 2}\n"));
  REQUIRE(openStore(dir)->get(kPolicy));       // another process: its first load sweeps kGood's copy
  writeText(dir.path() + kPolicyPath, kGood);  // back to the first version, by hand
  auto got = store->get(kPolicy);
  REQUIRE(got);
  CHECK(got->revision == 3);
  writeText(dir.path() + kPolicyPath, "garbage: [\n");
  auto reopened = openStore(dir)->get(kPolicy);
  REQUIRE(reopened);
  CHECK(reopened->value == kGood);
}
