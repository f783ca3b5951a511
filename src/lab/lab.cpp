// tartan-lab up/down, the node daemons, status, and the tools the lab runs.
#include "lab.hpp"

#include "cluster_config.hpp"
#include "lab_internal.hpp"
#include "process.hpp"
#include "state.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/model/model.hpp"
#include "tartan/syncer/syncer.hpp"

#include <tartan/common/http_get.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

namespace tartan::lab {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr int kHealthPort = 9099;  // the agent's default; free in each node's own namespace
constexpr const char* kStateRoot = "/run/tartan-lab";

std::string exeDir() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

// An absolute path: the daemons are started from inside other namespaces by `ip netns exec`.
std::string absolute(const std::string& path) {
  std::error_code ec;
  const auto p = fs::absolute(path, ec);
  return ec ? path : p.string();
}

std::string findBinary(const std::string& name, const std::string& override, const char* env,
                       const std::vector<std::string>& siblings) {
  if (!override.empty()) return absolute(override);
  if (const char* v = std::getenv(env); v && *v) return absolute(v);
  const std::string dir = exeDir();
  for (const auto& rel : siblings) {
    const fs::path candidate = fs::path(dir) / rel / name;
    if (::access(candidate.c_str(), X_OK) == 0) return fs::weakly_canonical(candidate).string();
  }
  const char* path = std::getenv("PATH");
  for (std::string_view rest = path ? path : ""; !rest.empty();) {
    const auto colon = rest.find(':');
    const fs::path candidate = fs::path(std::string(rest.substr(0, colon))) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return {};
}

// The ToR namespace: the fabric bridge with the ToR's addresses, forwarding on.
Result<void> buildTor(State& state, const LabFile& lab) {
  const std::string tor = torNamespace(lab.name);
  TARTAN_LAB_TRY(makeNamespace(state, tor));
  TARTAN_LAB_TRY(run({"ip", "netns", "exec", tor, "sysctl", "-qw", "net.ipv4.ip_forward=1"}));
  TARTAN_LAB_TRY(run({"ip", "netns", "exec", tor, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"}));
  TARTAN_LAB_TRY(run({"ip", "-n", tor, "link", "add", "fabric", "type", "bridge"}));
  TARTAN_LAB_TRY(run({"ip", "-n", tor, "link", "set", "fabric", "up"}));
  TARTAN_LAB_TRY(
      run({"ip", "-n", tor, "addr", "add",
           lab.tor.ipv4.address + "/" + std::to_string(lab.tor.ipv4.prefixLength), "dev", "fabric"}));
  if (!lab.tor.ipv6.address.empty())
    TARTAN_LAB_TRY(run({"ip", "-n", tor, "addr", "add",
                        lab.tor.ipv6.address + "/" + std::to_string(lab.tor.ipv6.prefixLength), "dev",
                        "fabric", "nodad"}));
  return {};
}

// The outside: one veth to the ToR, its own addresses, and routes to the fabric only — none to
// the pods, so only masqueraded traffic (from a node's fabric address) can be answered.
Result<void> buildOutside(State& state, const LabFile& lab) {
  const std::string tor = torNamespace(lab.name), outside = outsideNamespace(lab.name);
  TARTAN_LAB_TRY(makeNamespace(state, outside));
  TARTAN_LAB_TRY(run(
      {"ip", "-n", tor, "link", "add", "outside", "type", "veth", "peer", "name", "eth0", "netns", outside}));
  TARTAN_LAB_TRY(run({"ip", "-n", tor, "link", "set", "outside", "up"}));
  TARTAN_LAB_TRY(run({"ip", "-n", outside, "link", "set", "eth0", "up"}));
  for (int family : {4, 6}) {
    const auto& mine = family == 4 ? lab.outside.ipv4 : lab.outside.ipv6;
    const auto& torSide = family == 4 ? lab.outside.torIpv4 : lab.outside.torIpv6;
    const auto& fabric = family == 4 ? lab.tor.ipv4 : lab.tor.ipv6;
    if (mine.address.empty()) continue;
    const std::string len = "/" + std::to_string(mine.prefixLength);
    TARTAN_LAB_TRY(run({"ip", "-n", tor, "addr", "add", torSide.address + len, "dev", "outside", "nodad"}));
    TARTAN_LAB_TRY(run({"ip", "-n", outside, "addr", "add", mine.address + len, "dev", "eth0", "nodad"}));
    if (!fabric.address.empty())
      TARTAN_LAB_TRY(run({"ip", "-n", outside, family == 4 ? "-4" : "-6", "route", "add", fabric.network,
                          "via", torSide.address}));
  }
  return {};
}

// A node: its namespace, eth0 on the fabric bridge (the ToR's port "fab<index>"), forwarding.
Result<void> buildNode(State& state, const LabFile& lab, const LabNode& node, size_t index) {
  const std::string tor = torNamespace(lab.name), ns = nodeNamespace(lab.name, node.name);
  const std::string port = "fab" + std::to_string(index + 1);
  TARTAN_LAB_TRY(makeNamespace(state, ns));
  TARTAN_LAB_TRY(
      run({"ip", "-n", tor, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns}));
  TARTAN_LAB_TRY(run({"ip", "-n", tor, "link", "set", port, "master", "fabric", "up"}));
  TARTAN_LAB_TRY(run({"ip", "-n", ns, "addr", "add", node.ipv4, "dev", "eth0"}));
  if (!node.ipv6.empty())
    TARTAN_LAB_TRY(run({"ip", "-n", ns, "addr", "add", node.ipv6, "dev", "eth0", "nodad"}));
  TARTAN_LAB_TRY(run({"ip", "-n", ns, "link", "set", "eth0", "up"}));
  TARTAN_LAB_TRY(run({"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"}));
  // Pods reach their gateway 169.254.1.1 by the node's proxy ARP, which answers only for an
  // address the node routes out of another interface. A real node's default route does that; a
  // lab node's default route is the ToR's, learned over BGP, so this one route stands in for the
  // host's network configuration until then (and does not reach anything itself).
  TARTAN_LAB_TRY(run({"ip", "-n", ns, "route", "add", "169.254.1.1/32", "dev", "eth0", "scope", "link"}));
  return {};
}

// GET <path> on 127.0.0.1:<port> inside `netns`; the HTTP status, or 0 if nothing answered.
int httpStatus(const std::string& netns, int port, const std::string& path) {
  int status = 0;
  std::thread worker([&] {
    if (enterNetns(netns))
      status = httpGetLocal(static_cast<std::uint16_t>(port), path, std::chrono::seconds(1)).status;
  });
  worker.join();
  return status;
}

std::string processRole(const std::string& daemon, const std::string& node) { return daemon + " " + node; }

// Starts the node's agent with the flags the state records and returns once it reports ready
// (its first full sync programmed).
Result<pid_t> startAgent(State& state, const json& node, int readyTimeoutSeconds) {
  const json& d = state.data();
  const std::string name = node["name"].get<std::string>(), netns = node["netns"].get<std::string>();
  const std::string log = state.dir() + "/logs/agent-" + name + ".log";
  auto agent = spawn({"ip", "netns", "exec", netns, d["tools"]["agent"].get<std::string>(), "--datastore",
                      datastoreSpec(state.dir()), "--node", name, "--health-port",
                      std::to_string(kHealthPort), "--log-level", d.value("logLevel", "info")},
                     log);
  if (!agent) return agent.error();
  TARTAN_LAB_TRY(state.addProcess(processRole("agent", name), *agent));
  const uint64_t start = startTime(*agent);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(readyTimeoutSeconds);
  for (;;) {
    if (httpStatus(netns, kHealthPort, "/readiness") == 200) return *agent;
    ::waitpid(*agent, nullptr, WNOHANG);
    if (!isSameProcess(*agent, start))
      return makeError("tartan-agent " + name, "",
                       "exited during start-up; last lines of " + log + ":\n" + tail(log, 15));
    if (std::chrono::steady_clock::now() > deadline)
      return makeError(
          "tartan-agent " + name, "",
          "not ready after " + std::to_string(readyTimeoutSeconds) + "s; see " + log + ":\n" + tail(log, 15));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// Starts the node's bgpd: short timers, as a lab wants (hold 9 s, connect retry 2 s, End-of-RIB
// deferral 10 s after a restart), its status socket in the node's folder of the state dir.
Result<pid_t> startBgpd(State& state, const json& node) {
  const json& d = state.data();
  const std::string name = node["name"].get<std::string>();
  const std::string log = state.dir() + "/logs/bgpd-" + name + ".log";
  std::error_code ec;
  fs::remove(node["statusSocket"].get<std::string>(), ec);
  auto bgpd = spawn({"ip",
                     "netns",
                     "exec",
                     node["netns"].get<std::string>(),
                     d["tools"]["bgpd"].get<std::string>(),
                     "--datastore",
                     datastoreSpec(state.dir()),
                     "--node",
                     name,
                     "--status-socket",
                     node["statusSocket"].get<std::string>(),
                     "--secrets-dir",
                     state.dir() + "/secrets",
                     "--hold-time",
                     "9",
                     "--connect-retry",
                     "2",
                     "--gr-deferral",
                     "10",
                     "--log-level",
                     d.value("logLevel", "info")},
                    log);
  if (!bgpd) return bgpd.error();
  TARTAN_LAB_TRY(state.addProcess(processRole("bgpd", name), *bgpd));
  return *bgpd;
}

std::string tartanctlOf(State& state, const Tools& tools) {
  if (!tools.tartanctl.empty()) return tools.tartanctl;
  return state.data()["tools"].value("tartanctl", "");
}

// The node's sessions as its bgpd reports them; empty when it does not answer.
std::vector<PeerState> nodePeers(const std::string& tartanctl, const json& node,
                                 std::string* text = nullptr) {
  auto out = run({tartanctl, "node", "status", "--socket", node["statusSocket"].get<std::string>()});
  if (text) *text = out ? *out : out.error().what;
  return out ? parseNodeStatus(*out) : std::vector<PeerState>{};
}

bool established(const std::vector<PeerState>& peers, size_t expected) {
  size_t up = 0;
  for (const auto& p : peers) up += p.state == "Established";
  return expected > 0 && peers.size() == expected && up == expected;
}

// Mesh sessions to every other node and one to the ToR, per family the node has an address of.
size_t expectedSessions(const json& d, const json& node) {
  size_t n = 0;
  for (const char* family : {"ipv4", "ipv6"}) {
    if (node.value(family, "").empty()) continue;
    for (const auto& other : d["nodes"])
      if (other["name"] != node["name"] && !other.value(family, "").empty()) ++n;
    if (!d["tor"].value(family, "").empty()) ++n;
  }
  return n;
}

// Waits until the given nodes' sessions are all Established.
Result<void> awaitSessions(State& state, const std::vector<json>& nodes, int timeoutSeconds) {
  const std::string ctl = tartanctlOf(state, {});
  if (ctl.empty()) return makeError("tartanctl", "", "not found: give --tartanctl or $TARTAN_CTL");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  for (const auto& node : nodes) {
    std::string text;
    while (!established(nodePeers(ctl, node, &text), expectedSessions(state.data(), node))) {
      if (std::chrono::steady_clock::now() > deadline)
        return makeError(
            "tartan-bgpd " + node["name"].get<std::string>(), "",
            "sessions not all Established after " + std::to_string(timeoutSeconds) + "s:\n" + text);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  return {};
}

std::vector<json> selectNodes(State& state, const std::string& node) {
  std::vector<json> out;
  for (const auto& n : state.data()["nodes"])
    if (node.empty() || n["name"] == node) out.push_back(n);
  return out;
}

}  // namespace

Result<void> writeResources(const std::string& dir, const std::vector<model::Resource>& resources) {
  auto store = datastore::open(datastoreSpec(dir));
  if (!store) return store.error().error;
  std::vector<datastore::Op> ops;
  ops.reserve(resources.size());
  for (const auto& r : resources) ops.push_back(datastore::Op::apply(syncer::keyOf(r), model::encodeYaml(r)));
  auto done = (*store)->transaction(ops);
  if (!done) return done.error().error;
  return {};
}

Tools findTools(const std::string& agentOverride, const std::string& ctlOverride) {
  Tools tools;
  tools.agent = findBinary("tartan-agent", agentOverride, "TARTAN_AGENT", {".", "../agent", "../src/agent"});
  tools.bgpd = findBinary("tartan-bgpd", "", "TARTAN_BGPD", {".", "../../bgp/speaker", "../bgp/speaker"});
  tools.cni = findBinary("tartan-cni", "", "TARTAN_CNI", {".", "../cni", "../src/cni"});
  tools.tartanctl = findBinary("tartanctl", ctlOverride, "TARTAN_CTL", {".", "../cli", "../src/cli"});
  std::error_code ec;
  tools.self = fs::read_symlink("/proc/self/exe", ec).string();
  return tools;
}

std::string defaultStateDir(const std::string& labName) { return std::string(kStateRoot) + "/" + labName; }

std::string datastoreSpec(const std::string& stateDir) { return "file:" + stateDir + "/datastore"; }

Result<std::string> resolveStateDir(const std::string& stateDir, const std::string& labName) {
  using Dir = Result<std::string>;
  if (!stateDir.empty()) return Dir(boost::system::in_place_value, stateDir);
  if (!labName.empty()) return Dir(boost::system::in_place_value, defaultStateDir(labName));
  std::vector<std::string> labs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kStateRoot, ec)) {
    if (fs::exists(entry.path() / "state.json")) labs.push_back(entry.path().string());
  }
  if (labs.size() == 1) return Dir(boost::system::in_place_value, labs.front());
  return makeError("tartan-lab", "",
                   labs.empty() ? "no lab is up (looked in /run/tartan-lab)"
                                : "several labs are up: name one, or give --state-dir");
}

Result<void> up(const LabFile& lab, const std::string& labFileText, const Tools& tools,
                const UpOptions& options) {
  for (const auto& [name, path] : {std::pair{"tartan-agent (--agent, $TARTAN_AGENT)", &tools.agent},
                                   std::pair{"tartan-bgpd ($TARTAN_BGPD)", &tools.bgpd},
                                   std::pair{"tartan-cni ($TARTAN_CNI)", &tools.cni},
                                   std::pair{"tartanctl (--tartanctl, $TARTAN_CTL)", &tools.tartanctl}})
    if (path->empty()) return makeError("tartan-lab", "", std::string(name) + " not found");
  if (::access((tools.cniPluginDir + "/portmap").c_str(), X_OK) != 0)
    return makeError(tools.cniPluginDir + "/portmap", "", "not found: install containernetworking-plugins");
  const std::string dir = options.stateDir.empty() ? defaultStateDir(lab.name) : options.stateDir;
  if (fs::exists(dir + "/state.json"))
    return makeError(dir, "",
                     "lab '" + lab.name + "' is already up; run `tartan-lab down " + lab.name + "` first");
  std::error_code ec;
  for (const char* sub : {"/datastore", "/logs", "/secrets", "/tor", "/nodes"})
    fs::create_directories(dir + sub, ec);
  if (ec) return makeError(dir, "", ec.message());
  std::ofstream(dir + "/lab.yaml") << labFileText;

  State state(dir);
  TARTAN_LAB_TRY(state.lock());
  auto& d = state.data();
  d["name"] = lab.name;
  d["datastore"] = datastoreSpec(dir);
  d["logLevel"] = options.logLevel;
  d["tools"] = {{"agent", tools.agent},         {"bgpd", tools.bgpd}, {"cni", tools.cni},
                {"tartanctl", tools.tartanctl}, {"self", tools.self}, {"cniPluginDir", tools.cniPluginDir}};
  d["namespaces"] = json::array();
  d["processes"] = json::array();
  d["pods"] = json::array();
  d["kubernetesNamespaces"] = json::array();
  d["tor"] = {{"netns", torNamespace(lab.name)},
              {"asNumber", lab.tor.asNumber},
              {"ipv4", lab.tor.ipv4.address},
              {"ipv6", lab.tor.ipv6.address},
              {"control", dir + "/tor/bird.ctl"}};
  d["outside"] = {{"netns", outsideNamespace(lab.name)},
                  {"ipv4", lab.outside.ipv4.address},
                  {"ipv6", lab.outside.ipv6.address},
                  {"port", kOutsidePort}};
  d["nodes"] = json::array();
  for (const auto& node : lab.nodes) {
    const std::string nodeDir = dir + "/nodes/" + node.name;
    fs::create_directories(nodeDir, ec);
    std::ofstream(nodeDir + "/10-tartan.conflist")
        << conflist(lab, node.name, datastoreSpec(dir), nodeDir + "/ipam.lock").dump(2) << "\n";
    d["nodes"].push_back({{"name", node.name},
                          {"netns", nodeNamespace(lab.name, node.name)},
                          {"asNumber", node.asNumber != 0 ? node.asNumber : lab.asNumber},
                          {"ipv4", node.ipv4.substr(0, node.ipv4.find('/'))},
                          {"ipv6", node.ipv6.substr(0, node.ipv6.find('/'))},
                          {"statusSocket", nodeDir + "/bgpd.sock"},
                          {"conflist", nodeDir + "/10-tartan.conflist"}});
  }
  for (const auto& ns : lab.namespaces) d["kubernetesNamespaces"].push_back(ns.name);
  TARTAN_LAB_TRY(state.save());

  std::cout << "lab " << lab.name << ": ToR " << torNamespace(lab.name) << " (AS " << lab.tor.asNumber << ", "
            << lab.tor.ipv4.address << (lab.tor.ipv6.address.empty() ? "" : " " + lab.tor.ipv6.address)
            << "), outside " << outsideNamespace(lab.name) << " (" << lab.outside.ipv4.address
            << (lab.outside.ipv6.address.empty() ? "" : " " + lab.outside.ipv6.address) << ")\n";
  TARTAN_LAB_TRY(buildTor(state, lab));
  TARTAN_LAB_TRY(buildOutside(state, lab));
  for (size_t i = 0; i < lab.nodes.size(); ++i) {
    TARTAN_LAB_TRY(buildNode(state, lab, lab.nodes[i], i));
    std::cout << "  node " << lab.nodes[i].name << "  " << lab.nodes[i].ipv4 << "  " << lab.nodes[i].ipv6
              << "  netns " << nodeNamespace(lab.name, lab.nodes[i].name) << "\n";
  }
  TARTAN_LAB_TRY(writeResources(dir, clusterResources(lab)));

  // BIRD: the config checked first (bird -p), so a mistake is one clear error.
  const std::string birdConf = dir + "/tor/bird.conf";
  std::ofstream(birdConf) << birdConfig(lab);
  TARTAN_LAB_TRY(run({tools.bird, "-p", "-c", birdConf}));
  auto bird = spawn({"ip", "netns", "exec", torNamespace(lab.name), tools.bird, "-f", "-c", birdConf, "-s",
                     d["tor"]["control"].get<std::string>()},
                    dir + "/logs/bird.log");
  if (!bird) return bird.error();
  TARTAN_LAB_TRY(state.addProcess("bird", *bird));

  // The outside host's "who is asking" server.
  auto whoami = spawn({"ip", "netns", "exec", outsideNamespace(lab.name), tools.self, "serve", "--peer-tcp",
                       std::to_string(kOutsidePort)},
                      dir + "/logs/outside.log");
  if (!whoami) return whoami.error();
  TARTAN_LAB_TRY(state.addProcess("serve outside", *whoami));

  for (const auto& node : std::vector<json>(d["nodes"].begin(), d["nodes"].end())) {
    auto bgpd = startBgpd(state, node);
    if (!bgpd) return bgpd.error();
    auto agent = startAgent(state, node, options.readyTimeoutSeconds);
    if (!agent) return agent.error();
    std::cout << "  node " << node["name"].get<std::string>() << ": agent ready (pid " << *agent
              << "), bgpd pid " << *bgpd << "\n";
  }
  for (const auto& pod : lab.pods) TARTAN_LAB_TRY(addPodTo(state, pod));
  TARTAN_LAB_TRY(awaitSessions(state, std::vector<json>(d["nodes"].begin(), d["nodes"].end()),
                               options.readyTimeoutSeconds));
  std::cout << "BGP sessions Established on every node (mesh and ToR); logs in " << dir << "/logs\n"
            << "next: tartan-lab status " << lab.name << "    tartan-lab probe " << lab.name
            << "    tartan-lab probe " << lab.name << " --outside    tartan-lab down " << lab.name << "\n";
  return {};
}

Result<void> down(const std::string& stateDir, const std::string& labName) {
  State state(stateDir);
  std::vector<std::string> namespaces;
  std::string name = labName;
  if (state.load()) {
    auto& d = state.data();
    name = d.value("name", labName);
    // Processes first, newest first (the daemons leave rules and routes; they go with the namespaces).
    auto& procs = d["processes"];
    for (auto it = procs.rbegin(); it != procs.rend(); ++it)
      stopProcess((*it)["pid"].get<pid_t>(), (*it)["start"].get<uint64_t>(), 5000);
    for (const auto& n : d["namespaces"]) namespaces.push_back(n.get<std::string>());
  }
  // Without a state file, the lab's fixed namespaces are still known by name.
  if (!name.empty()) {
    namespaces.push_back(outsideNamespace(name));
    namespaces.push_back(torNamespace(name));
  }
  std::optional<Error> failed;
  for (auto it = namespaces.rbegin(); it != namespaces.rend(); ++it) {
    if (!fs::exists("/run/netns/" + *it)) continue;
    if (auto r = run({"ip", "netns", "del", *it}); !r && !failed) failed = r.error();
  }
  if (failed) return *failed;
  std::error_code ec;
  if (fs::exists(stateDir + "/state.json") || fs::exists(stateDir + "/lab.yaml"))
    fs::remove_all(stateDir, ec);
  if (ec) return makeError(stateDir, "", ec.message());
  return {};
}

Result<void> restartAgent(const std::string& stateDir, const Tools& tools, const std::string& node,
                          int readyTimeoutSeconds) {
  State state(stateDir);
  TARTAN_LAB_TRY(state.load());
  auto& d = state.data();
  if (!tools.agent.empty()) d["tools"]["agent"] = tools.agent;
  const auto nodes = selectNodes(state, node);
  if (nodes.empty()) return makeError("--node", "", "no node '" + node + "' in the lab");
  for (const auto& n : nodes) {
    // Its rules stay in the kernel for the next agent to take over.
    TARTAN_LAB_TRY(state.stopRole(processRole("agent", n["name"].get<std::string>()), 10000));
    auto pid = startAgent(state, n, readyTimeoutSeconds);
    if (!pid) return pid.error();
    std::cout << "node " << n["name"].get<std::string>() << ": agent ready (pid " << *pid << ")\n";
  }
  return {};
}

Result<void> restartBgpd(const std::string& stateDir, const std::string& node, int timeoutSeconds) {
  State state(stateDir);
  TARTAN_LAB_TRY(state.load());
  const auto nodes = selectNodes(state, node);
  if (nodes.empty()) return makeError("--node", "", "no node '" + node + "' in the lab");
  for (const auto& n : nodes) {
    // SIGTERM: bgpd closes its sessions without a NOTIFICATION and leaves its kernel routes, so
    // peers and the kernel keep forwarding while it restarts (graceful restart).
    TARTAN_LAB_TRY(state.stopRole(processRole("bgpd", n["name"].get<std::string>()), 10000));
    auto pid = startBgpd(state, n);
    if (!pid) return pid.error();
    std::cout << "node " << n["name"].get<std::string>() << ": bgpd restarted (pid " << *pid << ")\n";
  }
  TARTAN_LAB_TRY(awaitSessions(state, nodes, timeoutSeconds));
  std::cout << "sessions Established again\n";
  return {};
}

Result<StatusReport> status(const std::string& stateDir, const Tools& tools) {
  State state(stateDir);
  TARTAN_LAB_TRY(state.load());
  auto& d = state.data();
  const std::string ctl = tartanctlOf(state, tools);
  if (ctl.empty()) return makeError("tartanctl", "", "not found: give --tartanctl or $TARTAN_CTL");
  StatusReport report;
  report.allEstablished = true;
  for (const auto& node : d["nodes"]) {
    const std::string name = node["name"].get<std::string>();
    const int readiness = httpStatus(node["netns"].get<std::string>(), kHealthPort, "/readiness");
    std::string text;
    const auto peers = nodePeers(ctl, node, &text);
    const bool up = established(peers, expectedSessions(d, node));
    report.allEstablished = report.allEstablished && up;
    const char* agent = readiness == 200 ? "ready" : readiness == 0 ? "not answering" : "not ready";
    report.text.append("== node ").append(name).append(" (").append(node.value("ipv4", "")).append(" ");
    report.text.append(node.value("ipv6", ""))
        .append(", AS ")
        .append(std::to_string(node.value("asNumber", 0U)));
    report.text.append("): agent ").append(agent).append(", ");
    report.text.append(up ? "every BGP session Established\n" : "BGP sessions not all Established\n")
        .append(text);
    if (!text.empty() && text.back() != '\n') report.text += "\n";
    report.text += "\n";
  }
  auto bird = run({"birdc", "-s", d["tor"]["control"].get<std::string>(), "show", "protocols"});
  report.text += "== ToR " + d["tor"]["netns"].get<std::string>() + " (BIRD, AS " +
                 std::to_string(d["tor"].value("asNumber", 0u)) + ")\n" +
                 (bird ? *bird : bird.error().what + "\n");
  return report;
}

int applyManifests(const std::string& stateDir, const Tools& tools, const std::vector<std::string>& args) {
  if (tools.tartanctl.empty()) {
    std::cout << "tartanctl not found; run: tartanctl --datastore " << datastoreSpec(stateDir)
              << " apply ...\n";
    return 1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<std::string> argv{tools.tartanctl, "--datastore", datastoreSpec(stateDir), "apply"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c;
    c.reserve(argv.size() + 1);
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    ::execv(c[0], c.data());
    std::perror("exec tartanctl");
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace tartan::lab
