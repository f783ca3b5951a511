#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

using namespace tartan::model;

TEST_CASE("smoke: a GlobalNetworkPolicy decodes and round-trips", "[model]") {
  const char* text = R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
spec:
  selector: all()
  order: 100
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53, "1000:2000", dns]
)";
  DecodeResult result = decode(text, "p.yaml");
  for (const auto& e : result.errors) INFO(e.toString());
  REQUIRE(result.ok());
  REQUIRE(result.resources.size() == 1);
  std::string yaml = encodeYaml(result.resources[0]);
  INFO(yaml);
  DecodeResult again = decode(yaml, "again.yaml");
  for (const auto& e : again.errors) INFO(e.toString());
  REQUIRE(again.ok());
  CHECK(again.resources[0] == result.resources[0]);
  CHECK(encodeYaml(again.resources[0]) == yaml);
  CHECK(!encodeJson(again.resources[0]).empty());
  WARN(yaml);
  WARN(encodeJson(again.resources[0]));
}
