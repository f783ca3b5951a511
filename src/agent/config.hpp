// src/agent/config.hpp — the agent's effective configuration, merged as Felix merges it.
//
// Sources, lowest to highest precedence: built-in defaults, the global AgentConfiguration
// "default", the node's own "node.<name>", then FELIX_<FIELD> and, over those, TARTAN_<FIELD>
// environment variables (field names matched case-insensitively, as Felix does), and last the
// agent's command-line flags that were given (--log-level, --health-host, --health-port): a flag
// is what the person starting this one process asked for. A field set at a
// higher level replaces the lower one wholesale (lists are not merged). Nothing is dropped in
// silence: a field Tartan does not act on yet, a refused value, and an environment variable that
// names no field each come back as a warning (see tartan/model/agent_configuration_fields.hpp).
// Pure: no I/O; the environment is passed in.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/model/agent_configuration.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::agent {

// Felix's process settings: where logs go, the health endpoint, the Prometheus endpoint. Unlike
// Felix, which restarts itself when they change, the agent applies them while it runs.
struct OperationsConfig {
  // Severities, as Felix names them (Trace, Debug, Info, Warning, Error, Fatal, Panic), or None.
  std::string logSeverityScreen = "Info";
  // Felix writes /var/log/calico/felix.log unless told "none"; Tartan writes a file only when
  // given one (its standard error is collected by its supervisor). "" is no file.
  std::string logFilePath;
  std::string logSeverityFile = "Info";
  // Felix's default is Info; Tartan sends nothing to syslog unless a severity is set.
  std::string logSeveritySys = "None";
  bool healthEnabled = true;
  std::string healthHost = "localhost";  // an IP address, "localhost" (127.0.0.1)
  int healthPort = 9099;                 // 0: a free port (from the command line only)
  bool prometheusMetricsEnabled = false;
  std::string prometheusMetricsHost;  // "": every address of the node
  int prometheusMetricsPort = 9091;
  bool prometheusProcessMetricsEnabled = true;

  bool operator==(const OperationsConfig&) const = default;
};

struct AgentConfig {
  std::string interfacePrefix = "cali";  // Felix's: pods made by Calico's CNI plugin are workloads
  std::string failsafeInboundHostPorts =
      "tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667";
  std::string failsafeOutboundHostPorts =
      "udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667";
  std::string defaultEndpointToHostAction = "Drop";
  // Felix's IptablesFilterDenyAction: Drop, or Reject (ICMP port unreachable) for every deny of
  // the filter table.
  std::string iptablesFilterDenyAction = "Drop";
  // Felix's IptablesFilterAllowAction and IptablesMangleAllowAction: Accept, or Return (our chain
  // ends and the rest of the table decides).
  std::string iptablesFilterAllowAction = "Accept";
  std::string iptablesMangleAllowAction = "Accept";
  // Felix's ChainInsertMode: our jumps first in the built-in chains (Insert) or last (Append).
  std::string chainInsertMode = "Insert";
  // Felix's InterfaceExclude: interfaces never host endpoints ("name,/regex/").
  std::string interfaceExclude = "kube-ipvs0";
  std::string iptablesBackend = "Auto";
  std::chrono::seconds iptablesRefreshInterval{90};
  std::chrono::seconds iptablesLockTimeout{10};
  std::chrono::seconds routeRefreshInterval{90};
  bool ipv6Support = true;
  std::string logPrefix = "tartan-packet";
  int maxIpsetSize = 1048576;
  // Felix writes rp_filter=1 (strict) on workload interfaces unless workloads may spoof ("Any").
  std::string workloadSourceSpoofing = "Disabled";
  // Felix's IPForwarding: the agent turns the node's forwarding on (IPv4 at once, IPv6 once there
  // is an IPv6 workload). Disabled is for nodes where Tartan only protects the host.
  bool ipForwarding = true;
  // Outgoing NAT: SNAT to this IPv4 address instead of masquerading; the source ports it may use
  // ("min:max", empty: any); only out of this interface ("eth+"; empty: any).
  std::string natOutgoingAddress;
  std::string natPortRange;
  std::string natOutgoingInterfaceFilter;
  // Felix's workload hygiene: a workload's VXLAN (UDP to vxlanPort) and IP-in-IP packets are
  // dropped unless allowed; conntrack INVALID packets are dropped unless the check is disabled.
  bool allowVXLANPacketsFromWorkloads = false;
  bool allowIPIPPacketsFromWorkloads = false;
  int vxlanPort = 4789;
  bool disableConntrackInvalidCheck = false;
  // Workload routes. Felix's deviceRouteProtocol defaults to 3 (boot), which `ip route add` uses
  // too; Tartan keeps its own 116 unless the field is set, so its routes stay its own and a node
  // upgraded from an earlier Tartan keeps them in place. Either way routes to workload interfaces
  // are taken over (removeExternalRoutes, true), Felix's leftovers included.
  int deviceRouteProtocol = 116;
  std::string deviceRouteSourceAddress;      // the src of IPv4 workload routes; "": none
  std::string deviceRouteSourceAddressIPv6;  // the src of IPv6 workload routes
  bool removeExternalRoutes = true;
  // Felix's serviceLoopPrevention (Drop, Reject, Disabled) over the service ranges of the
  // BGPConfiguration "default" (cluster, external and load-balancer IPs), which the calc loop
  // fills in: they are not an AgentConfiguration field.
  std::string serviceLoopPrevention = "Drop";
  std::vector<std::string> serviceLoopCidrs;
  OperationsConfig operations;

  bool operator==(const AgentConfig&) const = default;

  // The rp_filter value for workload interfaces.
  std::string rpFilter() const { return workloadSourceSpoofing == "Any" ? "0" : "1"; }
  // The keys a dataplane driver reads (proto/dataplane.proto ConfigUpdate).
  std::map<std::string, std::string> dataplaneConfig() const;
};

// A Go duration ("90s", "1m30s", "500ms", "1h") in whole seconds, rounded down; a bare number is
// seconds. Errors name the text.
Result<std::chrono::seconds> parseGoDuration(std::string_view text);

// Felix's failsafe-port list as the driver reads it ("tcp:22,udp:68"). Entries limited to a net
// cannot be expressed there and are left out (and reported in `dropped`).
std::string formatFailsafePorts(const std::vector<model::ProtoPort>& ports,
                                std::vector<std::string>* dropped = nullptr);

struct MergeInput {
  const model::AgentConfigurationSpec* global = nullptr;  // "default"
  const model::AgentConfigurationSpec* node = nullptr;    // "node.<name>"
  std::map<std::string, std::string> environment;         // every FELIX_* and TARTAN_* variable
  // Fields set by command-line flags that were given, by field name ("healthPort" -> "9099").
  std::map<std::string, std::string> commandLine;
};

struct MergeResult {
  AgentConfig config;
  std::vector<Error> warnings;  // a bad value is reported and the lower level kept
};

MergeResult mergeConfig(const MergeInput& input);

// The severity Felix's name (any case) or a --log-level name stands for, in Felix's spelling
// ("warn" -> "Warning", "critical" -> "Fatal", "off" -> "None"); nothing if it is neither.
std::optional<std::string> canonicalSeverity(std::string_view name);

// The FELIX_* and TARTAN_* variables of an envp-style array.
std::map<std::string, std::string> tartanEnvironment(char** envp);

}  // namespace tartan::agent
