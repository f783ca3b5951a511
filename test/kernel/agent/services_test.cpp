// A rule that names a Service, with the real agent and real TCP: an egress Allow to a Service lets
// a pod reach the Service's endpoints on the slice's port and nothing else (not another port of
// the endpoint, not another pod on that port); an ingress Allow from a Service lets the
// Service's endpoints in and no one else. Slices changed at run time move the verdicts, and a
// Service deleted leaves its rules matching nothing.
#include "kernel/dataplane_iptables/traffic.hpp"
#include "support/agent_node.hpp"
#include "support/agent_process.hpp"
#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace tt = tartan::test;
using namespace std::chrono_literals;

namespace {

constexpr int kServicePort = 8080;  // the EndpointSlice's port
constexpr int kOtherPort = 9999;    // open on the endpoint, in no slice

const char* const kService = R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
)";

std::string slice(const std::string& addresses) {
  return R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: apps
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
)" + addresses +
         R"(ports: [{name: http, port: 8080, protocol: TCP}]
)";
}

// The client may talk only to the Service; "other" takes connections only from the Service's
// endpoints.
const char* const kPolicies = R"(apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: client-to-web, namespace: apps}
spec:
  selector: app == 'client'
  types: [Egress]
  egress:
  - action: Allow
    destination:
      services: {name: web}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: other-from-web, namespace: apps}
spec:
  selector: app == 'other'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source:
      services: {name: web, namespace: apps}
)";

}  // namespace

TEST_CASE("a Service named in a rule is enforced through its EndpointSlices", "[kernel][agent][services]") {
  if (!tt::haveNetAdmin()) return;
  tt::AgentNode node("svc");
  auto& client = node.pod("apps", "client", "10.65.0.2", "{app: client}");
  auto& web = node.pod("apps", "web", "10.65.0.3", "{app: web}");
  auto& other = node.pod("apps", "other", "10.65.0.4", "{app: other}");
  auto& stranger = node.pod("apps", "stranger", "10.65.0.5", "{app: stranger}");
  node.applyPods();
  node.apply("service", kService);
  node.apply("slice", slice("- addresses: [10.65.0.3]\n"));
  node.apply("policies", kPolicies);
  tt::EchoServer webService(*web.netns, "10.65.0.3", kServicePort);
  tt::EchoServer webOther(*web.netns, "10.65.0.3", kOtherPort);
  tt::EchoServer otherService(*other.netns, "10.65.0.4", kServicePort);
  tt::EchoServer strangerService(*stranger.netns, "10.65.0.5", kServicePort);

  tt::AgentProcess agent(node.node, node.agentOptions());
  REQUIRE(agent.waitReady(60s));
  INFO(node.agentLog());
  auto connects = [](const tt::AgentPod& from, const std::string& ip, int port) {
    return tt::canConnect(*from.netns, ip, port);
  };

  // Destination: the endpoint on the slice's port, and nothing else.
  REQUIRE(tt::eventually([&] { return connects(client, "10.65.0.3", kServicePort); }, 20s));
  CHECK_FALSE(connects(client, "10.65.0.3", kOtherPort));
  CHECK_FALSE(connects(client, "10.65.0.4", kServicePort));

  // Source: the Service's endpoint gets in; a pod that is not one does not.
  CHECK(tt::eventually([&] { return connects(web, "10.65.0.4", kServicePort); }, 20s));
  CHECK_FALSE(connects(stranger, "10.65.0.4", kServicePort));
  CHECK(connects(stranger, "10.65.0.3", kOtherPort));  // no policy there: open, as Kubernetes is

  // The slice gains the stranger: the client may now reach it on the slice's port, and, as one of
  // the Service's endpoints, it may now reach "other".
  node.apply("slice", slice("- addresses: [10.65.0.3]\n- addresses: [10.65.0.5]\n"));
  CHECK(tt::eventually([&] { return connects(client, "10.65.0.5", kServicePort); }, 20s));
  CHECK(tt::eventually([&] { return connects(stranger, "10.65.0.4", kServicePort); }, 20s));
  CHECK_FALSE(connects(client, "10.65.0.3", kOtherPort));

  // The Service deleted (its slice left behind): both rules match nothing.
  REQUIRE(node.ctl("delete service web -n apps").exitCode == 0);
  CHECK(tt::eventually([&] { return !connects(client, "10.65.0.3", kServicePort); }, 20s));
  CHECK(tt::eventually([&] { return !connects(web, "10.65.0.4", kServicePort); }, 20s));
  CHECK_FALSE(connects(client, "10.65.0.5", kServicePort));
  CHECK_FALSE(connects(stranger, "10.65.0.4", kServicePort));
  CHECK(agent.stop() == 0);
}
