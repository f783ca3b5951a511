// The IPAM check as a specification: one consistent cluster built in memory, then one damage
// per row, and exactly the findings that damage must produce. Then usage counts, borrowed
// addresses, and calicoctl's report: written, read back, and several merged for release.
#include "block.hpp"

#include "tartan/ipam/check.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

using namespace tartan;
using namespace tartan::ipam;

namespace {

model::IPPool pool(const std::string& name, const std::string& cidr, bool disabled = false) {
  model::IPPool p;
  p.metadata.name = name;
  p.spec.cidr = cidr;
  p.spec.disabled = disabled;
  return p;
}

struct Taken {
  int ordinal;
  std::string handle;
  std::map<std::string, std::string> attributes = {};
};

model::IPAMBlock block(const std::string& cidr, std::optional<std::string> node,
                       const std::vector<Taken>& taken) {
  model::IPAMBlock b;
  b.metadata.name = blockName(*parseCidr(cidr));
  b.spec = newBlockSpec(*parseCidr(cidr), node ? std::optional<std::string>("host:" + *node) : std::nullopt,
                        false);
  for (const auto& t : taken) {
    model::AllocationAttribute attribute;
    attribute.handleID = t.handle;
    for (const auto& [k, v] : t.attributes) attribute.secondary[k] = v;
    REQUIRE(assignOrdinal(b.spec, t.ordinal, attribute));
  }
  return b;
}

model::BlockAffinity affinity(const std::string& node, const std::string& cidr,
                              const std::string& state = "confirmed") {
  model::BlockAffinity a;
  a.metadata.name = affinityName(node, *parseCidr(cidr));
  a.spec = {state, node, "host", cidr, "false"};
  return a;
}

Revisioned<model::IPAMHandle> handle(const std::string& id, std::map<std::string, int> blocks,
                                     int64_t revision = 7) {
  model::IPAMHandle h;
  h.metadata.name = id;
  h.spec.handleID = id;
  h.spec.block = std::move(blocks);
  return {h, revision};
}

model::WorkloadEndpoint endpoint(const std::string& name, std::vector<std::string> nets) {
  model::WorkloadEndpoint w;
  w.metadata.name = name;
  w.metadata.namespaceName = "default";
  w.spec.ipNetworks = std::move(nets);
  return w;
}

const std::string kBlockA = "10.65.0.0/26";

// node-a holds 10.65.0.0/26: two pods and its IPIP tunnel address, each recorded everywhere.
IpamSnapshot consistent() {
  IpamSnapshot s;
  s.pools = {pool("default-ipv4", "10.65.0.0/16")};
  s.blocks = {block(kBlockA, "node-a",
                    {{1, "k8s-pod-network.p1", {{"node", "node-a"}, {"pod", "p1"}, {"namespace", "default"}}},
                     {2, "k8s-pod-network.p2", {{"node", "node-a"}, {"pod", "p2"}, {"namespace", "default"}}},
                     {3, "ipip-tunnel-addr-node-a", {{"node", "node-a"}, {"type", "ipipTunnelAddress"}}}})};
  s.affinities = {affinity("node-a", kBlockA)};
  s.handles = {handle("k8s-pod-network.p1", {{kBlockA, 1}}), handle("k8s-pod-network.p2", {{kBlockA, 1}}),
               handle("ipip-tunnel-addr-node-a", {{kBlockA, 1}})};
  s.workloadEndpoints = {endpoint("node--a-k8s-p1-eth0", {"10.65.0.1/32"}),
                         endpoint("node--a-k8s-p2-eth0", {"10.65.0.2/32"})};
  model::Node node;
  node.metadata.name = "node-a";
  node.spec.bgp = model::NodeBGPSpec{};
  node.spec.bgp->ipv4IPIPTunnelAddr = "10.65.0.3";
  s.nodes = {node};
  return s;
}

struct Row {
  const char* rule;
  std::function<void(IpamSnapshot&)> damage;
  std::vector<std::pair<FindingKind, std::string>> expected;  // kind, subject
};

}  // namespace

