// A store that vanishes is an outage, never an empty store: a watch ends with Unavailable having
// delivered no removal, nothing is made again in its place, and a store put back piece by piece
// (its state first, or its YAML first) counts as back only once it is whole.
#include "tartan/datastore/datastore.hpp"

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace tartan::datastore;
using tartan::datastore::test::Recorder;
using tartan::datastore::test::TempDir;

namespace {

const Key kDeny{"NetworkPolicy", "shop", "deny"};
const Key kAllow{"NetworkPolicy", "shop", "allow"};
const Key kTier{"Tier", "", "security"};

// A store in its own folder under a TempDir, so that the folder itself can be moved away.
struct Fixture {
  TempDir parent;
  std::string dir = parent.path() + "/store";
  std::string away = parent.path() + "/away";

  std::unique_ptr<Datastore> open(OpenOptions options = {}) const {
    auto store = tartan::datastore::open("file:" + dir, std::move(options));
    REQUIRE(store);
    return std::move(*store);
  }
  void fill(Datastore& store) const {
    REQUIRE(store.create(kDeny, "kind: NetworkPolicy\nspec: {order: 1}\n"));
    REQUIRE(store.create(kAllow, "kind: NetworkPolicy\nspec: {order: 2}\n"));
    REQUIRE(store.create(kTier, "kind: Tier\nspec: {order: 3}\n"));
  }
};

bool unavailable(Datastore& store) {
  auto listed = store.list("NetworkPolicy");
  return !listed && listed.error().kind == ErrorKind::Unavailable;
}

size_t deletions(const std::vector<WatchEvent>& events) {
  size_t n = 0;
  for (const auto& event : events) n += event.type == EventType::Deleted;
  return n;
}

}  // namespace

TEST_CASE("a store moved away ends a watch with Unavailable, no removal delivered, nothing made again",
          "[unit]") {
  Fixture f;
  auto store = f.open();
  f.fill(*store);
  Recorder recorder;
  auto watch = store->watch(WatchOptions{}, recorder.callbacks());
  REQUIRE(watch);
  REQUIRE(recorder.waitForInSync());

  fs::rename(f.dir, f.away);
  REQUIRE(recorder.waitFor([](const Recorder& r) { return r.error.has_value(); }));
  CHECK(recorder.error->kind == ErrorKind::Unavailable);
  CHECK(recorder.snapshot().size() == 3);  // the snapshot, and nothing after it
  CHECK(unavailable(*store));
  auto written = store->apply(kTier, "kind: Tier\n");
  REQUIRE_FALSE(written);
  CHECK(written.error().kind == ErrorKind::Unavailable);
  CHECK_FALSE(fs::exists(f.dir));
  auto watchAgain = store->watch(WatchOptions{}, Recorder().callbacks());
  REQUIRE_FALSE(watchAgain);
  CHECK(watchAgain.error().kind == ErrorKind::Unavailable);
}

TEST_CASE("a store removed file by file (rm -r) delivers none of the removal", "[unit]") {
  Fixture f;
  auto store = f.open();
  f.fill(*store);
  Recorder recorder;
  auto watch = store->watch(WatchOptions{}, recorder.callbacks());
  REQUIRE(watch);
  REQUIRE(recorder.waitForInSync());

  fs::remove_all(f.dir);
  REQUIRE(recorder.waitFor([](const Recorder& r) { return r.error.has_value(); }));
  CHECK(recorder.error->kind == ErrorKind::Unavailable);
  CHECK(deletions(recorder.snapshot()) == 0);
  CHECK_FALSE(fs::exists(f.dir));
}

TEST_CASE("a missing or unreadable state file is an outage, not an empty store", "[unit]") {
  Fixture f;
  auto store = f.open();
  f.fill(*store);
  fs::rename(f.dir + "/.tartan/state", f.parent.path() + "/state");
  CHECK(unavailable(*store));
  tartan::datastore::test::writeText(f.dir + "/.tartan/state", "not a state file\n");
  CHECK(unavailable(*store));
  fs::rename(f.parent.path() + "/state", f.dir + "/.tartan/state");
  auto listed = store->list("NetworkPolicy");
  REQUIRE(listed);
  CHECK(listed->items.size() == 2);
  CHECK(listed->revision == 3);
}

