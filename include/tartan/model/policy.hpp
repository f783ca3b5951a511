// tartan/model/policy.hpp — Calico's policy kinds: GlobalNetworkPolicy, NetworkPolicy, Tier,
// and the rule structure they share (projectcalico.org/v3 policy_common.go, field for field).
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

struct ICMPFields {
  std::optional<int> type;  // 0-254
  std::optional<int> code;  // 0-255; only with a type
  bool operator==(const ICMPFields&) const = default;
};

struct ServiceMatch {
  std::string name;
  std::string namespaceName;  // "namespace"
  bool operator==(const ServiceMatch&) const = default;
};

struct ServiceAccountMatch {
  std::vector<std::string> names;
  std::string selector;
  bool operator==(const ServiceAccountMatch&) const = default;
};

struct EntityRule {
  std::vector<std::string> nets;
  std::string selector;
  std::string namespaceSelector;
  std::optional<ServiceMatch> services;
  std::vector<Port> ports;
  std::vector<std::string> notNets;
  std::string notSelector;
  std::vector<Port> notPorts;
  std::optional<ServiceAccountMatch> serviceAccounts;
  bool operator==(const EntityRule&) const = default;
};

struct HTTPPath {
  std::string exact;
  std::string prefix;
  bool operator==(const HTTPPath&) const = default;
};

struct HTTPMatch {
  std::vector<std::string> methods;
  std::vector<HTTPPath> paths;
  bool operator==(const HTTPMatch&) const = default;
};

struct RuleMetadata {
  Labels annotations;
  bool operator==(const RuleMetadata&) const = default;
};

struct Rule {
  std::string action;  // Allow, Deny, Log, Pass (exact case, as Calico's validator)
  std::optional<int> ipVersion;
  std::optional<Protocol> protocol;
  std::optional<ICMPFields> icmp;
  std::optional<Protocol> notProtocol;
  std::optional<ICMPFields> notICMP;
  EntityRule source;
  EntityRule destination;
  std::optional<HTTPMatch> http;
  std::optional<RuleMetadata> metadata;
  bool operator==(const Rule&) const = default;
};

struct GlobalNetworkPolicySpec {
  std::string tier;  // defaults to "default"
  std::optional<double> order;
  std::vector<Rule> ingress;
  std::vector<Rule> egress;
  std::string selector;
  std::vector<std::string> types;  // Ingress, Egress; inferred from the rules when empty
  bool doNotTrack = false;
  bool preDNAT = false;
  bool applyOnForward = false;
  std::string serviceAccountSelector;
  std::string namespaceSelector;
  std::vector<std::string> performanceHints;  // AssumeNeededOnEveryNode
  bool operator==(const GlobalNetworkPolicySpec&) const = default;
};

struct GlobalNetworkPolicy {
  static constexpr Kind kKind = Kind::kGlobalNetworkPolicy;
  ObjectMeta metadata;
  GlobalNetworkPolicySpec spec;
  bool operator==(const GlobalNetworkPolicy&) const = default;
};

struct NetworkPolicySpec {
  std::string tier;
  std::optional<double> order;
  std::vector<Rule> ingress;
  std::vector<Rule> egress;
  std::string selector;
  std::vector<std::string> types;
  std::string serviceAccountSelector;
  std::vector<std::string> performanceHints;
  bool operator==(const NetworkPolicySpec&) const = default;
};

struct NetworkPolicy {
  static constexpr Kind kKind = Kind::kNetworkPolicy;
  ObjectMeta metadata;
  NetworkPolicySpec spec;
  bool operator==(const NetworkPolicy&) const = default;
};

struct TierSpec {
  std::optional<double> order;
  std::optional<std::string> defaultAction;  // Deny (the default) or Pass
  bool operator==(const TierSpec&) const = default;
};

struct Tier {
  static constexpr Kind kKind = Kind::kTier;
  ObjectMeta metadata;
  TierSpec spec;
  bool operator==(const Tier&) const = default;
};

// The default tier's name and order, as Calico fixes them.
inline constexpr const char* kDefaultTierName = "default";
inline constexpr double kDefaultTierOrder = 1000000;

}  // namespace tartan::model
