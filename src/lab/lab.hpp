// src/lab/lab.hpp — tartan-lab: a whole Tartan cluster on one machine, in network namespaces.
//
// What `up` builds for a lab file (see lab_file.hpp), all inside namespaces it creates (never the
// host's own):
//  - a ToR namespace: a bridge, the fabric, with a veth to every node, BIRD 2 as the top-of-rack
//    router (its config and control socket in the state dir), and a veth to the outside;
//  - per node a namespace with its fabric interface eth0, running the real tartan-agent and
//    tartan-bgpd (child processes, `ip netns exec`) against one file datastore in the state dir;
//    bgpd peers with every other node (the mesh) and with the ToR (BGPPeer, nodeSelector all()),
//    learns the default route and the outside network from it, and the other nodes' blocks;
//  - an outside namespace standing for the internet: its own addresses, routes to the fabric only
//    (none to the pods), so a pod's traffic gets replies only when natOutgoing masquerades it;
//  - per pod a namespace (the sandbox) whose network is made by invoking tartan-cni and portmap
//    as a runtime does (CNI_* environment, the conflist entry on stdin, prevResult chained, inside
//    the node's namespace); IPAM gives the addresses; the lab writes the Namespace,
//    ServiceAccount and Pod resources, the WorkloadEndpoint is the plugin's; an echo server
//    (`tartan-lab serve`) on each pod's ports, and one on the outside that answers with the
//    source address it saw.
// Owns: what its state file lists (state.hpp). `down` removes exactly that and works after a
// crash of either side.
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
  std::string bgpd;       // tartan-bgpd
  std::string cni;        // tartan-cni
  std::string tartanctl;  // may be empty: then apply prints the --datastore to use
  std::string self;       // tartan-lab itself, for `serve`
  std::string bird = "bird";
  std::string cniPluginDir = "/usr/lib/cni";  // portmap and the other standard plugins
};

// Finds the binaries: explicit paths, $TARTAN_AGENT / $TARTAN_BGPD / $TARTAN_CNI / $TARTAN_CTL,
// beside this executable (or in the build tree's sibling folders), then $PATH.
Tools findTools(const std::string& agentOverride, const std::string& ctlOverride);

std::string defaultStateDir(const std::string& labName);  // /run/tartan-lab/<name>

struct UpOptions {
  std::string stateDir;  // empty: default
  std::string logLevel = "info";
  int readyTimeoutSeconds = 60;
};
Result<void> up(const LabFile& lab, const std::string& labFileText, const Tools& tools,
                const UpOptions& options);

// A pod added to a running lab (its namespace declared in the lab or new), through the CNI chain;
// prints its addresses. `del-pod` runs the chain's DEL in reverse and removes the pod's sandbox,
// resources and echo server.
Result<void> addPod(const std::string& stateDir, const LabPod& pod);
Result<void> delPod(const std::string& stateDir, const std::string& ns, const std::string& name);

// Stops a node's agent or bgpd (every node's when `node` is empty; by recorded PID and start
// time) and starts it again with the same flags; the agent's rules and bgpd's routes stay in the
// kernel meanwhile (graceful restart). Waits for the agent to be ready, or for bgpd's sessions to
// be Established again. `tools.agent`, when set, replaces the recorded binary.
Result<void> restartAgent(const std::string& stateDir, const Tools& tools, const std::string& node,
                          int readyTimeoutSeconds);
Result<void> restartBgpd(const std::string& stateDir, const std::string& node, int timeoutSeconds);

// Each node's agent readiness and BGP sessions (`tartanctl node status` against its bgpd), then
// the ToR's (`birdc show protocols`). The text, and whether every session is Established.
struct StatusReport {
  std::string text;
  bool allEstablished = false;
};
Result<StatusReport> status(const std::string& stateDir, const Tools& tools);

// Removes every namespace and process the lab made. Idempotent.
Result<void> down(const std::string& stateDir, const std::string& labName);

// The state dir of the lab to act on: --state-dir, else /run/tartan-lab/<name>, else the only
// lab under /run/tartan-lab.
Result<std::string> resolveStateDir(const std::string& stateDir, const std::string& labName);

struct ProbeCell {
  std::string from;  // "ns/pod"
  std::string to;    // "ns/pod", or "outside"
  int family = 4;    // 4 | 6: which of the destination's addresses was probed
  std::string toIp;
  uint16_t port = 0;
  std::string protocol;
  std::string result;    // "ok" | "denied" (timed out) | "refused" | "error: ..."
  std::string seenFrom;  // outside probes: the source address the outside saw
  int millis = 0;
};
struct ProbeOptions {
  int timeoutMs = 1000;
  int parallelism = 512;  // cells probed at once: a denied cell waits out its timeout
  std::vector<int> families{4, 6};
  bool outside = false;  // from every pod to the outside host instead of the pod matrix
};
Result<std::vector<ProbeCell>> probe(const std::string& stateDir, const ProbeOptions& options);
// One table per family (rows: source pod; columns: destination pod, port, protocol); for outside
// probes, one row per pod and family with the address the outside saw.
std::string renderTable(const std::vector<ProbeCell>& cells);
std::string renderJson(const std::vector<ProbeCell>& cells);

// `tartan-lab apply -f ...`: tartanctl against the lab's datastore. Returns its exit code.
int applyManifests(const std::string& stateDir, const Tools& tools, const std::vector<std::string>& args);
std::string datastoreSpec(const std::string& stateDir);

// `tartan-lab serve`: echo servers on the given ports (one dual-stack socket each: IPv4 and IPv6),
// and on `peerPorts` TCP servers that answer each connection with the address it came from, in
// the calling process's namespace, until SIGTERM. Returns an exit code.
int serve(const std::vector<uint16_t>& tcpPorts, const std::vector<uint16_t>& udpPorts,
          const std::vector<uint16_t>& peerPorts);

// The outside host's "who is asking" port.
inline constexpr uint16_t kOutsidePort = 80;

}  // namespace tartan::lab
