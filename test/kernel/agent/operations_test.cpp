// The agent's operational settings from the datastore, through the real binary: a
// FelixConfiguration moves the health endpoint to its healthPort, turns the Prometheus endpoint on
// (Felix's metric names beside Tartan's, process metrics), and sends the log to logFilePath; a
// change while the agent runs moves and stops them.
#include "support/agent_node.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <tartan/common/http_get.hpp>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>

namespace tt = tartan::test;
using namespace std::chrono_literals;

namespace {

// `count` distinct loopback ports free in `ns`, each found by binding port 0 there.
std::vector<int> freePorts(const tt::NetNamespace& ns, std::size_t count) {
  std::set<int> ports;
  std::thread([&] {
    tt::EnterNamespace in(ns);
    std::vector<int> held;
    while (ports.size() < count) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        ports.insert(ntohs(addr.sin_port));
      held.push_back(fd);  // held until all are found, so no port comes twice
    }
    for (int fd : held) ::close(fd);
  }).join();
  return {ports.begin(), ports.end()};
}

// GET http://127.0.0.1:<port><path> from inside `ns`: the status, 0 if nothing answered.
int get(const tt::NetNamespace& ns, int port, const std::string& path, std::string* body = nullptr) {
  tartan::HttpResponse r;
  std::thread([&] {
    tt::EnterNamespace in(ns);
    r = tartan::httpGetLocal(static_cast<std::uint16_t>(port), path, 3s);
  }).join();
  if (body) *body = r.body;
  return r.status;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string felixConfiguration(const std::string& spec) {
  return std::string(
             "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: default\n") +
         "spec:\n  interfacePrefix: " + tt::AgentNode::kInterfacePrefix + "\n" + spec;
}

const char* kPolicy = R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: web-ingress
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80]
)";

}  // namespace

TEST_CASE("a FelixConfiguration moves the health port, serves Prometheus metrics and writes a log file",
          "[kernel][agent]") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("ops");
  node.pod("apps", "web", "10.65.0.2", "{app: web}");
  node.applyPods();
  node.apply("policy", kPolicy);
  const auto ports = freePorts(node.node, 3);
  const int healthPort = ports[0], metricsPort = ports[1], movedPort = ports[2];
  const auto logFile = node.dir / "logs" / "felix.log";  // its folder does not exist yet
  node.apply("config",
             felixConfiguration("  healthPort: " + std::to_string(healthPort) +
                                "\n  prometheusMetricsEnabled: true\n  prometheusMetricsHost: 127.0.0.1\n"
                                "  prometheusMetricsPort: " +
                                std::to_string(metricsPort) + "\n  logFilePath: " + logFile.string() +
                                "\n  logSeverityFile: Debug\n"));

  auto options = node.agentOptions();
  options.healthPortFlag = false;  // the datastore decides
  options.healthPort = healthPort;
  tt::AgentProcess agent(node.node, options);
  REQUIRE(agent.waitReady(60s));
  INFO(node.agentLog());

  // Before the datastore was read the endpoint was on Felix's default port; now only on healthPort.
  CHECK(get(node.node, 9099, "/liveness") == 0);
  CHECK(get(node.node, healthPort, "/liveness") == 200);

  std::string metrics;
  REQUIRE(tt::eventually(
      [&] {
        return get(node.node, metricsPort, "/metrics", &metrics) == 200 &&
               metrics.find("\nfelix_active_local_endpoints 1\n") != std::string::npos;
      },
      20s));
  INFO(metrics);
  CHECK(metrics.find("\nfelix_active_local_policies 1\n") != std::string::npos);
  CHECK(metrics.find("\nfelix_cluster_num_workload_endpoints 1\n") != std::string::npos);
  CHECK(metrics.find("\ntartan_agent_local_endpoints 1\n") != std::string::npos);
  CHECK(metrics.find("\n# TYPE felix_int_dataplane_apply_time_seconds summary\n") != std::string::npos);
  CHECK(metrics.find("\nfelix_resyncs_started ") != std::string::npos);
  CHECK(metrics.find("\nfelix_resyncs_started 0\n") == std::string::npos);  // the first list counts
  // The filter table holds our chains, and the kernel agrees with the gauge.
  const std::string filterChains = "felix_iptables_chains{ip_version=\"4\",table=\"filter\"} ";
  const auto at = metrics.find(filterChains);
  REQUIRE(at != std::string::npos);
  const int chains = std::stoi(metrics.substr(at + filterChains.size()));
  const std::string saved = node.node.execOrThrow("iptables-save -t filter");
  int declared = 0;
  for (std::size_t p = saved.find("\n:tartan-"); p != std::string::npos; p = saved.find("\n:tartan-", p + 1))
    ++declared;
  CHECK(chains == declared);
  CHECK(chains > 0);
  CHECK(metrics.find("\nprocess_resident_memory_bytes ") != std::string::npos);
  CHECK(metrics.find("\nprocess_open_fds ") != std::string::npos);
  CHECK(get(node.node, metricsPort, "/readiness") == 404);  // metrics only, as Felix's

  // The log file has the agent's lines from the switch on, debug ones included.
  REQUIRE(tt::eventually(
      [&] { return slurp(logFile).find("first full sync programmed") != std::string::npos; }, 10s));
  CHECK(slurp(logFile).find(" debug [") != std::string::npos);

  // While it runs: the health endpoint moves, Prometheus goes, the file gets no more lines.
  node.apply("config", felixConfiguration("  healthPort: " + std::to_string(movedPort) +
                                          "\n  prometheusMetricsEnabled: false\n  logFilePath: none\n"));
  REQUIRE(tt::eventually([&] { return get(node.node, movedPort, "/readiness") == 200; }, 20s));
  CHECK(get(node.node, healthPort, "/readiness") == 0);
  CHECK(tt::eventually([&] { return get(node.node, metricsPort, "/metrics") == 0; }, 10s));
  const std::string frozen = slurp(logFile);
  CHECK(frozen.find("file none") == std::string::npos);  // said on the screen only
  // And back to healthPort: said in the agent's output, not in the file.
  node.apply("config", felixConfiguration("  healthPort: " + std::to_string(healthPort) + "\n"));
  REQUIRE(tt::eventually([&] { return get(node.node, healthPort, "/readiness") == 200; }, 20s));
  CHECK(node.agentLog().find("on http://localhost:" + std::to_string(healthPort)) != std::string::npos);
  CHECK(slurp(logFile) == frozen);
  CHECK(agent.stop() == 0);
}
