// Policy update latency of the iptables dataplane: N workload endpoints, each with its own
// policy, programmed into a network namespace of its own; then one policy changes. The driver's
// incremental transaction (only the changed chain) is compared in the same run with the naive
// baseline, a full rewrite of the filter table (iptables-save fed back to iptables-restore), and
// a one-member IP set delta with a full set rebuild. Prints one JSON object. Needs root; timings
// are for reading, never asserted.
//
//   bench_dataplane_iptables [--endpoints N] [--backend NFT|Legacy]
#include "support/netns.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <iostream>
#include <string>

using namespace tartan::dataplane::iptables;
namespace pb = tartan::dataplane::proto;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

pb::ToDataplane policy(int i, int port) {
  pb::ToDataplane m;
  auto* u = m.mutable_active_policy_update();
  u->mutable_id()->set_tier("default");
  u->mutable_id()->set_name("policy-" + std::to_string(i));
  auto* r = u->mutable_policy()->add_inbound_rules();
  r->set_action(pb::RULE_ACTION_ALLOW);
  r->mutable_protocol()->set_name("tcp");
  r->add_src_ip_set_ids("clients-" + std::to_string(i % 50));
  auto* p = r->add_dst_ports();
  p->set_first(port);
  p->set_last(port);
  u->mutable_policy()->add_outbound_rules()->set_action(pb::RULE_ACTION_ALLOW);
  return m;
}

pb::ToDataplane endpoint(int i) {
  pb::ToDataplane m;
  auto* u = m.mutable_workload_endpoint_update();
  u->mutable_id()->set_orchestrator_id("k8s");
  u->mutable_id()->set_workload_id("bench/pod-" + std::to_string(i));
  u->mutable_id()->set_endpoint_id("eth0");
  char ifname[16];
  std::snprintf(ifname, sizeof ifname, "cali%08x", static_cast<unsigned>(i * 2654435761u));
  u->mutable_endpoint()->set_interface_name(ifname);
  auto* tier = u->mutable_endpoint()->add_tiers();
  tier->set_name("default");
  tier->add_ingress_policies("policy-" + std::to_string(i));
  tier->add_egress_policies("policy-" + std::to_string(i));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int endpoints = 1000;
  std::string backend = "NFT";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--endpoints") == 0) endpoints = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--backend") == 0) backend = argv[i + 1];
  }
  if (!tartan::test::haveNetAdmin()) {
    std::cerr << "needs root and network namespaces\n";
    return 1;
  }
  tartan::test::NetNamespace node("bench");
  tartan::test::EnterNamespace in(node);  // the driver's processes and libipset socket live here

  Driver driver;
  pb::ToDataplane config;
  (*config.mutable_config_update()->mutable_config())["iptablesBackend"] = backend;
  (*config.mutable_config_update()->mutable_config())["ipv6Support"] = "false";
  driver.onMessage(config);
  for (int s = 0; s < 50; ++s) {
    pb::ToDataplane set;
    set.mutable_ipset_update()->set_id("clients-" + std::to_string(s));
    for (int m = 0; m < 200; ++m)
      set.mutable_ipset_update()->add_members("10." + std::to_string(s) + "." + std::to_string(m) + ".0/24");
    driver.onMessage(set);
  }
  for (int i = 0; i < endpoints; ++i) driver.onMessage(policy(i, 80));
  for (int i = 0; i < endpoints; ++i) driver.onMessage(endpoint(i));
  pb::ToDataplane sync;
  sync.mutable_in_sync();
  driver.onMessage(sync);

  nlohmann::json out;
  out["endpoints"] = endpoints;
  out["backend"] = backend;
  auto start = Clock::now();
  if (auto r = driver.apply(); !r) {
    std::cerr << r.error().toString() << "\n";
    return 1;
  }
  out["initial_apply_s"] = secondsSince(start);
  out["initial_restore_bytes"] = driver.stats().restoreBytes;

  // One policy changes: the driver rewrites one chain.
  const auto bytesBefore = driver.stats().restoreBytes;
  driver.onMessage(policy(endpoints / 2, 8080));
  start = Clock::now();
  if (auto r = driver.apply(); !r) {
    std::cerr << r.error().toString() << "\n";
    return 1;
  }
  out["policy_change"]["incremental_s"] = secondsSince(start);
  out["policy_change"]["incremental_restore_bytes"] = driver.stats().restoreBytes - bytesBefore;

  // Baseline: a naive dataplane renders and restores the whole table on every change.
  const std::string tool = backend == "NFT" ? "iptables-nft" : "iptables-legacy";
  tartan::test::shellOrThrow(tool + "-save -t filter > /dev/shm/tartan-bench-" + node.name());
  const auto bytes = tartan::test::shellOrThrow("wc -c < /dev/shm/tartan-bench-" + node.name());
  start = Clock::now();
  tartan::test::shellOrThrow(tool + "-restore -T filter < /dev/shm/tartan-bench-" + node.name());
  out["policy_change"]["full_rewrite_s"] = secondsSince(start);
  out["policy_change"]["full_rewrite_bytes"] = std::stoll(bytes);
  tartan::test::shell("rm -f /dev/shm/tartan-bench-" + node.name());

  // One member joins a 200-member set: one libipset add, no iptables write.
  pb::ToDataplane delta;
  delta.mutable_ipset_delta_update()->set_id("clients-7");
  delta.mutable_ipset_delta_update()->add_added_members("10.99.0.1");
  const auto restores = driver.stats().restores;
  driver.onMessage(delta);
  start = Clock::now();
  if (auto r = driver.apply(); !r) return 1;
  out["set_delta"]["one_member_s"] = secondsSince(start);
  out["set_delta"]["iptables_restores"] = driver.stats().restores - restores;

  // A restart: read back, adopt, write nothing.
  Driver restarted;
  restarted.onMessage(config);
  std::vector<pb::ToDataplane> none;
  for (int s = 0; s < 50; ++s) {
    pb::ToDataplane set;
    set.mutable_ipset_update()->set_id("clients-" + std::to_string(s));
    for (int m = 0; m < 200; ++m)
      set.mutable_ipset_update()->add_members("10." + std::to_string(s) + "." + std::to_string(m) + ".0/24");
    if (s == 7) set.mutable_ipset_update()->add_members("10.99.0.1");
    restarted.onMessage(set);
  }
  for (int i = 0; i < endpoints; ++i) restarted.onMessage(policy(i, i == endpoints / 2 ? 8080 : 80));
  for (int i = 0; i < endpoints; ++i) restarted.onMessage(endpoint(i));
  restarted.onMessage(sync);
  start = Clock::now();
  if (auto r = restarted.apply(); !r) return 1;
  out["restart_takeover"]["apply_s"] = secondsSince(start);
  out["restart_takeover"]["restores"] = restarted.stats().restores;
  std::cout << out.dump(2) << "\n";
  return 0;
}
