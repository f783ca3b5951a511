// The etcd backend's watch against a real etcd: snapshot, in sync and live events; resume from a
// revision; a compacted start; etcd killed and restarted mid-watch; and on a three-member
// cluster, a member that goes silent under the watch while the others remove and compact: the
// watch moves on and delivers the removal by listing again. Plus endpoint fallback.
#include "etcd_server.hpp"
#include "support/skip.hpp"
#include "tartan/datastore/etcd_datastore.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

namespace tartan::datastore {
namespace {

using test::etcd::EtcdServer;

std::string policy(const std::string& name, int order = 10) {
  return "apiVersion: tartan.dev/v1\nkind: GlobalNetworkPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n  order: " + std::to_string(order) + "\n  selector: all()\n";
}

Key key(const std::string& name) { return Key{"GlobalNetworkPolicy", "", name}; }

struct Recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<WatchEvent> events;
  std::optional<int64_t> inSyncAt;
  std::optional<StoreError> error;

  WatchCallbacks callbacks() {
    return {[this](const WatchEvent& e) {
              std::lock_guard lock(mutex);
              events.push_back(e);
              changed.notify_all();
            },
            [this](int64_t revision) {
              std::lock_guard lock(mutex);
              inSyncAt = revision;
              changed.notify_all();
            },
            [this](const StoreError& e) {
              std::lock_guard lock(mutex);
              error = e;
              changed.notify_all();
            }};
  }
  bool waitFor(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, done);
  }
  bool has(EventType type, const std::string& name) {
    for (const auto& e : events) {
      if (e.type == type && e.kv.key.name == name) return true;
    }
    return false;
  }
};

#define SKIP_WITHOUT_ETCD()                               \
  if (!test::etcd::haveEtcd()) {                          \
    WARN("etcd is not installed (scripts/install-deps)"); \
    test::markSkipped();                                  \
    return;                                               \
  }

EtcdOptions fastOptions(std::vector<std::string> endpoints) {
  EtcdOptions options;
  options.endpoints = std::move(endpoints);
  options.callTimeout = std::chrono::milliseconds(2000);
  options.progressInterval = std::chrono::milliseconds(300);
  options.watchResumeWindow = std::chrono::milliseconds(15000);
  return options;
}

TEST_CASE("a watch from 0 sends the stored resources, in sync, then live events with their types",
          "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  auto store = openEtcdDatastore(fastOptions({etcd.endpoint()})).value();
  auto a = store->create(key("a"), policy("a")).value();
  store->create(key("b"), policy("b")).value();

  Recorder r;
  auto watch = store->watch({}, r.callbacks()).value();
  REQUIRE(r.waitFor([&] { return r.inSyncAt.has_value(); }));
  CHECK(r.events.size() == 2);
  CHECK(r.has(EventType::Added, "a"));
  CHECK(*r.inSyncAt >= a.revision);

  auto modified = store->update(key("a"), policy("a", 20), a.revision).value();
  store->create(key("c"), policy("c")).value();
  store->remove(key("b")).value();
  REQUIRE(r.waitFor([&] { return r.events.size() == 5; }));
  CHECK(r.events[2].type == EventType::Modified);
  CHECK(r.events[2].kv.revision == modified.revision);
  CHECK(r.events[3].type == EventType::Added);
  CHECK(r.events[4].type == EventType::Deleted);
  CHECK(r.events[4].kv.key.name == "b");
  for (size_t i = 1; i < r.events.size(); ++i) CHECK(r.events[i].revision >= r.events[i - 1].revision);
  watch->stop();
}

TEST_CASE("a watch from a listed revision delivers what changed since; a compacted one fails at once",
          "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  auto store = openEtcdDatastore(fastOptions({etcd.endpoint()})).value();
  store->create(key("a"), policy("a")).value();
  store->create(key("b"), policy("b")).value();
  auto listed = store->list("GlobalNetworkPolicy").value();
  store->remove(key("a")).value();
  store->create(key("c"), policy("c")).value();

  Recorder r;
  WatchOptions from;
  from.fromRevision = listed.revision;
  auto watch = store->watch(from, r.callbacks()).value();
  REQUIRE(r.waitFor([&] { return r.inSyncAt.has_value(); }));
  CHECK(r.events.size() == 2);
  CHECK(r.has(EventType::Deleted, "a"));
  CHECK(r.has(EventType::Added, "c"));
  watch->stop();

  auto compacted = etcd.ctl({"compaction", std::to_string(*r.inSyncAt)});
  REQUIRE(compacted.status == 0);
  auto refused = store->watch(from, Recorder().callbacks());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::Compacted);
}

