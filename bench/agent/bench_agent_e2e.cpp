// End-to-end cost of tartan-agent at scale, per ruleset size (1k, 10k, 50k policies by default):
//  - start to ready: agent start until /readiness says the first full sync is programmed;
//  - policy edit: a datastore write changing an active policy's port, until the kernel holds it
//    (polled with `iptables -S <its chain>` in the node namespace);
//  - pod add: a datastore write of a new Pod, until its interface appears in the filter table;
//  - the agent's peak RSS (VmHWM).
// Baseline in the same run: the agent's final ruleset (iptables-save, ipset save) flushed and
// loaded whole — one `ipset restore` and one full `iptables-restore` per family — what a naive
// agent pays for every change. Prints one JSON object. Needs root; timings are never asserted.
//
//   bench_agent_e2e [--sizes 1000,10000,50000] [--repeats N]     (about a minute on 2 cores)
#include "agent_node.hpp"

#include <nlohmann/json.hpp>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

using namespace tartan::bench;
using json = nlohmann::json;
namespace tt = tartan::test;

namespace {

constexpr uint16_t kPort = 9000;
constexpr const char* kPodNamespace = "bench-pods";

// Runs `command` in a child forked from a thread inside `ns` (no `ip netns exec` in the way, so
// polling resolution is the command's own time); its stdout.
std::string runIn(const tt::NetNamespace& ns, const std::string& command) {
  std::string out;
  inNamespace(ns, [&] {
    FILE* p = ::popen(command.c_str(), "r");
    if (!p) throw std::runtime_error("popen " + command);
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  });
  return out;
}

bool containsToken(const std::string& text, const std::string& token) {
  for (size_t at = 0; (at = text.find(token, at)) != std::string::npos; at += token.size()) {
    const char before = at ? text[at - 1] : ' ';
    const char after = at + token.size() < text.size() ? text[at + token.size()] : ' ';
    if (!std::isalnum(static_cast<unsigned char>(before)) && !std::isalnum(static_cast<unsigned char>(after)))
      return true;
  }
  return false;
}

// Tells when nf_tables changed in a namespace: a NETLINK_NETFILTER socket joined to the
// NFNLGRP_NFTABLES group, which the kernel notifies of every committed change. Waiting on it costs
// no CPU, so the kernel is listed only after it changed, and the lister does not compete with the
// agent's own iptables-restore for the two cores (busy polling inflated every latency it measured).
// Without nf_tables (iptables-legacy) it is not available and waiting falls back to polling.
class NftChanges {
 public:
  explicit NftChanges(const tt::NetNamespace& ns) {
    inNamespace(ns, [&] {
      fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
      if (fd_ < 0) return;
      sockaddr_nl local{};
      local.nl_family = AF_NETLINK;
      local.nl_groups = 1u << (NFNLGRP_NFTABLES - 1);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        ::close(fd_);
        fd_ = -1;
      }
    });
  }
  ~NftChanges() {
    if (fd_ >= 0) ::close(fd_);
  }
  NftChanges(const NftChanges&) = delete;
  NftChanges& operator=(const NftChanges&) = delete;
  bool available() const { return fd_ >= 0; }
  // Waits up to `limit` for a change notice and drains every pending one.
  void wait(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return;
    char buf[65536];
    while (::recv(fd_, buf, sizeof buf, 0) > 0) {
    }
  }

 private:
  int fd_ = -1;
};

// Waits until the kernel shows `token`; ms since `start`, and the listings made. With `chain`, only
// that chain is listed (`-S chain`, much cheaper than a whole save); without, the whole filter table.
// With `changes`, the kernel is listed once now and then after each change notice (or 200 ms
// without one); without, it is polled back to back.
double waitForToken(const AgentNode& node, const std::string& token, Clock::time_point start, int* polls,
                    const std::string& chain = "", NftChanges* changes = nullptr) {
  const std::string list = chain.empty() ? node.iptablesFlavour() + "-save -t filter 2>/dev/null"
                                         : node.iptablesFlavour() + " -t filter -S " + chain + " 2>/dev/null";
  const auto deadline = start + std::chrono::seconds(60);
  for (*polls = 0;; ++*polls) {
    if (containsToken(runIn(node.node(), list), token)) return millisSince(start);
    if (Clock::now() > deadline) throw std::runtime_error("kernel never showed '" + token + "'");
    if (changes != nullptr && changes->available()) changes->wait(std::chrono::milliseconds(200));
  }
}

