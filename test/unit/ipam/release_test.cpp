// Releases (by address, by handle, of a node's affinities) and the compare-and-swap shell under
// injected conflicts and lost creation races.
#include "conflict_store.hpp"
#include "fixture.hpp"

#include "tartan/ipam/ipam.hpp"

using namespace tartan;
using namespace tartan::ipam;
using namespace tartan::ipam::test;

namespace {

std::vector<std::string> assigned(Ipam& ipam, const AutoAssignArgs& args) {
  auto r = ipam.autoAssign(args);
  INFO((r ? std::string() : r.error().toString()));
  REQUIRE(r);
  return r->ipv4;
}

// Every stored IPAM document, by key, for comparing whole states.
std::map<std::string, std::string> ipamState(datastore::Datastore& store) {
  std::map<std::string, std::string> state;
  for (const char* kind : {"IPAMBlock", "BlockAffinity", "IPAMHandle"}) {
    auto list = store.list(kind);
    REQUIRE(list);
    for (const auto& kv : list->items) state[kv.key.toString()] = kv.value;
  }
  return state;
}

}  // namespace

TEST_CASE("a release that carries an old sequence number does not free the address reused since",
          "[unit][ipam]") {
  TempDir dir;
  auto store = openStore(dir);
  putPool(*store, {"pool", "10.65.0.0/30", 30});  // one block of four
  Ipam ipam(*store);
  const auto first = assigned(ipam, v4("node-a", "pod-1"));
  REQUIRE(first == std::vector<std::string>{"10.65.0.0"});
  const uint64_t oldSequence = ipam.allocation("10.65.0.0")->sequenceNumber;
  REQUIRE(ipam.releaseIPs({{"10.65.0.0", "pod-1", oldSequence}}).value().empty());
  // The three fresh addresses go first; then 10.65.0.0 is handed out again.
  CHECK(assigned(ipam, v4("node-a", "pod-2", 3)) ==
        std::vector<std::string>{"10.65.0.1", "10.65.0.2", "10.65.0.3"});
  CHECK(assigned(ipam, v4("node-a", "pod-3")) == std::vector<std::string>{"10.65.0.0"});
  const uint64_t newSequence = ipam.allocation("10.65.0.0")->sequenceNumber;
  CHECK(newSequence > oldSequence);

  struct Case {
    std::string name;
    ReleaseOptions release;
  };
  const Case stale[] = {
      {"pod-1's late release by sequence number", {"10.65.0.0", std::nullopt, oldSequence}},
      {"pod-1's late release by handle", {"10.65.0.0", std::string("pod-1"), std::nullopt}},
      {"an address outside every block", {"10.99.0.1", std::nullopt, std::nullopt}},
  };
  for (const Case& k : stale) {
    INFO(k.name);
    CHECK(ipam.releaseIPs({k.release}).value() == std::vector<std::string>{k.release.ip});
  }
  CHECK(ipam.allocation("10.65.0.0")->handleID == "pod-3");
  CHECK(ipam.ipsByHandle("pod-3").value() == std::vector<std::string>{"10.65.0.0"});
  CHECK(ipam.releaseIPs({{"10.65.0.0", "pod-3", newSequence}}).value().empty());
  CHECK(ipam.ipsByHandle("pod-3").error().kind == ErrorKind::kNotFound);  // the handle went with it
  CHECK(ipam.releaseIPs({{"10.65.0.0", std::nullopt, std::nullopt}}).value() ==
        std::vector<std::string>{"10.65.0.0"});
  CHECK(ipam.releaseIPs({{"bogus", std::nullopt, std::nullopt}}).error().kind == ErrorKind::kInvalid);
}

TEST_CASE("releaseByHandle frees exactly what the handle holds, across blocks", "[unit][ipam]") {
  TempDir dir;
  auto store = openStore(dir);
  putPool(*store, {"pool", "10.65.0.0/26", 28});
  Ipam ipam(*store);
  const auto pod = assigned(ipam, v4("node-a", "k8s-pod-network.c1", 20));  // a block and a half
  const auto other = assigned(ipam, v4("node-a", "k8s-pod-network.c2", 2));
  auto handle = get<model::IPAMHandle>(*store, "k8s-pod-network.c1");
  REQUIRE(handle);
  CHECK(handle->spec.block == std::map<std::string, int>{{"10.65.0.0/28", 16}, {"10.65.0.16/28", 4}});
  REQUIRE(ipam.releaseByHandle("k8s-pod-network.c1"));
  CHECK_FALSE(get<model::IPAMHandle>(*store, "k8s-pod-network.c1"));
  for (const auto& ip : pod) CHECK(ipam.allocation(ip).error().kind == ErrorKind::kNotFound);
  CHECK(ipam.ipsByHandle("k8s-pod-network.c2").value() == other);
  CHECK(ipam.releaseByHandle("k8s-pod-network.c1").error().kind == ErrorKind::kNotFound);
  // Emptied blocks of the node stay the node's: affinity is given up only on request.
  CHECK(get<model::IPAMBlock>(*store, "10-65-0-0-28")->spec.affinity == "host:node-a");
  CHECK(get<model::BlockAffinity>(*store, "node-a-10-65-0-0-28"));
}