TEST_CASE("etcd killed and restarted under a watch: the watch resumes and misses nothing", "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  auto store = openEtcdDatastore(fastOptions({etcd.endpoint()})).value();
  store->create(key("a"), policy("a")).value();
  Recorder r;
  auto watch = store->watch({}, r.callbacks()).value();
  REQUIRE(r.waitFor([&] { return r.inSyncAt.has_value(); }));

  etcd.kill();
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  auto put = etcd.ctl(
      {"put", "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/default.b",
       R"json({"kind":"GlobalNetworkPolicy","apiVersion":"projectcalico.org/v3","metadata":{"name":"b"},"spec":{"order":1,"selector":"all()"}})json"});
  REQUIRE(put.status == 0);
  store->remove(key("a")).value();
  REQUIRE(r.waitFor([&] { return r.has(EventType::Added, "b") && r.has(EventType::Deleted, "a"); }));
  CHECK_FALSE(r.error);
  watch->stop();
}

TEST_CASE("an endpoint that is down is passed over; the next one answers", "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  std::string dead = "http://127.0.0.1:" + std::to_string(test::etcd::freePort());
  auto store = openEtcdDatastore(fastOptions({dead, etcd.endpoint()})).value();
  CHECK(store->create(key("a"), policy("a")));
  CHECK(store->get(key("a")));
  Recorder r;
  auto watch = store->watch({}, r.callbacks()).value();
  REQUIRE(r.waitFor([&] { return r.inSyncAt.has_value(); }));
  CHECK(r.events.size() == 1);
}

TEST_CASE(
    "three members: the watch's member goes silent, the others remove and compact; the watch moves "
    "on and lists again",
    "[interop]") {
  SKIP_WITHOUT_ETCD();
  std::string token = "tartan-cluster-" + std::to_string(::getpid());
  std::vector<std::pair<int, int>> ports;
  std::string cluster;
  for (int i = 0; i < 3; ++i) {
    ports.emplace_back(test::etcd::freePort(), test::etcd::freePort());
    cluster += (i ? "," : "") + std::string("m") + std::to_string(i) +
               "=http://127.0.0.1:" + std::to_string(ports.back().second);
  }
  std::vector<std::unique_ptr<EtcdServer>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(std::make_unique<EtcdServer>("m" + std::to_string(i), ports[i].first, ports[i].second,
                                                   cluster, token));
    members.back()->start();
  }
  for (auto& m : members) REQUIRE(m->waitHealthy());

  auto watched =
      openEtcdDatastore(fastOptions({members[0]->endpoint(), members[1]->endpoint(), members[2]->endpoint()}))
          .value();
  auto writer = openEtcdDatastore(fastOptions({members[1]->endpoint(), members[2]->endpoint()})).value();
  writer->create(key("a"), policy("a")).value();
  writer->create(key("b"), policy("b")).value();
  Recorder r;
  auto watch = watched->watch({}, r.callbacks()).value();
  REQUIRE(r.waitFor([&] { return r.inSyncAt.has_value() && r.events.size() == 2; }));

  members[0]->pause();  // the watch's member: connected, silent
  writer->remove(key("a")).value();
  auto c = writer->create(key("c"), policy("c")).value();
  REQUIRE(members[1]->ctl({"compaction", std::to_string(c.revision)}).status == 0);
  REQUIRE(r.waitFor([&] { return r.has(EventType::Deleted, "a") && r.has(EventType::Added, "c"); }));
  CHECK_FALSE(r.error);
  // Reads and writes of the watching store go to the members that answer.
  CHECK(watched->get(key("c")));
  CHECK(watched->create(key("d"), policy("d")));
  REQUIRE(r.waitFor([&] { return r.has(EventType::Added, "d"); }));
  members[0]->resume();
  watch->stop();
}

}  // namespace
}  // namespace tartan::datastore

namespace tartan::datastore {
namespace {

TEST_CASE("lists and watch snapshots larger than one page are read whole, at one revision", "[interop]") {
  SKIP_WITHOUT_ETCD();
  EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  auto store = openEtcdDatastore(fastOptions({etcd.endpoint()})).value();
  constexpr int kSets = 1200;  // more than one page
  for (int batch = 0; batch < kSets / 100; ++batch) {
    std::vector<Op> ops;
    for (int i = batch * 100; i < (batch + 1) * 100; ++i) {
      std::string name = "set-" + std::to_string(i);
      ops.push_back(Op::create(Key{"GlobalNetworkSet", "", name},
                               "apiVersion: tartan.dev/v1\nkind: GlobalNetworkSet\nmetadata:\n  name: " +
                                   name + "\nspec:\n  nets: [10.0.0.0/8]\n"));
    }
    REQUIRE(store->transaction(ops).has_value());
  }
  store->create(key("p"), policy("p")).value();
  auto sets = store->list("GlobalNetworkSet").value();
  CHECK(sets.items.size() == kSets);
  Recorder r;
  auto watch = store->watch({}, r.callbacks()).value();
  REQUIRE(r.waitFor([&] { return r.inSyncAt.has_value(); }));
  CHECK(r.events.size() == kSets + 1);
  CHECK(*r.inSyncAt == sets.revision);
  watch->stop();
}

}  // namespace
}  // namespace tartan::datastore
