// tartanctl driven through its binary, against a file datastore in a fresh temporary folder.
#include "ctl.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace tartan::test::cli;

namespace {

const char* kGoodPolicy = R"(apiVersion: tartan.dev/v1
kind: GlobalNetworkPolicy
metadata:
  name: allow-web
spec:
  selector: app == "web"
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80]
)";

}  // namespace

TEST_CASE("apply of the examples stores every resource and get reads them back") {
  Ctl ctl;
  auto applied = ctl("apply -f " + source("examples/policy"));
  INFO(applied.err);
  REQUIRE(applied.status == 0);
  CHECK(applied.out == "Successfully applied 11 resource(s)\n");

  auto gnp = ctl("get gnp");
  REQUIRE(gnp.status == 0);
  CHECK(gnp.out.find("security.baseline") != std::string::npos);
  CHECK(gnp.out.find("dns-only-egress") != std::string::npos);

  auto np = ctl("get networkpolicies -n shop -o wide");
  REQUIRE(np.status == 0);
  CHECK(np.out.rfind("NAMESPACE   NAME", 0) == 0);
  CHECK(np.out.find("allow-from-frontend   default   100     app == \"backend\"") != std::string::npos);
  // The Kubernetes NetworkPolicy of the same namespace is a different kind.
  CHECK(np.out.find("db-from-backend") == std::string::npos);
  CHECK(ctl("get knp -n shop").out.find("db-from-backend") != std::string::npos);
}

TEST_CASE("a Calico user's projectcalico.org/v3 manifests apply unchanged and read back") {
  Ctl ctl;
  auto applied = ctl("apply -f " + source("test/unit/cli/testdata/calico-all.yaml"));
  INFO(applied.err);
  REQUIRE(applied.status == 0);
  CHECK(applied.out == "Successfully applied 12 resource(s)\n");

  struct Case {
    std::string kind, name, args, expect;
  };
  for (const auto& c : std::vector<Case>{
           {"tier", "platform", "", "kind: Tier"},
           {"gnp", "platform.allow-dns", "", "projectcalico.org/name == \\\"kube-system\\\""},
           {"np", "allow-tcp-6379", "-n production", "role == 'frontend'"},
           {"gns", "a-name-for-the-set", "", "203.0.113.0/24"},
           {"netset", "external-database", "-n staging", "198.51.100.0/28"},
           {"hep", "some.name", "", "interfaceName: eth0"},
           {"ippool", "my.ippool-1", "", "ipipMode: CrossSubnet"},
           {"bgpconfig", "default", "", "asNumber: 63400"},
           {"bgppeer", "some.name", "", "192.168.1.1"},
           {"bgpfilter", "my-filter", "", "matchOperator: NotIn"},
           {"node", "node-hostname", "", "192.168.0.1"},
           {"agentconfiguration", "default", "", "kind: AgentConfiguration"},
           {"felixconfiguration", "default", "", "ipipMTU: 1400"},
       }) {
    auto got = ctl("get " + c.kind + " " + c.name + " " + c.args + " -o yaml");
    INFO(c.kind << " " << c.name << "\n" << got.out << got.err);
    REQUIRE(got.status == 0);
    CHECK(got.out.find("apiVersion: tartan.dev/v1") != std::string::npos);
    CHECK(got.out.find(c.expect) != std::string::npos);
    CHECK(got.out.find("name: " + c.name) != std::string::npos);
  }
}

TEST_CASE("an apply with one bad document writes nothing and names every problem's place") {
  Ctl ctl;
  auto bad = ctl.file("bad.yaml", std::string(kGoodPolicy) + R"(---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: broken
spec:
  selector: all()
  ingress:
  - action: Allow
    destination:
      ports: ["90:85"]
  colour: blue
)");
  auto applied = ctl("apply -f " + bad.string());
  CHECK(applied.status == 1);
  CHECK(applied.out.empty());
  CHECK(applied.err.find(bad.string() + ":22:15: spec.ingress[0].destination.ports[0]") != std::string::npos);
  CHECK(applied.err.find(bad.string() + ":23:3: spec.colour: unknown field \"colour\"") != std::string::npos);
  CHECK(applied.err.find("nothing was written") != std::string::npos);
  auto listed = ctl("get gnp -o yaml");
  CHECK(listed.status == 0);
  CHECK(listed.out.empty());
}