TEST_CASE("releaseHostAffinities: empty blocks go, used ones lose their affinity or keep it",
          "[unit][ipam]") {
  TempDir dir;
  auto store = openStore(dir);
  putPool(*store, {"pool", "10.65.0.0/26", 28});
  Ipam ipam(*store);
  assigned(ipam, v4("node-a", "a", 17));  // blocks .0 (full) and .16 (one address)
  REQUIRE(ipam.releaseByHandle("a"));
  assigned(ipam, v4("node-a", "a2"));  // 10.65.0.16 again? No: head of .0's free list
  REQUIRE(ipam.allocation("10.65.0.0")->handleID == "a2");
  assigned(ipam, v4("node-b", "b"));

  SECTION("mustBeEmpty keeps the block in use and its affinity") {
    REQUIRE(ipam.releaseHostAffinities("node-a", true));
    CHECK(get<model::BlockAffinity>(*store, "node-a-10-65-0-0-28")->spec.state == "confirmed");
    CHECK(get<model::IPAMBlock>(*store, "10-65-0-0-28")->spec.affinity == "host:node-a");
    CHECK_FALSE(get<model::IPAMBlock>(*store, "10-65-0-16-28"));
    CHECK_FALSE(get<model::BlockAffinity>(*store, "node-a-10-65-0-16-28"));
  }
  SECTION("otherwise the block in use is kept without affinity, and goes when emptied") {
    REQUIRE(ipam.releaseHostAffinities("node-a", false));
    CHECK_FALSE(get<model::BlockAffinity>(*store, "node-a-10-65-0-0-28"));
    CHECK_FALSE(get<model::BlockAffinity>(*store, "node-a-10-65-0-16-28"));
    CHECK_FALSE(get<model::IPAMBlock>(*store, "10-65-0-16-28"));
    auto block = get<model::IPAMBlock>(*store, "10-65-0-0-28");
    REQUIRE(block);
    CHECK_FALSE(block->spec.affinity);
    CHECK(ipam.allocation("10.65.0.0")->handleID == "a2");
    REQUIRE(ipam.releaseByHandle("a2"));
    CHECK_FALSE(get<model::IPAMBlock>(*store, "10-65-0-0-28"));
  }
  CHECK(get<model::BlockAffinity>(*store, "node-b-10-65-0-32-28")->spec.state == "confirmed");
}

TEST_CASE("releaseAffinity gives up one block of the node", "[unit][ipam]") {
  TempDir dir;
  auto store = openStore(dir);
  putPool(*store, {"pool", "10.65.0.0/26", 28});
  Ipam ipam(*store);
  assigned(ipam, v4("node-a", "a", 17));  // blocks .0 (full) and .16 (one address)
  REQUIRE(ipam.releaseIPs({{"10.65.0.16", std::nullopt, std::nullopt}}).value().empty());
  REQUIRE(ipam.releaseAffinity("10.65.0.16/28", "node-a", true));
  CHECK_FALSE(get<model::IPAMBlock>(*store, "10-65-0-16-28"));
  CHECK_FALSE(get<model::BlockAffinity>(*store, "node-a-10-65-0-16-28"));
  CHECK(get<model::BlockAffinity>(*store, "node-a-10-65-0-0-28")->spec.state == "confirmed");
  CHECK(ipam.releaseAffinity("10.65.0.16/28", "node-a", true).error().kind == ErrorKind::kNotFound);
  CHECK(ipam.releaseAffinity("10.65.0.0/28", "node-b", false).error().kind == ErrorKind::kNotFound);
  CHECK(ipam.releaseAffinity("10.65.0.1/28", "node-a", false).error().kind == ErrorKind::kInvalid);
  // The node's next block is claimed again where the released one was.
  CHECK(assigned(ipam, v4("node-a", "a2")) == std::vector<std::string>{"10.65.0.16"});
}

