// tartan/model/agent_configuration.hpp — AgentConfiguration, the policy agent's configuration:
// Calico's FelixConfiguration, every field of FelixConfigurationSpec in Calico's order, with its
// JSON name as the member name. Durations are kept as Go duration strings ("90s", "1m30s").
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

struct HealthTimeoutOverride {
  std::string name;
  std::string timeout;  // a Go duration
  bool operator==(const HealthTimeoutOverride&) const = default;
};

struct RouteTableRange {  // also RouteTableIDRange
  int min = 0;
  int max = 0;
  bool operator==(const RouteTableRange&) const = default;
};
using RouteTableIDRange = RouteTableRange;

// A failsafe port: protocol (tcp, udp, sctp), port, and an optional CIDR.
struct ProtoPort {
  std::string protocol;
  uint16_t port = 0;
  std::string net;
  bool operator==(const ProtoPort&) const = default;
};

struct AgentConfigurationSpec {
  std::optional<bool> useInternalDataplaneDriver;
  std::string dataplaneDriver;
  std::optional<std::string> dataplaneWatchdogTimeout;  // a Go duration ("90s")
  std::optional<bool> ipv6Support;
  std::optional<std::string> routeRefreshInterval;            // a Go duration ("90s")
  std::optional<std::string> interfaceRefreshInterval;        // a Go duration ("90s")
  std::optional<std::string> iptablesRefreshInterval;         // a Go duration ("90s")
  std::optional<std::string> iptablesPostWriteCheckInterval;  // a Go duration ("90s")
  std::string iptablesLockFilePath;
  std::optional<std::string> iptablesLockTimeout;        // a Go duration ("90s")
  std::optional<std::string> iptablesLockProbeInterval;  // a Go duration ("90s")
  std::string featureDetectOverride;
  std::string featureGates;
  std::optional<std::string> ipsetsRefreshInterval;  // a Go duration ("90s")
  std::optional<int> maxIpsetSize;
  std::optional<std::string> iptablesBackend;
  std::optional<std::string> xdpRefreshInterval;  // a Go duration ("90s")
  std::optional<std::string> netlinkTimeout;      // a Go duration ("90s")
  std::string metadataAddr;
  std::optional<int> metadataPort;
  std::string openstackRegion;
  std::string interfacePrefix;
  std::string interfaceExclude;
  std::string chainInsertMode;
  std::string defaultEndpointToHostAction;
  std::string iptablesFilterAllowAction;
  std::string iptablesMangleAllowAction;
  std::string iptablesFilterDenyAction;
  std::string logPrefix;
  std::string logFilePath;
  std::string logSeverityFile;
  std::string logSeverityScreen;
  std::string logSeveritySys;
  std::string logDebugFilenameRegex;
  std::optional<bool> ipipEnabled;
  std::optional<int> ipipMTU;
  std::optional<bool> vxlanEnabled;
  std::optional<int> vxlanMTU;
  std::optional<int> vxlanMTUV6;
  std::optional<int> vxlanPort;
  std::optional<int> vxlanVNI;
  std::optional<bool> allowVXLANPacketsFromWorkloads;
  std::optional<bool> allowIPIPPacketsFromWorkloads;
  std::optional<std::string> reportingInterval;  // a Go duration ("90s")
  std::optional<std::string> reportingTTL;       // a Go duration ("90s")
  std::optional<bool> endpointReportingEnabled;
  std::optional<std::string> endpointReportingDelay;  // a Go duration ("90s")
  std::string endpointStatusPathPrefix;
  std::optional<uint32_t> iptablesMarkMask;
  std::optional<bool> disableConntrackInvalidCheck;
  std::optional<bool> healthEnabled;
  std::optional<std::string> healthHost;
  std::optional<int> healthPort;
  std::vector<HealthTimeoutOverride> healthTimeoutOverrides;
  std::optional<bool> prometheusMetricsEnabled;
  std::string prometheusMetricsHost;
  std::optional<int> prometheusMetricsPort;
  std::optional<bool> prometheusGoMetricsEnabled;
  std::optional<bool> prometheusProcessMetricsEnabled;
  std::optional<bool> prometheusWireGuardMetricsEnabled;
  std::optional<std::vector<ProtoPort>> failsafeInboundHostPorts;
  std::optional<std::vector<ProtoPort>> failsafeOutboundHostPorts;
  std::optional<std::vector<Port>> kubeNodePortRanges;
  std::string policySyncPathPrefix;
  std::optional<bool> usageReportingEnabled;
  std::optional<std::string> usageReportingInitialDelay;  // a Go duration ("90s")
  std::optional<std::string> usageReportingInterval;      // a Go duration ("90s")
  std::optional<Port> natPortRange;
  std::string natOutgoingAddress;
  std::string deviceRouteSourceAddress;
  std::string deviceRouteSourceAddressIPv6;
  std::optional<int> deviceRouteProtocol;
  std::optional<bool> removeExternalRoutes;
  std::string ipForwarding;
  std::optional<std::vector<std::string>> externalNodesList;
  std::string debugMemoryProfilePath;
  std::optional<bool> debugDisableLogDropping;
  std::optional<std::string> debugSimulateCalcGraphHangAfter;   // a Go duration ("90s")
  std::optional<std::string> debugSimulateDataplaneHangAfter;   // a Go duration ("90s")
  std::optional<std::string> debugSimulateDataplaneApplyDelay;  // a Go duration ("90s")
  std::optional<std::string> debugHost;
  std::optional<int> debugPort;
  std::string iptablesNATOutgoingInterfaceFilter;
  std::optional<bool> sidecarAccelerationEnabled;
  std::optional<bool> xdpEnabled;
  std::optional<bool> genericXDPEnabled;
  std::optional<std::string> nftablesMode;
  std::optional<std::string> nftablesRefreshInterval;  // a Go duration ("90s")
  std::string nftablesFilterAllowAction;
  std::string nftablesMangleAllowAction;
  std::string nftablesFilterDenyAction;
  std::optional<uint32_t> nftablesMarkMask;
  std::optional<bool> bpfEnabled;
  std::optional<bool> bpfDisableUnprivileged;
  std::string bpfLogLevel;
  std::optional<Labels> bpfLogFilters;
  std::string bpfCTLBLogFilter;
  std::string bpfDataIfacePattern;
  std::string bpfL3IfacePattern;
  std::optional<bool> bpfConnectTimeLoadBalancingEnabled;
  std::optional<std::string> bpfConnectTimeLoadBalancing;
  std::optional<std::string> bpfHostNetworkedNATWithoutCTLB;
  std::string bpfExternalServiceMode;
  std::optional<std::vector<std::string>> bpfDSROptoutCIDRs;
  std::optional<int64_t> bpfExtToServiceConnmark;
  std::optional<bool> bpfKubeProxyIptablesCleanupEnabled;
  std::optional<std::string> bpfKubeProxyMinSyncPeriod;  // a Go duration ("90s")
  std::optional<bool> bpfKubeProxyEndpointSlicesEnabled;
  std::optional<Port> bpfPSNATPorts;
  std::optional<int> bpfMapSizeNATFrontend;
  std::optional<int> bpfMapSizeNATBackend;
  std::optional<int> bpfMapSizeNATAffinity;
  std::optional<int> bpfMapSizeRoute;
  std::optional<int> bpfMapSizeConntrack;
  std::optional<int> bpfMapSizeIPSets;
  std::optional<int> bpfMapSizeIfState;
  std::optional<bool> bpfHostConntrackBypass;
  std::string bpfEnforceRPF;
  std::optional<bool> bpfPolicyDebugEnabled;
  std::optional<std::vector<std::string>> bpfForceTrackPacketsFromIfaces;
  std::string bpfDisableGROForIfaces;
  std::optional<std::vector<std::string>> bpfExcludeCIDRsFromNAT;
  std::string bpfRedirectToPeer;
  std::string bpfProfiling;
  std::string routeSource;
  std::optional<std::vector<RouteTableIDRange>> routeTableRanges;
  std::optional<RouteTableRange> routeTableRange;
  std::optional<bool> routeSyncDisabled;
  std::optional<bool> wireguardEnabled;
  std::optional<bool> wireguardEnabledV6;
  std::optional<bool> wireguardThreadingEnabled;
  std::optional<int> wireguardListeningPort;
  std::optional<int> wireguardListeningPortV6;
  std::optional<int> wireguardRoutingRulePriority;
  std::string wireguardInterfaceName;
  std::string wireguardInterfaceNameV6;
  std::optional<int> wireguardMTU;
  std::optional<int> wireguardMTUV6;
  std::optional<bool> wireguardHostEncryptionEnabled;
  std::optional<std::string> wireguardKeepAlive;  // a Go duration ("90s")
  std::optional<std::string> awsSrcDstCheck;
  std::string serviceLoopPrevention;
  std::string workloadSourceSpoofing;
  std::string mtuIfacePattern;
  std::optional<std::string> floatingIPs;
  std::optional<std::string> windowsManageFirewallRules;
  std::optional<int> goGCThreshold;
  std::optional<int> goMemoryLimitMB;
  std::optional<int> goMaxProcs;
  bool operator==(const AgentConfigurationSpec&) const = default;
};

struct AgentConfiguration {
  static constexpr Kind kKind = Kind::kAgentConfiguration;
  ObjectMeta metadata;
  AgentConfigurationSpec spec;
  bool operator==(const AgentConfiguration&) const = default;
};

}  // namespace tartan::model
