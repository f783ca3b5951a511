// Calico manifests, as Calico's documentation writes them, decode unchanged and round-trip.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;

TEST_CASE("Calico example manifests decode unchanged and round-trip", "[model][examples]") {
  struct Example {
    const char* file;
    size_t count;
  };
  const Example examples[] = {
      {"calico/policy.yaml", 5}, {"calico/sets_and_endpoints.yaml", 4}, {"calico/network.yaml", 7},
      {"calico/ipam.yaml", 3},   {"calico/kubernetes.yaml", 6},         {"calico/agent.yaml", 1},
  };
  for (const Example& example : examples) {
    SECTION(example.file) {
      DecodeResult result = decode(readTestdata(example.file), example.file);
      INFO(errorsText(result));
      REQUIRE(result.ok());
      REQUIRE(result.resources.size() == example.count);
      for (const Resource& resource : result.resources) {
        INFO(kindName(kindOf(resource)) << " " << metadata(resource).name);
        requireRoundTrip(resource);
      }
    }
  }
}

TEST_CASE("Calico groups are read as Tartan kinds and written as tartan.dev/v1", "[model]") {
  DecodeResult result = decode(readTestdata("calico/agent.yaml"), "agent.yaml");
  REQUIRE(result.ok());
  REQUIRE(kindOf(result.resources[0]) == Kind::kAgentConfiguration);
  std::string yaml = encodeYaml(result.resources[0]);
  CHECK(yaml.rfind("apiVersion: tartan.dev/v1\nkind: AgentConfiguration\n", 0) == 0);

  DecodeResult ipam = decode(readTestdata("calico/ipam.yaml"), "ipam.yaml");
  REQUIRE(ipam.ok());
  CHECK(kindOf(ipam.resources[0]) == Kind::kIPAMBlock);
  const auto& block = std::get<IPAMBlock>(ipam.resources[0]);
  CHECK(block.spec.allocations == std::vector<std::optional<int>>{0, std::nullopt, 1, std::nullopt});
  CHECK(block.spec.attributes[0].handleID == "k8s-pod-network.abc123");

  DecodeResult k8s = decode(readTestdata("calico/kubernetes.yaml"), "k8s.yaml");
  REQUIRE(k8s.ok());
  CHECK(encodeYaml(k8s.resources[0]).rfind("apiVersion: networking.k8s.io/v1\n", 0) == 0);
  CHECK(encodeYaml(k8s.resources[2]).rfind("apiVersion: v1\nkind: Pod\n", 0) == 0);
}
