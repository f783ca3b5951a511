// Lab files: what parses, what is rejected (with file:line:col and field), and the names a lab
// gives its namespaces and veths.
#include "lab_file.hpp"

#include <catch2/catch.hpp>

using namespace tartan::lab;

namespace {

const char* kShop = R"(name: shop
node: node-1
cidr: 10.65.0.0/24
namespaces:
  - name: shop
    labels: {team: shop}
  - name: frontend
    labels: {team: frontend}
pods:
  - name: web
    namespace: frontend
    labels: {app: web}
  - name: backend
    namespace: shop
    labels: {app: backend}
    ip: 10.65.0.1
    ports:
      - {port: 8080}
      - {port: 8125, protocol: udp}
  - name: db
    namespace: shop
    labels: {app: db}
    ports:
      - {port: 5432, protocol: TCP}
)";

std::vector<std::string> errorsOf(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& e : parseLabFile(text, "lab.yaml", "x").errors) out.push_back(e.toString());
  return out;
}

}  // namespace

TEST_CASE("a lab file parses with defaults and free addresses assigned in order around given ones") {
  const ParseResult r = parseLabFile(kShop, "shop.yaml", "ignored");
  for (const auto& e : r.errors) FAIL(e.toString());
  CHECK(r.lab.name == "shop");
  REQUIRE(r.lab.pods.size() == 3);
  CHECK(r.lab.pods[0].ip == "10.65.0.2");  // .1 is taken by backend
  CHECK(r.lab.pods[1].ip == "10.65.0.1");
  CHECK(r.lab.pods[2].ip == "10.65.0.3");
  REQUIRE(r.lab.pods[1].ports.size() == 2);
  CHECK(r.lab.pods[1].ports[0] == LabPort{8080, "TCP"});
  CHECK(r.lab.pods[1].ports[1] == LabPort{8125, "UDP"});
  CHECK(r.lab.namespaces[0].labels.at("team") == "shop");
}

TEST_CASE("the lab name defaults to the file's stem") {
  const ParseResult r = parseLabFile("namespaces: []\n", "a.yaml", "mylab");
  CHECK(r.ok());
  CHECK(r.lab.name == "mylab");
}

TEST_CASE("errors name file:line:column and the field") {
  using Catch::Matchers::Contains;
  SECTION("unknown field") {
    const auto e = errorsOf("name: a\nnamespaces:\n  - name: shop\n    colour: red\n");
    REQUIRE(e.size() == 1);
    CHECK(e[0] == "lab.yaml:4:5: namespaces[0].colour: unknown field");
  }
  SECTION("pod in an undeclared namespace") {
    const auto e = errorsOf("pods:\n  - name: p\n    namespace: nowhere\n");
    REQUIRE(e.size() == 1);
    CHECK_THAT(e[0], Contains("lab.yaml:3:16: pods[0].namespace: namespace 'nowhere' is not declared"));
  }
  SECTION("address outside the cidr, and one taken twice") {
    const auto e = errorsOf(
        "namespaces: [{name: a}]\npods:\n  - {name: p, namespace: a, ip: 10.9.0.1}\n"
        "  - {name: q, namespace: a, ip: 10.65.0.5}\n  - {name: r, namespace: a, ip: 10.65.0.5}\n");
    REQUIRE(e.size() == 2);
    CHECK_THAT(e[0], Contains("lab.yaml:3:33: pods[0].ip: '10.9.0.1' is not a host address of the lab cidr"));
    CHECK_THAT(e[1], Contains("pods[2].ip: '10.65.0.5' is given to two pods"));
  }
  SECTION("bad port and protocol") {
    const auto e = errorsOf(
        "namespaces: [{name: a}]\npods:\n  - name: p\n    namespace: a\n    ports:\n"
        "      - {port: 70000}\n      - {port: 53, protocol: SCTP}\n");
    REQUIRE(e.size() == 2);
    CHECK_THAT(e[0], Contains("pods[0].ports[0].port: '70000' is not a port"));
    CHECK_THAT(e[1], Contains("pods[0].ports[1].protocol: 'SCTP' must be TCP or UDP"));
  }
  SECTION("duplicate names") {
    const auto e = errorsOf(
        "namespaces: [{name: a}, {name: a}]\npods:\n  - {name: p, namespace: a}\n"
        "  - {name: p, namespace: a}\n");
    REQUIRE(e.size() == 2);
    CHECK_THAT(e[0], Contains("'a' is declared twice"));
    CHECK_THAT(e[1], Contains("pod 'a/p' is declared twice"));
  }
  SECTION("bad lab name and cidr") {
    const auto e = errorsOf("name: Big_Lab\ncidr: 10.65.0.1/24\n");
    REQUIRE(e.size() == 2);
    CHECK_THAT(e[0], Contains("lab.yaml:1:7: name:"));
    CHECK_THAT(e[1], Contains("has host bits set"));
  }
  SECTION("a full cidr") {
    const auto e = errorsOf(
        "cidr: 10.0.0.0/30\nnamespaces: [{name: a}]\npods:\n  - {name: p, namespace: a}\n"
        "  - {name: q, namespace: a}\n  - {name: r, namespace: a}\n");
    REQUIRE(e.size() == 1);
    CHECK_THAT(e[0], Contains("no free address left"));
  }
  SECTION("YAML syntax") {
    const auto e = errorsOf("pods: [\n");
    REQUIRE(e.size() == 1);
    CHECK_THAT(e[0], Contains("lab.yaml:"));
  }
}

TEST_CASE("veths are named as Calico names them: cali + 11 hex digits of sha1(<ns>.<pod>)") {
  // sha1("shop.backend") = 1cea478270096f70..., sha1("frontend.web") = 91b56ae9fb466bbd...
  CHECK(hostVethName(LabPod{"backend", "shop", {}, "", {}}) == "cali1cea4782700");
  CHECK(hostVethName(LabPod{"web", "frontend", {}, "", {}}) == "cali91b56ae9fb4");
  CHECK(hostVethName(LabPod{"web", "frontend", {}, "", {}}).size() == 15);  // IFNAMSIZ - 1
}

TEST_CASE("namespace names carry the lab's name so two labs coexist") {
  LabFile a, b;
  a.name = "one";
  b.name = "two";
  const LabPod p{"web", "frontend", {}, "", {}};
  CHECK(nodeNamespace(a) == "tl-one-node");
  CHECK(podNamespace(a, p) == "tl-one-frontend.web");
  CHECK(podNamespace(a, p) != podNamespace(b, p));
}