TEST_CASE("each kind of damage to the IPAM records is found, and nothing else", "[unit][ipam]") {
  using K = FindingKind;
  const std::vector<Row> rows = {
      {"a consistent cluster has no problem", [](IpamSnapshot&) {}, {}},
      {"an address whose pod's endpoint is gone is leaked",
       [](IpamSnapshot& s) { s.workloadEndpoints.pop_back(); },
       {{K::kLeakedAddress, "10.65.0.2"}}},
      {"a node tunnel address without its Node is leaked",
       [](IpamSnapshot& s) { s.nodes.clear(); },
       {{K::kLeakedAddress, "10.65.0.3"}}},
      {"an endpoint's address in no pool is reported",
       [](IpamSnapshot& s) { s.workloadEndpoints.push_back(endpoint("stray", {"192.168.1.5/32"})); },
       {{K::kNotInActivePool, "192.168.1.5"}}},
      {"an endpoint's address in a disabled pool without allocation is in no active pool",
       [](IpamSnapshot& s) {
         s.pools.push_back(pool("old", "10.80.0.0/16", true));
         s.workloadEndpoints.push_back(endpoint("stray", {"10.80.0.9/32"}));
       },
       {{K::kNotInActivePool, "10.80.0.9"}}},
      {"an endpoint's address in an active pool without allocation is not allocated",
       [](IpamSnapshot& s) { s.workloadEndpoints.push_back(endpoint("stray", {"10.65.0.9/32"})); },
       {{K::kNotAllocated, "10.65.0.9"}}},
      {"an IPv6 address is compared in its canonical form",
       [](IpamSnapshot& s) { s.workloadEndpoints.push_back(endpoint("v6", {"fd00:0::0:1/128"})); },
       {{K::kNotInActivePool, "fd00::1"}}},
      {"two endpoints with one address: several owners",
       [](IpamSnapshot& s) { s.workloadEndpoints.push_back(endpoint("twin", {"10.65.0.1/32"})); },
       {{K::kSeveralOwners, "10.65.0.1"}}},
      {"one address allocated in two overlapping blocks: several owners",
       [](IpamSnapshot& s) {
         s.blocks.push_back(block("10.65.0.0/28", "node-b", {{1, "k8s-pod-network.b1"}}));
         s.affinities.push_back(affinity("node-b", "10.65.0.0/28"));
         s.handles.push_back(handle("k8s-pod-network.b1", {{"10.65.0.0/28", 1}}));
       },
       {{K::kSeveralOwners, "10.65.0.1"}}},
      {"a handle no allocation names is leaked",
       [](IpamSnapshot& s) {
         s.handles.push_back(handle("k8s-pod-network.gone", {{kBlockA, 1}}));
       },
       {{K::kLeakedHandle, "k8s-pod-network.gone"}}},
      {"an allocation whose handle is not stored names a missing handle",
       [](IpamSnapshot& s) { s.handles.erase(s.handles.begin() + 1); },
       {{K::kMissingHandle, "k8s-pod-network.p2"}}},
      {"a handle counting more than its blocks hold disagrees",
       [](IpamSnapshot& s) { s.handles[0].value.spec.block[kBlockA] = 2; },
       {{K::kHandleCountMismatch, "k8s-pod-network.p1"}}},
      {"a handle counting its address in another block disagrees",
       [](IpamSnapshot& s) {
         s.handles[0].value.spec.block = {{"10.65.0.64/26", 1}};
       },
       {{K::kHandleCountMismatch, "k8s-pod-network.p1"}}},
      {"a handle's count of zero for a block is no count",
       [](IpamSnapshot& s) { s.handles[0].value.spec.block["10.65.0.64/26"] = 0; },
       {}},
      {"an ordinal both free and allocated breaks the block",
       [](IpamSnapshot& s) { s.blocks[0].spec.unallocated.push_back(1); },
       {{K::kInvalidBlock, kBlockA}}},
      {"an ordinal neither free nor allocated breaks the block",
       [](IpamSnapshot& s) { s.blocks[0].spec.unallocated.pop_back(); },
       {{K::kInvalidBlock, kBlockA}}},
      {"an attribute no allocation refers to breaks the block",
       [](IpamSnapshot& s) { s.blocks[0].spec.attributes.push_back({}); },
       {{K::kInvalidBlock, kBlockA}}},
      {"an allocation naming a missing attribute breaks the block",
       [](IpamSnapshot& s) { s.blocks[0].spec.allocations[2] = 9; },
       {{K::kInvalidBlock, kBlockA}, {K::kLeakedHandle, "k8s-pod-network.p2"}}},
      {"a block whose allocations do not cover its CIDR is broken",
       [](IpamSnapshot& s) {
         s.blocks[0].spec.allocations.resize(63);
         std::erase(s.blocks[0].spec.unallocated, 63);
       },
       {{K::kInvalidBlock, kBlockA}}},
      {"a block no pool contains is outside the pools",
       [](IpamSnapshot& s) {
         s.blocks.push_back(block("10.70.0.0/26", "node-a", {}));
         s.affinities.push_back(affinity("node-a", "10.70.0.0/26"));
       },
       {{K::kBlockOutsidePools, "10.70.0.0/26"}}},
      {"an affinity left pending by a claim that did not finish is reported",
       [](IpamSnapshot& s) { s.affinities.push_back(affinity("node-b", "10.65.0.64/26", "pending")); },
       {{K::kAffinityNotConfirmed, "node-b-10-65-0-64-26"}}},
      {"an affinity left pendingDeletion is reported",
       [](IpamSnapshot& s) { s.affinities[0].spec.state = "pendingDeletion"; },
       {{K::kAffinityNotConfirmed, "node-a-10-65-0-0-26"}}},
      {"a confirmed affinity whose block is gone is reported",
       [](IpamSnapshot& s) { s.affinities.push_back(affinity("node-a", "10.65.0.64/26")); },
       {{K::kAffinityWithoutBlock, "node-a-10-65-0-64-26"}}},
      {"a confirmed affinity for another node's block is reported",
       [](IpamSnapshot& s) { s.affinities.push_back(affinity("node-b", kBlockA)); },
       {{K::kAffinityBlockMismatch, "node-b-10-65-0-0-26"}}},
      {"a block affine to a node without its affinity is reported",
       [](IpamSnapshot& s) { s.affinities.clear(); },
       {{K::kBlockWithoutAffinity, kBlockA}}},
      {"a block without affinity (given up while in use) needs none",
       [](IpamSnapshot& s) {
         s.affinities.clear();
         s.blocks[0].spec.affinity.reset();
       },
       {}},
      {"Windows' reserved addresses are in use without an owner",
       [](IpamSnapshot& s) {
         model::AllocationAttribute reserved;
         reserved.handleID = "windows-reserved-ipam-handle";
         REQUIRE(assignOrdinal(s.blocks[0].spec, 60, reserved));
       },
       {}},
  };
  for (const Row& row : rows) {
    SECTION(row.rule) {
      IpamSnapshot s = consistent();
      row.damage(s);
      const CheckResult r = check(s);
      std::vector<std::pair<FindingKind, std::string>> found;
      for (const auto& f : r.findings) {
        UNSCOPED_INFO(toString(f.kind) << " " << f.subject << ": " << f.detail);
        found.push_back({f.kind, f.subject});
      }
      auto expected = row.expected;
      std::sort(expected.begin(), expected.end());
      std::sort(found.begin(), found.end());
      CHECK(found == expected);
    }
  }
}

