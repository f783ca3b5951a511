// The two IPAM settings kinds as Calico writes them: decoded, defaulted, validated and encoded
// back by the model, so an existing Calico store's IPAMConfig and IPReservations are honoured.
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

using namespace tartan::model;

TEST_CASE("IPAMConfiguration and IPReservation decode in Calico's shapes", "[unit][ipam]") {
  const auto decoded = decode(
      "apiVersion: crd.projectcalico.org/v1\n"
      "kind: IPAMConfig\n"
      "metadata: {name: default}\n"
      "spec: {strictAffinity: true, maxBlocksPerHost: 4}\n"
      "---\n"
      "apiVersion: projectcalico.org/v3\n"
      "kind: IPReservation\n"
      "metadata: {name: gateways}\n"
      "spec:\n"
      "  reservedCIDRs: [10.65.0.0/30, 10.65.0.9, 'fd00::1']\n",
      "in.yaml");
  INFO((decoded.ok() ? std::string() : decoded.errors.front().toString()));
  REQUIRE(decoded.ok());
  REQUIRE(decoded.resources.size() == 2);
  const auto& config = std::get<IPAMConfiguration>(decoded.resources[0]);
  CHECK(config.spec.strictAffinity);
  CHECK(config.spec.autoAllocateBlocks);  // Calico's default when absent
  CHECK(config.spec.maxBlocksPerHost == 4);
  CHECK(kindName(kindOf(decoded.resources[0])) == "IPAMConfiguration");
  const auto& reservation = std::get<IPReservation>(decoded.resources[1]);
  CHECK(reservation.spec.reservedCIDRs == std::vector<std::string>{"10.65.0.0/30", "10.65.0.9", "fd00::1"});
  for (const Resource& r : decoded.resources) {
    const auto again = decode(encodeYaml(r), "again.yaml");
    REQUIRE(again.ok());
    CHECK(again.resources.at(0) == r);
  }
  CHECK(lookupKind("ipamconfig") == Kind::kIPAMConfiguration);
  CHECK(lookupKind("ipreservations") == Kind::kIPReservation);
}

TEST_CASE("IPAMConfiguration and IPReservation refuse what Calico refuses", "[unit][ipam]") {
  struct Case {
    std::string yaml, field;
  };
  const Case cases[] = {
      {"kind: IPAMConfiguration\nmetadata: {name: default}\nspec: {maxBlocksPerHost: -1}\n",
       "spec.maxBlocksPerHost"},
      {"kind: IPReservation\nmetadata: {name: r}\nspec: {reservedCIDRs: [10.0.0.0/33]}\n",
       "spec.reservedCIDRs[0]"},
      {"kind: IPReservation\nmetadata: {name: r}\nspec: {reservedCIDRs: [x]}\n", "spec.reservedCIDRs[0]"},
  };
  for (const Case& c : cases) {
    INFO(c.yaml);
    const auto decoded = decode("apiVersion: projectcalico.org/v3\n" + c.yaml, "in.yaml");
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.errors.front().field == c.field);
  }
}
