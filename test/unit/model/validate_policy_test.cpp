// Calico's validation of policies, network sets and endpoints: each rule, with the exact
// position and field path of the error.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

namespace {

struct Case {
  const char* name;
  std::string text;
  const char* where;
  const char* field;
  const char* what;
};

void checkCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SECTION(c.name) {
      Error e = onlyError(c.text);
      CHECK(e.where == c.where);
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
    }
  }
}

std::string gnp(const std::string& spec, const std::string& name = "p") {
  return "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n" + spec;
}

std::string rule(const std::string& body) { return gnp("  ingress:\n  - action: Allow\n" + body); }

}  // namespace

TEST_CASE("policy rules are validated as Calico validates them", "[model][validate]") {
  checkCases({
      {"unknown action", gnp("  ingress:\n  - action: allow\n"), "in.yaml:7:13", "spec.ingress[0].action",
       "unknown action \"allow\""},
      {"unknown protocol", rule("    protocol: TCPX\n"), "in.yaml:8:15", "spec.ingress[0].protocol",
       "protocol name invalid"},
      {"protocol number zero", rule("    protocol: 0\n"), "in.yaml:8:15", "spec.ingress[0].protocol",
       "protocol number invalid"},
      {"ports with a protocol that has no ports",
       rule("    protocol: ICMP\n    destination:\n      ports: [80]\n"), "in.yaml:10:14",
       "spec.ingress[0].destination.ports", "must set protocol to TCP or UDP or SCTP"},
      {"ports without a protocol", rule("    source:\n      notPorts: [80]\n"), "in.yaml:9:17",
       "spec.ingress[0].source.notPorts", "must set protocol"},
      {"port zero", rule("    protocol: TCP\n    destination:\n      ports: [0]\n"), "in.yaml:10:15",
       "spec.ingress[0].destination.ports[0]", "port number must be between 1 and 65535"},
      {"ICMP with ipVersion 6", rule("    protocol: ICMP\n    ipVersion: 6\n"), "in.yaml:9:16",
       "spec.ingress[0].ipVersion", "ipVersion to 4 with protocol ICMP"},
      {"ICMPv6 with ipVersion 4", rule("    protocol: ICMPv6\n    ipVersion: 4\n"), "in.yaml:9:16",
       "spec.ingress[0].ipVersion", "ipVersion to 6 with protocol ICMPv6"},
      {"ipVersion 5", rule("    ipVersion: 5\n"), "in.yaml:8:16", "spec.ingress[0].ipVersion",
       "ipVersion must be 4 or 6"},
      {"icmp fields without an ICMP protocol", rule("    protocol: TCP\n    icmp:\n      type: 8\n"),
       "in.yaml:10:7", "spec.ingress[0].icmp", "must set protocol to ICMP"},
      {"notICMP without an ICMP protocol", rule("    notICMP:\n      type: 8\n"), "in.yaml:9:7",
       "spec.ingress[0].notICMP", "must set protocol to ICMP"},
      {"ICMP code without a type", rule("    protocol: ICMP\n    icmp:\n      code: 1\n"), "in.yaml:10:13",
       "spec.ingress[0].icmp.code", "ICMP code specified without an ICMP type"},
      {"ICMP type 255", rule("    protocol: ICMP\n    icmp:\n      type: 255\n"), "in.yaml:10:13",
       "spec.ingress[0].icmp.type", "between 0 and 254"},
      {"a bad CIDR", rule("    source:\n      nets: [10.0.0.0/33]\n"), "in.yaml:9:14",
       "spec.ingress[0].source.nets[0]", "invalid CIDR"},
      {"host bits set in a rule net", rule("    destination:\n      notNets: [10.0.0.1/8]\n"), "in.yaml:9:17",
       "spec.ingress[0].destination.notNets[0]", "host bits set (did you mean \"10.0.0.0/8\"?)"},
      {"IPv4 and IPv6 nets in one rule",
       rule("    source:\n      nets: [10.0.0.0/8]\n    destination:\n      nets: [fd00::/8]\n"),
       "in.yaml:11:13", "spec.ingress[0].destination.nets", "both IPv4 and IPv6"},
      {"nets of the wrong IP version", rule("    ipVersion: 6\n    source:\n      nets: [10.0.0.0/8]\n"),
       "in.yaml:10:13", "spec.ingress[0].source.nets", "rule IP version doesn't match"},
      {"an invalid rule selector", rule("    source:\n      selector: \"a == 'b' &&\"\n"), "in.yaml:9:29",
       /* the failing character */ "spec.ingress[0].source.selector", "invalid selector"},
      {"global() in a rule selector", rule("    source:\n      selector: global()\n"), "in.yaml:9:17",
       "spec.ingress[0].source.selector", "global() can only be used in an EntityRule namespaceSelector"},
      {"global() combined in a namespaceSelector",
       rule("    source:\n      namespaceSelector: global() && has(a)\n"), "in.yaml:9:26",
       "spec.ingress[0].source.namespaceSelector", "cannot be combined"},
      {"services with a selector",
       gnp("  egress:\n  - action: Allow\n    destination:\n      selector: a == 'b'\n"
           "      services: {name: s, namespace: n}\n"),
       "in.yaml:10:17", "spec.egress[0].destination.services",
       "cannot specify Selector/NotSelector and Services"},
      {"services in an ingress destination",
       rule("    destination:\n      services: {name: s, namespace: n}\n"), "in.yaml:9:17",
       "spec.ingress[0].destination.services", "not allowed in ingress rule destination"},
      {"global services without a namespace", rule("    source:\n      services: {name: s}\n"),
       "in.yaml:9:17", "spec.ingress[0].source.services.namespace", "must specify a namespace"},
      {"HTTP match on a Deny rule", gnp("  ingress:\n  - action: Deny\n    http:\n      methods: [GET]\n"),
       "in.yaml:9:7", "spec.ingress[0].http", "only valid on Allow rules"},
      {"HTTP path with both exact and prefix",
       rule("    http:\n      paths:\n      - {exact: /a, prefix: /b}\n"), "in.yaml:10:9",
       "spec.ingress[0].http.paths[0]", "both 'exact' and 'prefix'"},
  });
}