// The chain whose rule holds `token`, from a save ("-A <chain> ...").
std::string chainHolding(const std::string& save, const std::string& token) {
  std::istringstream in(save);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("-A ", 0) == 0 && containsToken(line, token)) return line.substr(3, line.find(' ', 3) - 3);
  return {};
}

double timed(const std::function<void()>& fn) {
  const auto start = Clock::now();
  fn();
  return millisSince(start);
}

json summary(const std::vector<double>& ms) {
  return {{"n", ms.size()},
          {"p50_ms", percentile(ms, 50)},
          {"p99_ms", percentile(ms, 99)},
          {"max_ms", percentile(ms, 100)}};
}

json runSize(int policies, int repeats) {
  AgentNode node("e2e-node");
  std::vector<std::string> namespaces{kPodNamespace};
  for (int i = 0; i < 20; ++i) namespaces.push_back("bench-ns-" + std::to_string(i));
  // Two pods: only their node-side interfaces are needed for the agent to program them.
  BenchPod a{kPodNamespace, "pod-a", "10.66.0.1", "a", node.addHostVeth(kPodNamespace, "pod-a"), nullptr};
  BenchPod b{kPodNamespace, "pod-b", "10.66.0.2", "b", node.addHostVeth(kPodNamespace, "pod-b"), nullptr};
  auto specs = syntheticPolicies(policies, kPodNamespace, kPort);
  const double writeMs = timed([&] {
    node.writeNamespaces(namespaces);
    node.writePods({&a, &b});
    node.writePolicies(specs);
  });

  const auto agentStart = Clock::now();
  node.startAgent();
  node.waitReady(std::chrono::seconds(300));
  const double readyMs = millisSince(agentStart);
  if (node.iptablesFlavour().empty()) throw std::runtime_error("agent ready but no tartan- chains found");

  // The edited policy is bench-0: it applies to both pods, so its chain is programmed.
  std::vector<double> editMs, podMs, editWriteMs;  // editWriteMs: the datastore write alone
  int polls = 0, totalPolls = 0;
  PolicySpec edited = specs.front();
  std::string policyChain;  // found after the first edit; the chain's name is a hash of the policy's
  const bool nft = node.iptablesFlavour() == "iptables-nft";
  for (int r = 0; r < repeats; ++r) {
    edited.port = 40000 + r;
    const std::string token = std::to_string(edited.port);
    std::optional<NftChanges> changes;
    if (nft) changes.emplace(node.node());  // joined before the write, so no notice is missed
    const auto start = Clock::now();
    node.writePolicies({edited});
    editWriteMs.push_back(millisSince(start));
    editMs.push_back(waitForToken(node, token, start, &polls, policyChain, changes ? &*changes : nullptr));
    totalPolls += polls;
    if (policyChain.empty()) policyChain = chainHolding(node.iptablesSave("filter"), token);
  }
  const double pollsPerEdit = repeats ? static_cast<double>(totalPolls) / repeats : 0;
  for (int r = 0; r < repeats; ++r) {
    const std::string name = "new-" + std::to_string(r);
    const std::string veth = node.addHostVeth(kPodNamespace, name);  // the CNI's part, not timed
    std::optional<NftChanges> changes;
    if (nft) changes.emplace(node.node());
    const auto start = Clock::now();
    node.writePodResource(kPodNamespace, name, "10.67.0." + std::to_string(r + 1), "b");
    // The dispatch chains split as endpoints grow, so the whole table is listed here.
    podMs.push_back(waitForToken(node, veth, start, &polls, "", changes ? &*changes : nullptr));
  }
  const double saveMs =
      timed([&] { runIn(node.node(), node.iptablesFlavour() + "-save -t filter >/dev/null"); });
  const double chainListMs = timed([&] {
    runIn(node.node(), node.iptablesFlavour() + " -t filter -S " +
                           (policyChain.empty() ? std::string("tartan-FORWARD") : policyChain) +
                           " >/dev/null");
  });
  const long peakRssKb = node.stopAgent();

  // Baseline: what the agent left, loaded whole — the sets (`ipset restore -exist`), then one
  // full `iptables-restore` per family, which flushes every table it names and loads it again in
  // one transaction. The agent is stopped, so nothing repairs in between.
  const std::string flavour = node.iptablesFlavour();
  const std::string flavour6 = "ip6" + flavour.substr(2);
  const std::string rules = node.iptablesSave();
  const std::string rules6 = node.ip6tablesSave();
  const std::string sets = node.node().exec("ipset save").output;
  TempFiles files("/dev/shm/tartan-bench-e2e-" + tt::uniqueSuffix());
  const std::string rulesFile = files.write(".v4", rules);
  const std::string rules6File = files.write(".v6", rules6);
  const std::string setsFile = files.write(".sets", sets);
  std::vector<double> ipsetMs, restoreMs, restore6Ms, totalMs;
  for (int r = 0; r < 5; ++r) {
    const double s = timed([&] { runIn(node.node(), "ipset restore -exist < " + setsFile); });
    const double i = timed([&] { runIn(node.node(), flavour + "-restore < " + rulesFile); });
    const double i6 = timed([&] { runIn(node.node(), flavour6 + "-restore < " + rules6File); });
    ipsetMs.push_back(s);
    restoreMs.push_back(i);
    restore6Ms.push_back(i6);
    totalMs.push_back(s + i + i6);
  }
  const std::string reloaded = node.iptablesSave();
  auto count = [](const std::string& text, const char* needle) {
    size_t n = 0;
    for (size_t at = 0; (at = text.find(needle, at)) != std::string::npos; ++at) ++n;
    return n;
  };

  const double fullReload = percentile(totalMs, 50);
  const double restoreOnly = percentile(restoreMs, 50);
  json out;
  out["policies"] = policies;
  out["datastore_write_ms"] = writeMs;
  out["agent"] = {{"start_to_ready_ms", readyMs},
                  {"policy_edit_to_kernel", summary(editMs)},
                  {"policy_edit_datastore_write", summary(editWriteMs)},
                  {"pod_add_to_kernel", summary(podMs)},
                  {"iptables_save_poll_ms", saveMs},
                  {"chain_list_poll_ms", chainListMs},
                  {"edited_policy_chain", policyChain},
                  {"polls_per_edit", pollsPerEdit},
                  {"peak_rss_kb", peakRssKb}};
  out["ruleset"] = {{"iptables", flavour},
                    {"rules", count(rules, "\n-A ")},
                    {"tartan_chains", count(rules, "\n:tartan-")},
                    {"ip_sets", count(sets, "create ")},
                    {"reload_matches_rule_count", count(reloaded, "\n-A ") == count(rules, "\n-A ")}};
  out["baseline_full_reload"] = {{"ipset_restore_ms", summary(ipsetMs)},
                                 {"iptables_restore_ms", summary(restoreMs)},
                                 {"ip6tables_restore_ms", summary(restore6Ms)},
                                 {"total_p50_ms", fullReload}};
  out["ratios"] = {
      {"start_to_ready_vs_full_reload", fullReload > 0 ? readyMs / fullReload : 0},
      {"policy_edit_p50_vs_full_reload", fullReload > 0 ? percentile(editMs, 50) / fullReload : 0},
      {"pod_add_p50_vs_full_reload", fullReload > 0 ? percentile(podMs, 50) / fullReload : 0},
      {"policy_edit_p50_vs_iptables_restore_only",
       restoreOnly > 0 ? percentile(editMs, 50) / restoreOnly : 0}};
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{1000, 10000, 50000};
  int repeats = 20;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--sizes") && i + 1 < argc) {
      sizes.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');) sizes.push_back(std::atoi(item.c_str()));
    } else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) {
      repeats = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: bench_agent_e2e [--sizes 1000,10000,50000] [--repeats N]\n";
      return 2;
    }
  }
  requireRoot("bench_agent_e2e");
  json out;
  out["benchmark"] = "agent_e2e";
  out["repeats"] = repeats;
  out["note"] =
      "edit/pod-add latencies run from before the datastore write (tmpfs) to the first listing that shows "
      "the change. With iptables-nft the kernel is listed after each nf_tables change notice (no busy "
      "polling competing with the agent for CPU); a listing's own time is the detection delay (edits: "
      "chain_list_poll_ms, except the first edit; pod adds: iptables_save_poll_ms, the whole filter table)";
  try {
    for (int n : sizes) {
      std::cerr << "bench_agent_e2e: " << n << " policies...\n";
      out["runs"].push_back(runSize(n, repeats));
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_agent_e2e: " << e.what() << "\n";
    if (out.contains("runs")) std::cout << out.dump(2) << std::endl;
    return 1;
  }
  std::cout << out.dump(2) << std::endl;
  return 0;
}
