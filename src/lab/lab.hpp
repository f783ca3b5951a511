// src/lab/lab.hpp — tartan-lab: a Tartan node and its pods as network namespaces on this machine.
//
// What `up` builds for a lab file (see lab_file.hpp), all inside namespaces it creates (never the
// host's own): a node namespace running the real tartan-agent (child process, `ip netns exec`)
// against a file datastore in the lab's state dir; per pod a namespace joined to the node by a
// veth (node end named as Calico names it, with Calico's MAC ee:ee:ee:ee:ee:ee; pod end eth0);
// dual stack: the pod's /32 on eth0 with a default route via 169.254.1.1 (which the agent's proxy
// ARP answers), and its /128 with a default route via fe80::ecee:eeff:feee:eeee (the host end's own
// link-local address); the Namespace, ServiceAccount, Pod and WorkloadEndpoint resources written
// to the datastore (the node's /32 and /128 routes back to each pod are the agent's, from the
// WorkloadEndpoint); an echo server (`tartan-lab serve`, IPv4 and IPv6) on each pod's ports.
// Owns: what its state file lists — namespaces (recorded before they are made) and processes
// (by PID and start time, so a recycled PID is never signalled). `down` removes exactly that,
// plus any namespace named for the lab, and works after a crash of either side.
// Threading: single-threaded except probe(), which runs cells in parallel threads, each entering
// its source pod's namespace.
#pragma once

#include "lab_file.hpp"
#include "tartan/common/result.hpp"

#include <string>
#include <vector>

namespace tartan::lab {

struct Tools {
  std::string agent;      // tartan-agent
  std::string tartanctl;  // may be empty: then apply prints the --datastore to use
  std::string self;       // tartan-lab itself, for `serve`
};

// Finds the binaries: explicit paths, $TARTAN_AGENT / $TARTAN_CTL, beside this executable (or in
// the build tree's sibling folders), then $PATH.
Tools findTools(std::string agentOverride, std::string ctlOverride);

std::string defaultStateDir(const std::string& labName);  // /run/tartan-lab/<name>

struct UpOptions {
  std::string stateDir;  // empty: default
  std::string logLevel = "info";
  int readyTimeoutSeconds = 60;
};
Result<void> up(const LabFile& lab, const std::string& labFileText, const Tools& tools,
                const UpOptions& options);

// Stops the lab's agent (by its recorded PID and start time) and starts it again with the same
// flags; its rules stay in the kernel meanwhile and the new agent takes them over. Returns the new
// agent's PID once it is ready. `tools.agent`, when set, replaces the recorded binary.
Result<pid_t> restartAgent(const std::string& stateDir, const Tools& tools, int readyTimeoutSeconds);

// Removes every namespace and process the lab made. Idempotent.
Result<void> down(const std::string& stateDir, const std::string& labName);

// The state dir of the lab to act on: --state-dir, else /run/tartan-lab/<name>, else the only
// lab under /run/tartan-lab.
Result<std::string> resolveStateDir(const std::string& stateDir, const std::string& labName);

struct ProbeCell {
  std::string from;  // "ns/pod"
  std::string to;
  int family = 4;  // 4 | 6: which of the destination's addresses was probed
  std::string toIp;
  uint16_t port = 0;
  std::string protocol;
  std::string result;  // "ok" | "denied" (timed out) | "refused" | "error: ..."
  int millis = 0;
};
struct ProbeOptions {
  int timeoutMs = 1000;
  int parallelism = 512;  // cells probed at once: a denied cell waits out its timeout
  std::vector<int> families{4, 6};
};
Result<std::vector<ProbeCell>> probe(const std::string& stateDir, const ProbeOptions& options);
// One table per family (rows: source pod; columns: destination pod, port, protocol).
std::string renderTable(const std::vector<ProbeCell>& cells);
std::string renderJson(const std::vector<ProbeCell>& cells);

// `tartan-lab apply -f ...`: tartanctl against the lab's datastore. Returns its exit code.
int applyManifests(const std::string& stateDir, const Tools& tools, const std::vector<std::string>& args);
std::string datastoreSpec(const std::string& stateDir);

// `tartan-lab serve`: echo servers on the given ports (one dual-stack socket each: IPv4 and IPv6),
// in the calling process's namespace, until SIGTERM. Returns an exit code.
int serve(const std::vector<uint16_t>& tcpPorts, const std::vector<uint16_t>& udpPorts);

}  // namespace tartan::lab
