// autoAssign and assignIP against a file datastore, as state tables: which address each request
// gets and what is stored afterwards (blocks, affinities, handles).
#include "conflict_store.hpp"
#include "fixture.hpp"

#include "tartan/ipam/ipam.hpp"

using namespace tartan;
using namespace tartan::ipam;
using namespace tartan::ipam::test;

namespace {

struct Cluster {
  TempDir dir;
  std::unique_ptr<datastore::Datastore> store = openStore(dir);
  Ipam ipam{*store};

  // One address for the handle on the node; "" if none was given (the error kind is kept).
  std::string one(const std::string& node, const std::string& handle,
                  std::optional<ErrorKind>* error = nullptr) {
    auto r = ipam.autoAssign(v4(node, handle));
    if (!r) {
      if (error) *error = r.error().kind;
      return "";
    }
    REQUIRE(r->ipv4.size() == 1);
    return r->ipv4[0];
  }
  ErrorKind failure(const AutoAssignArgs& args) {
    auto r = ipam.autoAssign(args);
    REQUIRE_FALSE(r);
    return r.error().kind;
  }
};

}  // namespace

TEST_CASE("a node claims a block, allocates from it first, and another node claims the next",
          "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"pool", "10.65.0.0/24", 28});
  struct Step {
    std::string node, handle, ip;
  };
  const Step steps[] = {
      {"node-a", "k8s-pod-network.a1", "10.65.0.0"},  {"node-a", "k8s-pod-network.a2", "10.65.0.1"},
      {"node-b", "k8s-pod-network.b1", "10.65.0.16"}, {"node-a", "k8s-pod-network.a3", "10.65.0.2"},
      {"node-c", "k8s-pod-network.c1", "10.65.0.32"}, {"node-b", "k8s-pod-network.b2", "10.65.0.17"},
  };
  for (const Step& s : steps) {
    INFO(s.node << " " << s.handle);
    CHECK(c.one(s.node, s.handle) == s.ip);
  }
  auto block = get<model::IPAMBlock>(*c.store, "10-65-0-0-28");
  REQUIRE(block);
  CHECK(block->spec.cidr == "10.65.0.0/28");
  CHECK(block->spec.affinity == "host:node-a");
  CHECK(block->spec.allocations[0] == 0);
  CHECK(block->spec.attributes.at(0).handleID == "k8s-pod-network.a1");
  CHECK_FALSE(block->spec.allocations[3]);
  CHECK(block->spec.unallocated.front() == 3);
  auto affinity = get<model::BlockAffinity>(*c.store, "node-b-10-65-0-16-28");
  REQUIRE(affinity);
  CHECK(affinity->spec.state == "confirmed");
  CHECK(affinity->spec.node == "node-b");
  CHECK(affinity->spec.cidr == "10.65.0.16/28");
  auto handle = get<model::IPAMHandle>(*c.store, "k8s-pod-network.b2");
  REQUIRE(handle);
  CHECK(handle->spec.handleID == "k8s-pod-network.b2");
  CHECK(handle->spec.block == std::map<std::string, int>{{"10.65.0.16/28", 1}});
  CHECK(podHandleID("0a1b2c") == "k8s-pod-network.0a1b2c");
  auto allocation = c.ipam.allocation("10.65.0.17");
  REQUIRE(allocation);
  CHECK(allocation->block == "10.65.0.16/28");
  CHECK(allocation->handleID == "k8s-pod-network.b2");
}

TEST_CASE("a node whose blocks are full claims another; when the pool is out of blocks it borrows",
          "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"pool", "10.65.0.0/27", 28});  // two blocks of 16
  auto a = c.ipam.autoAssign(v4("node-a", "a", 16));
  REQUIRE(a);
  CHECK(a->ipv4.front() == "10.65.0.0");
  CHECK(a->ipv4.back() == "10.65.0.15");
  auto b = c.ipam.autoAssign(v4("node-b", "b", 10));
  REQUIRE(b);
  CHECK(b->ipv4.front() == "10.65.0.16");
  // node-a's block is full and no block is left: it borrows node-b's free addresses.
  auto borrowed = c.ipam.autoAssign(v4("node-a", "a-more", 3));
  REQUIRE(borrowed);
  CHECK(borrowed->ipv4 == std::vector<std::string>{"10.65.0.26", "10.65.0.27", "10.65.0.28"});
  auto block = get<model::IPAMBlock>(*c.store, "10-65-0-16-28");
  REQUIRE(block);
  CHECK(block->spec.affinity == "host:node-b");  // borrowing does not move the affinity
  CHECK(c.ipam.ipsByHandle("a-more").value() == borrowed->ipv4);
  // A request larger than what is free takes nothing.
  CHECK(c.failure(v4("node-c", "c", 4)) == ErrorKind::kExhausted);
  CHECK(c.ipam.ipsByHandle("c").error().kind == ErrorKind::kNotFound);
  CHECK(c.one("node-c", "c1") == "10.65.0.29");
}