TEST_CASE("Calico's current validator: named ports need no protocol, enums ignore case, protocols do not",
          "[model][validate]") {
  checkCases({
      {"a numeric port beside a named one still needs a protocol",
       rule("    destination:\n      ports: [http, 80]\n"), "in.yaml:9:14",
       "spec.ingress[0].destination.ports", "must set protocol"},
      {"a named port with a protocol that has no ports",
       rule("    protocol: ICMP\n    destination:\n      ports: [http]\n"), "in.yaml:10:14",
       "spec.ingress[0].destination.ports", "must set protocol"},
      {"protocol names are case-sensitive", rule("    protocol: tcp\n"), "in.yaml:8:15",
       "spec.ingress[0].protocol", "protocol name invalid"},
      {"a notNets of 0.0.0.0/0", rule("    source:\n      notNets: [10.0.0.0/8, 0.0.0.0/0]\n"),
       "in.yaml:9:29", "spec.ingress[0].source.notNets[1]", "holds every address"},
      {"a notNets of ::/0", rule("    destination:\n      notNets: [\"::/0\"]\n"), "in.yaml:9:17",
       "spec.ingress[0].destination.notNets[0]", "holds every address"},
  });
  const DecodeResult named = decode(rule("    destination:\n      ports: [http, metrics]\n"), "in.yaml");
  INFO(errorsText(named));
  CHECK(named.ok());
  const DecodeResult felix = decode(R"(apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: info
  defaultEndpointToHostAction: accept
  iptablesFilterDenyAction: reject
  chainInsertMode: insert
)",
                                    "in.yaml");
  INFO(errorsText(felix));
  CHECK(felix.ok());
}

TEST_CASE("rules Tartan cannot enforce are refused, never widened to every request", "[model][validate]") {
  checkCases({
      {"an HTTP match",
       rule("    protocol: TCP\n    http:\n      methods: [GET, HEAD]\n      paths:\n      - exact: "
            "/health\n"),
       "in.yaml:10:7", "spec.ingress[0].http", "refused rather than widened to every request"},
  });
  // A rule naming a Service is enforced (through its EndpointSlices), so it is accepted.
  const DecodeResult service = decode(
      rule("    protocol: TCP\n    source:\n      services: {name: frontend-svc, namespace: frontend}\n"),
      "in.yaml");
  INFO(errorsText(service));
  CHECK(service.ok());
}

