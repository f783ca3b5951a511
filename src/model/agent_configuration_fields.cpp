// agent_configuration_fields.cpp — the state of every AgentConfiguration field; see
// tartan/model/agent_configuration_fields.hpp.
#include "tartan/model/agent_configuration_fields.hpp"

#include <algorithm>
#include <cctype>

namespace tartan::model {

namespace {

// clang-format off
constexpr AgentConfigurationField kFields[] = {
    {"useInternalDataplaneDriver", FieldSupport::kRefused, "true", "The agent runs its dataplane driver in process; an external driver process is not supported."},
    {"dataplaneDriver", FieldSupport::kReported, "", "Only read by Calico when useInternalDataplaneDriver is false, which Tartan refuses."},
    {"dataplaneWatchdogTimeout", FieldSupport::kReported, "", "No dataplane watchdog yet; liveness reflects the agent's own loops."},
    {"ipv6Support", FieldSupport::kHonoured, "", "IPv6 chains, sets and routes are programmed unless false."},
    {"routeRefreshInterval", FieldSupport::kHonoured, "", "How often workload routes are re-read from the kernel and repaired."},
    {"interfaceRefreshInterval", FieldSupport::kReported, "", "Interfaces are followed through netlink; no periodic rescan yet."},
    {"iptablesRefreshInterval", FieldSupport::kHonoured, "", "How often the chains are read back and drift repaired."},
    {"iptablesPostWriteCheckInterval", FieldSupport::kReported, "", "No separate check after a write yet; the refresh covers it."},
    {"iptablesLockFilePath", FieldSupport::kReported, "", "iptables-restore takes the xtables lock itself (-w)."},
    {"iptablesLockTimeout", FieldSupport::kHonoured, "", "Passed to iptables-restore's -w."},
    {"iptablesLockProbeInterval", FieldSupport::kReported, "", "iptables-restore probes the lock itself."},
    {"featureDetectOverride", FieldSupport::kReported, "", "Features are detected from the kernel and tools; no override."},
    {"featureGates", FieldSupport::kReported, "", "No feature gates."},
    {"ipsetsRefreshInterval", FieldSupport::kReported, "", "IP sets are read back with the chains, on iptablesRefreshInterval."},
    {"maxIpsetSize", FieldSupport::kHonoured, "", "The maxelem of every IP set."},
    {"iptablesBackend", FieldSupport::kHonoured, "", "Auto, NFT or Legacy: which iptables-restore the driver runs."},
    {"xdpRefreshInterval", FieldSupport::kReported, "", "Only with XDP, which Tartan refuses."},
    {"netlinkTimeout", FieldSupport::kReported, "", "Netlink requests have a fixed timeout."},
    {"metadataAddr", FieldSupport::kReported, "", "OpenStack metadata access is not set up."},
    {"metadataPort", FieldSupport::kReported, "", "OpenStack metadata access is not set up."},
    {"openstackRegion", FieldSupport::kReported, "", "OpenStack is not supported."},
    {"interfacePrefix", FieldSupport::kHonoured, "", "Workload interface prefixes; a change needs a restart, as in Felix."},
    {"interfaceExclude", FieldSupport::kHonoured, "", "Interfaces (names, /regex/ entries) that are never host endpoints: not by name, not by expected IPs, not under interfaceName *."},
    {"chainInsertMode", FieldSupport::kHonoured, "", "Insert puts the jumps to Tartan's chains first in INPUT, FORWARD, OUTPUT and the rest; Append last, moving them when it changes."},
    {"defaultEndpointToHostAction", FieldSupport::kHonoured, "", "Drop, Return or Accept for workload-to-host traffic that no policy decided."},
    {"iptablesFilterAllowAction", FieldSupport::kHonoured, "", "Accept, or Return: where the filter table would accept, Tartan's chain ends and the rest of the table decides."},
    {"iptablesMangleAllowAction", FieldSupport::kHonoured, "", "Accept, or Return: where the mangle table (preDNAT policy) would accept, Tartan's chain ends and the rest of the table decides."},
    {"iptablesFilterDenyAction", FieldSupport::kHonoured, "", "Drop or Reject (ICMP port unreachable) for every deny of the filter table; doNotTrack and preDNAT denies always drop."},
    {"logPrefix", FieldSupport::kHonoured, "", "The prefix of Log rules' kernel log lines."},
    {"logFilePath", FieldSupport::kHonoured, "", "The agent's log file, appended to; none or unset: no file (Felix defaults to /var/log/calico/felix.log). Changed while the agent runs."},
    {"logSeverityFile", FieldSupport::kHonoured, "", "Severity from which lines go to the log file (Info)."},
    {"logSeverityScreen", FieldSupport::kHonoured, "", "Severity of the agent's standard error (Info; Fatal and Panic: critical only); --log-level, when given, beats it."},
    {"logSeveritySys", FieldSupport::kHonoured, "", "Severity from which lines go to syslog; unset, nothing does (Felix's default is Info)."},
    {"logDebugFilenameRegex", FieldSupport::kReported, "", "No per-file debug logging."},
    {"ipipEnabled", FieldSupport::kRefused, "false", "Tartan has no IPIP encapsulation."},
    {"ipipMTU", FieldSupport::kReported, "", "Only with IPIP, which Tartan refuses."},
    {"vxlanEnabled", FieldSupport::kRefused, "false", "Tartan has no VXLAN overlay yet."},
    {"vxlanMTU", FieldSupport::kReported, "", "Only with VXLAN, which Tartan refuses."},
    {"vxlanMTUV6", FieldSupport::kReported, "", "Only with VXLAN, which Tartan refuses."},
    {"vxlanPort", FieldSupport::kHonoured, "", "The UDP port (4789) of the VXLAN packets dropped from workloads unless allowVXLANPacketsFromWorkloads; Tartan itself has no VXLAN."},
    {"vxlanVNI", FieldSupport::kReported, "", "Only with VXLAN, which Tartan refuses."},
    {"allowVXLANPacketsFromWorkloads", FieldSupport::kHonoured, "", "false (the default): a workload's UDP packets to vxlanPort are denied in its from-workload chain before policy, as Felix's; true: policy decides."},
    {"allowIPIPPacketsFromWorkloads", FieldSupport::kHonoured, "", "false (the default): a workload's IP-in-IP packets (protocol 4) are denied in its from-workload chain before policy, as Felix's; true: policy decides."},
    {"reportingInterval", FieldSupport::kReported, "", "The agent does not write a status report to the datastore yet."},
    {"reportingTTL", FieldSupport::kReported, "", "The agent does not write a status report to the datastore yet."},
    {"endpointReportingEnabled", FieldSupport::kReported, "", "Endpoint status is not written to the datastore."},
    {"endpointReportingDelay", FieldSupport::kReported, "", "Endpoint status is not written to the datastore."},
    {"endpointStatusPathPrefix", FieldSupport::kReported, "", "Endpoint status files are not written."},
    {"iptablesMarkMask", FieldSupport::kReported, "", "Tartan's mark bits are fixed (0x10000, 0x20000, 0x40000), inside Felix's default mask."},
    {"disableConntrackInvalidCheck", FieldSupport::kHonoured, "", "false (the default): packets conntrack calls INVALID are denied at the top of every workload and host endpoint chain; true: they go on to policy."},
    {"healthEnabled", FieldSupport::kHonoured, "", "Whether /liveness, /readiness and /metrics are served (true)."},
    {"healthHost", FieldSupport::kHonoured, "", "Address of the health endpoint (localhost); --health-host, when given, beats it; a change rebinds."},
    {"healthPort", FieldSupport::kHonoured, "", "Port of the health endpoint (9099); --health-port, when given, beats it; a change rebinds."},
    {"healthTimeoutOverrides", FieldSupport::kReported, "", "Readiness has no per-component timeouts."},
    {"prometheusMetricsEnabled", FieldSupport::kHonoured, "", "Serves /metrics on a listener of its own (false): Tartan's metrics, and Felix's names for what both measure."},
    {"prometheusMetricsHost", FieldSupport::kHonoured, "", "Address of the Prometheus endpoint (unset: every address); a change rebinds."},
    {"prometheusMetricsPort", FieldSupport::kHonoured, "", "Port of the Prometheus endpoint (9091); a change rebinds."},
    {"prometheusGoMetricsEnabled", FieldSupport::kReported, "", "The agent is not a Go program."},
    {"prometheusProcessMetricsEnabled", FieldSupport::kHonoured, "", "process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, process_start_time_seconds and the rest, from /proc/self (true)."},
    {"prometheusWireGuardMetricsEnabled", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"failsafeInboundHostPorts", FieldSupport::kHonoured, "", "Ports always open to host endpoints; one limited to a net is left out and reported."},
    {"failsafeOutboundHostPorts", FieldSupport::kHonoured, "", "Ports always open from host endpoints; one limited to a net is left out and reported."},
    {"kubeNodePortRanges", FieldSupport::kReported, "", "Felix reads it only with kube-proxy in IPVS mode, to tell forwarded node-port traffic in INPUT by endpoint marks; Tartan has no IPVS-mode handling yet."},
    {"policySyncPathPrefix", FieldSupport::kRefused, "", "There is no policy sync API for per-pod proxies."},
    {"usageReportingEnabled", FieldSupport::kReported, "", "Tartan never sends usage reports."},
    {"usageReportingInitialDelay", FieldSupport::kReported, "", "Tartan never sends usage reports."},
    {"usageReportingInterval", FieldSupport::kReported, "", "Tartan never sends usage reports."},
    {"natPortRange", FieldSupport::kHonoured, "", "Source ports of outgoing NAT (IPPool natOutgoing) for TCP and UDP, as Felix's rules."},
    {"natOutgoingAddress", FieldSupport::kHonoured, "", "IPv4 outgoing NAT rewrites to this address (SNAT) instead of masquerading; IPv6 pools masquerade."},
    {"deviceRouteSourceAddress", FieldSupport::kHonoured, "", "The source address (src) of IPv4 routes to workloads; unset: none."},
    {"deviceRouteSourceAddressIPv6", FieldSupport::kHonoured, "", "The source address (src) of IPv6 routes to workloads; unset: none."},
    {"deviceRouteProtocol", FieldSupport::kHonoured, "", "The protocol of routes to workloads; unset, Tartan's own 116 (Felix's default is 3, boot, which ip route add uses too); 0-2 and tartan-bgpd's 117 are refused with a warning. A change replaces the routes in place."},
    {"removeExternalRoutes", FieldSupport::kHonoured, "", "true (the default): any route to a workload interface the agent did not program is removed at the next route sync; false: only routes of deviceRouteProtocol (and 116) there."},
    {"ipForwarding", FieldSupport::kHonoured, "", "Enabled turns on IPv4 (and, with IPv6 workloads, IPv6) forwarding; Disabled leaves it."},
    {"externalNodesList", FieldSupport::kReported, "", "Only with IPIP or VXLAN, which Tartan refuses."},
    {"debugMemoryProfilePath", FieldSupport::kReported, "", "No memory profiles."},
    {"debugDisableLogDropping", FieldSupport::kReported, "", "Log lines are never dropped."},
    {"debugSimulateCalcGraphHangAfter", FieldSupport::kReported, "", "No fault simulation."},
    {"debugSimulateDataplaneHangAfter", FieldSupport::kReported, "", "No fault simulation."},
    {"debugSimulateDataplaneApplyDelay", FieldSupport::kReported, "", "No fault simulation."},
    {"debugHost", FieldSupport::kReported, "", "No debug server."},
    {"debugPort", FieldSupport::kReported, "", "No debug server."},
    {"iptablesNATOutgoingInterfaceFilter", FieldSupport::kHonoured, "", "Outgoing NAT only for packets leaving by this interface (a trailing + for a prefix)."},
    {"sidecarAccelerationEnabled", FieldSupport::kRefused, "false", "No sidecar acceleration."},
    {"xdpEnabled", FieldSupport::kRefused, "false", "Tartan has no XDP programs."},
    {"genericXDPEnabled", FieldSupport::kRefused, "false", "Tartan has no XDP programs."},
    {"nftablesMode", FieldSupport::kRefused, "Disabled", "The nftables dataplane is not built yet."},
    {"nftablesRefreshInterval", FieldSupport::kReported, "", "Only with the nftables dataplane."},
    {"nftablesFilterAllowAction", FieldSupport::kReported, "", "Only with the nftables dataplane."},
    {"nftablesMangleAllowAction", FieldSupport::kReported, "", "Only with the nftables dataplane."},
    {"nftablesFilterDenyAction", FieldSupport::kReported, "", "Only with the nftables dataplane."},
    {"nftablesMarkMask", FieldSupport::kReported, "", "Only with the nftables dataplane."},
    {"bpfEnabled", FieldSupport::kRefused, "false", "Tartan has no eBPF dataplane."},
    {"bpfDisableUnprivileged", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfLogLevel", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfLogFilters", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfCTLBLogFilter", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfDataIfacePattern", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfL3IfacePattern", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfConnectTimeLoadBalancingEnabled", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfConnectTimeLoadBalancing", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfHostNetworkedNATWithoutCTLB", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfExternalServiceMode", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfDSROptoutCIDRs", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfExtToServiceConnmark", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfKubeProxyIptablesCleanupEnabled", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfKubeProxyMinSyncPeriod", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfKubeProxyEndpointSlicesEnabled", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfPSNATPorts", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfMapSizeNATFrontend", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfMapSizeNATBackend", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfMapSizeNATAffinity", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfMapSizeRoute", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfMapSizeConntrack", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfMapSizeIPSets", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfMapSizeIfState", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfHostConntrackBypass", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfEnforceRPF", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfPolicyDebugEnabled", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfForceTrackPacketsFromIfaces", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfDisableGROForIfaces", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfExcludeCIDRsFromNAT", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfRedirectToPeer", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"bpfProfiling", FieldSupport::kReported, "", "Only with eBPF, which Tartan refuses."},
    {"routeSource", FieldSupport::kRefused, "CalicoIPAM", "Routes follow Calico IPAM blocks; WorkloadIPs is not supported."},
    {"routeTableRanges", FieldSupport::kReported, "", "Routes go to the main table."},
    {"routeTableRange", FieldSupport::kReported, "", "Routes go to the main table."},
    {"routeSyncDisabled", FieldSupport::kRefused, "false", "The agent always programs workload routes."},
    {"wireguardEnabled", FieldSupport::kRefused, "false", "Tartan has no WireGuard encryption."},
    {"wireguardEnabledV6", FieldSupport::kRefused, "false", "Tartan has no WireGuard encryption."},
    {"wireguardThreadingEnabled", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardListeningPort", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardListeningPortV6", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardRoutingRulePriority", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardInterfaceName", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardInterfaceNameV6", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardMTU", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardMTUV6", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"wireguardHostEncryptionEnabled", FieldSupport::kRefused, "false", "Tartan has no WireGuard encryption."},
    {"wireguardKeepAlive", FieldSupport::kReported, "", "Only with WireGuard, which Tartan refuses."},
    {"awsSrcDstCheck", FieldSupport::kRefused, "DoNothing", "Tartan does not call the AWS API."},
    {"serviceLoopPrevention", FieldSupport::kHonoured, "", "Drop (the default) or Reject: forwarded packets still addressed to a service range of the BGPConfiguration default (cluster, external, load-balancer IPs) after kube-proxy's DNAT are denied at the end of tartan-FORWARD, as Felix's cali-cidr-block; Disabled: nothing."},
    {"workloadSourceSpoofing", FieldSupport::kHonoured, "", "Any lets a pod that asks (its spoofed-IPs annotation) send from other addresses."},
    {"mtuIfacePattern", FieldSupport::kReported, "", "No MTU detection yet."},
    {"floatingIPs", FieldSupport::kRefused, "Disabled", "OpenStack floating IPs are not supported."},
    {"windowsManageFirewallRules", FieldSupport::kReported, "", "Only on Windows nodes."},
    {"goGCThreshold", FieldSupport::kReported, "", "The agent is not a Go program."},
    {"goMemoryLimitMB", FieldSupport::kReported, "", "The agent is not a Go program."},
    {"goMaxProcs", FieldSupport::kReported, "", "The agent is not a Go program."},
};
// clang-format on

std::string_view stateName(FieldSupport support) {
  switch (support) {
    case FieldSupport::kHonoured:
      return "honoured";
    case FieldSupport::kRefused:
      return "refused";
    case FieldSupport::kReported:
      return "reported";
  }
  return "";
}

}  // namespace

std::span<const AgentConfigurationField> agentConfigurationFields() { return kFields; }

bool acceptsValue(const AgentConfigurationField& field, std::string_view value, bool ignoreCase) {
  auto same = [&](std::string_view a) {
    return a.size() == value.size() && std::equal(a.begin(), a.end(), value.begin(), [&](char x, char y) {
             return ignoreCase ? std::tolower(static_cast<unsigned char>(x)) ==
                                     std::tolower(static_cast<unsigned char>(y))
                               : x == y;
           });
  };
  for (std::string_view rest = field.accepted;;) {
    const auto bar = rest.find('|');
    if (same(rest.substr(0, bar))) return true;
    if (bar == std::string_view::npos) return false;
    rest.remove_prefix(bar + 1);
  }
}

const AgentConfigurationField* findAgentConfigurationField(std::string_view name) {
  const auto it = std::find_if(std::begin(kFields), std::end(kFields),
                               [&](const AgentConfigurationField& f) { return f.name == name; });
  return it == std::end(kFields) ? nullptr : &*it;
}

std::vector<std::pair<std::string, std::string>> refusedAgentConfigurationFields(
    const AgentConfigurationSpec& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : setAgentConfigurationFields(spec)) {
    const AgentConfigurationField* field = findAgentConfigurationField(name);
    if (field == nullptr || field->support != FieldSupport::kRefused || acceptsValue(*field, value)) continue;
    std::string allowed = "it must be left unset";
    if (!field->accepted.empty()) {
      allowed = "only " + std::string(field->accepted) + " is accepted";
      for (auto bar = allowed.find('|'); bar != std::string::npos; bar = allowed.find('|'))
        allowed.replace(bar, 1, " or ");
    }
    out.emplace_back(name, "'" + value + "' is refused: " + std::string(field->note) + " (" + allowed + ")");
  }
  return out;
}

std::vector<std::string> reportedAgentConfigurationFields(const AgentConfigurationSpec& spec) {
  std::vector<std::string> out;
  for (const auto& [name, value] : setAgentConfigurationFields(spec)) {
    const AgentConfigurationField* field = findAgentConfigurationField(name);
    if (field != nullptr && field->support == FieldSupport::kReported) out.push_back(name);
  }
  return out;
}

std::string agentConfigurationFieldTable() {
  std::string out =
      "# AgentConfiguration fields\n"
      "\n"
      "Every field of Calico's FelixConfiguration, as Tartan's AgentConfiguration takes it. A field is\n"
      "*honoured* (the agent acts on it as Felix does), *refused* (any value but the accepted ones is\n"
      "refused by validation, so `tartanctl apply` says why and a running agent keeps the last valid\n"
      "configuration), or *reported* (accepted without effect yet: when set, in a resource or in a\n"
      "`FELIX_*`/`TARTAN_*` variable, the agent's log names it whenever the configuration is read).\n"
      "This page is printed by `tartanctl config fields`; a test keeps it equal to the code.\n"
      "\n"
      "| field | state | accepted | what Tartan does |\n"
      "|---|---|---|---|\n";
  for (const AgentConfigurationField& f : kFields) {
    std::string accepted;
    if (f.support == FieldSupport::kRefused) {
      accepted = f.accepted.empty() ? std::string("unset") : std::string(f.accepted);
      std::replace(accepted.begin(), accepted.end(), '|', ',');
    }
    out += "| `" + std::string(f.name) + "` | " + std::string(stateName(f.support)) + " | " + accepted +
           " | " + std::string(f.note) + " |\n";
  }
  return out;
}

}  // namespace tartan::model
