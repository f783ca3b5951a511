// policy_conversion.hpp — every policy kind to one internal form, with Calico's selector scoping.
//
// Kubernetes NetworkPolicy becomes a Calico NetworkPolicy exactly as libcalico-go's
// K8sNetworkPolicyToCalico does (name knp.default.<name>, order 1000, podSelector ->
// "projectcalico.org/orchestrator == 'k8s' && ...", namespaceSelector -> pcns.* keys, ipBlock
// except -> notNets, one rule per protocol x peer, ports merged into ranges). Then a Calico
// (Global)NetworkPolicy becomes a PolicyDef whose selectors are already scoped as Felix sees them
// (libcalico-go updateprocessors: a namespaced policy's selector and rule selectors are limited
// to its namespace unless a namespaceSelector is given; namespaceSelector keys get pcns.,
// serviceAccounts selectors pcsa.). Every selector here is in canonical form.
#pragma once

#include "tartan/model/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::calc {

struct EntityDef {
  std::vector<std::string> nets;  // normalised CIDRs
  std::vector<std::string> notNets;
  std::string selector;  // canonical; empty = no selector
  std::string notSelector;
  std::vector<model::Port> ports;
  std::vector<model::Port> notPorts;
  // A Service the rule names: "<namespace>/<name>" (the policy's namespace when the rule gives
  // none); "" = none. Its EndpointSlices stand for addresses (and, as a destination, ports).
  std::string service;
  bool operator==(const EntityDef&) const = default;
};

struct RuleDef {
  std::string action;  // Allow, Deny, Log, Pass
  std::optional<int> ipVersion;
  std::optional<model::Protocol> protocol;
  std::optional<model::Protocol> notProtocol;
  std::optional<model::ICMPFields> icmp;
  std::optional<model::ICMPFields> notIcmp;
  EntityDef source;
  EntityDef destination;
  bool operator==(const RuleDef&) const = default;
};

struct PolicyDef {
  std::string tier;
  std::string name;  // the dataplane PolicyID name: "<name>" or "<namespace>/<name>"
  std::optional<double> order;
  std::string selector;  // canonical, scoped
  std::vector<RuleDef> ingress;
  std::vector<RuleDef> egress;
  bool appliesToIngress = false;
  bool appliesToEgress = false;
  bool untracked = false;
  bool preDnat = false;
  bool applyOnForward = false;
  bool operator==(const PolicyDef&) const = default;
};

PolicyDef convertPolicy(const model::GlobalNetworkPolicy& policy);
PolicyDef convertPolicy(const model::NetworkPolicy& policy);
// The Calico NetworkPolicy libcalico-go makes of a Kubernetes one.
model::NetworkPolicy convertKubernetesPolicy(const model::KubernetesNetworkPolicy& policy);

// selector::parse + canonical(); "" if it does not parse (logged).
std::string canonicalSelector(std::string_view text);

// "10.0.0.5/24" -> "10.0.0.0/24"; a bare address gets /32 or /128. nullopt if not a CIDR.
std::optional<std::string> normaliseCidr(std::string_view text);

// "10.0.0.1/32" -> "10.0.0.1" (an endpoint's address as an IP-set member); other nets as is.
std::string memberFromNet(std::string_view net);

}  // namespace tartan::calc