TEST_CASE("policy specs are validated as Calico validates them", "[model][validate]") {
  checkCases({
      {"an invalid policy selector", gnp("  selector: has(\n"), "in.yaml:6:17", "spec.selector",
       "invalid selector"},
      {"global() as the policy selector", gnp("  selector: global()\n"), "in.yaml:6:13", "spec.selector",
       "global() can only be used"},
      {"an unknown policy type", gnp("  types: [Ingress, Forward]\n"), "in.yaml:6:20", "spec.types[1]",
       "unknown policy type \"Forward\""},
      {"a repeated policy type", gnp("  types: [Egress, Egress]\n"), "in.yaml:6:19", "spec.types[1]",
       "'Egress' type specified more than once"},
      {"preDNAT with egress rules",
       gnp("  preDNAT: true\n  applyOnForward: true\n  egress:\n  - action: Allow\n"), "in.yaml:9:3",
       "spec.egress", "preDNAT policy cannot have egress rules"},
      {"preDNAT without applyOnForward", gnp("  preDNAT: true\n"), "in.yaml:6:3", "spec.applyOnForward",
       "applyOnForward must be true"},
      {"doNotTrack without applyOnForward", gnp("  doNotTrack: true\n"), "in.yaml:6:3", "spec.applyOnForward",
       "applyOnForward must be true"},
      {"doNotTrack with preDNAT", gnp("  doNotTrack: true\n  preDNAT: true\n  applyOnForward: true\n"),
       "in.yaml:7:12", "spec.preDNAT", "cannot both be true"},
      {"an unknown performance hint", gnp("  performanceHints: [Fast]\n"), "in.yaml:6:22",
       "spec.performanceHints[0]", "unknown performance hint"},
      {"a policy name that is not a DNS label", gnp("  selector: all()\n", "Bad_Name"), "in.yaml:4:9",
       "metadata.name", "lower case alphanumeric"},
      {"a policy name with two dots", gnp("  selector: all()\n", "a.b.c"), "in.yaml:4:9", "metadata.name",
       "lower case alphanumeric"},
      {"a tier prefix that is not the policy's tier", gnp("  tier: security\n", "platform.allow"),
       "in.yaml:4:9", "metadata.name", "must be prefixed by its tier \"security.\""},
      {"a tier name that is not a DNS label", gnp("  tier: Security\n", "x"), "in.yaml:6:9", "spec.tier",
       "tier must be a lower case RFC 1123 label"},
      {"a namespaced NetworkPolicy name with two dots",
       "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: a.b.c\n", "in.yaml:4:9",
       "metadata.name", "lower case alphanumeric"},
      {"a cluster-scoped resource with a namespace",
       "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: a\n  "
       "namespace: x\n",
       "in.yaml:5:14", "metadata.namespace", "cluster-scoped"},
      {"no name", "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {}\n", "in.yaml:3:11",
       "metadata.name", "name is required"},
      {"a bad label key",
       "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: t\n  labels:\n    "
       "-bad: x\n",
       "in.yaml:6:11", "metadata.labels[-bad]", "invalid label key"},
      {"a tier name with a dot", "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: a.b\n",
       "in.yaml:4:9", "metadata.name", "tier name must consist"},
      {"the default tier with another order",
       "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: default\nspec:\n  order: "
       "5\n",
       "in.yaml:6:10", "spec.order", "default tier order must be 1e+06"},
  });
}

TEST_CASE("network sets and endpoints are validated as Calico validates them", "[model][validate]") {
  const std::string hep =
      "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: h\nspec:\n";
  const std::string wep =
      "apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n  name: w\nspec:\n";
  checkCases({
      {"a network set with a bad CIDR",
       "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: s\nspec:\n  "
       "nets: [10.0.0.0/8, 300.0.0.0/8]\n",
       "in.yaml:6:22", "spec.nets[1]", "invalid CIDR"},
      {"a host endpoint without node", hep + "  interfaceName: eth0\n", "in.yaml:6:3", "spec.node",
       "no node has been specified"},
      {"a host endpoint with neither interface nor IPs", hep + "  node: n1\n", "in.yaml:6:3",
       "spec.interfaceName", "no interface or expected IPs"},
      {"a host endpoint with a bad expected IP", hep + "  node: n1\n  expectedIPs: [10.0.0.0/8]\n",
       "in.yaml:7:17", "spec.expectedIPs[0]", "invalid IP address"},
      {"a host endpoint port with a protocol without ports",
       hep + "  node: n1\n  interfaceName: eth0\n  ports:\n  - {name: p, protocol: ICMP, port: 1}\n",
       "in.yaml:9:25", "spec.ports[0].protocol", "does not support ports"},
      {"a workload endpoint network of many addresses", wep + "  ipNetworks: [10.0.0.0/24]\n", "in.yaml:6:16",
       "spec.ipNetworks[0]", "contains multiple addresses"},
      {"a workload endpoint with a bad MAC", wep + "  mac: 01:02:03\n", "in.yaml:6:8", "spec.mac",
       "invalid MAC"},
      {"a workload endpoint NAT outside its networks",
       wep + "  ipNetworks: [10.0.0.1/32]\n  ipNATs:\n  - {internalIP: 10.0.0.2, externalIP: 1.2.3.4}\n",
       "in.yaml:8:18", "spec.ipNATs[0].internalIP", "NAT is not in the endpoint networks"},
  });
}

TEST_CASE("policy defaults are Calico's", "[model][defaults]") {
  auto typesOf = [](const std::string& spec) {
    DecodeResult result = decode(gnp(spec), "in.yaml");
    INFO(errorsText(result));
    REQUIRE(result.ok());
    return std::get<GlobalNetworkPolicy>(result.resources[0]).spec.types;
  };
  using Types = std::vector<std::string>;
  CHECK(typesOf("  selector: all()\n") == Types{"Ingress"});
  CHECK(typesOf("  ingress:\n  - action: Allow\n") == Types{"Ingress"});
  CHECK(typesOf("  egress:\n  - action: Allow\n") == Types{"Egress"});
  CHECK(typesOf("  ingress:\n  - action: Allow\n  egress:\n  - action: Allow\n") ==
        Types{"Ingress", "Egress"});
  CHECK(typesOf("  types: [Egress]\n  ingress:\n  - action: Allow\n") == Types{"Egress"});

  DecodeResult np =
      decode("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: n\n", "np.yaml");
  REQUIRE(np.ok());
  const auto& policy = std::get<NetworkPolicy>(np.resources[0]);
  CHECK(policy.spec.tier == "default");
  CHECK(policy.metadata.namespaceName == "default");

  // A policy named with its tier's prefix in that tier is fine.
  CHECK(decode(gnp("  tier: security\n", "security.allow"), "x").ok());
}
