// validate.hpp (private) — Calico's validation rules and defaults, per kind, and the helpers
// they share (CIDR and name checks). Errors name the field path and, for decoded input, the
// position the decoder recorded for that path (or its nearest recorded parent).
#pragma once

#include "codec.hpp"
#include "tartan/model/model.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::model {

class Validator {
 public:
  // `prefix` is the path of the resource inside its document ("" or "items[3]").
  Validator(std::string_view source, const Positions* positions, std::string prefix,
            std::vector<Error>& errors)
      : source_(source), positions_(positions), prefix_(std::move(prefix)), errors_(errors) {}

  void fail(const std::string& path, std::string what);
  // Like fail(), with the 1-based column of a problem inside a string value (a selector): the
  // position reported is that character's, for a value written on one line.
  void failAt(const std::string& path, int column, std::string what);
  size_t errorCount() const { return errors_.size(); }

 private:
  std::string where(const std::string& fullPath, int extraColumns) const;

  std::string source_;
  const Positions* positions_;
  std::string prefix_;
  std::vector<Error>& errors_;
};

// One IP address or prefix, parsed.
struct IPNet {
  int version = 4;                  // 4 or 6
  std::array<uint8_t, 16> bytes{};  // address, network order (first 4 for IPv4)
  int prefixLength = 32;
  bool hadPrefix = false;  // written as a CIDR, not a bare address
  bool hostBitsSet() const;
  IPNet masked() const;
  bool contains(const IPNet& other) const;
  std::string toString() const;
};
std::optional<IPNet> parseIP(std::string_view text);        // an address, no prefix
std::optional<IPNet> parseCIDROrIP(std::string_view text);  // "10.0.0.0/8" or "10.0.0.1"

// Name and label rules (Kubernetes' validation, which Calico reuses).
bool isDNS1123Label(std::string_view s);  // [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63
// The label's pattern at any length: a name that matches it but is longer than 63 is told "too
// long", not shown a pattern it already follows.
bool matchesDNS1123LabelPattern(std::string_view s);
// "too long (N > MAX characters)", for a name whose length is what is wrong.
std::string tooLong(size_t size, size_t max);
bool isDNS1123Subdomain(std::string_view s);                          // labels joined by dots, <= 253
std::optional<std::string> qualifiedNameProblem(std::string_view s);  // label keys
std::optional<std::string> labelValueProblem(std::string_view s);
bool isValidPortName(std::string_view s);       // IANA_SVC_NAME
bool isValidInterfaceName(std::string_view s);  // [a-zA-Z0-9_.-]{1,15}

// Checks a selector with the selector module's parser; reports where it fails.
void checkSelector(Validator& v, const std::string& path, const std::string& selector);
void checkMetadata(Validator& v, const ObjectMeta& meta, bool namespaced);
void checkName(Validator& v, const ObjectMeta& meta);  // DNS-1123 subdomain name

#define TARTAN_MODEL_KIND_RULES(Type)             \
  void validateKind(Validator& v, const Type& r); \
  void defaultKind(Type& r);

TARTAN_MODEL_KIND_RULES(GlobalNetworkPolicy)
TARTAN_MODEL_KIND_RULES(NetworkPolicy)
TARTAN_MODEL_KIND_RULES(Tier)
TARTAN_MODEL_KIND_RULES(GlobalNetworkSet)
TARTAN_MODEL_KIND_RULES(NetworkSet)
TARTAN_MODEL_KIND_RULES(HostEndpoint)
TARTAN_MODEL_KIND_RULES(WorkloadEndpoint)
TARTAN_MODEL_KIND_RULES(IPPool)
TARTAN_MODEL_KIND_RULES(BGPConfiguration)
TARTAN_MODEL_KIND_RULES(BGPPeer)
TARTAN_MODEL_KIND_RULES(BGPFilter)
TARTAN_MODEL_KIND_RULES(Node)
TARTAN_MODEL_KIND_RULES(AgentConfiguration)
TARTAN_MODEL_KIND_RULES(IPAMBlock)
TARTAN_MODEL_KIND_RULES(BlockAffinity)
TARTAN_MODEL_KIND_RULES(IPAMHandle)
TARTAN_MODEL_KIND_RULES(IPAMConfiguration)
TARTAN_MODEL_KIND_RULES(IPReservation)
TARTAN_MODEL_KIND_RULES(StagedGlobalNetworkPolicy)
TARTAN_MODEL_KIND_RULES(StagedNetworkPolicy)
TARTAN_MODEL_KIND_RULES(StagedKubernetesNetworkPolicy)
TARTAN_MODEL_KIND_RULES(ClusterInformation)
TARTAN_MODEL_KIND_RULES(KubernetesNamespace)
TARTAN_MODEL_KIND_RULES(KubernetesPod)
TARTAN_MODEL_KIND_RULES(KubernetesServiceAccount)
TARTAN_MODEL_KIND_RULES(KubernetesNode)
TARTAN_MODEL_KIND_RULES(KubernetesNetworkPolicy)
TARTAN_MODEL_KIND_RULES(KubernetesService)
TARTAN_MODEL_KIND_RULES(KubernetesEndpointSlice)

#undef TARTAN_MODEL_KIND_RULES

void validateResource(Validator& v, const Resource& resource);

}  // namespace tartan::model