TEST_CASE("the check records every allocation as calicoctl's report does", "[unit][ipam]") {
  IpamSnapshot s = consistent();
  s.workloadEndpoints.pop_back();
  s.blocks[0].spec.attributes[1].secondary["node"] = "node-b";  // p2 was borrowed by node-b
  const CheckResult r = check(s);
  REQUIRE(r.allocations.size() == 3);
  const CheckedAllocation& p1 = r.allocations.at("10.65.0.1").at(0);
  CHECK(p1.handle == "k8s-pod-network.p1");
  CHECK(p1.pod == "p1");
  CHECK(p1.namespaceName == "default");
  CHECK(p1.node == "node-a");
  CHECK(p1.inUse);
  CHECK_FALSE(p1.borrowed);
  CHECK(p1.owners == std::vector<std::string>{"Workload(default/node--a-k8s-p1-eth0)"});
  CHECK(p1.sequenceNumber == 0);
  const CheckedAllocation& p2 = r.allocations.at("10.65.0.2").at(0);
  CHECK_FALSE(p2.inUse);
  CHECK(p2.borrowed);
  CHECK(p2.node == "node-b");
  CHECK(p2.sequenceNumber == 1);
  CHECK(p2.attributes == "Main:k8s-pod-network.p2 Extra:namespace=default,node=node-b,pod=p2");
  CHECK(r.allocations.at("10.65.0.3").at(0).owners == std::vector<std::string>{"Node(node-a)"});
  CHECK(r.nodeIPs == 1);
  CHECK(r.workloadIPs == 1);
  CHECK(r.handlesWithAddresses == 3);
  CHECK(r.allocationsByNode == std::vector<std::pair<std::string, int>>{{"node-a", 2}, {"node-b", 1}});
}

