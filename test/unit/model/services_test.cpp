// Kubernetes Services and EndpointSlices as Kubernetes writes them, and the rule field that names
// a Service: validated where Calico validates it.
#include "test_support.hpp"

#include <catch2/catch.hpp>

namespace tartan::model::test {
namespace {

// An EndpointSlice as the endpointslice controller writes it (kubectl get -o yaml).
const char* const kControllerSlice = R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: shop
  generateName: web-
  labels:
    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
    kubernetes.io/service-name: web
  ownerReferences:
  - apiVersion: v1
    kind: Service
    name: web
    uid: 0c7d3c0c-1111-2222-3333-444455556666
    controller: true
    blockOwnerDeletion: true
  resourceVersion: "5121"
  uid: 9c1e7f2a-aaaa-bbbb-cccc-ddddeeeeffff
addressType: IPv4
endpoints:
- addresses:
  - 10.65.0.7
  conditions:
    ready: true
    serving: true
    terminating: false
  nodeName: node-1
  targetRef:
    kind: Pod
    name: web-5d8f7-x2x9z
    namespace: shop
    uid: 5a1f0000-0000-0000-0000-000000000001
  zone: zone-a
  hints:
    forZones:
    - name: zone-a
ports:
- name: http
  port: 8080
  protocol: TCP
  appProtocol: http
- name: metrics
  port: 9090
  protocol: UDP
)";

// A Service as the API server returns it: fields networking does not read are ignored.
const char* const kServerService = R"(apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  resourceVersion: "5100"
spec:
  clusterIP: 10.96.12.34
  clusterIPs: [10.96.12.34]
  internalTrafficPolicy: Cluster
  ipFamilies: [IPv4]
  ipFamilyPolicy: SingleStack
  ports:
  - name: http
    port: 80
    protocol: TCP
    targetPort: http
  - name: metrics
    port: 9090
    protocol: UDP
    targetPort: 9090
  selector:
    app: web
  sessionAffinity: None
  sessionAffinityConfig:
    clientIP: {timeoutSeconds: 10800}
  type: ClusterIP
status:
  loadBalancer: {}
)";

}  // namespace

