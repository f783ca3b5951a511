// A rule naming a Service, from manifest to iptables: the calc graph's messages for a Service's
// EndpointSlices, driven into the iptables driver over a fake kernel, rendered to golden tables
// and sets. The destination Service becomes a hash:ip,port set matched "dst,dst" (its members
// carry their protocol and port); the source Service a hash:net set matched "src".
#include "golden.hpp"
#include "support/fake_iptables.hpp"
#include "tartan/calc/calc_graph.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/model/model.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using namespace tartan;
using namespace tartan::dataplane::iptables;

namespace {

const char* const kManifests = R"(apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
spec: {nodeName: node1, containers: [{name: main}]}
status: {phase: Running, podIP: 10.65.0.2, podIPs: [{ip: 10.65.0.2}, {ip: "fd00:65::2"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}, {name: dns, port: 53, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-v4, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.65.1.7]}, {addresses: [10.65.1.8]}]
ports: [{name: http, port: 8080}, {name: dns, port: 53, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-v6, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
endpoints: [{addresses: ["fd00:65::1:7"]}]
ports: [{name: http, port: 8080}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: client, namespace: shop}
spec:
  selector: app == 'client'
  types: [Ingress, Egress]
  egress:
  - action: Allow
    destination:
      services: {name: web}
  ingress:
  - action: Allow
    protocol: TCP
    source:
      services: {name: web, namespace: shop}
)";

class DriverSink : public calc::DataplaneSink {
 public:
  explicit DriverSink(Driver& driver) : driver_(driver) {}
  void send(const dataplane::proto::ToDataplane& message) override { driver_.onMessage(message); }

 private:
  Driver& driver_;
};

}  // namespace

TEST_CASE("a policy naming a Service renders to the golden tables and sets", "[render][golden][services]") {
  const model::DecodeResult decoded = model::decode(kManifests, "services.yaml");
  REQUIRE(decoded.ok());
  test::FakeKernel kernel;
  DriverKernel edges{[&](Backend, int) { return kernel.runner(); }, [&] { return kernel.ipsets(); }};
  Driver driver(edges);
  DriverSink sink(driver);
  calc::CalcGraph graph(calc::Config{"node1", "cali"}, sink);
  for (const model::Resource& r : decoded.resources) graph.onUpdate(r);
  graph.onInSync();
  graph.flush();
  REQUIRE(driver.apply().has_value());

  // The policy's chains only: the rest of the table is the driver's scaffolding, which other
  // goldens hold.
  for (auto [family, tag] : {std::pair{IpFamily::kV4, "v4"}, std::pair{IpFamily::kV6, "v6"}}) {
    std::istringstream saved(kernel.save(family, "filter"));
    std::string policyChains;
    for (std::string line; std::getline(saved, line);) {
      if (line.starts_with("-A tartan-pi-") || line.starts_with("-A tartan-po-")) policyChains += line + "\n";
    }
    test::checkGolden(std::string("services_") + tag + ".txt", policyChains);
  }
  std::string sets;
  for (const auto& [name, set] : kernel.sets) {
    sets += name + " " + set.type + (set.family == IpFamily::kV4 ? " inet" : " inet6") + ":";
    for (const auto& m : set.members) sets += " " + m;
    sets += "\n";
  }
  test::checkGolden("services_sets.txt", sets);
  // What the goldens must show, said plainly: the Service's ports are its slices', in both families.
  CHECK(sets.find(
            "hash:ip,port inet: 10.65.1.7,tcp:8080 10.65.1.7,udp:53 10.65.1.8,tcp:8080 10.65.1.8,udp:53") !=
        std::string::npos);
  CHECK(sets.find("hash:ip,port inet6: fd00:65::1:7,tcp:8080") != std::string::npos);
  CHECK(sets.find("hash:net inet: 10.65.1.7 10.65.1.8") != std::string::npos);
  CHECK(kernel.save(IpFamily::kV4, "filter").find(" dst,dst ") != std::string::npos);
}