TEST_CASE("an address allocated in two blocks and used by nobody is leaked once and has two owners",
          "[unit][ipam]") {
  IpamSnapshot s = consistent();
  s.blocks.push_back(block("10.65.0.0/28", "node-b", {{5, "k8s-pod-network.b1"}}));
  s.affinities.push_back(affinity("node-b", "10.65.0.0/28"));
  s.handles.push_back(handle("k8s-pod-network.b1", {{"10.65.0.0/28", 1}}));
  REQUIRE(
      assignOrdinal(s.blocks[0].spec, 5, model::AllocationAttribute{std::string("k8s-pod-network.a5"), {}}));
  s.handles.push_back(handle("k8s-pod-network.a5", {{kBlockA, 1}}));
  const CheckResult r = check(s);
  CHECK(r.inUse.size() == 3);  // the two pods and the tunnel: nobody uses 10.65.0.5
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0] == Finding{FindingKind::kLeakedAddress, "10.65.0.5",
                                 "10.65.0.5 leaked; attrs Main:k8s-pod-network.a5 Extra:"});
  CHECK(r.findings[1] == Finding{FindingKind::kSeveralOwners, "10.65.0.5",
                                 "10.65.0.5 has multiple owners: block 10.65.0.0/26, block 10.65.0.0/28"});
}

TEST_CASE("usage counts each block under the first pool by name that overlaps it", "[unit][ipam]") {
  IpamSnapshot s = consistent();
  s.pools.push_back(pool("b-v6", "fd00::/48"));
  s.pools.push_back(pool("a-small", "10.66.0.0/24", true));
  s.blocks.push_back(block("10.66.0.0/26", "node-b", {{0, "h"}, {5, "h"}}));
  s.blocks.push_back(block("10.66.0.64/29", std::nullopt, {}));
  s.blocks.push_back(block("10.99.0.0/30", "node-c", {{1, "h"}}));
  const Utilization u = utilization(s);
  REQUIRE(u.pools.size() == 3);
  CHECK(u.pools[0].name == "a-small");
  CHECK(u.pools[0].capacity == 256);
  CHECK(u.pools[0].inUse == 2);
  CHECK(u.pools[0].free == 254);
  REQUIRE(u.pools[0].blocks.size() == 2);
  CHECK(u.pools[0].blocks[0].cidr == "10.66.0.0/26");
  CHECK(u.pools[0].blocks[0].inUse == 2);
  CHECK(u.pools[0].blocks[0].free == 62);
  CHECK(u.pools[0].blocks[1].capacity == 8);
  CHECK(u.pools[1].name == "b-v6");
  CHECK(u.pools[1].capacity == std::ldexp(1.0, 80));
  CHECK(u.pools[1].blocks.empty());
  CHECK(u.pools[2].name == "default-ipv4");
  CHECK(u.pools[2].capacity == 65536);
  CHECK(u.pools[2].inUse == 3);
  REQUIRE(u.orphanBlocks.size() == 1);
  CHECK(u.orphanBlocks[0].cidr == "10.99.0.0/30");
  CHECK(u.orphanBlocks[0].inUse == 1);
}

