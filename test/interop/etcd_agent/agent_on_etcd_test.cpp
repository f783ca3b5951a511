// The real tartan-agent on the etcd datastore, with etcd (Debian's) running in the node's namespace
// and resources written into it by tartanctl: a policy enforced with real TCP; etcd killed under
// the agent (the last state stays enforced: nothing opens, nothing drops, readiness says why);
// etcd back and a new policy applied: the agent catches up. Needs root (CTest skip otherwise).
#include "etcd/etcd_server.hpp"
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_node.hpp"
#include "support/eventually.hpp"
#include "support/skip.hpp"
#include "support/trusted_policies.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>

namespace tt = tartan::test;
using namespace std::chrono_literals;
using tt::eventually;

namespace {

using tt::kAllowOther;
using tt::kAllowTrustedOnly;

std::string pods(const tt::AgentNode& n) {
  std::string out =
      "apiVersion: tartan.dev/v1\nkind: AgentConfiguration\nmetadata:\n  name: default\nspec:\n"
      "  interfacePrefix: " +
      std::string(tt::AgentNode::kInterfacePrefix) + "\n---\n";
  return out + n.podsYaml();
}

}  // namespace

TEST_CASE("the agent on etcd enforces policy, keeps it through an etcd outage and catches up after") {
  if (!tt::haveNetAdmin()) {
    WARN("SKIPPED: interop_etcd_agent needs root and network namespaces; nothing was tested");
    return;
  }
  if (!tt::etcd::haveEtcd()) {
    WARN("etcd is not installed (scripts/install-deps)");
    tt::markSkipped();
    return;
  }
  tt::AgentNode n("etcd");
  tt::AgentPod& trusted = n.pod("front", "trusted", "10.68.0.2", "{role: trusted}");
  tt::AgentPod& other = n.pod("front", "other", "10.68.0.3", "{role: other}");
  tt::AgentPod& server = n.pod("shop", "server", "10.68.0.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);

  n.node.execOrThrow("ip link set lo up");
  tt::etcd::EtcdServer etcd;
  etcd.inNamespace(n.node.name());
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  const std::string spec = "etcdv3:" + etcd.endpoint();
  auto apply = [&](const std::string& name, const std::string& yaml) {
    const auto file = n.dir / (name + ".yaml");
    std::ofstream(file) << yaml;
    auto applied = n.node.exec(tt::builtBinary("src/cli/tartanctl") + " --datastore " + spec + " apply -f " +
                               file.string());
    INFO(applied.output);
    REQUIRE(applied.exitCode == 0);
  };
  apply("pods", pods(n));
  apply("policy", kAllowTrustedOnly);
  // Calico's layout, as etcdctl sees it.
  CHECK(etcd.ctl({"get",
                  "/calico/resources/v3/projectcalico.org/networkpolicies/shop/default.allow-trusted-only"})
            .out.find("\"projectcalico.org/v3\"") != std::string::npos);

  auto options = n.agentOptions();
  options.datastore = spec;
  tt::AgentProcess agent(n.node, options);
  struct DumpLog {
    const tt::AgentNode& n;
    ~DumpLog() {
      if (std::uncaught_exceptions() > 0) std::cerr << "---- agent log ----\n" << n.agentLog() << "----\n";
    }
  } dump{n};
  REQUIRE(agent.waitReady(90s));
  REQUIRE(eventually([&] { return tt::canConnect(*trusted.netns, server.ip, 8080); }));
  REQUIRE(eventually([&] { return !tt::canConnect(*other.netns, server.ip, 8080); }));

  // etcd gone: an outage of the datastore, not of the dataplane.
  etcd.kill();
  CHECK(eventually([&] { return agent.httpGet("/readiness") == 503; }, 30s));
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(tt::canConnect(*other.netns, server.ip, 8080));
    CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));
  }

  // Back, and changed: the agent resyncs and enforces the new state.
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  apply("other", kAllowOther);
  bool caughtUp = eventually([&] { return tt::canConnect(*other.netns, server.ip, 8080); }, 30s);
  if (!caughtUp) std::cerr << "---- agent log ----\n" << n.agentLog() << "----\n";
  CHECK(caughtUp);
  CHECK(tt::canConnect(*trusted.netns, server.ip, 8080));
  CHECK(eventually([&] { return agent.httpGet("/readiness") == 200; }, 30s));
  CHECK(agent.log().find("datastore") != std::string::npos);
}