TEST_CASE("an EndpointSlice written by the controller decodes, field for field, and round-trips",
          "[model][kubernetes][services]") {
  DecodeResult result = decode(kControllerSlice, "slice.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  REQUIRE(result.resources.size() == 1);
  const auto& slice = std::get<KubernetesEndpointSlice>(result.resources[0]);
  CHECK(kindOf(result.resources[0]) == Kind::kKubernetesEndpointSlice);
  CHECK(slice.metadata.namespaceName == "shop");
  CHECK(slice.metadata.labels.at(kServiceNameLabel) == "web");
  CHECK(slice.addressType == "IPv4");
  REQUIRE(slice.endpoints.size() == 1);
  CHECK(slice.endpoints[0].addresses == std::vector<std::string>{"10.65.0.7"});
  CHECK(slice.endpoints[0].conditions.ready == true);
  CHECK(slice.endpoints[0].targetRef->name == "web-5d8f7-x2x9z");
  CHECK(slice.endpoints[0].hints->forZones.at(0).name == "zone-a");
  REQUIRE(slice.ports.size() == 2);
  CHECK(slice.ports[1].port == 9090);
  CHECK(slice.ports[1].protocol == "UDP");
  requireRoundTrip(result.resources[0]);
}

TEST_CASE("a Service as the API server returns it decodes; what networking does not read is ignored",
          "[model][kubernetes][services]") {
  DecodeResult result = decode(kServerService, "svc.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const auto& svc = std::get<KubernetesService>(result.resources.at(0));
  CHECK(svc.spec.clusterIP == "10.96.12.34");
  REQUIRE(svc.spec.ports.size() == 2);
  CHECK(std::get<std::string>(svc.spec.ports[0].targetPort->value) == "http");
  CHECK(svc.spec.selector.at("app") == "web");
  requireRoundTrip(result.resources[0]);
}

TEST_CASE("Kubernetes' defaults: a port's protocol is TCP, a Service's type ClusterIP, the namespace default",
          "[model][kubernetes][services]") {
  DecodeResult result = decode(
      "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv6\n"
      "endpoints: []\nports: [{port: 53}]\n---\n"
      "apiVersion: v1\nkind: Service\nmetadata: {name: dns}\nspec:\n  ports: [{port: 53}]\n",
      "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const auto& slice = std::get<KubernetesEndpointSlice>(result.resources.at(0));
  CHECK(slice.metadata.namespaceName == "default");
  CHECK(slice.ports.at(0).protocol == "TCP");
  CHECK(!slice.ports.at(0).name.has_value());
  const auto& svc = std::get<KubernetesService>(result.resources.at(1));
  CHECK(svc.spec.type == "ClusterIP");
  CHECK(svc.spec.ports.at(0).protocol == "TCP");
}

TEST_CASE("kind lookup and scope of Service and EndpointSlice", "[model][kubernetes][services]") {
  CHECK(lookupKind("svc") == Kind::kKubernetesService);
  CHECK(lookupKind("services") == Kind::kKubernetesService);
  CHECK(lookupKind("EndpointSlice") == Kind::kKubernetesEndpointSlice);
  CHECK(lookupKind("endpointslices") == Kind::kKubernetesEndpointSlice);
  CHECK(apiVersion(Kind::kKubernetesEndpointSlice) == "discovery.k8s.io/v1");
  CHECK(apiVersion(Kind::kKubernetesService) == "v1");
  CHECK(isNamespaced(Kind::kKubernetesService));
  CHECK(isNamespaced(Kind::kKubernetesEndpointSlice));
}

TEST_CASE("EndpointSlices and Services are validated as Kubernetes validates them",
          "[model][kubernetes][services]") {
  auto slice = [](const std::string& body) {
    return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\n" + body;
  };
  auto service = [](const std::string& spec) {
    return "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n" + spec;
  };
  struct Case {
    const char* name;
    std::string text;
    const char* where;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"an unknown address type", slice("addressType: IP\nendpoints: []\n"), "in.yaml:4:14", "addressType",
       "unsupported address type"},
      {"no address type", slice("endpoints: []\n"), "in.yaml:1:1", "addressType", "is missing"},
      {"an IPv6 address in an IPv4 slice", slice("addressType: IPv4\nendpoints:\n- addresses: [fd00::1]\n"),
       "in.yaml:6:15", "endpoints[0].addresses[0]", "invalid IPv4 address"},
      {"an address that is no address", slice("addressType: IPv6\nendpoints:\n- addresses: [web]\n"),
       "in.yaml:6:15", "endpoints[0].addresses[0]", "invalid IPv6 address"},
      {"an endpoint without addresses", slice("addressType: IPv4\nendpoints:\n- addresses: []\n"),
       "in.yaml:6:14", "endpoints[0].addresses", "at least one address"},
      {"a misspelt field", slice("addressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  hostnme: a\n"),
       "in.yaml:7:3", "endpoints[0].hostnme", "unknown field"},
      {"a port out of range", slice("addressType: IPv4\nendpoints: []\nports: [{port: 70000}]\n"),
       "in.yaml:6:16", "ports[0].port", "between 1 and 65535"},
      {"an unknown port protocol",
       slice("addressType: IPv4\nendpoints: []\nports: [{port: 80, protocol: ICMP}]\n"), "in.yaml:6:30",
       "ports[0].protocol", "unsupported protocol"},
      {"two ports of one name",
       slice("addressType: IPv4\nendpoints: []\nports: [{name: a, port: 80}, {name: a, port: 81}]\n"),
       "in.yaml:6:37", "ports[1].name", "duplicate port name"},
      {"a Service name that is no DNS-1035 label",
       "apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec:\n  ports: [{port: 80}]\n",
       "in.yaml:3:18", "metadata.name", "DNS-1035 label"},
      {"a Service port out of range", service("  ports: [{port: 0}]\n"), "in.yaml:5:18", "spec.ports[0].port",
       "between 1 and 65535"},
      {"a Service without ports", service("  selector: {app: web}\n"), "in.yaml:5:3", "spec.ports",
       "at least one port"},
      {"unnamed ports of a Service with two", service("  ports: [{port: 80}, {port: 81, name: b}]\n"),
       "in.yaml:5:11", "spec.ports[0].name", "must be named"},
      {"a Service of an unknown type", service("  type: Internal\n  ports: [{port: 80}]\n"), "in.yaml:5:9",
       "spec.type", "unsupported value"},
      {"a cluster IP that is no address", service("  clusterIP: ten\n  ports: [{port: 80}]\n"),
       "in.yaml:5:14", "spec.clusterIP", "invalid IP address"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(c.text);
      CHECK(e.where == c.where);
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
    }
  }
}

TEST_CASE("a rule names a Service where Calico allows it, and nothing else beside it",
          "[model][policy][services]") {
  auto np = [](const std::string& rules) {
    return "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\n"
           "spec:\n" +
           rules;
  };
  auto gnp = [](const std::string& rules) {
    return "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec:\n" +
           rules;
  };
  SECTION("accepted: a destination Service on egress, a source Service on ingress") {
    for (const std::string& text :
         {np("  egress:\n  - action: Allow\n    destination:\n      services: {name: web}\n"),
          np("  ingress:\n  - action: Allow\n    protocol: TCP\n    source:\n      services: {name: web, "
             "namespace: other}\n      ports: [1024]\n"),
          gnp("  egress:\n  - action: Allow\n    protocol: UDP\n    destination:\n      services: {name: "
              "dns, "
              "namespace: kube-system}\n"),
          gnp("  ingress:\n  - action: Deny\n    source:\n      services: {name: web, namespace: shop}\n")}) {
      DecodeResult result = decode(text, "in.yaml");
      INFO(text);
      INFO(errorsText(result));
      CHECK(result.ok());
    }
  }
  struct Case {
    const char* name;
    std::string text;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"a Service in an ingress rule's destination",
       np("  ingress:\n  - action: Allow\n    destination:\n      services: {name: web}\n"),
       "spec.ingress[0].destination.services", "not allowed in ingress rule destination"},
      {"a Service in an egress rule's source",
       np("  egress:\n  - action: Allow\n    source:\n      services: {name: web}\n"),
       "spec.egress[0].source.services", "not allowed in egress rule source"},
      {"a global policy's Service without a namespace",
       gnp("  egress:\n  - action: Allow\n    destination:\n      services: {name: web}\n"),
       "spec.egress[0].destination.services.namespace", "must specify a namespace"},
      {"a Service without a name",
       np("  egress:\n  - action: Allow\n    destination:\n      services: {namespace: shop}\n"),
       "spec.egress[0].destination.services", "must specify a service name"},
      {"a Service and a selector",
       np("  egress:\n  - action: Allow\n    destination:\n      services: {name: web}\n      selector: "
          "all()\n"),
       "spec.egress[0].destination.services", "Selector/NotSelector and Services"},
      {"a Service and a namespaceSelector",
       np("  egress:\n  - action: Allow\n    destination:\n      services: {name: web}\n      "
          "namespaceSelector: all()\n"),
       "spec.egress[0].destination.services", "NamespaceSelector and Services"},
      {"a Service and nets",
       np("  ingress:\n  - action: Allow\n    source:\n      services: {name: web}\n      nets: "
          "[10.0.0.0/8]\n"),
       "spec.ingress[0].source.services", "Nets/NotNets and Services"},
      {"a Service and serviceAccounts",
       np("  ingress:\n  - action: Allow\n    source:\n      services: {name: web}\n      serviceAccounts: "
          "{names: [a]}\n"),
       "spec.ingress[0].source.services", "ServiceAccounts and Services"},
      {"a destination Service and destination ports",
       np("  egress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      services: {name: web}\n"
          "      ports: [80]\n"),
       "spec.egress[0].destination.ports", "cannot specify ports with a service selector"},
      {"a destination Service and destination notPorts",
       np("  egress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      services: {name: web}\n"
          "      notPorts: [80]\n"),
       "spec.egress[0].destination.notPorts", "cannot specify notports with a service selector"},
      {"a Service namespace that is no name",
       np("  egress:\n  - action: Allow\n    destination:\n      services: {name: web, namespace: Shop_1}\n"),
       "spec.egress[0].destination.services.namespace", "RFC 1123 subdomain"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(c.text);
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
    }
  }
}

}  // namespace tartan::model::test
