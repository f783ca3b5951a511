// The cost of tartan-cni on the real kernel, in network namespaces of its own:
//  - ADD and DEL latency, p50/p99: pods one at a time, and 20 at once (each call timed from its
//    spawn to its exit), the built plugin against a file datastore on tmpfs, its IPAM under the
//    node's lock;
//  - the baseline in the same run: Debian's ptp with host-local IPAM (/usr/lib/cni), doing the
//    same job (a veth into the pod, an address, routes), reported as ratios tartan / baseline;
//  - pod start to policy enforced: ADD returned -> the real tartan-agent, running in the node
//    namespace, has programmed the pod's endpoint (its host veth appears in the filter table,
//    `iptables-save` polled back to back; one listing's cost is reported as the resolution).
// Every plugin runs as a runtime runs it: spawned from a thread inside the node namespace with
// CNI_* in its environment and the configuration on stdin. Prints one JSON object. Needs root and
// refuses clearly without it; timings are never asserted.
//
//   bench_cni [--pods N] [--parallel P] [--rounds R] [--policy-pods N]
//   (defaults 40, 20, 3, 20: about a minute on 2 cores)
#include "agent_node.hpp"

#include <tartan/cni/cni.hpp>
#include <tartan/datastore/file_datastore.hpp>
#include <tartan/model/model.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

using namespace tartan::bench;
using json = nlohmann::json;
namespace tt = tartan::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPodNamespace = "bench";

std::string cniBinary() {
  if (const char* v = std::getenv("TARTAN_CNI"); v && *v) return v;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  // build/<dir>/bench/cni/bench_cni -> build/<dir>/src/cni/tartan-cni
  const fs::path candidate = self.parent_path().parent_path().parent_path() / "src/cni/tartan-cni";
  if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  throw std::runtime_error("tartan-cni not found (looked at " + candidate.string() +
                           "); build it or set $TARTAN_CNI");
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// One plugin: its binary, CNI_PATH and network configuration (written to a file for stdin).
struct Plugin {
  std::string name;
  std::string binary;
  std::string cniPath;
  std::string confFile;
};

struct Call {
  std::string containerID;
  std::string netns;
  std::string pod;
};

// Spawns `plugin` once per call, all at once, from a thread inside the node namespace; each
// call's milliseconds from its spawn to its exit. A call that fails throws with its output.
std::vector<double> runAll(const tt::NetNamespace& node, const Plugin& plugin, const std::string& command,
                           const std::vector<Call>& calls, const fs::path& scratch) {
  std::vector<double> ms(calls.size(), 0);
  std::string failure;
  std::thread([&] {
    tt::EnterNamespace in(node);
    std::map<pid_t, std::pair<size_t, Clock::time_point>> running;
    for (size_t i = 0; i < calls.size(); ++i) {
      const auto& call = calls[i];
      std::vector<std::string> env{
          "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
          "CNI_COMMAND=" + command,
          "CNI_CONTAINERID=" + call.containerID,
          "CNI_NETNS=" + call.netns,
          "CNI_IFNAME=eth0",
          "CNI_PATH=" + plugin.cniPath,
          "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=" + std::string(kPodNamespace) +
              ";K8S_POD_NAME=" + call.pod + ";K8S_POD_INFRA_CONTAINER_ID=" + call.containerID};
      std::vector<char*> envp;
      envp.reserve(env.size() + 1);
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      const std::string out = (scratch / ("out-" + std::to_string(i))).string();
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, 0, plugin.confFile.c_str(), O_RDONLY, 0);
      posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      posix_spawn_file_actions_addopen(&actions, 2, (out + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0644);
      std::string binary = plugin.binary;
      char* argv[] = {binary.data(), nullptr};
      pid_t pid = -1;
      const auto start = Clock::now();
      const int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, envp.data());
      posix_spawn_file_actions_destroy(&actions);
      if (rc != 0) {
        failure = "cannot spawn " + binary + ": " + std::strerror(rc);
        break;
      }
      running[pid] = {i, start};
    }
    while (!running.empty()) {
      int status = 0;
      // One call: its own pid, so that an agent this process runs is never reaped here.
      const pid_t pid = ::waitpid(running.size() == 1 ? running.begin()->first : -1, &status, 0);
      if (pid < 0) break;
      auto it = running.find(pid);
      if (it == running.end()) continue;
      const auto [index, start] = it->second;
      ms[index] = millisSince(start);
      running.erase(it);
      if ((!WIFEXITED(status) || WEXITSTATUS(status) != 0) && failure.empty()) {
        const fs::path out = scratch / ("out-" + std::to_string(index));
        failure = plugin.name + " " + command + " " + calls[index].containerID + " failed: " + readFile(out) +
                  readFile(out.string() + ".err");
      }
    }
  }).join();
  if (!failure.empty()) throw std::runtime_error(failure);
  return ms;
}

