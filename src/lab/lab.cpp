// tartan-lab up/down, the state file and the tools it runs.
#include "lab.hpp"

#include "process.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/model/model.hpp"
#include "tartan/syncer/syncer.hpp"

#include <tartan/common/http_get.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

namespace tartan::lab {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr int kHealthPort = 9099;  // the agent's default; free in the lab's own node namespace
constexpr const char* kStateRoot = "/run/tartan-lab";

std::string exeDir() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.parent_path().string();
}

std::string findBinary(const std::string& name, const std::string& override, const char* env,
                       const std::vector<std::string>& siblings) {
  if (!override.empty()) return override;
  if (const char* v = std::getenv(env); v && *v) return v;
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

// The state file: everything `down` needs, rewritten (atomically) after every change, and a
// namespace recorded before it is made, so a crash at any point leaves nothing unlisted.
class State {
 public:
  explicit State(std::string dir) : dir_(std::move(dir)) {}

  Result<void> load() {
    std::ifstream in(file());
    if (!in) return makeError(file(), "", "no such lab state");
    try {
      data_ = json::parse(in);
    } catch (const json::exception& e) {
      return makeError(file(), "", e.what());
    }
    return {};
  }
  Result<void> save() const {
    const std::string tmp = file() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << data_.dump(2) << "\n";
      if (!out) return makeError(tmp, "", "cannot write the lab state");
    }
    std::error_code ec;
    fs::rename(tmp, file(), ec);
    if (ec) return makeError(file(), "", ec.message());
    return {};
  }
  std::string file() const { return dir_ + "/state.json"; }
  json& data() { return data_; }

  Result<void> addNamespace(const std::string& name) {
    data_["namespaces"].push_back(name);
    return save();
  }
  Result<void> addProcess(const std::string& role, pid_t pid) {
    data_["processes"].push_back({{"role", role}, {"pid", pid}, {"start", startTime(pid)}});
    return save();
  }

 private:
  std::string dir_;
  json data_ = json::object();
};

#define TRY(expr)                                 \
  do {                                            \
    if (auto r_ = (expr); !r_) return r_.error(); \
  } while (0)

// The host end of every pod veth carries this MAC, as Calico's do, so its EUI-64 link-local
// address is the one IPv6 gateway every pod routes to (fe80::ecee:eeff:feee:eeee): no proxy NDP
// and no per-pod gateway address. The host end answers neighbour solicitations for it itself.
constexpr const char* kHostVethMac = "ee:ee:ee:ee:ee:ee";
constexpr const char* kIpv6Gateway = "fe80::ecee:eeff:feee:eeee";
constexpr const char* kIpv4Gateway = "169.254.1.1";

Result<void> makeNamespace(State& state, const std::string& name) {
  TRY(state.addNamespace(name));
  TRY(run({"ip", "netns", "add", name}));
  // Interfaces made here from now on skip duplicate address detection: the lab's addresses are
  // unique by construction, and a tentative link-local gateway would make a pod's first IPv6
  // packets wait a second or more for DAD.
  TRY(run({"ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"}));
  TRY(run({"ip", "-n", name, "link", "set", "lo", "up"}));
  return {};
}

Result<void> buildNode(State& state, const std::string& node) {
  TRY(makeNamespace(state, node));
  // Forwarding between pods; proxy ARP answers for 169.254.1.1 only if the node has a route to
  // it out of another interface, so an uplink carries the node's default route (a veth whose
  // peer stays in the node: not every kernel has the dummy driver). IPv6 forwarding
  // (net.ipv6.conf.all.forwarding) is left to the agent, as on a real node: it turns it on once
  // it has an IPv6 workload.
  TRY(run({"ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1"}));
  TRY(run({"ip", "-n", node, "link", "add", "uplink", "type", "veth", "peer", "name", "uplink-peer"}));
  TRY(run({"ip", "-n", node, "link", "set", "uplink-peer", "up"}));
  TRY(run({"ip", "-n", node, "link", "set", "uplink", "up"}));
  TRY(run({"ip", "-n", node, "route", "add", "default", "dev", "uplink"}));
  return {};
}

