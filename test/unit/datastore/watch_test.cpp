#include "tartan/datastore/datastore.hpp"

#include "test_util.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace tartan::datastore;
using tartan::datastore::test::Recorder;
using tartan::datastore::test::Reports;
using tartan::datastore::test::TempDir;
using tartan::datastore::test::writeText;

namespace {

Key tier(const std::string& name) { return Key{"Tier", "", name}; }

std::unique_ptr<Datastore> openStore(const TempDir& dir, OpenOptions options = {}) {
  auto store = open(dir.spec(), std::move(options));
  REQUIRE(store);
  return std::move(*store);
}

std::unique_ptr<Watch> startWatch(Datastore& store, Recorder& recorder, int64_t from, std::string kind = {}) {
  auto watch = store.watch(WatchOptions{from, std::move(kind)}, recorder.callbacks());
  REQUIRE(watch);
  return std::move(*watch);
}

bool ordered(const std::vector<WatchEvent>& events) {
  for (size_t i = 1; i < events.size(); ++i) {
    if (events[i].revision < events[i - 1].revision) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a watch from 0 sends the stored resources, in sync, then live events in order", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(tier("a"), "order: 1"));
  REQUIRE(store->create(tier("b"), "order: 2"));
  Recorder recorder;
  auto watch = startWatch(*store, recorder, 0);
  REQUIRE(recorder.waitForInSync());
  CHECK(*recorder.inSyncAt == 2);
  CHECK(recorder.eventsBeforeInSync == 2);

  auto a = store->update(tier("a"), "order: 10", 1);
  REQUIRE(a);
  REQUIRE(store->remove(tier("b")));
  REQUIRE(store->create(tier("c"), "order: 3"));
  REQUIRE(recorder.waitForEvents(5));
  auto events = recorder.snapshot();
  REQUIRE(events.size() == 5);
  CHECK(ordered(events));
  CHECK(events[0].type == EventType::Added);
  CHECK(events[0].kv.key == tier("a"));
  CHECK(events[1].kv.key == tier("b"));
  CHECK(events[2].type == EventType::Modified);
  CHECK(events[2].kv.value == "order: 10");
  CHECK(events[2].revision == 3);
  CHECK(events[2].kv.revision == 3);
  CHECK(events[3].type == EventType::Deleted);
  CHECK(events[3].kv.key == tier("b"));
  CHECK(events[3].revision == 4);
  CHECK(events[4].type == EventType::Added);
  CHECK(events[4].kv.key == tier("c"));
}

TEST_CASE("a watch resumes after a listed revision, each changed key once at its latest state", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(tier("a"), "v: 1"));
  REQUIRE(store->create(tier("gone"), "v: 1"));
  auto listed = store->list("Tier");
  REQUIRE(listed);
  REQUIRE(store->apply(tier("a"), "v: 2"));
  REQUIRE(store->create(tier("b"), "v: 1"));
  REQUIRE(store->apply(tier("a"), "v: 3"));
  REQUIRE(store->remove(tier("gone")));
  REQUIRE(store->create(tier("brief"), "v: 1"));
  REQUIRE(store->remove(tier("brief")));  // came and went: never shown

  Recorder recorder;
  auto watch = startWatch(*store, recorder, listed->revision);
  REQUIRE(recorder.waitForInSync());
  auto events = recorder.snapshot();
  REQUIRE(events.size() == 3);
  CHECK(ordered(events));
  CHECK(events[0].kv.key == tier("b"));
  CHECK(events[0].type == EventType::Added);
  CHECK(events[1].kv.key == tier("a"));
  CHECK(events[1].type == EventType::Modified);
  CHECK(events[1].kv.value == "v: 3");
  CHECK(events[2].kv.key == tier("gone"));
  CHECK(events[2].type == EventType::Deleted);
  CHECK(*recorder.inSyncAt == 8);
}

TEST_CASE("a watch from a revision older than the journal keeps fails with Compacted", "[unit]") {
  TempDir dir;
  OpenOptions options;
  options.journalLimit = 3;
  auto store = openStore(dir, options);
  for (int i = 0; i < 10; ++i) REQUIRE(store->apply(tier("a"), "v: " + std::to_string(i)));
  Recorder recorder;
  auto old = store->watch(WatchOptions{2, {}}, recorder.callbacks());
  REQUIRE_FALSE(old);
  CHECK(old.error().kind == ErrorKind::Compacted);
  CHECK(old.error().toString().find("list again") != std::string::npos);

  auto recent = store->watch(WatchOptions{8, {}}, recorder.callbacks());
  REQUIRE(recent);
  REQUIRE(recorder.waitForInSync());
  REQUIRE(recorder.snapshot().size() == 1);
  CHECK(recorder.snapshot()[0].kv.value == "v: 9");
}

TEST_CASE("a watch of one kind sees only that kind; transactions share a revision", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  Recorder recorder;
  auto watch = startWatch(*store, recorder, 0, "Tier");
  REQUIRE(recorder.waitForInSync());
  REQUIRE(store->transaction({Op::create(tier("x"), "v: 1"), Op::create(Key{"IPPool", "", "p"}, "v: 1"),
                              Op::create(tier("y"), "v: 1")}));
  REQUIRE(store->create(tier("z"), "v: 1"));
  REQUIRE(recorder.waitForEvents(3));
  auto events = recorder.snapshot();
  REQUIRE(events.size() == 3);
  CHECK(events[0].kv.key == tier("x"));
  CHECK(events[1].kv.key == tier("y"));
  CHECK(events[0].revision == events[1].revision);
  CHECK(events[2].revision == events[1].revision + 1);
}

TEST_CASE("a watch sees writes by another datastore instance on the same folder", "[unit]") {
  TempDir dir;
  auto watched = openStore(dir);
  auto other = openStore(dir);
  Recorder recorder;
  auto watch = startWatch(*watched, recorder, 0);
  REQUIRE(recorder.waitForInSync());
  REQUIRE(other->create(Key{"NetworkPolicy", "ns1", "p"}, "v: 1"));
  REQUIRE(recorder.waitForEvents(1));
  CHECK(recorder.snapshot()[0].kv.key == Key{"NetworkPolicy", "ns1", "p"});
}

TEST_CASE("hand edits while watching arrive as events: add, modify, delete, new folders", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(tier("known"), "v: 1"));
  Recorder recorder;
  auto watch = startWatch(*store, recorder, 0);
  REQUIRE(recorder.waitForInSync());
  std::string tierDir = dir.path() + "/tier/";