TEST_CASE(
    "a block another process of the node claims after the node's blocks were read is used, "
    "not reported as exhausted",
    "[unit][ipam]") {
  for (const bool strict : {false, true}) {
    CAPTURE(strict);
    Cluster c;
    putPool(*c.store, {"pool", "10.65.0.0/27", 28});  // two blocks of 16
    if (strict) putConfig(*c.store, true);
    REQUIRE(c.ipam.autoAssign(v4("node-a", "first", 16)));  // node-a's first block is full
    // Between this request's read of the affinities and its claim, a sibling process of node-a
    // claims the pool's last block and takes one address from it.
    ConflictStore racing(*c.store);
    bool raced = false;
    racing.afterList = [&](std::string_view kind) {
      if (raced || kind != "BlockAffinity") return;
      raced = true;
      Ipam sibling{*c.store};
      auto got = sibling.autoAssign(v4("node-a", "sibling"));
      REQUIRE(got);
      CHECK(got->ipv4 == std::vector<std::string>{"10.65.0.16"});
    };
    Ipam ipam{racing};
    auto r = ipam.autoAssign(v4("node-a", "late"));
    REQUIRE(raced);
    REQUIRE(r);
    CHECK(r->ipv4 == std::vector<std::string>{"10.65.0.17"});
  }
}

TEST_CASE("IPAMConfiguration: strictAffinity, autoAllocateBlocks and maxBlocksPerHost", "[unit][ipam]") {
  struct Case {
    std::string name;
    bool strict, autoAllocate;
    int maxBlocks;
    // What node-a gets for one more address after node-b holds a block with room and node-a's
    // one block is full, in a pool of four blocks.
    std::string expected;
  };
  const Case cases[] = {
      {"defaults: claims a new block", false, true, 0, "10.65.0.32"},
      {"maxBlocksPerHost 1: borrows instead", false, true, 1, "10.65.0.17"},
      {"autoAllocateBlocks off: borrows", false, false, 0, "10.65.0.17"},
      {"strictAffinity: claims, never borrows", true, true, 0, "10.65.0.32"},
      {"strictAffinity and maxBlocksPerHost 1: nothing", true, true, 1, ""},
      {"strictAffinity, no new blocks: nothing", true, false, 0, ""},
  };
  for (const Case& k : cases) {
    SECTION(k.name) {
      Cluster c;
      putPool(*c.store, {"pool", "10.65.0.0/26", 28});
      putConfig(*c.store, k.strict, true, 0);
      REQUIRE(c.ipam.autoAssign(v4("node-a", "a", 16)));
      REQUIRE(c.one("node-b", "b") == "10.65.0.16");
      putConfig(*c.store, k.strict, k.autoAllocate, k.maxBlocks);
      std::optional<ErrorKind> error;
      CHECK(c.one("node-a", "a-more", &error) == k.expected);
      if (k.expected.empty()) CHECK(error == ErrorKind::kExhausted);
    }
  }
}

TEST_CASE("autoAllocateBlocks off: a node without blocks gets nothing from an empty pool", "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"pool", "10.65.0.0/26", 28});
  putConfig(*c.store, false, false);
  CHECK(c.failure(v4("node-a", "a")) == ErrorKind::kExhausted);
  CHECK_FALSE(c.store->get({"IPAMBlock", "", "10-65-0-0-28"}));
}

