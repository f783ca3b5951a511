// tartan-agent with --datastore kubernetes: pods, namespaces and policies are objects of the test
// API server (run inside the node's namespace, so the agent reaches it on that namespace's
// loopback), and verdicts are proven with real TCP between pod namespaces.
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_node.hpp"
#include "support/eventually.hpp"
#include "support/kube_test_server.hpp"
#include "tartan/datastore/calico_layout.hpp"
#include "tartan/kube/client.hpp"

#include <catch2/catch.hpp>

#include <iostream>

namespace tt = tartan::test;
namespace kube = tartan::kube;
namespace calico = tartan::datastore::calico;
using namespace std::chrono_literals;
using kube::Json;
using tartan::test::eventually;

namespace {

Json crdFor(const calico::KindLayout& layout) {
  std::string singular(layout.crdKind);
  for (char& c : singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Json version = {
      {"name", "v1"},
      {"served", true},
      {"storage", true},
      {"schema",
       {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}};
  return Json{{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", std::string(layout.plural) + ".crd.projectcalico.org"}}},
              {"spec",
               {{"group", "crd.projectcalico.org"},
                {"names", {{"plural", layout.plural}, {"singular", singular}, {"kind", layout.crdKind}}},
                {"scope", layout.namespaced ? "Namespaced" : "Cluster"},
                {"versions", Json::array({version})}}}};
}

void require(const kube::KubeResult<Json>& result) {
  INFO((result ? std::string() : result.error().toString()));
  REQUIRE(result.has_value());
}

}  // namespace

TEST_CASE("tartan-agent enforces policy read from the Kubernetes API", "[kernel][kubernetes]") {
  if (!tt::haveNetAdmin()) {
    WARN("kernel_agent_kubernetes needs root and network namespaces: SKIPPED, nothing was tested");
    return;
  }
  tt::AgentNode n("kdd");
  tt::AgentPod& client = n.pod("front", "client", "10.67.0.2", "{app: client}");
  tt::AgentPod& other = n.pod("front", "other", "10.67.0.3", "{app: other}");
  tt::AgentPod& server = n.pod("shop", "server", "10.67.0.4", "{app: server}");
  tt::EchoServer echo(*server.netns, "0.0.0.0", 8080);

  // The API server listens on the node namespace's loopback; every request to it is made from a
  // thread inside that namespace (sockets belong to the namespace of the thread that makes them).
  std::unique_ptr<tt::KubeTestServer> api;
  std::unique_ptr<kube::Client> raw;
  const std::string kubeconfig = (n.dir / "kubeconfig").string();
  auto podType = kube::resources::pods();
  {
    tt::EnterNamespace in(n.node);
    api = std::make_unique<tt::KubeTestServer>();
    api->writeKubeconfig(kubeconfig, "test-token");
    kube::Config config;
    config.server = api->url();
    config.caPem = api->pki().ca.certPem;
    config.token = "test-token";
    config.qps = 1000;
    config.burst = 1000;
    auto made = kube::Client::create(config);
    REQUIRE(made.has_value());
    raw = std::move(*made);
    for (const auto& layout : calico::kinds()) {
      if (layout.storage == calico::KubernetesStorage::kCustomResource) {
        require(raw->create(kube::resources::customResourceDefinitions(), crdFor(layout)));
      }
    }
    require(raw->create(kube::resources::calico("felixconfigurations", "FelixConfiguration", false),
                        Json{{"apiVersion", "crd.projectcalico.org/v1"},
                             {"kind", "FelixConfiguration"},
                             {"metadata", {{"name", "default"}}},
                             {"spec", {{"interfacePrefix", tt::AgentNode::kInterfacePrefix}}}}));
    for (const char* ns : {"front", "shop"}) {
      require(raw->create(kube::resources::namespaces(),
                          Json{{"apiVersion", "v1"},
                               {"kind", "Namespace"},
                               {"metadata", {{"name", ns}, {"labels", {{"team", ns}}}}}}));
    }
    for (const tt::AgentPod* p : {&client, &other, &server}) {
      const std::string app =
          p->labels.substr(p->labels.find(": ") + 2, p->labels.size() - p->labels.find(": ") - 3);
      auto pod = raw->create(
          podType,
          Json{{"apiVersion", "v1"},
               {"kind", "Pod"},
               {"metadata", {{"name", p->name}, {"namespace", p->ns}, {"labels", {{"app", app}}}}},
               {"spec",
                {{"nodeName", "node-1"}, {"containers", Json::array({{{"name", "c"}, {"image", "x"}}})}}}});
      require(pod);
      (*pod)["status"] = {{"phase", "Running"}, {"podIP", p->ip}, {"podIPs", Json::array({{{"ip", p->ip}}})}};
      require(raw->updateStatus(podType, *pod));
    }
  }

  auto options = n.agentOptions();
  options.datastore = "kubernetes:" + kubeconfig;
  auto agent = std::make_unique<tt::AgentProcess>(n.node, options);
  struct DumpLog {
    const tt::AgentNode& n;
    ~DumpLog() {
      if (std::uncaught_exceptions() > 0) std::cerr << "---- agent log ----\n" << n.agentLog() << "----\n";
    }
  } dumpLog{n};
  REQUIRE(agent->waitReady(90s));
  REQUIRE(eventually([&] { return tt::canConnect(*client.netns, server.ip, 8080); }));
  CHECK(eventually([&] { return tt::canConnect(*other.netns, server.ip, 8080); }));

  // A Kubernetes NetworkPolicy, as kubectl writes it: only app=client of namespace team=front.
  {
    tt::EnterNamespace in(n.node);
    require(raw->create(kube::resources::networkPolicies(), Json::parse(R"j({
      "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
      "metadata": {"name": "web", "namespace": "shop"},
      "spec": {"podSelector": {"matchLabels": {"app": "server"}}, "policyTypes": ["Ingress"],
               "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "front"}},
                                      "podSelector": {"matchLabels": {"app": "client"}}}],
                            "ports": [{"protocol": "TCP", "port": 8080}]}]}})j")));
  }
  CHECK(eventually([&] { return !tt::canConnect(*other.netns, server.ip, 8080); }));
  CHECK(tt::canConnect(*client.netns, server.ip, 8080));