  writeText(tierDir + "hand.yaml", "v: hand\n");
  REQUIRE(recorder.waitForEvents(2));
  auto added = recorder.snapshot()[1];
  CHECK(added.type == EventType::Added);
  CHECK(added.kv.key == tier("hand"));
  CHECK(added.kv.value == "v: hand\n");

  writeText(tierDir + "known.yaml", "v: 2\n");
  REQUIRE(recorder.waitForEvents(3));
  CHECK(recorder.snapshot()[2].type == EventType::Modified);
  CHECK(recorder.snapshot()[2].kv.value == "v: 2\n");

  std::filesystem::remove(tierDir + "hand.yaml");
  REQUIRE(recorder.waitForEvents(4));
  CHECK(recorder.snapshot()[3].type == EventType::Deleted);
  CHECK(recorder.snapshot()[3].kv.key == tier("hand"));

  // A namespace folder and a kind folder made by hand are watched from then on.
  writeText(dir.path() + "/tier/ns1/spaced.yaml", "v: 1\n");
  REQUIRE(recorder.waitForEvents(5));
  CHECK(recorder.snapshot()[4].kv.key == Key{"Tier", "ns1", "spaced"});
  writeText(dir.path() + "/bgppeer/rr.yaml", "kind: BGPPeer\n");
  REQUIRE(recorder.waitForEvents(6));
  CHECK(recorder.snapshot()[5].kv.key == Key{"BGPPeer", "", "rr"});
  writeText(dir.path() + "/bgppeer/rr.yaml", "kind: BGPPeer\nspec: {}\n");
  REQUIRE(recorder.waitForEvents(7));
  CHECK(recorder.snapshot()[6].type == EventType::Modified);

  // Renamed into place, as careful editors and tools write; then a whole folder removed.
  writeText(dir.path() + "/tier/.draft", "v: renamed\n");
  std::filesystem::rename(dir.path() + "/tier/.draft", dir.path() + "/tier/renamed.yaml");
  REQUIRE(recorder.waitForEvents(8));
  CHECK(recorder.snapshot()[7].kv.key == tier("renamed"));
  CHECK(recorder.snapshot()[7].kv.value == "v: renamed\n");
  std::filesystem::remove_all(dir.path() + "/bgppeer");
  REQUIRE(recorder.waitForEvents(9));
  CHECK(recorder.snapshot()[8].type == EventType::Deleted);
  CHECK(recorder.snapshot()[8].kv.key == Key{"BGPPeer", "", "rr"});

  auto events = recorder.snapshot();
  CHECK(ordered(events));
  // The hand edits are revisions of the store, as if written through it.
  auto got = store->get(tier("known"));
  REQUIRE(got);
  CHECK(got->revision == events[2].revision);
}