TEST_CASE("reserved addresses are never handed out automatically, but may be assigned by name",
          "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"pool", "10.65.0.0/28", 29});
  putReservation(*c.store, "gateways", {"10.65.0.0/30", "10.65.0.5"});
  putReservation(*c.store, "whole-block", {"10.65.0.8/29"});
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) got.push_back(c.one("node-a", "h" + std::to_string(i)));
  CHECK(got == std::vector<std::string>{"10.65.0.4", "10.65.0.6", "10.65.0.7"});
  // The block 10.65.0.8/29 is reserved whole: it is not claimed, and nothing is left.
  CHECK(c.failure(v4("node-a", "h3")) == ErrorKind::kExhausted);
  CHECK_FALSE(c.store->get({"IPAMBlock", "", "10-65-0-8-29"}));
  CHECK(c.ipam.assignIP({"10.65.0.1", "manual", {}, "node-a"}));
  CHECK(c.ipam.allocation("10.65.0.1")->handleID == "manual");
}

TEST_CASE("a disabled pool gives no new addresses; what it gave stays until released", "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"a-old", "10.65.0.0/28", 28});  // pools are tried in name order
  putPool(*c.store, {"b-new", "10.66.0.0/28", 28});
  REQUIRE(c.one("node-a", "a1") == "10.65.0.0");
  putPool(*c.store, {"a-old", "10.65.0.0/28", 28, "all()", true});
  CHECK(c.one("node-a", "a2") == "10.66.0.0");  // its affine block in the old pool is skipped
  CHECK(c.ipam.allocation("10.65.0.0")->handleID == "a1");
  AutoAssignArgs named = v4("node-a", "a3");
  named.ipv4Pools = {"a-old"};
  CHECK(c.failure(named) == ErrorKind::kInvalid);
  CHECK(c.ipam.assignIP({"10.65.0.9", "a4", {}, "node-a"}).error().kind == ErrorKind::kInvalid);
  CHECK(c.ipam.releaseByHandle("a1"));
  CHECK(c.ipam.allocation("10.65.0.0").error().kind == ErrorKind::kNotFound);
}

TEST_CASE("nodeSelector chooses the pools a node may use", "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"zone-a", "10.65.0.0/28", 28, "zone == 'a'"});
  putPool(*c.store, {"zone-b", "10.66.0.0/28", 28, "zone == 'b'"});
  putPool(*c.store, {"gpu", "10.67.0.0/27", 28, "has(gpu) && zone == 'b'"});
  putNode(*c.store, "node-a", {{"zone", "a"}});
  putNode(*c.store, "node-b", {{"zone", "b"}});
  putNode(*c.store, "node-g", {{"zone", "b"}, {"gpu", "true"}});
  putNode(*c.store, "node-x", {{"zone", "x"}});
  struct Case {
    std::string node, prefix;
  };
  // Pools are tried in name order: node-g matches gpu and zone-b, and gpu comes first.
  const Case cases[] = {{"node-a", "10.65."}, {"node-b", "10.66."}, {"node-g", "10.67."}};
  for (const Case& k : cases) {
    INFO(k.node);
    CHECK(c.one(k.node, k.node + "-1").rfind(k.prefix, 0) == 0);
  }
  CHECK(c.failure(v4("node-x", "x")) == ErrorKind::kExhausted);
  CHECK(c.failure(v4("node-unknown", "u")) == ErrorKind::kExhausted);  // no labels: no pool matches
  // A pool named in the request is used even if its selector does not match the node.
  AutoAssignArgs named = v4("node-x", "x2");
  named.ipv4Pools = {"gpu"};
  CHECK(c.ipam.autoAssign(named).value().ipv4 == std::vector<std::string>{"10.67.0.16"});
}