TEST_CASE("a conflict at any compare-and-swap write is retried to the same outcome", "[unit][ipam]") {
  // The scenario: claim, allocate from an affine block, borrow, release by address, release by
  // handle. Run once cleanly to count its writes, then once per write with that write refused.
  auto scenario = [](datastore::Datastore& store, std::vector<std::string>& log) {
    Ipam ipam(store);
    auto add = [&](const AutoAssignArgs& args) {
      auto r = ipam.autoAssign(args);
      REQUIRE(r);
      log.insert(log.end(), r->ipv4.begin(), r->ipv4.end());
    };
    add(v4("node-a", "a1", 2));
    add(v4("node-a", "a2"));
    add(v4("node-b", "b1", 16));  // claims the second and last block
    add(v4("node-b", "b2"));      // borrows from node-a
    const uint64_t sequence = ipam.allocation("10.65.0.1")->sequenceNumber;
    auto released = ipam.releaseIPs({{"10.65.0.1", std::string("a1"), sequence}});
    REQUIRE(released.has_value());
    REQUIRE(released->empty());
    REQUIRE(ipam.releaseByHandle("b1"));
    REQUIRE(ipam.releaseHostAffinities("node-b", false));
  };
  auto setUp = [](datastore::Datastore& store) { putPool(store, {"pool", "10.65.0.0/27", 28}); };

  TempDir cleanDir;
  auto cleanStore = openStore(cleanDir);
  setUp(*cleanStore);
  ConflictStore counting(*cleanStore);
  std::vector<std::string> cleanLog;
  scenario(counting, cleanLog);
  const auto cleanState = ipamState(*cleanStore);
  REQUIRE(counting.casWrites > 10);
  CHECK(cleanLog.size() == 20);

  for (int n = 1; n <= counting.casWrites; ++n) {
    INFO("write " << n << " of " << counting.casWrites << " refused");
    TempDir dir;
    auto store = openStore(dir);
    setUp(*store);
    ConflictStore conflicting(*store);
    conflicting.failWrites = {n};
    std::vector<std::string> log;
    scenario(conflicting, log);
    CHECK(conflicting.conflictsInjected == 1);
    CHECK(log == cleanLog);
    CHECK(ipamState(*store) == cleanState);
  }
}

TEST_CASE("retries are bounded: a block that always conflicts fails with Conflict", "[unit][ipam]") {
  TempDir dir;
  auto store = openStore(dir);
  putPool(*store, {"pool", "10.65.0.0/28", 28});
  ConflictStore conflicting(*store);
  Ipam ipam(conflicting, Options{4});
  REQUIRE(ipam.autoAssign(v4("node-a", "a")));
  conflicting.failAll = true;
  conflicting.casWrites = 0;
  auto r = ipam.autoAssign(v4("node-a", "b"));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::kConflict);
  CHECK(conflicting.casWrites <= 4 * 4);
  conflicting.failAll = false;
  // The count on the handle could not be taken back either: the handle may overcount, never the
  // block. It holds no address, and releasing it cleans up.
  CHECK(ipam.ipsByHandle("b").value().empty());
  CHECK(ipam.allocation("10.65.0.1").error().kind == ErrorKind::kNotFound);
  CHECK(ipam.releaseByHandle("b"));
  CHECK_FALSE(get<model::IPAMHandle>(*store, "b"));
  CHECK(ipam.ipsByHandle("a").value() == std::vector<std::string>{"10.65.0.0"});
}

TEST_CASE("a block another node creates first is left to it, and the next block is claimed", "[unit][ipam]") {
  TempDir dir;
  auto store = openStore(dir);
  putPool(*store, {"pool", "10.65.0.0/27", 28});
  ConflictStore racing(*store);
  Ipam other(*store);
  bool raced = false;
  racing.beforeCreate = [&](const datastore::Key& key) {
    // node-b wins the race for the block node-a is about to create.
    if (raced || key.kind != "IPAMBlock") return;
    raced = true;
    REQUIRE(other.autoAssign(v4("node-b", "b")));
  };
  Ipam ipam(racing);
  CHECK(assigned(ipam, v4("node-a", "a")) == std::vector<std::string>{"10.65.0.16"});
  CHECK(ipam.allocation("10.65.0.0")->handleID == "b");
  CHECK_FALSE(get<model::BlockAffinity>(*store, "node-a-10-65-0-0-28"));  // its pending claim withdrawn
  CHECK(get<model::BlockAffinity>(*store, "node-a-10-65-0-16-28")->spec.state == "confirmed");
  CHECK(get<model::BlockAffinity>(*store, "node-b-10-65-0-0-28")->spec.state == "confirmed");
}