Result<void> buildPod(State& state, const LabFile& lab, const LabPod& pod) {
  const std::string ns = podNamespace(lab, pod);
  const std::string node = nodeNamespace(lab);
  const std::string veth = hostVethName(pod);
  TRY(makeNamespace(state, ns));
  TRY(run({"ip", "-n", node, "link", "add", veth, "address", kHostVethMac, "type", "veth", "peer", "name",
           "eth0", "netns", ns}));
  TRY(run({"ip", "-n", node, "link", "set", veth, "up"}));
  TRY(run({"ip", "-n", ns, "link", "set", "eth0", "up"}));
  TRY(run({"ip", "-n", ns, "addr", "add", pod.ip + "/32", "dev", "eth0"}));
  TRY(run({"ip", "-n", ns, "route", "add", kIpv4Gateway, "dev", "eth0", "scope", "link"}));
  TRY(run({"ip", "-n", ns, "route", "add", "default", "via", kIpv4Gateway, "dev", "eth0"}));
  // The pod's /128 and its default route via the host end's link-local address (the node's
  // /128 route back to the pod is the agent's, from the WorkloadEndpoint's ipNetworks).
  TRY(run({"ip", "-n", ns, "-6", "addr", "add", pod.ip6 + "/128", "dev", "eth0", "nodad"}));
  TRY(run({"ip", "-n", ns, "-6", "route", "add", "default", "via", kIpv6Gateway, "dev", "eth0"}));
  return {};
}

std::vector<model::Resource> resources(const LabFile& lab) {
  std::vector<model::Resource> out;
  std::set<std::pair<std::string, std::string>> serviceAccounts;
  for (const auto& ns : lab.namespaces) {
    model::KubernetesNamespace n;
    n.metadata.name = ns.name;
    n.metadata.labels = {ns.labels.begin(), ns.labels.end()};
    out.emplace_back(std::move(n));
  }
  for (const auto& pod : lab.pods) {
    if (!pod.serviceAccount.empty() &&
        serviceAccounts.emplace(pod.namespaceName, pod.serviceAccount).second) {
      model::KubernetesServiceAccount sa;
      sa.metadata.name = pod.serviceAccount;
      sa.metadata.namespaceName = pod.namespaceName;
      out.emplace_back(std::move(sa));
    }
    model::KubernetesPod p;
    p.metadata.name = pod.name;
    p.metadata.namespaceName = pod.namespaceName;
    p.metadata.labels = {pod.labels.begin(), pod.labels.end()};
    p.spec.nodeName = lab.node;
    p.spec.serviceAccountName = pod.serviceAccount;
    model::Container c;
    c.name = "server";
    for (const auto& port : pod.ports)
      c.ports.push_back(model::ContainerPort{port.name, port.port, port.protocol, 0, ""});
    p.spec.containers.push_back(std::move(c));
    p.status.phase = "Running";
    p.status.podIP = pod.ip;
    p.status.podIPs = {model::PodIP{pod.ip}, model::PodIP{pod.ip6}};  // dual stack, IPv4 first
    out.emplace_back(std::move(p));

    // What the CNI plugin writes for the pod: its interface, addresses and named ports, named as
    // Calico names it ("<node>-k8s-<pod>-eth0", each '-' doubled).
    auto escaped = [](const std::string& part) {
      std::string e;
      for (char ch : part) e += ch == '-' ? std::string("--") : std::string(1, ch);
      return e;
    };
    model::WorkloadEndpoint w;
    w.metadata.name = escaped(lab.node) + "-k8s-" + escaped(pod.name) + "-eth0";
    w.metadata.namespaceName = pod.namespaceName;
    w.metadata.labels = {pod.labels.begin(), pod.labels.end()};
    w.spec.orchestrator = "k8s";
    w.spec.node = lab.node;
    w.spec.pod = pod.name;
    w.spec.endpoint = "eth0";
    w.spec.serviceAccountName = pod.serviceAccount;
    w.spec.interfaceName = hostVethName(pod);
    w.spec.ipNetworks = {pod.ip + "/32", pod.ip6 + "/128"};
    w.spec.profiles = {"kns." + pod.namespaceName};
    if (!pod.serviceAccount.empty())
      w.spec.profiles.push_back("ksa." + pod.namespaceName + "." + pod.serviceAccount);
    for (const auto& port : pod.ports) {
      if (port.name.empty()) continue;  // a WorkloadEndpoint lists named ports only
      model::WorkloadEndpointPort wp;
      wp.name = port.name;
      wp.protocol = model::Protocol::fromName(port.protocol);
      wp.port = port.port;
      w.spec.ports.push_back(std::move(wp));
    }
    out.emplace_back(std::move(w));
  }
  return out;
}

