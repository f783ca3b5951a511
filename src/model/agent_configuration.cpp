// agent_configuration.cpp — field description of AgentConfiguration (FelixConfigurationSpec).
#include "fixed_values.hpp"
#include "kinds_internal.hpp"
#include "tartan/model/agent_configuration_fields.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, HealthTimeoutOverride& s) {
  v.field("name", s.name, Need::kAlways);
  v.field("timeout", s.timeout, Need::kAlways);
}

template <class V>
void describe(V& v, RouteTableRange& s) {
  v.field("min", s.min, Need::kAlways);
  v.field("max", s.max, Need::kAlways);
}

template <class V>
void describe(V& v, ProtoPort& s) {
  v.field("protocol", s.protocol, Need::kAlways);
  v.field("port", s.port, Need::kAlways);
  v.field("net", s.net, Need::kAlways);
}

template <class V>
void describe(V& v, AgentConfigurationSpec& s) {
  v.field("useInternalDataplaneDriver", s.useInternalDataplaneDriver);
  v.field("dataplaneDriver", s.dataplaneDriver);
  v.field("dataplaneWatchdogTimeout", s.dataplaneWatchdogTimeout);
  v.field("ipv6Support", s.ipv6Support);
  v.field("routeRefreshInterval", s.routeRefreshInterval);
  v.field("interfaceRefreshInterval", s.interfaceRefreshInterval);
  v.field("iptablesRefreshInterval", s.iptablesRefreshInterval);
  v.field("iptablesPostWriteCheckInterval", s.iptablesPostWriteCheckInterval);
  v.field("iptablesLockFilePath", s.iptablesLockFilePath);
  v.field("iptablesLockTimeout", s.iptablesLockTimeout);
  v.field("iptablesLockProbeInterval", s.iptablesLockProbeInterval);
  v.field("featureDetectOverride", s.featureDetectOverride);
  v.field("featureGates", s.featureGates);
  v.field("ipsetsRefreshInterval", s.ipsetsRefreshInterval);
  v.field("maxIpsetSize", s.maxIpsetSize);
  v.field("iptablesBackend", s.iptablesBackend, Need::kOptional, kIptablesBackends);
  v.field("xdpRefreshInterval", s.xdpRefreshInterval);
  v.field("netlinkTimeout", s.netlinkTimeout);
  v.field("metadataAddr", s.metadataAddr);
  v.field("metadataPort", s.metadataPort);
  v.field("openstackRegion", s.openstackRegion);
  v.field("interfacePrefix", s.interfacePrefix);
  v.field("interfaceExclude", s.interfaceExclude);
  v.field("chainInsertMode", s.chainInsertMode, Need::kOptional, kChainInsertModes);
  v.field("defaultEndpointToHostAction", s.defaultEndpointToHostAction, Need::kOptional,
          kEndpointToHostActions);
  v.field("iptablesFilterAllowAction", s.iptablesFilterAllowAction, Need::kOptional, kAllowActions);
  v.field("iptablesMangleAllowAction", s.iptablesMangleAllowAction, Need::kOptional, kAllowActions);
  v.field("iptablesFilterDenyAction", s.iptablesFilterDenyAction, Need::kOptional, kDenyActions);
  v.field("logPrefix", s.logPrefix);
  v.field("logFilePath", s.logFilePath);
  v.field("logSeverityFile", s.logSeverityFile, Need::kOptional, kLogLevels);
  v.field("logSeverityScreen", s.logSeverityScreen, Need::kOptional, kLogLevels);
  v.field("logSeveritySys", s.logSeveritySys, Need::kOptional, kLogLevels);
  v.field("logDebugFilenameRegex", s.logDebugFilenameRegex);
  v.field("ipipEnabled", s.ipipEnabled);
  v.field("ipipMTU", s.ipipMTU);
  v.field("vxlanEnabled", s.vxlanEnabled);
  v.field("vxlanMTU", s.vxlanMTU);
  v.field("vxlanMTUV6", s.vxlanMTUV6);
  v.field("vxlanPort", s.vxlanPort);
  v.field("vxlanVNI", s.vxlanVNI);
  v.field("allowVXLANPacketsFromWorkloads", s.allowVXLANPacketsFromWorkloads);
  v.field("allowIPIPPacketsFromWorkloads", s.allowIPIPPacketsFromWorkloads);
  v.field("reportingInterval", s.reportingInterval);
  v.field("reportingTTL", s.reportingTTL);
  v.field("endpointReportingEnabled", s.endpointReportingEnabled);
  v.field("endpointReportingDelay", s.endpointReportingDelay);
  v.field("endpointStatusPathPrefix", s.endpointStatusPathPrefix);
  v.field("iptablesMarkMask", s.iptablesMarkMask);
  v.field("disableConntrackInvalidCheck", s.disableConntrackInvalidCheck);
  v.field("healthEnabled", s.healthEnabled);
  v.field("healthHost", s.healthHost);
  v.field("healthPort", s.healthPort);
  v.field("healthTimeoutOverrides", s.healthTimeoutOverrides);
  v.field("prometheusMetricsEnabled", s.prometheusMetricsEnabled);
  v.field("prometheusMetricsHost", s.prometheusMetricsHost);
  v.field("prometheusMetricsPort", s.prometheusMetricsPort);
  v.field("prometheusGoMetricsEnabled", s.prometheusGoMetricsEnabled);
  v.field("prometheusProcessMetricsEnabled", s.prometheusProcessMetricsEnabled);
  v.field("prometheusWireGuardMetricsEnabled", s.prometheusWireGuardMetricsEnabled);
  v.field("failsafeInboundHostPorts", s.failsafeInboundHostPorts);
  v.field("failsafeOutboundHostPorts", s.failsafeOutboundHostPorts);
  v.field("kubeNodePortRanges", s.kubeNodePortRanges);
  v.field("policySyncPathPrefix", s.policySyncPathPrefix);
  v.field("usageReportingEnabled", s.usageReportingEnabled);
  v.field("usageReportingInitialDelay", s.usageReportingInitialDelay);
  v.field("usageReportingInterval", s.usageReportingInterval);
  v.field("natPortRange", s.natPortRange);
  v.field("natOutgoingAddress", s.natOutgoingAddress);
  v.field("deviceRouteSourceAddress", s.deviceRouteSourceAddress);
  v.field("deviceRouteSourceAddressIPv6", s.deviceRouteSourceAddressIPv6);
  v.field("deviceRouteProtocol", s.deviceRouteProtocol);
  v.field("removeExternalRoutes", s.removeExternalRoutes);
  v.field("ipForwarding", s.ipForwarding, Need::kOptional, kEnabledDisabled);
  v.field("externalNodesList", s.externalNodesList);
  v.field("debugMemoryProfilePath", s.debugMemoryProfilePath);
  v.field("debugDisableLogDropping", s.debugDisableLogDropping);
  v.field("debugSimulateCalcGraphHangAfter", s.debugSimulateCalcGraphHangAfter);
  v.field("debugSimulateDataplaneHangAfter", s.debugSimulateDataplaneHangAfter);
  v.field("debugSimulateDataplaneApplyDelay", s.debugSimulateDataplaneApplyDelay);
  v.field("debugHost", s.debugHost);
  v.field("debugPort", s.debugPort);
  v.field("iptablesNATOutgoingInterfaceFilter", s.iptablesNATOutgoingInterfaceFilter);
  v.field("sidecarAccelerationEnabled", s.sidecarAccelerationEnabled);
  v.field("xdpEnabled", s.xdpEnabled);
  v.field("genericXDPEnabled", s.genericXDPEnabled);
  v.field("nftablesMode", s.nftablesMode, Need::kOptional, kEnabledDisabled);
  v.field("nftablesRefreshInterval", s.nftablesRefreshInterval);
  v.field("nftablesFilterAllowAction", s.nftablesFilterAllowAction, Need::kOptional, kAllowActions);
  v.field("nftablesMangleAllowAction", s.nftablesMangleAllowAction, Need::kOptional, kAllowActions);
  v.field("nftablesFilterDenyAction", s.nftablesFilterDenyAction, Need::kOptional, kDenyActions);
  v.field("nftablesMarkMask", s.nftablesMarkMask);
  v.field("bpfEnabled", s.bpfEnabled);
  v.field("bpfDisableUnprivileged", s.bpfDisableUnprivileged);
  v.field("bpfLogLevel", s.bpfLogLevel, Need::kAlways, kBpfLogLevels);
  v.field("bpfLogFilters", s.bpfLogFilters);
  v.field("bpfCTLBLogFilter", s.bpfCTLBLogFilter);
  v.field("bpfDataIfacePattern", s.bpfDataIfacePattern);
  v.field("bpfL3IfacePattern", s.bpfL3IfacePattern);
  v.field("bpfConnectTimeLoadBalancingEnabled", s.bpfConnectTimeLoadBalancingEnabled);
  v.field("bpfConnectTimeLoadBalancing", s.bpfConnectTimeLoadBalancing, Need::kOptional,
          kBpfConnectTimeLoadBalancing);
  v.field("bpfHostNetworkedNATWithoutCTLB", s.bpfHostNetworkedNATWithoutCTLB, Need::kOptional,
          kEnabledDisabled);
  v.field("bpfExternalServiceMode", s.bpfExternalServiceMode, Need::kOptional, kBpfExternalServiceModes);
  v.field("bpfDSROptoutCIDRs", s.bpfDSROptoutCIDRs);
  v.field("bpfExtToServiceConnmark", s.bpfExtToServiceConnmark);
  v.field("bpfKubeProxyIptablesCleanupEnabled", s.bpfKubeProxyIptablesCleanupEnabled);
  v.field("bpfKubeProxyMinSyncPeriod", s.bpfKubeProxyMinSyncPeriod);
  v.field("bpfKubeProxyEndpointSlicesEnabled", s.bpfKubeProxyEndpointSlicesEnabled);
  v.field("bpfPSNATPorts", s.bpfPSNATPorts);
  v.field("bpfMapSizeNATFrontend", s.bpfMapSizeNATFrontend);
  v.field("bpfMapSizeNATBackend", s.bpfMapSizeNATBackend);
  v.field("bpfMapSizeNATAffinity", s.bpfMapSizeNATAffinity);
  v.field("bpfMapSizeRoute", s.bpfMapSizeRoute);
  v.field("bpfMapSizeConntrack", s.bpfMapSizeConntrack);
  v.field("bpfMapSizeIPSets", s.bpfMapSizeIPSets);
  v.field("bpfMapSizeIfState", s.bpfMapSizeIfState);
  v.field("bpfHostConntrackBypass", s.bpfHostConntrackBypass);
  v.field("bpfEnforceRPF", s.bpfEnforceRPF);
  v.field("bpfPolicyDebugEnabled", s.bpfPolicyDebugEnabled);
  v.field("bpfForceTrackPacketsFromIfaces", s.bpfForceTrackPacketsFromIfaces);
  v.field("bpfDisableGROForIfaces", s.bpfDisableGROForIfaces);
  v.field("bpfExcludeCIDRsFromNAT", s.bpfExcludeCIDRsFromNAT);
  v.field("bpfRedirectToPeer", s.bpfRedirectToPeer);
  v.field("bpfProfiling", s.bpfProfiling);
  v.field("routeSource", s.routeSource, Need::kOptional, kRouteSources);
  v.field("routeTableRanges", s.routeTableRanges);
  v.field("routeTableRange", s.routeTableRange);
  v.field("routeSyncDisabled", s.routeSyncDisabled);
  v.field("wireguardEnabled", s.wireguardEnabled);
  v.field("wireguardEnabledV6", s.wireguardEnabledV6);
  v.field("wireguardThreadingEnabled", s.wireguardThreadingEnabled);
  v.field("wireguardListeningPort", s.wireguardListeningPort);
  v.field("wireguardListeningPortV6", s.wireguardListeningPortV6);
  v.field("wireguardRoutingRulePriority", s.wireguardRoutingRulePriority);
  v.field("wireguardInterfaceName", s.wireguardInterfaceName);
  v.field("wireguardInterfaceNameV6", s.wireguardInterfaceNameV6);
  v.field("wireguardMTU", s.wireguardMTU);
  v.field("wireguardMTUV6", s.wireguardMTUV6);
  v.field("wireguardHostEncryptionEnabled", s.wireguardHostEncryptionEnabled);
  v.field("wireguardKeepAlive", s.wireguardKeepAlive);
  v.field("awsSrcDstCheck", s.awsSrcDstCheck, Need::kOptional, kAwsSrcDstChecks);
  v.field("serviceLoopPrevention", s.serviceLoopPrevention, Need::kOptional, kServiceLoopPrevention);
  v.field("workloadSourceSpoofing", s.workloadSourceSpoofing, Need::kOptional, kWorkloadSourceSpoofing);
  v.field("mtuIfacePattern", s.mtuIfacePattern);
  v.field("floatingIPs", s.floatingIPs, Need::kOptional, kEnabledDisabled);
  v.field("windowsManageFirewallRules", s.windowsManageFirewallRules, Need::kOptional, kEnabledDisabled);
  v.field("goGCThreshold", s.goGCThreshold);
  v.field("goMemoryLimitMB", s.goMemoryLimitMB);
  v.field("goMaxProcs", s.goMaxProcs);
}

