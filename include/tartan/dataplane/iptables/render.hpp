// tartan/dataplane/iptables/render.hpp — dataplane API messages to iptables chains, purely.
//
// What: renders policies, profiles, workload and host endpoints, their dispatch chains and the
// fixed top-level chains into Chain values for one IP family. The layout follows Felix:
//   filter: INPUT/FORWARD/OUTPUT -> tartan-INPUT/FORWARD/OUTPUT -> dispatch (by interface) ->
//           endpoint chains (tartan-tw-/fw-/th-/fh-/thfw-/fhfw-) -> policy chains (tartan-pi-/po-)
//   raw:    PREROUTING/OUTPUT -> tartan-PREROUTING/OUTPUT -> host endpoints' doNotTrack policies
//   mangle: PREROUTING -> tartan-PREROUTING -> host endpoints' preDNAT policies
//   nat:    POSTROUTING -> tartan-POSTROUTING -> tartan-nat-outgoing (only while a pool masquerades)
// tartan-FORWARD accepts established and related packets to and from workloads before any
// dispatch, so an established workload flow costs one or two rules; endpoint chains start with
// the same test (and drop invalid packets) for every other path. Each tier is evaluated with the
// accept/pass mark bits and ends with the tier's default action. A packet that a host endpoint's
// doNotTrack (raw) or preDNAT (mangle) policy allowed keeps the accept bit into the filter table
// and skips the host endpoint's later policies there, as in Calico; workload policy still applies.
// Owns nothing; no I/O; safe to call from any thread. Bad input (an address of the wrong family,
// ports without a port protocol) makes a rule render to nothing for that family; a malformed
// rule (invalidRuleReason) renders to nothing and is logged, rather than failing the batch.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/dataplane/iptables/chain.hpp"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tartan::dataplane::proto {
class Rule;
class Policy;
class PolicyID;
class Profile;
class WorkloadEndpoint;
class HostEndpoint;
}  // namespace tartan::dataplane::proto

