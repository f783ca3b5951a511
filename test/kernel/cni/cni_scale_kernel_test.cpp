// 100 pods added at once on one node, as a runtime starting them does (one tartan-cni process per
// pod, all at once, one file store), then deleted at once: every ADD succeeds with an address of
// its own, the pods' addresses, veths and endpoints are all there, pods reach each other, and the
// DELs leave no veth, allocation, route or endpoint.
#include "cluster.hpp"

#include <chrono>
#include <iostream>

using namespace cni_kernel;

TEST_CASE("100 ADDs at once get 100 distinct addresses; 100 DELs at once leave nothing") {
  REQUIRE_NET_ADMIN();
  constexpr int kPods = 100;
  Cluster cluster(kPools);
  std::vector<std::unique_ptr<NetNamespace>> pods;
  std::vector<Cluster::Call> calls;
  for (int i = 0; i < kPods; ++i) {
    pods.push_back(std::make_unique<NetNamespace>("cni-p"));
    calls.push_back({"ctr-" + std::to_string(i), pods.back()->path(), "many-" + std::to_string(i)});
  }
  const std::string conf = cluster.conf();
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  };
  const auto addStart = Clock::now();
  auto added = cluster.runAll("ADD", calls, conf);
  const double addSeconds = seconds(addStart);
  std::set<std::string> addresses;
  int failed = 0;
  for (const auto& outcome : added) {
    if (outcome.exitCode == 0) {
      addresses.insert(addressOf(outcome.output(), '4'));
      continue;
    }
    ++failed;
    INFO(outcome);
    CHECK(outcome.exitCode == 0);
  }
  REQUIRE(failed == 0);
  CHECK(addresses.size() == kPods);  // no address handed out twice
  // What the store and the kernel hold agrees with what the ADDs answered.
  std::set<std::string> allocated;
  for (const auto& call : calls)
    for (const auto& ip : cluster.allocated(call.containerID)) allocated.insert(ip);
  CHECK(allocated == addresses);
  const std::string links = cluster.caliLinks();
  CHECK(static_cast<int>(std::count(links.begin(), links.end(), '\n')) == kPods);
  for (size_t i = 0; i < calls.size(); ++i) {
    auto wep = cluster.endpoint(tartan::cni::workloadEndpointName("node-a", calls[i].pod, "eth0"));
    REQUIRE(wep);
    CHECK(wep->spec.ipNetworks == std::vector<std::string>{addressOf(added[i].output(), '4') + "/32"});
  }
  CHECK(tcpReaches(*pods[0], *pods[kPods - 1], addressOf(added[kPods - 1].output(), '4'), 8080));

  const auto delStart = Clock::now();
  auto deleted = cluster.runAll("DEL", calls, conf);
  // Reported, never asserted: how long the runtime waited for all of them.
  std::cerr << "kernel_cni_scale: " << kPods << " ADDs at once took " << addSeconds << " s, " << kPods
            << " DELs at once " << seconds(delStart) << " s\n";
  for (const auto& outcome : deleted) {
    INFO(outcome);
    CHECK(outcome.exitCode == 0);
  }
  CHECK(cluster.caliLinks().empty());
  CHECK(cluster.node.execOrThrow("ip route show; ip -6 route show").find("cali") == std::string::npos);
  for (const auto& call : calls) {
    CHECK(cluster.allocated(call.containerID).empty());
    CHECK_FALSE(cluster.endpoint(tartan::cni::workloadEndpointName("node-a", call.pod, "eth0")));
  }
  // Every block's allocations are free again.
  tartan::ipam::Ipam ipam(*cluster.store);
  for (const auto& ip : addresses) CHECK_FALSE(ipam.allocation(ip).has_value());
}
