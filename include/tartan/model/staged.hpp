// tartan/model/staged.hpp — Calico's staged policies and ClusterInformation: kinds Tartan stores
// and shows as Calico does, and never enforces.
//
// A staged policy is a preview: the policy it would set (stagedAction Set, the default) or remove
// (Delete), with the same spec fields as the policy it stands for. The syncer never hands one to
// the calc graph, so applying one changes no verdict. ClusterInformation is the cluster's identity
// and version, written by the installer.
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/kubernetes.hpp"
#include "tartan/model/policy.hpp"
#include "tartan/model/types.hpp"

#include <optional>
#include <string>

namespace tartan::model {

struct StagedGlobalNetworkPolicySpec {
  std::string stagedAction;        // Set (default), Delete, Learn, Ignore
  GlobalNetworkPolicySpec policy;  // its fields sit beside stagedAction in the spec
  bool operator==(const StagedGlobalNetworkPolicySpec&) const = default;
};

struct StagedGlobalNetworkPolicy {
  static constexpr Kind kKind = Kind::kStagedGlobalNetworkPolicy;
  ObjectMeta metadata;
  StagedGlobalNetworkPolicySpec spec;
  bool operator==(const StagedGlobalNetworkPolicy&) const = default;
};

struct StagedNetworkPolicySpec {
  std::string stagedAction;
  NetworkPolicySpec policy;
  bool operator==(const StagedNetworkPolicySpec&) const = default;
};

struct StagedNetworkPolicy {
  static constexpr Kind kKind = Kind::kStagedNetworkPolicy;
  ObjectMeta metadata;
  StagedNetworkPolicySpec spec;
  bool operator==(const StagedNetworkPolicy&) const = default;
};

struct StagedKubernetesNetworkPolicySpec {
  std::string stagedAction;
  KubernetesNetworkPolicySpec policy;
  bool operator==(const StagedKubernetesNetworkPolicySpec&) const = default;
};

struct StagedKubernetesNetworkPolicy {
  static constexpr Kind kKind = Kind::kStagedKubernetesNetworkPolicy;
  ObjectMeta metadata;
  StagedKubernetesNetworkPolicySpec spec;
  bool operator==(const StagedKubernetesNetworkPolicy&) const = default;
};

struct ClusterInformationSpec {
  std::string clusterGUID;
  std::string clusterType;
  std::string calicoVersion;
  std::optional<bool> datastoreReady;
  std::string variant;
  bool operator==(const ClusterInformationSpec&) const = default;
};

struct ClusterInformation {
  static constexpr Kind kKind = Kind::kClusterInformation;
  ObjectMeta metadata;
  ClusterInformationSpec spec;
  bool operator==(const ClusterInformation&) const = default;
};

}  // namespace tartan::model
