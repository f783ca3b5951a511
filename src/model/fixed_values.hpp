// fixed_values.hpp (private) — the fixed sets of values Calico's validator allows for string
// fields, each named once: the validator checks a value against its set, and the field's
// description passes the same set to v.field(), so the enums of the CRD schemas (schema_writer.hpp)
// are the validator's sets and cannot drift from them.
#pragma once

#include "codec.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace tartan::model {

// Whether `value` is one of `allowed` (in any case when the set ignores case).
inline bool isOneOf(const FixedValues& allowed, std::string_view value) {
  return std::any_of(allowed.values.begin(), allowed.values.end(), [&](std::string_view a) {
    if (!allowed.ignoreCase) return a == value;
    return a.size() == value.size() && std::equal(a.begin(), a.end(), value.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  });
}

// "A, B, C", for error messages.
inline std::string listed(const FixedValues& allowed) {
  std::string out;
  for (std::string_view a : allowed.values) out += (out.empty() ? "" : ", ") + std::string(a);
  return out;
}

#define TARTAN_MODEL_FIXED_VALUES(name, ignoreCase, ...)          \
  inline constexpr std::string_view name##List[] = {__VA_ARGS__}; \
  inline constexpr FixedValues name{name##List, ignoreCase};

constexpr bool kExactCase = false;
constexpr bool kAnyCase = true;  // Calico's (?i) patterns

// Policies and tiers.
TARTAN_MODEL_FIXED_VALUES(kRuleActions, kExactCase, "Allow", "Deny", "Log", "Pass")
TARTAN_MODEL_FIXED_VALUES(kPolicyTypes, kExactCase, "Ingress", "Egress")
TARTAN_MODEL_FIXED_VALUES(kPerformanceHints, kExactCase, "AssumeNeededOnEveryNode")
TARTAN_MODEL_FIXED_VALUES(kStagedActions, kExactCase, "Set", "Delete", "Learn", "Ignore")
TARTAN_MODEL_FIXED_VALUES(kTierDefaultActions, kExactCase, "Deny", "Pass")

// IP pools and IPAM.
TARTAN_MODEL_FIXED_VALUES(kEncapsulationModes, kExactCase, "Always", "CrossSubnet", "Never")
TARTAN_MODEL_FIXED_VALUES(kAssignmentModes, kExactCase, "Automatic", "Manual")
TARTAN_MODEL_FIXED_VALUES(kAllowedUses, kExactCase, "Workload", "Tunnel", "LoadBalancer")
TARTAN_MODEL_FIXED_VALUES(kAffinityStates, kExactCase, "confirmed", "pending", "pendingDeletion")
TARTAN_MODEL_FIXED_VALUES(kAffinityTypes, kExactCase, "host", "virtual")
TARTAN_MODEL_FIXED_VALUES(kBooleanStrings, kExactCase, "true", "false")

// BGP and Node.
TARTAN_MODEL_FIXED_VALUES(kLogLevels, kAnyCase, "Trace", "Debug", "Info", "Warning", "Error", "Fatal")
TARTAN_MODEL_FIXED_VALUES(kBindModes, kExactCase, "None", "NodeIP")
TARTAN_MODEL_FIXED_VALUES(kEnabledDisabled, kExactCase, "Enabled", "Disabled")
TARTAN_MODEL_FIXED_VALUES(kNextHopModes, kExactCase, "Auto", "Self", "Keep")
TARTAN_MODEL_FIXED_VALUES(kSourceAddresses, kExactCase, "UseNodeIP", "None")
TARTAN_MODEL_FIXED_VALUES(kFailureDetectionModes, kExactCase, "None", "BFDIfDirectlyConnected")
TARTAN_MODEL_FIXED_VALUES(kRestartModes, kExactCase, "GracefulRestart", "LongLivedGracefulRestart")
TARTAN_MODEL_FIXED_VALUES(kBirdGatewayModes, kExactCase, "Recursive", "DirectIfDirectlyConnected")
TARTAN_MODEL_FIXED_VALUES(kReversePeeringModes, kExactCase, "Auto", "Manual")
TARTAN_MODEL_FIXED_VALUES(kPeerTypes, kExactCase, "eBGP", "iBGP")
TARTAN_MODEL_FIXED_VALUES(kFilterActions, kExactCase, "Accept", "Reject")
TARTAN_MODEL_FIXED_VALUES(kMatchOperators, kExactCase, "Equal", "NotEqual", "In", "NotIn")
TARTAN_MODEL_FIXED_VALUES(kFilterSources, kExactCase, "RemotePeers")
TARTAN_MODEL_FIXED_VALUES(kNodeAddressTypes, kExactCase, "CalicoNodeIP", "InternalIP", "ExternalIP")

// AgentConfiguration (FelixConfiguration).
TARTAN_MODEL_FIXED_VALUES(kIptablesBackends, kExactCase, "Auto", "NFT", "Legacy")
TARTAN_MODEL_FIXED_VALUES(kEndpointToHostActions, kAnyCase, "Drop", "Accept", "Return")
TARTAN_MODEL_FIXED_VALUES(kAllowActions, kAnyCase, "Accept", "Return")
TARTAN_MODEL_FIXED_VALUES(kDenyActions, kAnyCase, "Drop", "Reject")
TARTAN_MODEL_FIXED_VALUES(kChainInsertModes, kAnyCase, "Insert", "Append")
TARTAN_MODEL_FIXED_VALUES(kBpfLogLevels, kExactCase, "Debug", "Info", "Off")
TARTAN_MODEL_FIXED_VALUES(kBpfExternalServiceModes, kExactCase, "Tunnel", "DSR")
TARTAN_MODEL_FIXED_VALUES(kBpfConnectTimeLoadBalancing, kExactCase, "TCP", "Enabled", "Disabled")
TARTAN_MODEL_FIXED_VALUES(kRouteSources, kExactCase, "WorkloadIPs", "CalicoIPAM")
TARTAN_MODEL_FIXED_VALUES(kAwsSrcDstChecks, kExactCase, "DoNothing", "Enable", "Disable")
TARTAN_MODEL_FIXED_VALUES(kServiceLoopPrevention, kExactCase, "Drop", "Reject", "Disabled")
TARTAN_MODEL_FIXED_VALUES(kWorkloadSourceSpoofing, kExactCase, "Disabled", "Any")

#undef TARTAN_MODEL_FIXED_VALUES

}  // namespace tartan::model
