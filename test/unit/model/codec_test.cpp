// The decoder is strict and says where: unknown fields, wrong types, duplicate keys, bad YAML,
// unknown kinds. The encoder is deterministic.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

namespace {

struct Case {
  const char* name;
  const char* text;
  const char* where;
  const char* field;
  const char* what;  // a substring of the message
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

const char* kHeader = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: p\n";

std::string gnp(const std::string& spec) { return std::string(kHeader) + "spec:\n" + spec; }

}  // namespace

TEST_CASE("the decoder rejects what Calico's strict decoding rejects, with position and path",
          "[model][codec]") {
  std::string unknownTop = gnp("  selector: all()\n") + "extra: 1\n";
  std::string unknownNested = gnp("  ingress:\n  - action: Allow\n    destination:\n      port: 80\n");
  std::string stringForNumber = gnp("  order: \"100\"\n");
  std::string numberForString = gnp("  selector: {a: b}\n");
  std::string listForMap = gnp("  ingress:\n  - action: Allow\n    source: [a]\n");
  std::string duplicate = gnp("  selector: all()\n  selector: has(a)\n");
  std::string missingAction = gnp("  ingress:\n  - protocol: TCP\n");
  std::string badPortString =
      gnp("  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [80, "
          "\"90:80\"]\n");
  std::string portTooBig =
      gnp("  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [70000]\n");
  std::string protocolTooBig = gnp("  ingress:\n  - action: Allow\n    protocol: 256\n");
  std::string badNamedPort =
      gnp("  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [\"a b\"]\n");
  std::string orderNan = gnp("  order: .nan\n");
  checkCases({
      {"unknown top-level field", unknownTop.c_str(), "in.yaml:7:1", "extra", "unknown field \"extra\""},
      {"unknown nested field", unknownNested.c_str(), "in.yaml:9:7", "spec.ingress[0].destination.port",
       "unknown field \"port\""},
      {"a string where a number is expected", stringForNumber.c_str(), "in.yaml:6:10", "spec.order",
       "expected a number, got a string"},
      {"a mapping where a string is expected", numberForString.c_str(), "in.yaml:6:13", "spec.selector",
       "expected a string, got a mapping"},
      {"a list where a mapping is expected", listForMap.c_str(), "in.yaml:8:13", "spec.ingress[0].source",
       "expected a mapping, got a list"},
      {"duplicate keys", duplicate.c_str(), "in.yaml:7:3", "spec.selector", "duplicate key \"selector\""},
      {"a required field missing", missingAction.c_str(), "in.yaml:7:5", "spec.ingress[0].action",
       "required field \"action\" is missing"},
      {"a reversed port range", badPortString.c_str(), "in.yaml:10:19",
       "spec.ingress[0].destination.ports[1]",
       "minimum port number (90) is greater than maximum port number (80)"},
      {"a port above 65535", portTooBig.c_str(), "in.yaml:10:15", "spec.ingress[0].destination.ports[0]",
       "out of range"},
      {"a protocol number above 255", protocolTooBig.c_str(), "in.yaml:8:15", "spec.ingress[0].protocol",
       "out of range [0, 255]"},
      {"an invalid named port", badNamedPort.c_str(), "in.yaml:10:15", "spec.ingress[0].destination.ports[0]",
       "invalid name for named port"},
      {"a non-finite number", orderNan.c_str(), "in.yaml:6:10", "spec.order", "not a finite number"},
      {"an unknown kind", "apiVersion: projectcalico.org/v3\nkind: Profilez\n", "in.yaml:2:7", "kind",
       "unknown kind \"Profilez\""},
      {"a kind the apiVersion does not serve", "apiVersion: v1\nkind: IPPool\n", "in.yaml:1:13", "apiVersion",
       "does not serve kind \"IPPool\""},
      {"no apiVersion", "kind: IPPool\nmetadata: {name: a}\n", "in.yaml:1:1", "apiVersion",
       "required field \"apiVersion\" is missing"},
      {"invalid YAML", "apiVersion: v1\nkind: [\n", "in.yaml:3:1", "", "invalid YAML"},
      {"a document that is not a mapping", "- a\n- b\n", "in.yaml:1:1", "", "must be a mapping"},
  });
}

TEST_CASE("every error of every document is reported, and nothing is returned", "[model][codec]") {
  std::string text =
      gnp("  order: x\n  foo: 1\n") + "---\n" + gnp("  selector: all()\n") + "---\n" + gnp("  bar: 2\n");
  DecodeResult result = decode(text, "multi.yaml");
  INFO(errorsText(result));
  REQUIRE(result.errors.size() == 3);
  CHECK(result.errors[0].where == "multi.yaml:6:10");
  CHECK(result.errors[1].where == "multi.yaml:7:3");
  CHECK(result.errors[2].where == "multi.yaml:21:3");
  CHECK(result.resources.empty());
}

TEST_CASE("multi-document YAML, JSON input and List documents", "[model][codec]") {
  std::string text = gnp("  selector: all()\n") + "---\n" +
                     "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a}\n---\n";
  DecodeResult yaml = decode(text, "multi.yaml");
  INFO(errorsText(yaml));
  REQUIRE(yaml.ok());
  REQUIRE(yaml.resources.size() == 2);
  CHECK(kindOf(yaml.resources[1]) == Kind::kTier);

  DecodeResult json = decode(
      R"({"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet",
          "metadata": {"name": "n", "namespace": "ns"}, "spec": {"nets": ["10.0.0.0/8"]}})",
      "set.json");
  INFO(errorsText(json));
  REQUIRE(json.ok());
  CHECK(std::get<NetworkSet>(json.resources[0]).spec.nets == std::vector<std::string>{"10.0.0.0/8"});

  DecodeResult list = decode(R"(apiVersion: v1
kind: List
items:
- apiVersion: projectcalico.org/v3
  kind: Tier
  metadata: {name: a}
- apiVersion: projectcalico.org/v3
  kind: Tier
  metadata: {name: b}
  spec: {order: x}
)",
                             "list.yaml");
  REQUIRE(list.errors.size() == 1);
  CHECK(list.errors[0].field == "items[1].spec.order");
  CHECK(list.errors[0].where == "list.yaml:10:17");
}