Result<void> writeResources(const std::string& stateDir, const LabFile& lab) {
  auto store = datastore::open(datastoreSpec(stateDir));
  if (!store) return store.error().error;
  std::vector<datastore::Op> ops;
  for (const auto& r : resources(lab))
    ops.push_back(datastore::Op::apply(syncer::keyOf(r), model::encodeYaml(r)));
  auto done = (*store)->transaction(ops);
  if (!done) return done.error().error;
  return {};
}

// GET <path> on 127.0.0.1:<port> inside `netns`; the HTTP status, or 0 if nothing answered.
int httpStatus(const std::string& netns, int port, const std::string& path) {
  int status = 0;
  std::thread worker([&] {
    if (enterNetns(netns)) status = httpGetLocal(static_cast<std::uint16_t>(port), path, std::chrono::seconds(1)).status;
  });
  worker.join();
  return status;
}

std::string tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "  " + all[i] + "\n";
  return out;
}

// Starts the agent in the node namespace with the flags the state file records, lists it there,
// and returns once it reports ready (its first full sync programmed).
Result<pid_t> startAgent(State& state, const std::string& dir, int readyTimeoutSeconds) {
  const json& d = state.data();
  const std::string netns = d["nodeNamespace"].get<std::string>();
  const int healthPort = d.value("healthPort", kHealthPort);
  const std::string agentLog = dir + "/logs/agent.log";
  auto agent = spawn({"ip", "netns", "exec", netns, d["agent"].get<std::string>(), "--datastore",
                      datastoreSpec(dir), "--node", d["node"].get<std::string>(), "--health-port",
                      std::to_string(healthPort), "--log-level", d.value("logLevel", "info")},
                     agentLog);
  if (!agent) return agent.error();
  TRY(state.addProcess("agent", *agent));
  const uint64_t agentStart = startTime(*agent);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(readyTimeoutSeconds);
  for (;;) {
    if (httpStatus(netns, healthPort, "/readiness") == 200) return *agent;
    ::waitpid(*agent, nullptr, WNOHANG);
    if (!isSameProcess(*agent, agentStart))
      return makeError("tartan-agent", "",
                       "exited during start-up; last lines of " + agentLog + ":\n" + tail(agentLog, 15));
    if (std::chrono::steady_clock::now() > deadline)
      return makeError("tartan-agent", "",
                       "not ready after " + std::to_string(readyTimeoutSeconds) + "s; see " + agentLog +
                           ":\n" + tail(agentLog, 15));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

Tools findTools(std::string agentOverride, std::string ctlOverride) {
  Tools tools;
  tools.agent = findBinary("tartan-agent", agentOverride, "TARTAN_AGENT", {".", "../agent", "../src/agent"});
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
  if (tools.agent.empty())
    return makeError("tartan-lab", "", "tartan-agent not found: give --agent or $TARTAN_AGENT");
  const std::string dir = options.stateDir.empty() ? defaultStateDir(lab.name) : options.stateDir;
  if (fs::exists(dir + "/state.json"))
    return makeError(dir, "",
                     "lab '" + lab.name + "' is already up; run `tartan-lab down " + lab.name + "` first");
  std::error_code ec;
  fs::create_directories(dir + "/datastore", ec);
  fs::create_directories(dir + "/logs", ec);
  if (ec) return makeError(dir, "", ec.message());
  std::ofstream(dir + "/lab.yaml") << labFileText;

  State state(dir);
  auto& d = state.data();
  d["name"] = lab.name;
  d["node"] = lab.node;
  d["nodeNamespace"] = nodeNamespace(lab);
  d["datastore"] = datastoreSpec(dir);
  d["healthPort"] = kHealthPort;
  d["cidr"] = lab.cidr;
  d["cidr6"] = lab.cidr6;
  d["agent"] = tools.agent;  // `restart-agent` starts the same binary with the same flags
  d["logLevel"] = options.logLevel;
  d["namespaces"] = json::array();
  d["processes"] = json::array();
  d["pods"] = json::array();
  for (const auto& pod : lab.pods) {
    json ports = json::array();
    for (const auto& p : pod.ports)
      ports.push_back({{"name", p.name}, {"port", p.port}, {"protocol", p.protocol}});
    d["pods"].push_back({{"namespace", pod.namespaceName},
                         {"name", pod.name},
                         {"ip", pod.ip},
                         {"ip6", pod.ip6},
                         {"serviceAccount", pod.serviceAccount},
                         {"netns", podNamespace(lab, pod)},
                         {"veth", hostVethName(pod)},
                         {"ports", ports}});
  }
  TRY(state.save());

  std::cout << "lab " << lab.name << ": node namespace " << nodeNamespace(lab) << "\n";
  TRY(buildNode(state, nodeNamespace(lab)));
  for (const auto& pod : lab.pods) {
    TRY(buildPod(state, lab, pod));
    std::cout << "  pod " << pod.namespaceName << "/" << pod.name << "  " << pod.ip << "  " << pod.ip6
              << "  netns " << podNamespace(lab, pod) << "  veth " << hostVethName(pod) << "\n";
  }
  TRY(writeResources(dir, lab));

  for (const auto& pod : lab.pods) {
    if (pod.ports.empty()) continue;
    std::vector<std::string> argv{"ip", "netns", "exec", podNamespace(lab, pod), tools.self, "serve"};
    for (const auto& p : pod.ports) {
      argv.push_back(p.protocol == "UDP" ? "--udp" : "--tcp");
      argv.push_back(std::to_string(p.port));
    }
    auto pid = spawn(argv, dir + "/logs/" + pod.namespaceName + "." + pod.name + ".log");
    if (!pid) return pid.error();
    TRY(state.addProcess("serve " + pod.namespaceName + "/" + pod.name, *pid));
  }

  auto agent = startAgent(state, dir, options.readyTimeoutSeconds);
  if (!agent) return agent.error();
  const std::string agentLog = dir + "/logs/agent.log";
  std::cout << "agent ready (pid " << *agent << ", log " << agentLog << ")\n"
            << "next: tartan-lab probe " << lab.name << "    tartan-lab apply " << lab.name
            << " -f examples/policy/    tartan-lab down " << lab.name << "\n";
  return {};
}

Result<void> down(const std::string& stateDir, const std::string& labName) {
  State state(stateDir);
  std::vector<std::string> namespaces;
  std::string name = labName;
  if (state.load()) {
    auto& d = state.data();
    name = d.value("name", labName);
    // Processes first (the agent leaves its rules; they go with its namespace).
    auto& procs = d["processes"];
    for (auto it = procs.rbegin(); it != procs.rend(); ++it)
      stopProcess((*it)["pid"].get<pid_t>(), (*it)["start"].get<uint64_t>(), 5000);
    for (const auto& n : d["namespaces"]) namespaces.push_back(n.get<std::string>());
  }
  // Without a state file, the node namespace is still known by name.
  if (!name.empty()) namespaces.push_back("tl-" + name + "-node");
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

Result<pid_t> restartAgent(const std::string& stateDir, const Tools& tools, int readyTimeoutSeconds) {
  State state(stateDir);
  TRY(state.load());
  auto& d = state.data();
  if (!tools.agent.empty() && tools.agent != d.value("agent", "")) d["agent"] = tools.agent;
  if (d.value("agent", "").empty())
    return makeError("tartan-agent", "", "not found: give --agent or $TARTAN_AGENT");
  // Stop the recorded agent (by PID and start time: a recycled PID is never signalled) and drop
  // it from the state file; its rules stay in the kernel for the next one to take over.
  auto& procs = d["processes"];
  for (auto it = procs.begin(); it != procs.end();) {
    if ((*it)["role"] != "agent") {
      ++it;
      continue;
    }
    stopProcess((*it)["pid"].get<pid_t>(), (*it)["start"].get<uint64_t>(), 10000);
    it = procs.erase(it);
  }
  TRY(state.save());
  return startAgent(state, stateDir, readyTimeoutSeconds);
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