  // A Calico policy written by tartanctl through the API, in the default tier (default.<name>):
  // it comes before the Kubernetes policy and denies the client too.
  const auto gnpFile = n.dir / "gnp.yaml";
  std::ofstream(gnpFile) << "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n"
                            "  name: deny-client\nspec:\n  order: 10\n  selector: app == 'server'\n"
                            "  ingress:\n  - action: Deny\n    source:\n      selector: app == 'client'\n";
  const std::string ctl = tt::builtBinary("src/cli/tartanctl") + " --datastore kubernetes:" + kubeconfig;
  auto applied = n.node.exec(ctl + " apply -f " + gnpFile.string());
  INFO(applied.output);
  REQUIRE(applied.exitCode == 0);
  CHECK(eventually([&] { return !tt::canConnect(*client.netns, server.ip, 8080); }));
  {
    tt::EnterNamespace in(n.node);
    auto cr = raw->get(kube::resources::calico("globalnetworkpolicies", "GlobalNetworkPolicy", false), "",
                       "default.deny-client");
    CHECK(cr.has_value());
  }
  auto removed = n.node.exec(ctl + " delete gnp deny-client");
  INFO(removed.output);
  REQUIRE(removed.exitCode == 0);
  CHECK(eventually([&] { return tt::canConnect(*client.netns, server.ip, 8080); }));

  // A pod's label changed on the API server: the other pod becomes a client and is let in.
  {
    tt::EnterNamespace in(n.node);
    require(raw->patch(podType, "front", "other", kube::PatchType::Merge,
                       Json{{"metadata", {{"labels", {{"app", "client"}}}}}}));
  }
  CHECK(eventually([&] { return tt::canConnect(*other.netns, server.ip, 8080); }));
  CHECK(agent->httpGet("/readiness") == 200);

  CHECK(agent->stop(SIGTERM) == 0);
  {
    tt::EnterNamespace in(n.node);
    raw.reset();
    api.reset();
  }
}
