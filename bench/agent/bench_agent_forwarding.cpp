// Per-packet cost of tartan-agent's ruleset on the forwarding path. A node namespace with two
// pods; the real agent programs 10k NetworkPolicies (most select no pod; every 100th applies to
// both pods with a rule the test traffic does not match; one, last, allows the UDP from pod a to
// pod b). Small UDP packets are sent from a to b for a few seconds and counted at b. Then the
// agent is stopped, every rule and set in the node namespace (only there) is flushed, and the
// same path is measured again with no rules at all, then with the agent's rules and sets reloaded
// as they were — bare and reloaded alternating for a few rounds. Three modes (see udp_flood.hpp): an
// established flow (conntrack's shortcut at the top of tartan-FORWARD, before any dispatch), an unreplied
// flow and a new flow per packet (both conntrack state NEW, so both walk pod b's ingress policies on every
// packet: about three rule evaluations per policy that applies to it). Prints one JSON object. Needs root;
// timings are for reading, never asserted; on a loaded machine compare ratios of the same run only.
//
//   bench_agent_forwarding [--policies N] [--seconds S] [--rounds R]   (about 2 minutes by default)
#include "agent_node.hpp"
#include "udp_flood.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

using namespace tartan::bench;
using json = nlohmann::json;

namespace {

constexpr uint16_t kPort = 9000;
constexpr const char* kPodNamespace = "bench-pods";

json flood(const BenchPod& a, const BenchPod& b, double seconds, FloodMode mode) {
  const auto r = udpFlood(*a.netns, *b.netns, b.ip, kPort, seconds, mode);
  return {{"sent", r.sent}, {"received", r.received}, {"seconds", r.seconds}, {"pps", r.pps()}};
}

json measure(const BenchPod& a, const BenchPod& b, double seconds) {
  json out;
  out["established_flow"] = flood(a, b, seconds, FloodMode::kEstablished);
  out["unreplied_flow"] = flood(a, b, seconds, FloodMode::kUnreplied);
  out["new_flow_per_packet"] = flood(a, b, seconds / 2, FloodMode::kNewFlows);
  return out;
}

constexpr const char* kModes[] = {"established_flow", "unreplied_flow", "new_flow_per_packet"};

// {mode: pps} of one measurement.
json pps(const json& measurement) {
  json out;
  for (const char* mode : kModes) out[mode] = measurement[mode]["pps"];
  return out;
}

// {mode: median pps} over rounds.
json medians(const json& rounds) {
  json out;
  for (const char* mode : kModes) {
    std::vector<double> values;
    for (const auto& r : rounds) values.push_back(r[mode]["pps"].get<double>());
    out[mode] = percentile(values, 50);
  }
  return out;
}

json ratios(const json& with, const json& without) {
  json out;
  for (const char* mode : kModes) {
    const double base = without[mode].get<double>();
    out[mode] = base > 0 ? with[mode].get<double>() / base : 0;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int policies = 10000;
  double seconds = 3;
  int rounds = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--policies") && i + 1 < argc)
      policies = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else {
      std::cerr << "usage: bench_agent_forwarding [--policies N] [--seconds S] [--rounds R]\n";
      return 2;
    }
  }
  requireRoot("bench_agent_forwarding");
  try {
    AgentNode node("fwd-node");
    const BenchPod& a = node.addPod(kPodNamespace, "pod-a", "10.66.0.1", "a");
    const BenchPod& b = node.addPod(kPodNamespace, "pod-b", "10.66.0.2", "b");
    // New-flow mode wants many ephemeral ports: in pod a's own namespace.
    a.netns->execOrThrow("sysctl -qw net.ipv4.ip_local_port_range='1024 65000'");

    std::vector<std::string> namespaces{kPodNamespace};
    for (int i = 0; i < 20; ++i) namespaces.push_back("bench-ns-" + std::to_string(i));
    const auto writeStart = Clock::now();
    node.writeNamespaces(namespaces);
    node.writePods({&a, &b});
    node.writePolicies(syntheticPolicies(policies, kPodNamespace, kPort));
    const double writeMs = millisSince(writeStart);

    const auto agentStart = Clock::now();
    node.startAgent();
    node.waitReady(std::chrono::seconds(240));
    const double readyMs = millisSince(agentStart);
    const std::string save = node.iptablesSave();
    size_t rules = 0, chains = 0;
    for (size_t at = 0; (at = save.find("\n-A ", at)) != std::string::npos; ++at) ++rules;
    for (size_t at = 0; (at = save.find("\n:tartan-", at)) != std::string::npos; ++at) ++chains;

    // Rules (agent running) -> no rules -> the same rules reloaded (agent stopped): the two
    // rule rounds bracket the bare one, so drift of the machine's load shows as their difference.
    const json withAgent = measure(a, b, seconds);
    const long peakRssKb = node.stopAgent();
    const std::string flavour = node.iptablesFlavour();
    TempFiles files("/dev/shm/tartan-bench-fwd-" + tartan::test::uniqueSuffix());
    const std::string rules4 = files.write(".v4", node.iptablesSave());
    const std::string rules6 = files.write(".v6", node.ip6tablesSave());
    const std::string sets = files.write(".sets", node.node().exec("ipset save").output);
    // Bare and reloaded rounds alternate, so the machine's changing load (it is shared) falls on
    // both sides; ratios are of the medians.
    json noRulesRounds = json::array(), reloadedRounds = json::array();
    for (int r = 0; r < rounds; ++r) {
      node.flushNodeNetfilter();
      noRulesRounds.push_back(measure(a, b, seconds));
      node.node().execOrThrow("ipset restore -exist < " + sets + " && " + flavour + "-restore < " + rules4 +
                              " && ip6" + flavour.substr(2) + "-restore < " + rules6);
      reloadedRounds.push_back(measure(a, b, seconds));
    }
    const json noRules = medians(noRulesRounds);
    const json reloaded = medians(reloadedRounds);

    json out;
    out["benchmark"] = "agent_forwarding";
    out["policies"] = policies;
    out["rounds"] = rounds;
    out["seconds_per_measurement"] = seconds;
    out["packet_payload_bytes"] = 18;
    out["iptables"] = flavour;
    out["agent"] = {{"datastore_write_ms", writeMs},
                    {"start_to_ready_ms", readyMs},
                    {"peak_rss_kb", peakRssKb},
                    {"rules_in_node_namespace", rules},
                    {"tartan_chains", chains}};
    out["pps_with_rules_agent_running"] = pps(withAgent);
    out["pps_no_rules_median"] = noRules;
    out["pps_with_rules_reloaded_median"] = reloaded;
    out["ratio_reloaded_vs_no_rules"] = ratios(reloaded, noRules);
    out["ratio_agent_running_vs_no_rules"] = ratios(pps(withAgent), noRules);
    out["rounds_detail"] = {
        {"agent_running", withAgent}, {"no_rules", noRulesRounds}, {"reloaded", reloadedRounds}};
    std::cout << out.dump(2) << std::endl;
    if (withAgent["established_flow"]["received"].get<uint64_t>() == 0)
      std::cerr << "warning: no packet passed with the agent's rules: the allow policy did not apply\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_agent_forwarding: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