TEST_CASE("validation errors from Calico's rules are refused with their field") {
  Ctl ctl;
  struct Case {
    std::string name, document, expect;
  };
  for (const auto& c : std::vector<Case>{
           {"bad selector", "spec:\n  selector: app ==\n", "spec.selector"},
           {"unknown action", "spec:\n  ingress:\n  - action: Allw\n", "spec.ingress[0].action"},
           {"port above 65535",
            "spec:\n  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: "
            "[70000]\n",
            "spec.ingress[0].destination.ports[0]"},
           {"bad CIDR", "spec:\n  ingress:\n  - action: Allow\n    source:\n      nets: [10.0.0.300/8]\n",
            "spec.ingress[0].source.nets[0]"},
           {"ICMP on IPv6", "spec:\n  ingress:\n  - action: Allow\n    ipVersion: 6\n    protocol: ICMP\n",
            "spec.ingress[0]"},
       }) {
    auto file = ctl.file(
        "case.yaml",
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: p\n" + c.document);
    auto result = ctl("apply -f " + file.string());
    INFO(c.name << ": " << result.err);
    CHECK(result.status == 1);
    CHECK(result.err.find(c.expect) != std::string::npos);
    CHECK(result.err.find(file.string() + ":") != std::string::npos);
  }
  CHECK(ctl("get gnp -o yaml").out.empty());
}

TEST_CASE("validate checks as apply does and writes nothing") {
  Ctl ctl;
  auto file = ctl.file("good.yaml", kGoodPolicy);
  auto validated = ctl("validate -f " + file.string());
  CHECK(validated.status == 0);
  CHECK(validated.out == "Successfully validated 1 resource(s)\n");
  CHECK(ctl("get gnp -o yaml").out.empty());
}

TEST_CASE("create refuses what exists, replace what does not, and a stale resourceVersion conflicts") {
  Ctl ctl;
  auto file = ctl.file("p.yaml", kGoodPolicy);
  REQUIRE(ctl("create -f " + file.string()).status == 0);
  auto again = ctl("create -f " + file.string());
  CHECK(again.status == 1);
  CHECK(again.err.find("already exists") != std::string::npos);
  CHECK(ctl("create --skip-exists -f " + file.string()).status == 0);

  auto missing = ctl.file(
      "q.yaml", std::string(kGoodPolicy).replace(std::string(kGoodPolicy).find("allow-web"), 9, "other-web"));
  auto replaced = ctl("replace -f " + missing.string());
  CHECK(replaced.status == 1);
  CHECK(replaced.err.find("does not exist") != std::string::npos);

  // Read, modify, replace: the read's resourceVersion guards the write.
  auto read = ctl("get gnp allow-web -o yaml");
  REQUIRE(read.status == 0);
  auto first = ctl.file("first.yaml", read.out);
  REQUIRE(ctl("replace -f " + first.string()).status == 0);
  auto stale = ctl("replace -f " + first.string());
  CHECK(stale.status == 1);
  CHECK(stale.err.find("onflict") != std::string::npos);
}

TEST_CASE("get -o yaml output applies back unchanged, uid and creation time kept") {
  Ctl ctl;
  REQUIRE(ctl("apply -f " + source("examples/policy")).status == 0);
  auto before = ctl("get np -n shop -o yaml");
  REQUIRE(before.status == 0);
  auto file = ctl.file("roundtrip.yaml", before.out);
  REQUIRE(ctl("apply -f " + file.string()).status == 0);
  auto after = ctl("get np -n shop -o yaml");
  // Only the revisions move.
  auto strip = [](std::string text) {
    std::string out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (line.find("resourceVersion") == std::string::npos) out += line + "\n";
    return out;
  };
  CHECK(strip(after.out) == strip(before.out));
  CHECK(before.out.find("uid: ") != std::string::npos);
}

TEST_CASE("apply reads stdin, and json output of a list applies back") {
  Ctl ctl;
  auto applied = ctl("apply -f -", kGoodPolicy);
  INFO(applied.err);
  REQUIRE(applied.status == 0);
  auto json = ctl("get gnp -o json");
  REQUIRE(json.status == 0);
  CHECK(json.out.find("\"kind\": \"GlobalNetworkPolicyList\"") != std::string::npos);
  CHECK(ctl("apply -f -", json.out).status == 0);
  auto one = ctl("get gnp allow-web -o json");
  CHECK(one.out.find("\"kind\": \"GlobalNetworkPolicy\"") != std::string::npos);
}

TEST_CASE("delete by name and by file; a missing resource deletes nothing") {
  Ctl ctl;
  REQUIRE(ctl("apply -f " + source("examples/policy")).status == 0);
  auto partly = ctl("delete np default-deny no-such-policy -n shop");
  CHECK(partly.status == 1);
  CHECK(ctl("get np default-deny -n shop").status == 0);
  CHECK(ctl("delete np default-deny no-such-policy -n shop --skip-not-exists").status == 0);
  CHECK(ctl("get np default-deny -n shop").status == 1);
  auto byFile = ctl("delete -f " + source("examples/policy/60-trusted-partners.yaml"));
  CHECK(byFile.status == 0);
  CHECK(byFile.out == "Successfully deleted 2 resource(s)\n");
  CHECK(ctl("get gns trusted-partners").status == 1);
}

TEST_CASE("kinds are found by name, plural and short name in any case") {
  Ctl ctl;
  for (const char* kind : {"gnp",
                           "GlobalNetworkPolicy",
                           "globalnetworkpolicies",
                           "np",
                           "networkpolicy",
                           "netset",
                           "networksets",
                           "gns",
                           "hep",
                           "hostendpoints",
                           "wep",
                           "workloadendpoint",
                           "ippool",
                           "IPPools",
                           "bgppeer",
                           "bgppeers",
                           "tier",
                           "tiers",
                           "bgpconfig",
                           "bgpfilter",
                           "node",
                           "nodes",
                           "felixconfiguration"}) {
    INFO(kind);
    CHECK(ctl(std::string("get ") + kind + " -A").status == 0);
  }
  auto unknown = ctl("get widgets");
  CHECK(unknown.status == 1);
  CHECK(unknown.err == "tartanctl: unknown resource kind \"widgets\"\n");
}

TEST_CASE("a namespace that contradicts -n, or one on a cluster-scoped kind, is refused") {
  Ctl ctl;
  auto np = ctl.file("np.yaml",
                     "apiVersion: tartan.dev/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\n  namespace: "
                     "a\nspec:\n  selector: all()\n");
  auto contradicted = ctl("apply -n b -f " + np.string());
  CHECK(contradicted.status == 1);
  CHECK(contradicted.err.find("does not match -n b") != std::string::npos);
  CHECK(ctl("apply -n a -f " + np.string()).status == 0);

  auto defaulted = ctl.file(
      "np2.yaml",
      "apiVersion: tartan.dev/v1\nkind: NetworkPolicy\nmetadata:\n  name: y\nspec:\n  selector: all()\n");
  CHECK(ctl("apply -f " + defaulted.string()).status == 0);
  CHECK(ctl("get np y").status == 0);  // namespace "default"
}

TEST_CASE("selector prints the canonical form and exits like grep") {
  Ctl ctl;
  auto canonical = ctl("selector \"app=='web' &&  has(tier)\"");
  CHECK(canonical.status == 0);
  CHECK(canonical.out == "(app == \"web\" && has(tier))\n");

  CHECK(ctl("selector 'app == \"web\"' --labels app=web,tier=1").status == 0);
  CHECK(ctl("selector 'app == \"web\"' --labels app=db").status == 1);
  CHECK(ctl("selector 'app == \"web\"' --labels '{\"app\": \"web\"}'").status == 0);
  CHECK(ctl("selector 'app in {\"a\", \"b\"}' --labels '{\"app\": \"c\"}'").status == 1);

  auto invalid = ctl("selector 'app == '");
  CHECK(invalid.status == 2);
  CHECK(invalid.err.find("column 8") != std::string::npos);
  auto badLabels = ctl("selector 'all()' --labels 'novalue'");
  CHECK(badLabels.status == 2);
  CHECK(badLabels.err.find("is not key=value") != std::string::npos);
}

TEST_CASE("an unreadable input or an unknown datastore scheme is one clear line") {
  Ctl ctl;
  auto missing = ctl("apply -f /nonexistent/policy.yaml");
  CHECK(missing.status == 1);
  CHECK(missing.err == "tartanctl: /nonexistent/policy.yaml: no such file or directory\n");
  auto scheme =
      tartan::test::shell(env("TARTAN_BINARY_DIR") + "/src/cli/tartanctl --datastore bogus:x get gnp");
  CHECK(scheme.exitCode == 1);
  CHECK(scheme.output.find("tartanctl: datastore") != std::string::npos);
}

TEST_CASE("the same resource twice in one apply is refused at the line of its second name") {
  Ctl ctl;
  auto twice = ctl.file("twice.yaml", std::string(kGoodPolicy) + "---\n" + kGoodPolicy);
  auto applied = ctl("apply -f " + twice.string());
  CHECK(applied.status == 1);
  const std::string expected =
      twice.string() + ":16:9: metadata.name: GlobalNetworkPolicy/allow-web is given twice; first at " +
      twice.string() + ":4:9";
  CHECK(applied.err.find(expected) != std::string::npos);
  CHECK(ctl("get gnp -o yaml").out.empty());
}

TEST_CASE("an input over the size limit, or a document over its own, is refused before it is parsed") {
  Ctl ctl;
  // Sparse: the size is refused from stat() alone, before anything is read.
  auto huge = ctl.file("huge.yaml", "");
  fs::resize_file(huge, 65 * 1024 * 1024);
  auto hugeApplied = ctl("apply -f " + huge.string());
  CHECK(hugeApplied.status == 1);
  CHECK(hugeApplied.err == "tartanctl: " + huge.string() +
                               ": 68157440 bytes, over the limit of 67108864 (64 MiB) for one input; "
                               "split it into several files\n");

  std::string nets =
      "apiVersion: tartan.dev/v1\nkind: GlobalNetworkSet\nmetadata:\n  name: feed\n"
      "spec:\n  nets:\n";
  while (nets.size() <= 5 * 1024 * 1024) nets += "  - 10.0.0.0/32\n";
  auto big = ctl.file("big.yaml", nets);
  auto bigApplied = ctl("apply -f " + big.string());
  CHECK(bigApplied.status == 1);
  CHECK(bigApplied.err.find(big.string() + ":1:1: document is " + std::to_string(nets.size()) +
                            " bytes, over the limit of 4194304 (4 MiB)") != std::string::npos);
  CHECK(ctl("get gns -o yaml").out.empty());
}

TEST_CASE("Services and EndpointSlices apply, list with their ports and endpoints, and read back") {
  Ctl ctl;
  const auto file = ctl.file("web.yaml", R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.10
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.65.1.7]}, {addresses: [10.65.1.8]}]
ports: [{name: http, port: 8080}]
)");
  auto applied = ctl("apply -f " + file.string());
  INFO(applied.err);
  REQUIRE(applied.status == 0);
  CHECK(applied.out == "Successfully applied 2 resource(s)\n");

  auto svc = ctl("get svc -n shop");
  REQUIRE(svc.status == 0);
  CHECK(svc.out.find("web    ClusterIP   10.96.0.10   80/TCP") != std::string::npos);
  auto slices = ctl("get endpointslices -A");
  REQUIRE(slices.status == 0);
  CHECK(slices.out.find("web-1   IPv4          8080/TCP   10.65.1.7,10.65.1.8") != std::string::npos);

  // Read back as written, the defaulted protocol included, and applied again unchanged.
  auto yaml = ctl("get endpointslice web-1 -n shop -o yaml");
  REQUIRE(yaml.status == 0);
  CHECK(yaml.out.find("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n") == 0);
  CHECK(yaml.out.find("protocol: TCP") != std::string::npos);
  const auto back = ctl.file("back.yaml", yaml.out);
  CHECK(ctl("apply -f " + back.string()).status == 0);

  // A slice that is not one is refused where it is wrong.
  const auto bad = ctl.file("bad.yaml",
                            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: b}\n"
                            "addressType: IPv4\nendpoints: [{addresses: [fd00::1]}]\n");
  auto refused = ctl("apply -f " + bad.string());
  CHECK(refused.status == 1);
  CHECK(refused.err.find(":5:26: endpoints[0].addresses[0]: invalid IPv4 address \"fd00::1\"") !=
        std::string::npos);
}
