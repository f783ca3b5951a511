// IPAM's compare-and-swap on the Kubernetes datastore: several clients assign at once on two nodes
// against the test API server; no address is given twice, every block, affinity and handle is a
// custom resource in Calico's shape, and ipam check finds the bookkeeping consistent.
#include "kubernetes_fixture.hpp"
#include "tartan/ipam/check.hpp"
#include "tartan/ipam/ipam.hpp"

#include <set>
#include <thread>

using namespace tartan;
using namespace tartan::test;

TEST_CASE("parallel autoAssign on the Kubernetes datastore never gives an address twice",
          "[kubernetes-ipam]") {
  KubeFixture f;
  for (const char* node : {"node-a", "node-b"}) {
    REQUIRE(f.raw->create(kube::resources::nodes(),
                          Json{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", node}}}}));
  }
  // A small pool of /29 blocks: blocks are claimed in races, and borrowed from once a node's are full.
  REQUIRE(f.store->apply(datastore::Key{"IPPool", "", "pool"},
                         "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pool}\n"
                         "spec: {cidr: 10.70.0.0/26, blockSize: 29}\n"));

  constexpr int kClients = 4;
  constexpr int kEach = 10;
  std::vector<std::vector<std::string>> got(kClients);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto opened = datastore::openKubernetesDatastore(kubeConfigFor(f.server));
      if (!opened) {
        failures[c] = opened.error().toString();
        return;
      }
      ipam::Ipam ipam(**opened, ipam::Options{50});
      const std::string node = c % 2 == 0 ? "node-a" : "node-b";
      for (int i = 0; i < kEach; ++i) {
        ipam::AutoAssignArgs args;
        args.num4 = 1;
        args.hostname = node;
        args.handleID = ipam::podHandleID("c" + std::to_string(c) + "-" + std::to_string(i));
        for (int attempt = 0;; ++attempt) {
          auto r = ipam.autoAssign(args);
          if (r && r->ipv4.size() == 1) {
            got[c].push_back(r->ipv4[0]);
            break;
          }
          if (r || r.error().kind != ipam::ErrorKind::kConflict || attempt == 20) {
            failures[c] = r ? "wrong count" : r.error().toString();
            return;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (int c = 0; c < kClients; ++c) {
    INFO(failures[c]);
    CHECK(failures[c].empty());
    CHECK(got[c].size() == kEach);
    all.insert(got[c].begin(), got[c].end());
  }
  CHECK(all.size() == kClients * kEach);  // no address twice

  auto snapshot = ipam::readSnapshot(*f.store);
  REQUIRE(snapshot.has_value());
  auto checked = ipam::check(*snapshot);
  // No pod uses the addresses (no Pods here), so each is "leaked" and nothing else is wrong: the
  // blocks, affinities and handles agree.
  for (const auto& finding : checked.findings) {
    INFO(finding.subject + ": " + finding.detail);
    CHECK(finding.kind == ipam::FindingKind::kLeakedAddress);
  }
  CHECK(checked.count(ipam::FindingKind::kLeakedAddress) == kClients * kEach);
  CHECK(checked.allocationCount() == kClients * kEach);

  // What Calico reads: a block as its CR, with the snake_case attributes.
  auto blocks = f.raw->list(kube::resources::calico("ipamblocks", "IPAMBlock", false));
  REQUIRE(blocks.has_value());
  REQUIRE(!blocks->items.empty());
  const Json& block = blocks->items.front();
  CHECK(block["metadata"]["annotations"].contains("projectcalico.org/metadata"));
  CHECK(block["spec"]["attributes"][0].contains("handle_id"));
  auto affinities = f.raw->list(kube::resources::calico("blockaffinities", "BlockAffinity", false));
  REQUIRE(affinities.has_value());
  CHECK(!affinities->items.empty());
  auto handles = f.raw->list(kube::resources::calico("ipamhandles", "IPAMHandle", false));
  REQUIRE(handles.has_value());
  CHECK(handles->items.size() == kClients * kEach);
}