TEST_CASE("numbers or strings decode as Calico reads them", "[model][codec]") {
  DecodeResult result = decode(gnp(R"(  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80, "443", "8000:8080", http-alt]
  - action: Allow
    protocol: 17
  - action: Allow
    protocol: "SCTP"
    icmp: {}
    notProtocol: UDPLite
)"),
                               "in.yaml");
  INFO(errorsText(result));
  // icmp without ICMP protocol is refused; everything else decodes.
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].field == "spec.ingress[2].icmp");

  DecodeResult ok = decode(gnp(R"(  order: 1.5e2
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80, "443", "8000:8080", http-alt]
  - action: Allow
    protocol: 17
)"),
                           "in.yaml");
  INFO(errorsText(ok));
  REQUIRE(ok.ok());
  const auto& spec = std::get<GlobalNetworkPolicy>(ok.resources[0]).spec;
  CHECK(spec.order == 150.0);
  CHECK(spec.ingress[0].protocol == Protocol::fromName("TCP"));
  CHECK(std::get<std::string>(spec.ingress[0].protocol->value) == "TCP");
  CHECK(spec.ingress[0].destination.ports == std::vector<Port>{Port::single(80), Port::single(443),
                                                               Port::range(8000, 8080),
                                                               Port::named("http-alt")});
  CHECK(spec.ingress[1].protocol == Protocol::fromNumber(17));
  CHECK(spec.ingress[1].protocol->supportsPorts());
  requireRoundTrip(ok.resources[0]);
}

TEST_CASE("encoding is deterministic and leaves out absent fields", "[model][codec]") {
  GlobalNetworkPolicy policy;
  policy.metadata.name = "p";
  policy.metadata.labels = {{"b", "2"}, {"a", "1"}};
  policy.spec.order = 10;
  Rule rule;
  rule.action = "Deny";
  rule.protocol = Protocol::fromNumber(1);
  rule.icmp = ICMPFields{8, std::nullopt};
  policy.spec.ingress.push_back(rule);
  Resource defaulted = policy;
  applyDefaults(defaulted);
  requireRoundTrip(defaulted);
  CHECK(encodeYaml(policy) == R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: p
  labels:
    a: "1"
    b: "2"
spec:
  order: 10
  ingress:
  - action: Deny
    protocol: 1
    icmp:
      type: 8
)");
  CHECK(encodeJson(policy) == R"({
  "apiVersion": "tartan.dev/v1",
  "kind": "GlobalNetworkPolicy",
  "metadata": {
    "name": "p",
    "labels": {
      "a": "1",
      "b": "2"
    }
  },
  "spec": {
    "order": 10,
    "ingress": [
      {
        "action": "Deny",
        "protocol": 1,
        "icmp": {
          "type": 8
        }
      }
    ]
  }
}
)");
}

TEST_CASE("strings that YAML would read as something else are quoted", "[model][codec]") {
  GlobalNetworkSet set;
  set.metadata.name = "s";
  set.metadata.labels = {{"a", "yes"}, {"b", "123"},  {"c", "null"}, {"d", ""},
                         {"e", "1.5"}, {"f", "a: b"}, {"g", "#x"},   {"h", "ok"}};
  set.metadata.annotations = {{"note", "line one\nline \"two\"\ttab"}};
  std::string yaml = encodeYaml(set);
  CHECK_THAT(yaml,
             Catch::Contains("a: \"yes\"") && Catch::Contains("b: \"123\"") && Catch::Contains("h: ok"));
  // Labels with those values are not valid labels, so this checks the codec only.
  std::vector<Error> errors = validate(set);
  CHECK(!errors.empty());
}

TEST_CASE("plain scalars are kept as written where a string is expected, as calicoctl reads them",
          "[model][codec]") {
  DecodeResult result = decode(
      "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: n\n  labels:\n"
      "    version: 1\n    enabled: yes\n    answer: n\n",
      "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const auto& labels = std::get<GlobalNetworkSet>(result.resources[0]).metadata.labels;
  CHECK(labels.at("version") == "1");
  CHECK(labels.at("enabled") == "yes");
  CHECK(labels.at("answer") == "n");
  requireRoundTrip(result.resources[0]);
}

TEST_CASE("input that hangs yaml-cpp's LoadAll, aliases and trailing content are errors", "[model][codec]") {
  DecodeResult trailing =
      decode("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\"a\", b\n", "in.yaml");
  REQUIRE(trailing.errors.size() == 1);
  CHECK(trailing.errors[0].where == "in.yaml:4");
  CHECK_THAT(trailing.errors[0].what, Catch::Contains("unexpected content after the document"));

  DecodeResult alias =
      decode("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: &n a\n  labels: {x: *n}\n", "in.yaml");
  REQUIRE(alias.errors.size() == 1);
  CHECK(alias.errors[0].where == "in.yaml:5:15");
  CHECK_THAT(alias.errors[0].what, Catch::Contains("aliases are not supported"));

  DecodeResult later = decode(
      "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: B}\n",
      "in.yaml");
  REQUIRE(later.errors.size() == 1);
  CHECK(later.errors[0].where == "in.yaml:8:18");  // line numbers count across documents
}
