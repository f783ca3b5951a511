// test/kernel/conformance/lab_harness.hpp — the NetworkPolicy conformance model on a real lab.
//
// What: one tartan-lab per test binary run, in the model of the upstream Kubernetes netpol suite
// (namespaces x, y, z labelled ns=<name>; pods a, b, c in each labelled pod=<name>; TCP and UDP
// echo servers on 80 and 81; container ports named serve-<port>-<tcp|udp>), dual stack (every pod
// has an IPv4 and an IPv6 address, and a cell is probed over either family or both), driven only
// through the lab's and tartanctl's command lines: `tartan-lab up/probe/restart-agent/down`,
// `tartanctl apply/delete`. The harness never writes the lab's state; it reads the agent's PID
// from it.
// A case applies manifests, polls the lab's probe matrix until it equals the truth table (bounded,
// never a fixed sleep), and prints a per-port/protocol truth-table diff when it does not.
// Owns: the lab (state dir under /tmp, names unique per run); `down` runs in the destructor, so a
// failed REQUIRE or an exception still removes every namespace and process. The agent is
// restarted with `tartan-lab restart-agent`, which records the new process for `down`.
// Threading: single-threaded; the probe's parallelism is the lab's own.
// Failure: set-up errors throw std::runtime_error (the test reports them); verdict mismatches
// are returned as a diff for the test to CHECK.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tartan::conformance {

// One pod of the model: "x/a" is pod a in namespace x.
struct PodRef {
  std::string ns;
  std::string pod;
  std::string key() const { return ns + "/" + pod; }
  bool operator==(const PodRef&) const = default;
};

// One probe: from a pod to another pod's port, over IPv4 or IPv6.
struct Cell {
  PodRef from;
  PodRef to;
  uint16_t port = 0;
  std::string protocol;  // "TCP" | "UDP"
  int family = 4;        // 4 | 6
};

// The address families a round probes.
using Families = std::vector<int>;
inline const Families kIpv4{4};
inline const Families kIpv6{6};
inline const Families kDualStack{4, 6};

// The truth table of a case: should this cell connect?
using Expectation = std::function<bool(const Cell&)>;

// Observed verdicts: "from -> to port/protocol" -> "ok" | "denied" | "refused" | "error: ...".
using Matrix = std::map<std::string, std::string>;

const std::vector<std::string>& modelNamespaces();  // x, y, z
const std::vector<std::string>& modelPods();        // a, b, c
const std::vector<uint16_t>& modelPorts();          // 80, 81
const std::vector<std::string>& modelProtocols();   // TCP, UDP
std::vector<PodRef> allPods();
std::string podIp(const PodRef& pod);   // fixed per pod: x/a 10.65.0.10 ... z/c 10.65.0.32
std::string podIp6(const PodRef& pod);  // and x/a fd00:65::10 ... z/c fd00:65::32 (in fd00:65::/64)
std::string podIp(const PodRef& pod, int family);

// "x/a -> y/b 80/TCP", with " IPv6" appended for an IPv6 cell.
std::string cellKey(const Cell& cell);
Matrix expectedMatrix(const Expectation& expect, const Families& families = kIpv4);

// A readable diff: for each family and port/protocol with a mismatch, the 9x9 truth table (rows: from,
// columns: to; "." agrees, "X" differs, "-" is a pod to itself, not probed), then each wrong cell.
// Empty when the matrices agree.
std::string diff(const Matrix& expected, const Matrix& observed);

class Lab {
 public:
  // Builds and starts the lab; throws with the lab's output when it cannot.
  Lab();
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const std::string& name() const { return name_; }
  const std::string& stateDir() const { return stateDir_; }
  std::string nodeNetns() const;
  std::string podNetns(const PodRef& pod) const;

  // tartanctl against the lab's datastore; throws on a non-zero exit.
  void apply(const std::string& yaml);
  void remove(const std::string& yaml);  // delete -f, skipping what is already gone

  // The Pod and Namespace manifests of the model, with edits: label overrides per pod/namespace,
  // named container ports per pod, service accounts.
  struct PodEdit {
    std::map<std::string, std::string> labels;                    // replaces pod=<name>
    std::vector<std::pair<std::string, std::string>> namedPorts;  // (name, "80/TCP")
    std::string serviceAccount;
  };
  static std::string podManifest(const PodRef& pod, const PodEdit* edit = nullptr);
  static std::string namespaceManifest(const std::string& ns,
                                       const std::map<std::string, std::string>* labels = nullptr);
  // Puts every Pod and Namespace back to the model's (what the harness applied after `up`).
  void restoreModel();

  Matrix probe(int timeoutMs, const Families& families = kIpv4) const;
  // Probes until the matrix equals `expect` in two rounds in a row or `budget` passes; returns
  // the diff of the last round (empty: as expected).
  std::string await(const Expectation& expect, std::chrono::milliseconds budget = std::chrono::seconds(10),
                    const Families& families = kIpv4);
  std::chrono::milliseconds lastProbeDuration() const { return lastProbe_; }

  // iptables-save (filter table) of the node namespace.
  std::string iptablesSave() const;
  std::string agentLogTail(size_t lines) const;

  // `tartan-lab restart-agent`: stops the agent and starts it again as `up` does. Returns once
  // the new agent reports ready.
  void restartAgent();
  int agentPid() const;

 private:
  std::string cmd(const std::string& args) const;
  std::string name_;
  std::string stateDir_;
  std::string labBinary_;
  std::string ctlBinary_;
  std::string agentBinary_;
  bool up_ = false;
  mutable std::chrono::milliseconds lastProbe_{0};
};

}  // namespace tartan::conformance