template <class V>
void describe(V& v, AgentConfiguration& s) {
  v.typeMeta(AgentConfiguration::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(AgentConfiguration)

namespace {
// A describe() visitor that only records each field's name.
struct FieldNames {
  std::vector<std::string_view> names;
  template <class T>
  void field(std::string_view name, T&, Need = Need::kOptional, const FixedValues& = {}) {
    names.push_back(name);
  }
};
}  // namespace

std::vector<std::string_view> agentConfigurationSpecFieldNames() {
  FieldNames v;
  AgentConfigurationSpec spec;
  describe(v, spec);
  return v.names;
}

std::vector<std::pair<std::string, std::string>> setAgentConfigurationFields(
    const AgentConfigurationSpec& spec) {
  // The encoder leaves out the fields that are not set (Go's omitempty), so what it writes is
  // what the user set, in the spec's order; bpfLogLevel, written even when empty as in Calico, is
  // the one exception.
  const Tree tree = encodeStruct(spec);
  std::vector<std::pair<std::string, std::string>> out;
  for (const TreeField& f : tree.fields) {
    const Tree& value = f.value;
    if (value.type == Tree::Type::kNull || (value.type == Tree::Type::kString && value.text.empty()))
      continue;
    std::string text;
    switch (value.type) {
      case Tree::Type::kBool:
        text = value.boolean ? "true" : "false";
        break;
      case Tree::Type::kNumber:
      case Tree::Type::kString:
        text = value.text;
        break;
      default:
        text = writeJson(value);
        break;
    }
    out.emplace_back(f.key, std::move(text));
  }
  return out;
}

}  // namespace tartan::model