TEST_CASE("a Manual pool is used only when named; allowedUses is honoured", "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"auto", "10.65.0.0/28", 28});
  putPool(*c.store, {"manual", "10.66.0.0/28", 28, "all()", false, {}, "Manual"});
  putPool(*c.store, {"tunnels", "10.67.0.0/28", 28, "all()", false, {"Tunnel"}});
  putPool(*c.store, {"lb", "10.68.0.0/28", 28, "all()", false, {"LoadBalancer"}});
  CHECK(c.one("node-a", "w1") == "10.65.0.0");
  struct Case {
    std::string name;
    std::vector<std::string> pools;
    Use use;
    std::string ip;  // "" for Invalid
  };
  const Case cases[] = {
      {"named by name", {"manual"}, Use::kWorkload, "10.66.0.0"},
      {"named by CIDR", {"10.66.0.0/28"}, Use::kWorkload, "10.66.0.1"},
      {"a tunnel address from the tunnel pool", {}, Use::kTunnel, "10.65.0.1"},
      {"a tunnel pool named for a tunnel", {"tunnels"}, Use::kTunnel, "10.67.0.0"},
      {"a tunnel pool named for a workload", {"tunnels"}, Use::kWorkload, ""},
      {"a load balancer address", {}, Use::kLoadBalancer, "10.68.0.0"},
      {"no such pool", {"missing"}, Use::kWorkload, ""},
  };
  int n = 0;
  for (const Case& k : cases) {
    INFO(k.name);
    AutoAssignArgs args = v4("node-a", "h" + std::to_string(n++));
    args.ipv4Pools = k.pools;
    args.use = k.use;
    auto r = c.ipam.autoAssign(args);
    if (k.ip.empty()) {
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::kInvalid);
    } else {
      REQUIRE(r);
      CHECK(r->ipv4 == std::vector<std::string>{k.ip});
    }
  }
}

TEST_CASE("IPv4 and IPv6 in one request; a shortfall in either undoes both", "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"v4", "10.65.0.0/28", 28});
  putPool(*c.store, {"v6", "fd00:65::/122", 0});
  AutoAssignArgs args = v4("node-a", "dual");
  args.num6 = 2;
  args.attributes = {{"namespace", "default"}, {"pod", "web-0"}};
  auto r = c.ipam.autoAssign(args);
  REQUIRE(r);
  CHECK(r->ipv4 == std::vector<std::string>{"10.65.0.0"});
  CHECK(r->ipv6 == std::vector<std::string>{"fd00:65::", "fd00:65::1"});
  CHECK(get<model::IPAMBlock>(*c.store, "fd00-65---122"));
  CHECK(get<model::BlockAffinity>(*c.store, "node-a-fd00-65---122")->spec.state == "confirmed");
  CHECK(c.ipam.allocation("fd00:65::1")->attributes.at("pod") == "web-0");
  CHECK(c.ipam.ipsByHandle("dual")->size() == 3);

  AutoAssignArgs big = v4("node-a", "big");
  big.num6 = 100;
  CHECK(c.failure(big) == ErrorKind::kExhausted);
  CHECK(c.ipam.ipsByHandle("big").error().kind == ErrorKind::kNotFound);
  CHECK(c.one("node-a", "next") == "10.65.0.2");  // 10.65.0.1 went back to the tail
}

TEST_CASE("assignIP takes one given address and claims its block for the node", "[unit][ipam]") {
  Cluster c;
  putPool(*c.store, {"pool", "10.65.0.0/26", 28});
  CHECK(c.ipam.assignIP({"10.65.0.20", "fixed", {{"note", "x"}}, "node-a"}));
  CHECK(get<model::IPAMBlock>(*c.store, "10-65-0-16-28")->spec.affinity == "host:node-a");
  CHECK(get<model::BlockAffinity>(*c.store, "node-a-10-65-0-16-28")->spec.state == "confirmed");
  CHECK(c.ipam.assignIP({"10.65.0.20", "other", {}, "node-b"}).error().kind == ErrorKind::kAlreadyAllocated);
  CHECK(c.ipam.assignIP({"10.99.0.1", "other", {}, "node-b"}).error().kind == ErrorKind::kInvalid);
  CHECK(c.ipam.assignIP({"not-an-ip", "other", {}, "node-b"}).error().kind == ErrorKind::kInvalid);
  // Another node may assign a given address in node-a's block; the affinity stays.
  CHECK(c.ipam.assignIP({"10.65.0.21", "other", {}, "node-b"}));
  CHECK(get<model::IPAMBlock>(*c.store, "10-65-0-16-28")->spec.affinity == "host:node-a");
  // node-a's automatic assignments use the block it now has: the head of its free list.
  CHECK(c.one("node-a", "auto") == "10.65.0.16");
  CHECK(c.failure(AutoAssignArgs{}) == ErrorKind::kInvalid);
}