TEST_CASE("borrowed addresses are those whose node is not the block's", "[unit][ipam]") {
  IpamSnapshot s = consistent();
  s.blocks[0].spec.attributes[1].secondary["node"] = "node-b";
  REQUIRE(assignOrdinal(s.blocks[0].spec, 9, model::AllocationAttribute{std::string("old"), {}}));
  const Borrowed b = borrowedAddresses(s);
  REQUIRE(b.addresses.size() == 1);
  CHECK(b.addresses[0].ip == "10.65.0.2");
  CHECK(b.addresses[0].borrowingNode == "node-b");
  CHECK(b.addresses[0].block == kBlockA);
  CHECK(b.addresses[0].blockOwner == "node-a");
  CHECK(b.addresses[0].type == "pod");
  CHECK(b.addresses[0].allocatedTo == "default/p2");
  CHECK(b.unclassified == 1);
}

TEST_CASE("the report is calicoctl's JSON and reads back as written", "[unit][ipam]") {
  IpamSnapshot s = consistent();
  s.workloadEndpoints.pop_back();
  s.handles.push_back(handle("k8s-pod-network.gone", {{kBlockA, 1}}, 42));
  s.handles.back().value.metadata.uid = "u-1";
  s.blocks[0].spec.allocations[3].reset();
  s.blocks[0].spec.unallocated.push_back(3);
  s.blocks[0].spec.attributes.pop_back();
  s.handles.erase(s.handles.begin() + 2);
  s.nodes.clear();
  model::ClusterInformation info;
  info.spec.clusterGUID = "abc";
  info.spec.clusterType = "k8s,bgp";
  info.spec.datastoreReady = false;
  const ClusterMeta meta = clusterMeta(Revisioned<model::ClusterInformation>{info, 12});
  const CheckReport report = makeReport(meta, check(s), "0.1.0");
  const std::string json = encodeReport(report);
  CHECK(json == R"json({
  "version": "0.1.0",
  "clusterGUID": "abc",
  "datastoreLocked": true,
  "clusterInformationRevision": "12",
  "clusterType": "k8s,bgp",
  "allocations": {
    "10.65.0.1": [
      {
        "ip": "10.65.0.1",
        "handle": "k8s-pod-network.p1",
        "sequenceNumber": 0,
        "pod": "p1",
        "namespace": "default",
        "node": "node-a",
        "inUse": true,
        "owners": [
          "Workload(default/node--a-k8s-p1-eth0)"
        ]
      }
    ],
    "10.65.0.2": [
      {
        "ip": "10.65.0.2",
        "handle": "k8s-pod-network.p2",
        "sequenceNumber": 1,
        "pod": "p2",
        "namespace": "default",
        "node": "node-a",
        "inUse": false,
        "owners": null
      }
    ]
  },
  "leakedHandles": [
    {
      "ID": "k8s-pod-network.gone",
      "UID": "u-1",
      "Revision": "42"
    }
  ]
})json");
  auto back = decodeReport(json, "report.json");
  REQUIRE(back.has_value());
  CHECK(back->clusterGUID == "abc");
  CHECK(back->datastoreLocked);
  CHECK(back->clusterInformationRevision == "12");
  CHECK(back->leakedHandles == report.leakedHandles);
  REQUIRE(back->allocations.size() == 2);
  for (const auto& [ip, list] : report.allocations) {
    auto a = list.at(0), b = back->allocations.at(ip).at(0);
    a.block.clear();  // not in the report
    a.attributes.clear();
    CHECK(a == b);
  }
}

