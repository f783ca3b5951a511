// Lab files, dual stack: each pod's IPv6 address (given, or mirroring its IPv4 host part in
// cidr6), named ports and service accounts, and the errors each of them can raise.
#include "lab_file.hpp"

#include <catch2/catch.hpp>

using namespace tartan::lab;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> errorsOf(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& e : parseLabFile(text, "lab.yaml", "x").errors) out.push_back(e.toString());
  return out;
}

const char* kHeader = R"(name: dual
namespaces:
  - name: ns
pods:
)";

}  // namespace

TEST_CASE("every pod gets an IPv6 address: cidr6 plus its IPv4 host part, unless given") {
  const auto r = parseLabFile(std::string(kHeader) + R"(  - {name: a, namespace: ns}
  - {name: b, namespace: ns, ip: 10.65.0.20}
  - {name: c, namespace: ns, ip6: "fd00:65:0:0::abc"}
)",
                              "lab.yaml", "x");
  REQUIRE(r.ok());
  CHECK(r.lab.cidr6 == "fd00:65::/64");  // the default
  CHECK(r.lab.pods[0].ip6 == "fd00:65::1");
  CHECK(r.lab.pods[1].ip6 == "fd00:65::14");  // 10.65.0.20 is host 20 = 0x14
  CHECK(r.lab.pods[2].ip == "10.65.0.2");
  CHECK(r.lab.pods[2].ip6 == "fd00:65::abc");  // canonical form
}

TEST_CASE("cidr6 may be any prefix from /64 to /120 with no host bits") {
  const auto r = parseLabFile(
      "cidr: 10.1.0.0/16\ncidr6: \"fd12:3456:789a:1::/64\"\nnamespaces: [{name: n}]\n"
      "pods: [{name: p, namespace: n, ip: 10.1.2.3}]\n",
      "lab.yaml", "x");
  REQUIRE(r.ok());
  CHECK(r.lab.pods[0].ip6 == "fd12:3456:789a:1::203");  // host 0x0203
  CHECK_THAT(errorsOf("cidr6: \"fd00::/48\"\n")[0],
             Contains("cidr6: 'fd00::/48' is not an IPv6 CIDR between /64"));
  CHECK_THAT(errorsOf("cidr6: 10.0.0.0/8\n")[0], Contains("is not an IPv6 CIDR"));
  CHECK_THAT(errorsOf("cidr6: \"fd00::1/64\"\n")[0], Contains("has host bits set"));
}

TEST_CASE("IPv6 addresses outside cidr6, taken twice, or too far for a small cidr6 are errors") {
  auto e = errorsOf(std::string(kHeader) + R"(  - {name: a, namespace: ns, ip6: "fd01::1"}
  - {name: b, namespace: ns, ip6: "fd00:65::7"}
  - {name: c, namespace: ns, ip6: "fd00:65::7"}
  - {name: d, namespace: ns, ip6: nonsense}
)");
  REQUIRE(e.size() == 3);
  CHECK_THAT(e[0], Contains("pods[0].ip6: 'fd01::1' is not a host address of the lab cidr6 fd00:65::/64"));
  CHECK_THAT(e[1], Contains("pods[2].ip6: 'fd00:65::7' is given to two pods"));
  CHECK_THAT(e[2], Contains("pods[3].ip6: 'nonsense' is not an IPv6 address"));

  e = errorsOf(
      "cidr6: \"fd00:65::/120\"\nnamespaces: [{name: n}]\npods: [{name: p, namespace: n, ip: "
      "10.65.0.255}]\n");
  // 10.65.0.255 is the broadcast of the /24: that is the first error; nothing mirrors it.
  REQUIRE(e.size() == 1);
  e = errorsOf(
      "cidr: 10.65.0.0/16\ncidr6: \"fd00:65::/120\"\nnamespaces: [{name: n}]\n"
      "pods: [{name: p, namespace: n, ip: 10.65.1.1}]\n");
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0], Contains("is too small to mirror 10.65.1.1; give ip6"));

  // A mirrored address that another pod was given explicitly.
  e = errorsOf(std::string(kHeader) + R"(  - {name: a, namespace: ns, ip6: "fd00:65::2"}
  - {name: b, namespace: ns, ip: 10.65.0.2}
)");
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0], Contains("pods[1].ip6: 'fd00:65::2' (mirroring 10.65.0.2) is given to another pod"));
}

TEST_CASE("ports may be named, as a container's ports are; names are IANA service names, unique per pod") {
  const auto r = parseLabFile(std::string(kHeader) + R"(  - name: a
    namespace: ns
    serviceAccount: api
    ports:
      - {name: http, port: 80, protocol: TCP}
      - {port: 81}
      - {name: dns, port: 53, protocol: UDP}
)",
                              "lab.yaml", "x");
  REQUIRE(r.ok());
  CHECK(r.lab.pods[0].serviceAccount == "api");
  REQUIRE(r.lab.pods[0].ports.size() == 3);
  CHECK(r.lab.pods[0].ports[0] == LabPort{80, "TCP", "http"});
  CHECK(r.lab.pods[0].ports[1] == LabPort{81, "TCP", ""});
  CHECK(r.lab.pods[0].ports[2] == LabPort{53, "UDP", "dns"});

  const auto e = errorsOf(std::string(kHeader) + R"(  - name: a
    namespace: ns
    serviceAccount: Not_A_Label
    ports:
      - {name: http, port: 80}
      - {name: http, port: 81}
      - {name: 8080, port: 8080}
      - {name: a-very-long-port-name, port: 82}
      - {name: -x, port: 83}
)");
  REQUIRE(e.size() == 5);
  CHECK_THAT(e[0], Contains("pods[0].serviceAccount: 'Not_A_Label' is not a DNS label"));
  CHECK_THAT(e[1], Contains("pods[0].ports[1].name: port name 'http' is used twice in the pod"));
  CHECK_THAT(e[2], Contains("pods[0].ports[2].name: '8080' is not a port name"));
  CHECK_THAT(e[3], Contains("pods[0].ports[3].name: 'a-very-long-port-name' is not a port name"));
  CHECK_THAT(e[4], Contains("pods[0].ports[4].name: '-x' is not a port name"));
}