TEST_CASE("an invalid hand-edited file is reported and skipped; other events still arrive", "[unit]") {
  TempDir dir;
  Reports reports;
  auto store = openStore(dir, OpenOptions{reports.callback()});
  REQUIRE(store->create(tier("good"), "v: 1"));
  Recorder recorder;
  auto watch = startWatch(*store, recorder, 0);
  REQUIRE(recorder.waitForInSync());

  writeText(dir.path() + "/tier/broken.yaml", "v: [unclosed\n");
  REQUIRE(reports.waitForCount(1));
  CHECK(reports.errors[0].kind == ErrorKind::Invalid);
  CHECK(reports.errors[0].error.where == dir.path() + "/tier/broken.yaml");

  REQUIRE(store->apply(tier("good"), "v: 2"));
  REQUIRE(recorder.waitForEvents(2));
  CHECK(recorder.snapshot()[1].kv.value == "v: 2");

  writeText(dir.path() + "/tier/broken.yaml", "v: fixed\n");
  REQUIRE(recorder.waitForEvents(3));
  CHECK(recorder.snapshot()[2].type == EventType::Added);
  CHECK(recorder.snapshot()[2].kv.key == tier("broken"));
  CHECK(recorder.snapshot().size() == 3);
}

TEST_CASE("stop ends delivery, also from inside a callback", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->create(tier("a"), "v: 1"));
  REQUIRE(store->create(tier("b"), "v: 1"));

  std::unique_ptr<Watch> watch;
  Recorder recorder;
  auto callbacks = recorder.callbacks();
  auto record = callbacks.onEvent;
  std::mutex watchMutex;
  callbacks.onEvent = [&](const WatchEvent& event) {
    record(event);
    std::lock_guard lock(watchMutex);
    if (watch) watch->stop();
  };
  {
    std::lock_guard lock(watchMutex);
    auto started = store->watch(WatchOptions{}, callbacks);
    REQUIRE(started);
    watch = std::move(*started);
  }
  REQUIRE(recorder.waitForEvents(1));
  watch->stop();  // joins the delivery thread
  CHECK(recorder.snapshot().size() == 1);
  CHECK_FALSE(recorder.inSyncAt.has_value());

  Recorder later;
  auto second = startWatch(*store, later, 0);
  REQUIRE(later.waitForInSync());
  second->stop();
  REQUIRE(store->create(tier("c"), "v: 1"));
  CHECK(later.snapshot().size() == 2);
}

TEST_CASE("a watch outlives its datastore object", "[unit]") {
  TempDir dir;
  auto store = openStore(dir);
  Recorder recorder;
  auto watch = startWatch(*store, recorder, 0);
  store.reset();
  auto writer = openStore(dir);
  REQUIRE(writer->create(tier("a"), "v: 1"));
  REQUIRE(recorder.waitForEvents(1));
}

TEST_CASE("a watch that falls behind the journal ends with Compacted", "[unit]") {
  TempDir dir;
  OpenOptions options;
  options.journalLimit = 2;
  auto store = openStore(dir, options);
  REQUIRE(store->create(tier("a"), "v: 0"));
  // The first callback blocks until many more writes than the journal keeps have happened.
  std::mutex gateMutex;
  std::condition_variable gateChanged;
  bool open = false;
  Recorder recorder;
  auto callbacks = recorder.callbacks();
  auto record = callbacks.onEvent;
  callbacks.onEvent = [&](const WatchEvent& event) {
    record(event);
    std::unique_lock lock(gateMutex);
    gateChanged.wait_for(lock, tartan::datastore::test::kWaitLimit, [&] { return open; });
  };
  auto watch = store->watch(WatchOptions{}, callbacks);
  REQUIRE(watch);
  REQUIRE(recorder.waitForEvents(1));
  for (int i = 1; i <= 6; ++i) REQUIRE(store->apply(tier("a"), "v: " + std::to_string(i)));
  {
    std::lock_guard lock(gateMutex);
    open = true;
  }
  gateChanged.notify_all();
  REQUIRE(recorder.waitFor([](const Recorder& r) { return r.error.has_value(); }));
  CHECK(recorder.error->kind == ErrorKind::Compacted);
}

TEST_CASE("a watch resumes across a restart, hand edits made meanwhile included", "[unit]") {
  TempDir dir;
  int64_t seen = 0;
  {
    auto store = openStore(dir);
    REQUIRE(store->create(tier("a"), "v: 1"));
    REQUIRE(store->create(tier("b"), "v: 1"));
    seen = store->list("Tier")->revision;
  }
  writeText(dir.path() + "/tier/a.yaml", "v: 2\n");
  std::filesystem::remove(dir.path() + "/tier/b.yaml");
  auto store = openStore(dir);
  Recorder recorder;
  auto watch = startWatch(*store, recorder, seen);
  REQUIRE(recorder.waitForInSync());
  auto events = recorder.snapshot();
  REQUIRE(events.size() == 2);
  CHECK(events[0].kv.key == tier("a"));
  CHECK(events[0].type == EventType::Modified);
  CHECK(events[0].kv.value == "v: 2\n");
  CHECK(events[1].kv.key == tier("b"));
  CHECK(events[1].type == EventType::Deleted);
}