TEST_CASE("a report that is not one is refused naming the field", "[unit][ipam]") {
  const std::pair<const char*, const char*> rows[] = {
      {"not json", "report.json: not JSON"},
      {"[]", "report.json: not a JSON object"},
      {R"({"version": 3})", "report.json: version: not a string"},
      {R"({"allocations": []})", "report.json: allocations: not an object"},
      {R"({"allocations": {"10.0.0.1": [{"ip": "x"}]}})",
       "report.json: allocations[10.0.0.1][0].ip: \"x\" is not an IP address"},
      {R"({"allocations": {"10.0.0.1": [{"ip": "10.0.0.1", "sequenceNumber": -1}]}})",
       "report.json: allocations[10.0.0.1][0].sequenceNumber: not a whole number"},
      {R"({"allocations": {"10.0.0.1": [{"ip": "10.0.0.1", "inUse": "no"}]}})",
       "report.json: allocations[10.0.0.1][0].inUse: not true or false"},
      {R"({"leakedHandles": [{"Revision": "1"}]})", "report.json: leakedHandles[0].ID: missing"},
  };
  for (const auto& [text, error] : rows) {
    INFO(text);
    auto r = decodeReport(text, "report.json");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().toString() == error);
  }
  CHECK(decodeReport(R"({"version": "v3.30.0", "coolingDown": true})", "r").has_value());
}

TEST_CASE("several reports release only what every one found leaked, handles only if unchanged",
          "[unit][ipam]") {
  auto alloc = [](const std::string& ip, bool inUse, const std::string& handleId, uint64_t seq) {
    CheckedAllocation a;
    a.ip = ip;
    a.inUse = inUse;
    a.handle = handleId;
    a.sequenceNumber = seq;
    return a;
  };
  CheckReport first, second;
  first.allocations = {{"10.0.0.1", {alloc("10.0.0.1", false, "h1", 4)}},
                       {"10.0.0.2", {alloc("10.0.0.2", false, "h2", 5)}},
                       {"10.0.0.3", {alloc("10.0.0.3", true, "h3", 6)}}};
  first.leakedHandles = {{"a", std::nullopt, "10"}, {"b", std::nullopt, "11"}};
  second.allocations = {{"10.0.0.1", {alloc("10.0.0.1", false, "h1", 4)}},
                        {"10.0.0.2", {alloc("10.0.0.2", true, "h2", 5)}},
                        {"10.0.0.3", {alloc("10.0.0.3", false, "", 6)}}};
  second.leakedHandles = {{"a", std::nullopt, "10"}, {"b", std::nullopt, "12"}, {"c", std::nullopt, "1"}};

  const ReleasePlan one = mergeReports({first});
  REQUIRE(one.addresses.size() == 2);
  CHECK(one.addresses[0].ip == "10.0.0.1");
  CHECK(one.addresses[0].handleID == "h1");
  CHECK(one.addresses[0].sequenceNumber == 4u);
  CHECK(one.handles.size() == 2);

  const ReleasePlan both = mergeReports({first, second});
  REQUIRE(both.addresses.size() == 1);
  CHECK(both.addresses[0].ip == "10.0.0.1");
  REQUIRE(both.handles.size() == 1);
  CHECK(both.handles[0].id == "a");

  const ReleasePlan handleless = mergeReports({second});
  REQUIRE(handleless.addresses.size() == 2);
  CHECK(handleless.addresses[1].ip == "10.0.0.3");
  CHECK_FALSE(handleless.addresses[1].handleID);
}

TEST_CASE("releasing from a block that names a missing attribute frees the address and keeps the rest",
          "[unit][ipam]") {
  model::IPAMBlock b = block(kBlockA, "node-a", {{1, "h1"}, {2, "h2"}});
  b.spec.allocations[5] = 9;  // broken: no attribute 9
  std::erase(b.spec.unallocated, 5);
  const BlockRelease released = releaseFromBlock(b.spec, {{5, std::nullopt}, {1, std::nullopt}});
  CHECK(released.outcomes ==
        std::vector<ReleaseOutcome>{ReleaseOutcome::kReleased, ReleaseOutcome::kReleased});
  CHECK(released.releasedByHandle == std::map<std::string, int>{{"h1", 1}});
  CHECK_FALSE(blockProblem(b.spec));
  REQUIRE(b.spec.attributes.size() == 1);
  CHECK(b.spec.attributes[0].handleID == "h2");
  CHECK(b.spec.allocations[2] == 0);
}
