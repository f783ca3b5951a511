// The benchmark node: namespaces, datastore writes, the agent child process.
#include "agent_node.hpp"

#include "tartan/calc/calc_graph.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/model/kind.hpp"
#include "tartan/syncer/syncer.hpp"

#include <tartan/common/http_get.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace tartan::bench {
namespace fs = std::filesystem;
namespace tt = tartan::test;

double millisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string agentBinary() {
  if (const char* v = std::getenv("TARTAN_AGENT"); v && *v) return v;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  // build/<dir>/bench/agent/<bench> -> build/<dir>/src/agent/tartan-agent
  const fs::path candidate = self.parent_path().parent_path().parent_path() / "src/agent/tartan-agent";
  if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  throw std::runtime_error("tartan-agent not found (looked at " + candidate.string() +
                           "); build it or set $TARTAN_AGENT");
}

void requireRoot(const char* program) {
  if (::geteuid() == 0 && tt::haveNetAdmin()) return;
  std::cerr << program
            << ": needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create network namespaces and run "
               "tartan-agent in them; run it with sudo. Nothing was measured.\n";
  std::exit(2);
}

void inNamespace(const tt::NetNamespace& ns, const std::function<void()>& fn) {
  std::exception_ptr failure;
  std::thread([&] {
    try {
      tt::EnterNamespace in(ns);
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) std::rethrow_exception(failure);
}

TempFiles::~TempFiles() {
  for (const auto& p : paths_) std::remove(p.c_str());
}

std::string TempFiles::write(const std::string& suffix, const std::string& text) {
  const std::string path = stem_ + suffix;
  paths_.push_back(path);
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest rank: with 20 samples p99 is the largest, as it honestly is.
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

std::vector<PolicySpec> syntheticPolicies(int count, const std::string& podNamespace, int udpPort) {
  std::vector<PolicySpec> out;
  out.reserve(static_cast<size_t>(count) + 1);
  for (int i = 0; i < count; ++i) {
    PolicySpec p;
    p.name = "bench-" + std::to_string(i);
    p.port = 1000 + i % 30000;
    p.order = 10 + i % 1000;
    if (i % 100 == 0) {
      // Applies to the pods: a chain the UDP traffic walks without matching.
      p.ns = podNamespace;
      p.selector = "has(app)";
      p.fromSelector = "app == \"client-" + std::to_string(i) + "\"";
    } else {
      p.ns = "bench-ns-" + std::to_string(i % 20);
      p.selector = "app == \"svc-" + std::to_string(i) + "\"";
      p.fromSelector = "app == \"client-" + std::to_string(i % 500) + "\"";
    }
    out.push_back(std::move(p));
  }
  PolicySpec allow;
  allow.ns = podNamespace;
  allow.name = "allow-udp";
  allow.selector = "app == \"b\"";
  allow.fromSelector = "app == \"a\"";
  allow.protocol = "UDP";
  allow.port = udpPort;
  allow.order = 5000;
  out.push_back(std::move(allow));
  return out;
}

namespace {

std::string policyYaml(const PolicySpec& p) {
  char order[32];
  std::snprintf(order, sizeof order, "%g", p.order);
  return "apiVersion: tartan.dev/v1\nkind: NetworkPolicy\nmetadata:\n  name: " + p.name +
         "\n  namespace: " + p.ns + "\nspec:\n  order: " + order + "\n  selector: '" + p.selector +
         "'\n  types: [Ingress]\n  ingress:\n  - action: Allow\n    protocol: " + p.protocol +
         "\n    source:\n      selector: '" + p.fromSelector + "'\n    destination:\n      ports: [" +
         std::to_string(p.port) + "]\n";
}

std::string podYaml(const std::string& ns, const std::string& name, const std::string& ip,
                    const std::string& app) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\n  labels: {app: " + app +
         "}\nspec:\n  nodeName: bench-node\n  containers:\n  - name: c\nstatus:\n  phase: Running\n  "
         "podIP: " +
         ip + "\n  podIPs:\n  - ip: " + ip + "\n";
}

void commit(const std::string& spec, const std::vector<datastore::Op>& ops) {
  auto store = datastore::open(spec);
  if (!store) throw std::runtime_error("datastore: " + store.error().toString());
  // Chunks keep one transaction's journal entry a sane size.
  for (size_t at = 0; at < ops.size(); at += 2000) {
    std::vector<datastore::Op> chunk(ops.begin() + static_cast<long>(at),
                                     ops.begin() + static_cast<long>(std::min(ops.size(), at + 2000)));
    auto done = (*store)->transaction(chunk);
    if (!done) throw std::runtime_error("datastore write: " + done.error().toString());
  }
}

int httpStatus(const tt::NetNamespace& ns, int port, const std::string& path) {
  int status = 0;
  inNamespace(ns, [&] {
    status = tartan::httpGetLocal(static_cast<std::uint16_t>(port), path, std::chrono::seconds(1)).status;
  });
  return status;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

AgentNode::AgentNode(const std::string& tag) : node_(tag) {
  // On tmpfs when there is one: the file datastore fsyncs every document, and setting up 10k
  // policies should measure the agent, not the disk.
  const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  dir_ = (base / ("tartan-bench-agent-" + tt::uniqueSuffix())).string();
  fs::create_directories(dir_ + "/datastore");
  node_.execOrThrow(
      "sysctl -qw net.ipv4.ip_forward=1 && ip link add uplink type veth peer name uplink-peer && "
      "ip link set uplink-peer up && ip link set uplink up && ip route add default dev uplink");
}

AgentNode::~AgentNode() {
  if (agentPid_ > 0) {
    ::kill(agentPid_, SIGKILL);
    ::waitpid(agentPid_, nullptr, 0);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

BenchPod& AgentNode::addPod(const std::string& ns, const std::string& name, const std::string& ip,
                            const std::string& app, bool withRoutes) {
  BenchPod p{ns,
             name,
             ip,
             app,
             calc::CalcGraph::vethNameForWorkload(calc::kDefaultInterfacePrefix, ns, name),
             std::make_unique<tt::NetNamespace>("pod")};
  node_.execOrThrow("ip link add " + p.veth + " type veth peer name eth0 netns " + p.netns->name() +
                    " && ip link set " + p.veth + " up");
  p.netns->execOrThrow("ip link set eth0 up && ip addr add " + ip +
                       "/32 dev eth0 && ip route add 169.254.1.1 dev eth0 scope link && "
                       "ip route add default via 169.254.1.1 dev eth0");
  if (withRoutes)
    node_.execOrThrow("sysctl -qw net.ipv4.conf." + p.veth + ".proxy_arp=1 net.ipv4.neigh." + p.veth +
                      ".proxy_delay=0 && ip route add " + ip + "/32 dev " + p.veth);
  pods_.push_back(std::move(p));
  return pods_.back();
}

std::string AgentNode::addHostVeth(const std::string& ns, const std::string& name) {
  const std::string veth = calc::CalcGraph::vethNameForWorkload(calc::kDefaultInterfacePrefix, ns, name);
  const std::string peer = "bp" + std::to_string(++vethCounter_);
  node_.execOrThrow("ip link add " + veth + " type veth peer name " + peer + " && ip link set " + veth +
                    " up && ip link set " + peer + " up");
  return veth;
}

void AgentNode::writeNamespaces(const std::vector<std::string>& namespaces) {
  std::vector<datastore::Op> ops;
  for (const auto& n : namespaces)
    ops.push_back(datastore::Op::apply(
        syncer::keyOf(model::Kind::kKubernetesNamespace, "", n),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + n + "\n  labels: {team: " + n + "}\n"));
  commit(datastoreSpec(), ops);
}

void AgentNode::writePods(const std::vector<const BenchPod*>& pods) {
  std::vector<datastore::Op> ops;
  for (const auto* p : pods)
    ops.push_back(datastore::Op::apply(syncer::keyOf(model::Kind::kKubernetesPod, p->ns, p->name),
                                       podYaml(p->ns, p->name, p->ip, p->app)));
  commit(datastoreSpec(), ops);
}

void AgentNode::writePodResource(const std::string& ns, const std::string& name, const std::string& ip,
                                 const std::string& app) {
  commit(datastoreSpec(), {datastore::Op::apply(syncer::keyOf(model::Kind::kKubernetesPod, ns, name),
                                                podYaml(ns, name, ip, app))});
}

void AgentNode::writePolicies(const std::vector<PolicySpec>& policies) {
  std::vector<datastore::Op> ops;
  ops.reserve(policies.size());
  for (const auto& p : policies)
    ops.push_back(
        datastore::Op::apply(syncer::keyOf(model::Kind::kNetworkPolicy, p.ns, p.name), policyYaml(p)));
  commit(datastoreSpec(), ops);
}

void AgentNode::startAgent(const std::string& requestedLevel) {
  const std::string agent = agentBinary();
  // $TARTAN_BENCH_AGENT_LOG_LEVEL overrides the level, e.g. debug to see each apply's cost.
  const char* levelOverride = std::getenv("TARTAN_BENCH_AGENT_LOG_LEVEL");
  const std::string logLevel = levelOverride && *levelOverride ? levelOverride : requestedLevel;
  const std::string log = dir_ + "/agent.log";
  ::unlink(log.c_str());
  healthPort_ = 0;
  agentPid_ = ::fork();
  if (agentPid_ < 0) throw std::runtime_error("fork failed");
  if (agentPid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // `ip netns exec` execs the agent in place, so this PID is the agent's (for VmHWM).
    ::execlp("ip", "ip", "netns", "exec", node_.name().c_str(), agent.c_str(), "--datastore",
             datastoreSpec().c_str(), "--node", "bench-node", "--health-port", "0", "--log-level",
             logLevel.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

bool AgentNode::ready() const {
  return healthPort_ > 0 && httpStatus(node_, healthPort_, "/readiness") == 200;
}

void AgentNode::waitReady(std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    if (healthPort_ == 0) {
      const std::string log = readFile(dir_ + "/agent.log");
      if (auto at = log.find("health port "); at != std::string::npos)
        healthPort_ = std::atoi(log.c_str() + at + 12);
    }
    if (ready()) return;
    if (agentPid_ <= 0 || ::waitpid(agentPid_, nullptr, WNOHANG) != 0) {
      agentPid_ = -1;
      throw std::runtime_error("tartan-agent exited during start-up:\n" + agentLogTail());
    }
    if (Clock::now() > deadline)
      throw std::runtime_error("tartan-agent not ready in time:\n" + agentLogTail());
    std::this_thread::sleep_for(std::chrono::milliseconds(healthPort_ ? 20 : 5));
  }
}

long AgentNode::agentPeakRssKb() const {
  if (agentPid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(agentPid_) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

long AgentNode::stopAgent() {
  const long hwm = agentPeakRssKb();
  if (agentPid_ > 0) {
    ::kill(agentPid_, SIGTERM);
    ::waitpid(agentPid_, nullptr, 0);
    agentPid_ = -1;
    // $TARTAN_BENCH_AGENT_LOG keeps the agent's log for a look afterwards (appended per run).
    if (const char* keep = std::getenv("TARTAN_BENCH_AGENT_LOG"); keep && *keep) {
      std::ofstream(keep, std::ios::app) << readFile(dir_ + "/agent.log");
    }
  }
  return hwm;
}

std::string AgentNode::agentLogTail(size_t lines) const {
  const std::string log = readFile(dir_ + "/agent.log");
  size_t at = log.size();
  for (size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n) at = log.rfind('\n', at - 1);
  return at == std::string::npos ? log : log.substr(at + 1);
}

std::string AgentNode::iptablesFlavour() const {
  if (!flavour_.empty()) return flavour_;
  for (const char* f : {"iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy"}) {
    const auto r = node_.exec(std::string(f) + "-save 2>/dev/null | grep -c ':tartan-'");
    if (r.exitCode == 0 && std::atoi(r.output.c_str()) > 0) return flavour_ = f;
  }
  return {};
}

std::string AgentNode::iptablesSave(const std::string& table) const {
  const std::string flavour = iptablesFlavour().empty() ? "iptables" : iptablesFlavour();
  return node_.exec(flavour + "-save" + (table.empty() ? "" : " -t " + table) + " 2>/dev/null").output;
}

std::string AgentNode::ip6tablesSave() const {
  // "iptables-nft" -> "ip6tables-nft"
  const std::string flavour =
      "ip6" + (iptablesFlavour().empty() ? std::string("iptables") : iptablesFlavour()).substr(2);
  return node_.exec(flavour + "-save 2>/dev/null").output;
}

void AgentNode::flushNodeNetfilter() const {
  // Inside the node namespace only: both flavours, every table, then the IP sets.
  for (const char* f : {"iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy"})
    for (const char* t : {"raw", "mangle", "nat", "filter"})
      node_.exec(std::string(f) + " -t " + t + " -F 2>/dev/null; " + f + " -t " + t + " -X 2>/dev/null");
  // nf_tables lets go of a set's references a moment after the rules go: retry, bounded.
  for (int tries = 0; tries < 50; ++tries) {
    node_.exec("ipset destroy 2>/dev/null");
    if (node_.exec("ipset list -n").output.find_first_not_of(" \n") == std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("IP sets in the node namespace would not go: " +
                           node_.exec("ipset list -n").output);
}

}  // namespace tartan::bench