json summary(const std::vector<double>& ms) {
  return {{"n", ms.size()},
          {"p50_ms", percentile(ms, 50)},
          {"p99_ms", percentile(ms, 99)},
          {"max_ms", percentile(ms, 100)}};
}

void append(std::vector<double>& to, const std::vector<double>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

struct Latencies {
  std::vector<double> addOne, delOne, addMany, delMany;
  json toJson() const {
    return {{"add_one_at_a_time", summary(addOne)},
            {"del_one_at_a_time", summary(delOne)},
            {"add_at_once", summary(addMany)},
            {"del_at_once", summary(delMany)}};
  }
};

// ADD then DEL of every pod one at a time, then `rounds` rounds of `parallel` ADDs at once and
// their DELs at once.
void measure(const tt::NetNamespace& node, const Plugin& plugin, const std::vector<Call>& pods, int parallel,
             int rounds, const fs::path& scratch, Latencies& into) {
  for (const auto& pod : pods) {
    append(into.addOne, runAll(node, plugin, "ADD", {pod}, scratch));
    append(into.delOne, runAll(node, plugin, "DEL", {pod}, scratch));
  }
  const std::vector<Call> batch(pods.begin(),
                                pods.begin() + std::min<std::ptrdiff_t>(parallel, std::ssize(pods)));
  for (int r = 0; r < rounds; ++r) {
    append(into.addMany, runAll(node, plugin, "ADD", batch, scratch));
    append(into.delMany, runAll(node, plugin, "DEL", batch, scratch));
  }
}

// Applies manifests to the file store the agent reads.
void applyResources(const std::string& storeDir, const std::string& yaml) {
  auto store = tartan::datastore::openFileDatastore(storeDir);
  if (!store) throw std::runtime_error("cannot open the datastore " + storeDir);
  auto decoded = tartan::model::decode(yaml, "bench");
  if (!decoded.ok()) throw std::runtime_error("bench resources do not decode");
  for (const auto& resource : decoded.resources) {
    const auto& meta = tartan::model::metadata(resource);
    tartan::datastore::Key key{std::string(tartan::model::kindName(tartan::model::kindOf(resource))),
                               meta.namespaceName, meta.name};
    if (!(*store)->apply(key, tartan::model::encodeYaml(resource)))
      throw std::runtime_error("cannot write " + meta.name);
  }
}

// `command`'s stdout, run from a thread inside `ns`.
std::string captureIn(const tt::NetNamespace& ns, const std::string& command) {
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

json run(int podCount, int parallel, int rounds, int policyPods) {
  AgentNode node("bcni-node");
  const std::string storeDir = node.datastoreSpec().substr(std::string("file:").size());
  const fs::path scratch = fs::path(storeDir).parent_path() / "scratch";
  fs::create_directories(scratch);
  applyResources(storeDir, std::string(R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: bench-pool}
spec: {cidr: 10.65.0.0/16, blockSize: 26}
---
apiVersion: v1
kind: Namespace
metadata: {name: )") + kPodNamespace +
                               R"(}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-web, namespace: )" +
                               kPodNamespace +
                               R"(}
spec:
  selector: all()
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]
  egress: [{action: Allow}]
)");

  const Plugin tartanCni{"tartan-cni", cniBinary(), "/usr/lib/cni", (scratch / "tartan.conf").string()};
  std::ofstream(tartanCni.confFile) << json{
      {"cniVersion", "1.0.0"},
      {"name", "k8s-pod-network"},
      {"type", "tartan-cni"},
      {"nodename", "bench-node"},
      {"datastore", node.datastoreSpec()},
      {"ipam_lock_file", (scratch / "ipam.lock").string()},
      {"ipam", {{"type", "calico-ipam"}}}}.dump();
  const Plugin ptp{"ptp+host-local", "/usr/lib/cni/ptp", "/usr/lib/cni", (scratch / "ptp.conf").string()};
  std::ofstream(ptp.confFile) << json{{"cniVersion", "1.0.0"},
                                      {"name", "bench-ptp"},
                                      {"type", "ptp"},
                                      {"ipMasq", false},
                                      {"ipam",
                                       {{"type", "host-local"},
                                        {"ranges",
                                         json::array({json::array({{{"subnet", "10.90.0.0/16"}}})})},
                                        {"routes", json::array({{{"dst", "0.0.0.0/0"}}})},
                                        {"dataDir", (scratch / "host-local").string()}}}}
                                     .dump();
  for (const auto& p : {tartanCni, ptp})
    if (::access(p.binary.c_str(), X_OK) != 0) throw std::runtime_error(p.binary + " is not installed");

  std::deque<tt::NetNamespace> namespaces;
  std::vector<Call> pods;
  for (int i = 0; i < std::max({podCount, parallel, policyPods}); ++i) {
    namespaces.emplace_back("bcni-pod");
    pods.push_back({"ctr-" + std::to_string(i), namespaces.back().path(), "pod-" + std::to_string(i)});
  }
  std::vector<Call> sequential(pods.begin(), pods.begin() + podCount);

  // Warm-up (page cache, first datastore writes), not counted.
  Latencies warm;
  measure(node.node(), tartanCni, {pods.front()}, 1, 1, scratch, warm);
  measure(node.node(), ptp, {pods.front()}, 1, 1, scratch, warm);

  Latencies tartan, baseline;
  measure(node.node(), tartanCni, sequential, parallel, rounds, scratch, tartan);
  measure(node.node(), ptp, sequential, parallel, rounds, scratch, baseline);

  // Pod start to policy enforced, with the agent running.
  node.startAgent("warn");
  node.waitReady(std::chrono::seconds(120));
  std::string flavour = node.iptablesFlavour();
  if (flavour.empty()) flavour = "iptables";
  const std::string list = flavour + "-save -t filter 2>/dev/null";
  std::vector<double> enforced, addMs;
  for (int i = 0; i < policyPods; ++i) {
    const Call& pod = pods[static_cast<size_t>(i)];
    addMs.push_back(runAll(node.node(), tartanCni, "ADD", {pod}, scratch).front());
    const auto added = Clock::now();
    const std::string veth = tartan::cni::hostVethName(kPodNamespace, pod.pod);
    for (;;) {
      if (captureIn(node.node(), list).find(veth) != std::string::npos) break;
      if (millisSince(added) > 30000) throw std::runtime_error("the agent never programmed " + veth);
    }
    enforced.push_back(millisSince(added));
  }
  const auto listStart = Clock::now();
  captureIn(node.node(), list);
  const double listMs = millisSince(listStart);
  for (int i = 0; i < policyPods; ++i)
    runAll(node.node(), tartanCni, "DEL", {pods[static_cast<size_t>(i)]}, scratch);
  const long peakRssKb = node.stopAgent();

  auto ratio = [](const std::vector<double>& a, const std::vector<double>& b, double p) {
    const double base = percentile(b, p);
    return base > 0 ? percentile(a, p) / base : 0;
  };
  json out;
  out["tartan_cni"] = tartan.toJson();
  out["baseline_ptp_host_local"] = baseline.toJson();
  out["ratios_tartan_over_baseline"] = {{"add_one_at_a_time_p50", ratio(tartan.addOne, baseline.addOne, 50)},
                                        {"add_one_at_a_time_p99", ratio(tartan.addOne, baseline.addOne, 99)},
                                        {"del_one_at_a_time_p50", ratio(tartan.delOne, baseline.delOne, 50)},
                                        {"del_one_at_a_time_p99", ratio(tartan.delOne, baseline.delOne, 99)},
                                        {"add_at_once_p50", ratio(tartan.addMany, baseline.addMany, 50)},
                                        {"add_at_once_p99", ratio(tartan.addMany, baseline.addMany, 99)},
                                        {"del_at_once_p50", ratio(tartan.delMany, baseline.delMany, 50)},
                                        {"del_at_once_p99", ratio(tartan.delMany, baseline.delMany, 99)}};
  out["pod_start_to_policy_enforced"] = {{"add", summary(addMs)},
                                         {"add_returned_to_endpoint_programmed", summary(enforced)},
                                         {"iptables", flavour},
                                         {"one_listing_ms", listMs},
                                         {"agent_peak_rss_kb", peakRssKb}};
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  int pods = 40, parallel = 20, rounds = 3, policyPods = 20;
  for (int i = 1; i < argc; ++i) {
    auto next = [&](int& into) {
      if (i + 1 >= argc) return false;
      into = std::atoi(argv[++i]);
      return into > 0;
    };
    bool ok = false;
    if (!std::strcmp(argv[i], "--pods"))
      ok = next(pods);
    else if (!std::strcmp(argv[i], "--parallel"))
      ok = next(parallel);
    else if (!std::strcmp(argv[i], "--rounds"))
      ok = next(rounds);
    else if (!std::strcmp(argv[i], "--policy-pods"))
      ok = next(policyPods);
    if (!ok) {
      std::cerr << "usage: bench_cni [--pods N] [--parallel P] [--rounds R] [--policy-pods N]\n";
      return 2;
    }
  }
  requireRoot("bench_cni");
  json out;
  out["benchmark"] = "cni";
  out["pods"] = pods;
  out["parallel"] = parallel;
  out["rounds"] = rounds;
  out["note"] =
      "latencies from each plugin process's spawn to its exit; baseline: Debian's ptp + host-local doing the "
      "same job in the same run; ratios are tartan-cni over the baseline. Pod start to policy: from ADD's "
      "return to the first filter-table listing that names the pod's host veth (resolution: one_listing_ms)";
  out["run"] = run(pods, parallel, rounds, policyPods);
  std::cout << out.dump(2) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_cni: " << e.what() << "\n";
  return 1;
}
