// bench/agent/agent_node.hpp — one Tartan node on this machine for the agent benchmarks.
//
// What: a node namespace (forwarding on, an uplink carrying the default route so proxy ARP answers
// for 169.254.1.1), pod namespaces joined to it by veths named as Calico names them, a file
// datastore written directly through the datastore API (10k resources in one transaction, not 10k
// tartanctl runs), and the real tartan-agent binary as a child process in the node namespace.
// It is the shape tartan-lab builds; the lab's library keeps its helpers private, so the few
// steps are repeated here.
// Owns: its namespaces (deleted with it), its temp dir, the agent child (stopped by PID).
// Threading: one thread drives it; helpers that need a namespace run in a thread of their own.
// Failure: set-up errors throw std::runtime_error — a benchmark that cannot build its node has
// nothing to report.
#pragma once

#include "support/netns.hpp"

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tartan::bench {

using Clock = std::chrono::steady_clock;

double millisSince(Clock::time_point start);

// The tartan-agent binary: $TARTAN_AGENT, else src/agent/tartan-agent beside this build's bench/.
std::string agentBinary();

// Exits with a clear message unless the process may create network namespaces.
void requireRoot(const char* program);

struct BenchPod {
  std::string ns, name, ip, app;
  std::string veth;  // host end in the node namespace
  std::unique_ptr<test::NetNamespace> netns;
};

// One policy of the synthetic ruleset; rendered as a tartan.dev/v1 NetworkPolicy.
struct PolicySpec {
  std::string ns, name;
  std::string selector;      // which pods it applies to
  std::string fromSelector;  // ingress source
  std::string protocol = "TCP";
  int port = 80;
  double order = 100;
};

// The ruleset of the benchmarks: `count` policies spread over 20 namespaces, each selecting
// `app == "svc-<i>"` (no pod has it) — except every 100th, which lives in the pods' namespace and
// selects every pod there with a TCP rule the UDP test traffic never matches, so those chains are
// really walked — plus one (`allow-udp`, last by order) allowing UDP from app a to app b.
std::vector<PolicySpec> syntheticPolicies(int count, const std::string& podNamespace, int udpPort);

class AgentNode {
 public:
  explicit AgentNode(const std::string& tag);
  ~AgentNode();
  AgentNode(const AgentNode&) = delete;
  AgentNode& operator=(const AgentNode&) = delete;

  const test::NetNamespace& node() const { return node_; }
  std::string datastoreSpec() const { return "file:" + dir_ + "/datastore"; }

  // A pod namespace with its veth. With `withRoutes`, the node's side is configured by hand (the
  // /32 route and proxy ARP the agent would set), for a node that runs no agent.
  BenchPod& addPod(const std::string& ns, const std::string& name, const std::string& ip,
                   const std::string& app, bool withRoutes = false);
  // Only the host end of a veth (peer stays in the node): enough for an endpoint the agent programs.
  std::string addHostVeth(const std::string& ns, const std::string& name);

  // Writes Namespace, Pod and NetworkPolicy resources in one datastore transaction.
  void writeNamespaces(const std::vector<std::string>& namespaces);
  void writePods(const std::vector<const BenchPod*>& pods);
  void writePodResource(const std::string& ns, const std::string& name, const std::string& ip,
                        const std::string& app);
  void writePolicies(const std::vector<PolicySpec>& policies);

  // Starts the agent (health port 0: the port is read from its output). Returns at once.
  void startAgent(const std::string& logLevel = "warn");
  // Polls /readiness until 200; throws after `limit` or if the agent dies.
  void waitReady(std::chrono::seconds limit);
  bool ready() const;
  // SIGTERM, wait; the agent's VmHWM (kB) read just before, 0 if unknown.
  long stopAgent();
  long agentPeakRssKb() const;
  pid_t agentPid() const { return agentPid_; }
  int healthPort() const { return healthPort_; }
  std::string agentLogTail(size_t lines = 20) const;

  // The iptables flavour the agent programmed ("iptables-nft" or "iptables-legacy"), found by
  // looking for tartan- chains; empty if none holds them yet.
  std::string iptablesFlavour() const;
  // `<flavour>-save` in the node namespace (all tables).
  std::string iptablesSave(const std::string& table = "") const;
  // The same for IPv6 (the agent programs both families).
  std::string ip6tablesSave() const;
  // Removes every rule, chain and IP set, both families, in the node namespace (only there).
  void flushNodeNetfilter() const;

 private:
  test::NetNamespace node_;
  std::string dir_;
  std::deque<BenchPod> pods_;
  pid_t agentPid_ = -1;
  int healthPort_ = 0;
  mutable std::string flavour_;
  int vethCounter_ = 0;
};

// Files written for a reload, removed when it goes (also when a step in between throws).
class TempFiles {
 public:
  explicit TempFiles(std::string stem) : stem_(std::move(stem)) {}
  ~TempFiles();
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;
  // Writes `text` to "<stem><suffix>"; the path.
  std::string write(const std::string& suffix, const std::string& text);

 private:
  std::string stem_;
  std::vector<std::string> paths_;
};

// Runs `fn` in a new thread that has entered `ns`; joins it.
void inNamespace(const test::NetNamespace& ns, const std::function<void()>& fn);

double percentile(std::vector<double> values, double p);

}  // namespace tartan::bench