namespace tartan::dataplane::iptables {

enum class EndpointToHostAction { kDrop, kReturn, kAccept };
// Felix's iptablesFilterDenyAction: how the filter table says no.
enum class FilterDenyAction { kDrop, kReject };
// Felix's iptablesFilterAllowAction and iptablesMangleAllowAction: how the table says yes.
enum class AllowAction { kAccept, kReturn };

struct FailsafePort {
  std::string protocol;  // tcp | udp | sctp
  int port = 0;
  bool operator==(const FailsafePort&) const = default;
};

// Felix's interfaceExclude: interfaces never treated as host endpoints. A name matches itself; a
// "/regex/" entry matches any name it finds a match in (unanchored, as Go's MatchString).
struct InterfaceExclude {
  std::vector<std::string> names;
  std::vector<std::string> patterns;  // ECMAScript regular expressions, without the slashes
  bool operator==(const InterfaceExclude&) const = default;
};
// "kube-ipvs0,/^veth/" -> the entries; an error names the bad one (an empty entry, a name that
// is not an interface name, a pattern that does not compile).
Result<InterfaceExclude> parseInterfaceExclude(std::string_view text);
bool isExcludedInterface(const InterfaceExclude& exclude, std::string_view name);

struct RenderConfig {
  std::vector<std::string> interfacePrefixes{"cali"};  // Felix's default
  std::vector<FailsafePort> failsafeInbound;
  std::vector<FailsafePort> failsafeOutbound;
  EndpointToHostAction endpointToHost = EndpointToHostAction::kDrop;
  // The verdict of every deny in the filter table: a policy's Deny rule, the end of a tier and of
  // the profiles, an INVALID packet, an inactive endpoint, a workload interface no endpoint
  // claims. Reject answers with the kernel's default (ICMP port unreachable), as Felix's
  // "-j REJECT". Raw and mangle (doNotTrack, preDNAT) always drop: REJECT is not valid there.
  FilterDenyAction filterDeny = FilterDenyAction::kDrop;
  // Where Felix's allow is "-j ACCEPT" (the accept bit at the end of tartan-INPUT, -FORWARD and
  // -OUTPUT, established and related flows, the workload-to-host ICMPv6 and neighbour discovery
  // rules; in mangle the same for preDNAT), Return ends our chain instead and lets the rest of
  // the table decide. Endpoint chains then set the accept bit before returning, so the top-level
  // chain knows. Failsafe rules, raw and the workload-to-host default keep their own verdicts.
  AllowAction filterAllow = AllowAction::kAccept;
  AllowAction mangleAllow = AllowAction::kAccept;
  // Interfaces the every-interface host endpoint ("*") leaves alone, as it leaves loopback: the
  // interfaceExclude names, and the existing interfaces its patterns match (the driver resolves them).
  std::vector<std::string> excludedInterfaces{"kube-ipvs0"};
  std::string logPrefix = "tartan-packet";
  // Felix's allowVXLANPacketsFromWorkloads and allowIPIPPacketsFromWorkloads: unless allowed, a
  // workload's own VXLAN (UDP to vxlanPort) and IP-in-IP (protocol 4) packets are denied in its
  // from-workload chain before any policy, as Felix does: encapsulation would carry a packet past
  // egress policy. Tartan has no overlay of its own; the rules protect other nodes' tunnels.
  bool allowVxlanFromWorkloads = false;
  bool allowIpipFromWorkloads = false;
  int vxlanPort = 4789;
  // Felix's disableConntrackInvalidCheck: false (the default) denies packets conntrack calls
  // INVALID at the top of every tracked endpoint chain; true lets them on to policy.
  bool dropInvalid = true;
  // Felix's serviceLoopPrevention: forwarded packets still addressed to a service range of the
  // BGPConfiguration (serviceClusterIPs, serviceExternalIPs, serviceLoadBalancerIPs) after
  // kube-proxy had its chance to DNAT them are dropped or rejected in tartan-cidr-block, jumped
  // to at the end of tartan-FORWARD, so an advertised range without a local backend does not loop
  // between the node and its router. kDisabled (or no range of the family): neither chain nor jump.
  enum class ServiceLoop { kDrop, kReject, kDisabled };
  ServiceLoop serviceLoop = ServiceLoop::kDrop;
  std::vector<std::string> serviceLoopCidrs;  // both families; each family takes its own
  // Outgoing NAT (AgentConfiguration natOutgoingAddress, natPortRange,
  // iptablesNATOutgoingInterfaceFilter) and whether iptables and the kernel take --random-fully.
  std::string natOutgoingAddress;      // an IPv4 address: SNAT to it; empty: MASQUERADE
  int natPortMin = 0, natPortMax = 0;  // 0: any source port
  std::string natInterfaceFilter;      // -o this ("eth+"); empty: any interface
  bool randomFully = false;
  bool operator==(const RenderConfig&) const = default;
};

// The target of a filter-table deny: "-j DROP" or "-j REJECT".
std::string filterDenyTarget(const RenderConfig& config);
// The target of an allow: "-j ACCEPT" or "-j RETURN".
std::string allowTarget(AllowAction action);

// The defaults of RenderConfig's failsafe ports, as Felix's.
std::vector<FailsafePort> defaultFailsafeInbound();
std::vector<FailsafePort> defaultFailsafeOutbound();
// "tcp:22,udp:68" -> ports; an error names the bad entry.
Result<std::vector<FailsafePort>> parseFailsafePorts(std::string_view text);

// ---- Rules and policies
// Why a rule cannot be rendered at all (a bad CIDR, port range, protocol, ICMP value), or "".
// Such a rule is left out, so that it cannot make iptables-restore reject the whole batch.
std::string invalidRuleReason(const proto::Rule& rule);
// The iptables rules for one abstract rule (none if it cannot match in this family).
std::vector<Rule> renderRule(const proto::Rule& rule, IpFamily family, const RenderConfig& config);
// The inbound and outbound chains of a policy (always both, possibly empty).
std::vector<Chain> renderPolicy(const proto::PolicyID& id, const proto::Policy& policy, IpFamily family,
                                const RenderConfig& config);
std::vector<Chain> renderProfile(std::string_view id, const proto::Profile& profile, IpFamily family,
                                 const RenderConfig& config);
// Every IP set a policy or profile refers to: (id, used as a named-port set).
using IpSetRefs = std::set<std::pair<std::string, bool>>;
void collectIpSetIds(const proto::Policy& policy, IpSetRefs& out);
void collectIpSetIds(const proto::Profile& profile, IpSetRefs& out);

// ---- Endpoints (to-/from- chains, filter table)
// 1 to 15 characters (IFNAMSIZ - 1), none of them blank, '/', '"', '+' or '!'.
bool isValidInterfaceName(std::string_view name);

std::vector<Chain> renderWorkloadEndpoint(const proto::WorkloadEndpoint& endpoint, IpFamily family,
                                          const RenderConfig& config);

struct TableChains {
  std::vector<Chain> filter;
  std::vector<Chain> raw;
  std::vector<Chain> mangle;
  std::vector<Chain> nat;
};
// `interface` overrides endpoint.name() (for an endpoint found by its expected IPs).
TableChains renderHostEndpoint(const proto::HostEndpoint& endpoint, const std::string& interface,
                               IpFamily family, const RenderConfig& config);

// ---- Dispatch and fixed chains
// `interfaces` are the workload interface names, any order.
std::vector<Chain> renderWorkloadDispatch(std::vector<std::string> interfaces, const RenderConfig& config);

struct HostDispatchEntry {
  std::string interface;  // or "*"
  bool hasForward = false;
  bool hasUntracked = false;
  bool hasPreDnat = false;
};
// The dispatch entry of a host endpoint on `interface` (its name, or one its expected IPs resolved to).
HostDispatchEntry hostDispatchEntry(const proto::HostEndpoint& endpoint, std::string interface);
TableChains renderHostDispatch(std::vector<HostDispatchEntry> endpoints, const RenderConfig& config);

// The top-level chains, the workload-to-host chain and the failsafe chains.
TableChains renderStaticChains(IpFamily family, const RenderConfig& config);

// ---- Outgoing NAT (nat table), as Felix's cali-nat-outgoing
// tartan-POSTROUTING (jumped to from POSTROUTING) and tartan-nat-outgoing for one family, when
// some pool of that family masquerades: a packet from a masquerading pool (set
// names::kMasqIpamPoolsSet) to anywhere outside every pool (kAllIpamPoolsSet) leaves with the
// node's address (MASQUERADE) or natOutgoingAddress (SNAT, IPv4 only), ports from natPortRange
// for TCP and UDP when set. No chains at all when no pool of the family masquerades.
TableChains renderNatOutgoing(bool masquerading, IpFamily family, const RenderConfig& config);

// A jump inserted at the top of a built-in chain.
struct Hook {
  std::string table;    // "filter", "raw", "mangle"
  std::string builtin;  // "INPUT"
  std::string target;   // "tartan-INPUT"
  bool operator==(const Hook&) const = default;
};
std::vector<Hook> hooks();

}  // namespace tartan::dataplane::iptables