TEST_CASE("a store restored state first counts as back only when its files are: no deletion recorded",
          "[unit]") {
  Fixture f;
  auto store = f.open();
  f.fill(*store);
  fs::rename(f.dir, f.away);
  REQUIRE(unavailable(*store));

  fs::create_directories(f.dir);
  fs::rename(f.away + "/.tartan", f.dir + "/.tartan");
  CHECK(unavailable(*store));  // the state lists files that are not back yet
  fs::rename(f.away + "/tier", f.dir + "/tier");
  CHECK(unavailable(*store));
  fs::rename(f.away + "/networkpolicy", f.dir + "/networkpolicy");
  auto listed = store->list("NetworkPolicy");
  REQUIRE(listed);
  CHECK(listed->items.size() == 2);
  CHECK(listed->revision == 3);  // nothing was recorded as deleted meanwhile
  CHECK(store->get(kTier));
}

TEST_CASE("a store restored YAML first counts as back only when its state is", "[unit]") {
  Fixture f;
  auto store = f.open();
  f.fill(*store);
  fs::rename(f.dir, f.away);
  REQUIRE(unavailable(*store));

  fs::create_directories(f.dir);
  fs::rename(f.away + "/networkpolicy", f.dir + "/networkpolicy");
  fs::rename(f.away + "/tier", f.dir + "/tier");
  CHECK(unavailable(*store));
  CHECK_FALSE(fs::exists(f.dir + "/.tartan"));  // not made again: it would be a new, empty store
  fs::rename(f.away + "/.tartan", f.dir + "/.tartan");
  auto listed = store->list("NetworkPolicy");
  REQUIRE(listed);
  CHECK(listed->items.size() == 2);
  CHECK(listed->revision == 3);
}

TEST_CASE("create = false waits for a store rather than making an empty one", "[unit]") {
  Fixture f;
  OpenOptions waiting;
  waiting.create = false;
  auto reader = f.open(waiting);
  CHECK(unavailable(*reader));
  CHECK_FALSE(fs::exists(f.dir));

  // Resource folders without a state are not a new store either.
  fs::create_directories(f.dir + "/tier");
  auto stillWaiting = f.open(waiting);
  CHECK(unavailable(*stillWaiting));
  CHECK_FALSE(fs::exists(f.dir + "/.tartan"));

  fs::remove_all(f.dir);
  auto writer = f.open();  // a writer makes the store
  f.fill(*writer);
  auto listed = reader->list("NetworkPolicy");
  REQUIRE(listed);
  CHECK(listed->items.size() == 2);

  // An empty folder is a new store, even for a reader that does not create.
  TempDir empty;
  auto fresh = tartan::datastore::open(empty.spec(), waiting);
  REQUIRE(fresh);
  auto none = (*fresh)->list("NetworkPolicy");
  REQUIRE(none);
  CHECK(none->items.empty());
}

TEST_CASE("a new store made in the folder's place while it was away is an outage, not an empty truth",
          "[unit]") {
  Fixture f;
  auto store = f.open();
  f.fill(*store);
  fs::rename(f.dir, f.away);
  REQUIRE(unavailable(*store));

  // Someone runs a writer (tartanctl, say) meanwhile: it makes a new, empty store there.
  auto writer = f.open();
  REQUIRE(writer->list("NetworkPolicy"));
  auto listed = store->list("NetworkPolicy");
  REQUIRE_FALSE(listed);
  CHECK(listed.error().kind == ErrorKind::Unavailable);
  CHECK(listed.error().error.what.find("a different datastore is in its place") != std::string::npos);
  auto watch = store->watch(WatchOptions{}, Recorder().callbacks());
  REQUIRE_FALSE(watch);
  CHECK(watch.error().kind == ErrorKind::Unavailable);

  // The old store put back: the same store again.
  fs::remove_all(f.dir);
  fs::rename(f.away, f.dir);
  auto back = store->list("NetworkPolicy");
  REQUIRE(back);
  CHECK(back->items.size() == 2);
  // A process that starts now takes whatever store is there: it has read no other.
  CHECK(f.open()->list("NetworkPolicy"));
}

TEST_CASE("a watch resumed from a revision the restored store never reached lists again", "[unit]") {
  Fixture f;
  auto store = f.open();
  f.fill(*store);
  auto watch = store->watch(WatchOptions{5, ""}, Recorder().callbacks());
  REQUIRE_FALSE(watch);
  CHECK(watch.error().kind == ErrorKind::Compacted);
}
