// presentation.cpp — what Tartan's CRDs add to Calico's for `kubectl get`: short names and
// printer columns. (Calico's names, scope and plurals are the storage layout's.)
//
// Short names are calicoctl's (and so tartanctl's) for the kind, leaving out any that kubectl
// already gives a built-in resource (netpol, np-like names stay with networking.k8s.io): a test
// checks each resolves to the same kind through model::lookupKind.
#include "tartan/crds/crds.hpp"

#include <array>

namespace tartan::crds {

namespace {

using model::Kind;
using Names = std::string_view;
using Column = PrinterColumn;

constexpr Names kGnpNames[] = {"gnp", "cgnp"};
constexpr Names kNpNames[] = {"cnp"};
constexpr Names kGnsNames[] = {"gns"};
constexpr Names kNetsetNames[] = {"netset"};
constexpr Names kHepNames[] = {"hep"};
constexpr Names kBgpConfigNames[] = {"bgpconfig"};
constexpr Names kFelixNames[] = {"felixconfig"};
constexpr Names kSgnpNames[] = {"sgnp"};
constexpr Names kSnpNames[] = {"snp"};
constexpr Names kSknpNames[] = {"sknp"};
constexpr Names kClusterInfoNames[] = {"clusterinfo"};

constexpr Column kPolicyColumns[] = {
    {"Tier", ".spec.tier"}, {"Order", ".spec.order"}, {"Selector", ".spec.selector", 1}};
constexpr Column kStagedPolicyColumns[] = {{"Staged Action", ".spec.stagedAction"},
                                           {"Tier", ".spec.tier"},
                                           {"Order", ".spec.order"},
                                           {"Selector", ".spec.selector", 1}};
constexpr Column kStagedK8sPolicyColumns[] = {{"Staged Action", ".spec.stagedAction"}};
constexpr Column kTierColumns[] = {{"Order", ".spec.order"}, {"Default Action", ".spec.defaultAction"}};
constexpr Column kHostEndpointColumns[] = {{"Node", ".spec.node"}, {"Interface", ".spec.interfaceName"}};
constexpr Column kIPPoolColumns[] = {{"CIDR", ".spec.cidr"},
                                     {"Block Size", ".spec.blockSize"},
                                     {"NAT", ".spec.natOutgoing"},
                                     {"Disabled", ".spec.disabled"},
                                     {"IPIP", ".spec.ipipMode", 1},
                                     {"VXLAN", ".spec.vxlanMode", 1},
                                     {"Node Selector", ".spec.nodeSelector", 1}};
constexpr Column kBgpConfigColumns[] = {{"Mesh", ".spec.nodeToNodeMeshEnabled"}, {"AS", ".spec.asNumber"}};
constexpr Column kBgpPeerColumns[] = {{"Peer IP", ".spec.peerIP"},
                                      {"AS", ".spec.asNumber"},
                                      {"Node", ".spec.node"},
                                      {"Node Selector", ".spec.nodeSelector", 1},
                                      {"Peer Selector", ".spec.peerSelector", 1}};
constexpr Column kBlockColumns[] = {{"CIDR", ".spec.cidr"}, {"Affinity", ".spec.affinity"}};
constexpr Column kAffinityColumns[] = {
    {"Node", ".spec.node"}, {"CIDR", ".spec.cidr"}, {"State", ".spec.state"}};
constexpr Column kHandleColumns[] = {{"Handle", ".spec.handleID"}};
constexpr Column kIpamConfigColumns[] = {{"Strict Affinity", ".spec.strictAffinity"},
                                         {"Max Blocks Per Host", ".spec.maxBlocksPerHost"}};
constexpr Column kClusterInfoColumns[] = {{"Version", ".spec.calicoVersion"},
                                          {"Datastore Ready", ".spec.datastoreReady"}};

// clang-format off
const std::array<Presentation, 18> kPresentations = {{
    {Kind::kGlobalNetworkPolicy, kGnpNames, kPolicyColumns},
    {Kind::kNetworkPolicy, kNpNames, kPolicyColumns},
    {Kind::kTier, {}, kTierColumns},
    {Kind::kGlobalNetworkSet, kGnsNames, {}},
    {Kind::kNetworkSet, kNetsetNames, {}},
    {Kind::kHostEndpoint, kHepNames, kHostEndpointColumns},
    {Kind::kIPPool, {}, kIPPoolColumns},
    {Kind::kBGPConfiguration, kBgpConfigNames, kBgpConfigColumns},
    {Kind::kBGPPeer, {}, kBgpPeerColumns},
    {Kind::kAgentConfiguration, kFelixNames, {}},
    {Kind::kIPAMBlock, {}, kBlockColumns},
    {Kind::kBlockAffinity, {}, kAffinityColumns},
    {Kind::kIPAMHandle, {}, kHandleColumns},
    {Kind::kIPAMConfiguration, {}, kIpamConfigColumns},
    {Kind::kStagedGlobalNetworkPolicy, kSgnpNames, kStagedPolicyColumns},
    {Kind::kStagedNetworkPolicy, kSnpNames, kStagedPolicyColumns},
    {Kind::kStagedKubernetesNetworkPolicy, kSknpNames, kStagedK8sPolicyColumns},
    {Kind::kClusterInformation, kClusterInfoNames, kClusterInfoColumns},
}};
// clang-format on

}  // namespace

std::span<const Presentation> presentations() { return kPresentations; }

const Presentation* findPresentation(model::Kind kind) {
  for (const Presentation& p : kPresentations) {
    if (p.kind == kind) return &p;
  }
  return nullptr;
}

}  // namespace tartan::crds
