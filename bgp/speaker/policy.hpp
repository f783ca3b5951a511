// bgp/speaker/policy.hpp — route policy of the speaker: BGPFilter rules and BGPConfiguration
// prefix advertisements, evaluated per route with Calico's semantics.
//
// What: compileFilter() checks a BGPFilter spec once (CIDRs, communities, operators, bounds) and
// turns it into FilterRules; evaluatePolicy() runs a peer's filters, in the order its BGPPeer
// lists them, against one route and returns the first matching rule's verdict with the changes
// of its operations. As in Calico's BIRD functions (confd's template_funcs.go):
//  - every match field that is set must match (AND); a rule without match fields matches all;
//  - cidr + matchOperator: In is `net ~ cidr`, NotIn `net !~ cidr`, Equal/NotEqual exact;
//    prefixLength narrows an In/NotIn cidr to the set cidr{max(len,min), min(32|128,max)};
//  - source RemotePeers: the route was learned over BGP (BIRD RTS_BGP), not originated here;
//  - interface: the route's outgoing interface matches a BIRD pattern (`*`, `?`);
//  - peerType eBGP/iBGP: the session the filter is applied on (BIRD's is_same_as);
//  - communities: the route carries the one standard (aa:nn) or large (aa:nn:mm) value;
//  - asPathPrefix: the AS path starts with these AS numbers (BIRD [= a b * =]);
//  - priority: the route's kernel priority (krt_metric) equals the value;
//  - Accept applies its operations in order: addCommunity, prependASPath (the path then starts
//    with the given ASNs, in order), setPriority (kernel metric of the installed route);
//  - the first matching rule of the first filter that has one decides; no match anywhere leaves
//    the route to the default policy (Calico: "accept" on import, calico_export_to_bgp_peers on
//    export) — importRoute()/exportRoute() below implement that default for tartan-bgpd.
// Owns: nothing; everything here is a pure function of its arguments.
// Threading: none; safe from any thread.
// Failure: a filter the speaker cannot honour is refused by compileFilter() with the field path
// and the reason; the caller must not bring up a session that names a refused filter.
#pragma once

#include "codec/attributes.hpp"
#include "types.hpp"

#include <tartan/common/result.hpp>
#include <tartan/model/bgp.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tartan::bgp {
struct PeerInfo;
}

namespace tartan::bgp::speaker {

struct SpeakerConfig;
struct PeerSpec;

enum class PolicyDirection : std::uint8_t { kImport, kExport };
enum class MatchOperator : std::uint8_t { kEqual, kNotEqual, kIn, kNotIn };
enum class RuleAction : std::uint8_t { kAccept, kReject };
enum class PeerTypeMatch : std::uint8_t { kAny, kEbgp, kIbgp };

// What accepted routes get: the operations of an Accept rule (in order), or the communities of
// a BGPConfiguration prefix advertisement.
struct RouteChanges {
  std::vector<std::uint32_t> communities;        // RFC 1997, added when absent
  std::vector<LargeCommunity> largeCommunities;  // RFC 8092, added when absent
  std::vector<std::uint32_t> prepend;            // the AS path then starts with these, in order
  std::optional<std::uint32_t> priority;         // kernel metric for the installed route

  bool empty() const {
    return communities.empty() && largeCommunities.empty() && prepend.empty() && !priority;
  }
  bool operator==(const RouteChanges&) const = default;
};

struct FilterRule {
  std::optional<Prefix> cidr;
  MatchOperator matchOperator = MatchOperator::kIn;
  std::uint8_t minLength = 0;  // with cidr: the lengths that count as In (Calico's {min,max})
  std::uint8_t maxLength = 0;
  bool remotePeersOnly = false;
  std::string interfacePattern;  // empty: any
  PeerTypeMatch peerType = PeerTypeMatch::kAny;
  std::optional<std::uint32_t> community;
  std::optional<LargeCommunity> largeCommunity;
  std::vector<std::uint32_t> asPathPrefix;
  std::optional<std::uint32_t> priority;
  RuleAction action = RuleAction::kAccept;
  RouteChanges changes;  // Accept only

  bool operator==(const FilterRule&) const = default;
};

struct CompiledFilter {
  std::vector<FilterRule> importV4, importV6, exportV4, exportV6;

  const std::vector<FilterRule>& rules(PolicyDirection direction, Afi family) const;
  bool operator==(const CompiledFilter&) const = default;
};

// What the speaker knows about its routes: compileFilter() refuses match fields it cannot see.
struct PolicyCapabilities {
  // Interface names are known for routes read from the kernel (--announce-kernel-routes carries
  // each route's output interface); routes learned over BGP and the node's blocks have none,
  // so a rule on `interface` never matches them (BIRD's defined(ifname) fails).
  bool interfaces = true;
};

Result<CompiledFilter> compileFilter(const model::BGPFilterSpec& spec, PolicyCapabilities capabilities = {});

// "aa:nn" (16-bit parts) → a standard community; "aa:nn:mm" (32-bit parts) → a large one.
std::optional<std::variant<std::uint32_t, LargeCommunity>> parseCommunity(std::string_view text);

// BIRD's string pattern match (`*` any run, `?` one character), as `ifname ~ "eth*"`.
bool patternMatches(std::string_view pattern, std::string_view text);

// What a rule can see of one route.
struct RouteFacts {
  Prefix prefix;
  const PathAttributes* attrs = nullptr;  // as received (import) or as in the Loc-RIB (export)
  bool fromPeer = true;                   // learned over BGP rather than originated here
  std::optional<std::string> interface;   // outgoing interface, when the route's source knows it
  bool ebgp = false;                      // the session the filter applies to is eBGP
  std::optional<std::uint32_t> priority;  // kernel priority, when a filter set one
};

enum class Verdict : std::uint8_t { kNoMatch, kAccept, kReject };

struct PolicyDecision {
  Verdict verdict = Verdict::kNoMatch;
  RouteChanges changes;  // of the Accept rule that matched
};

bool ruleMatches(const FilterRule& rule, const RouteFacts& route);
PolicyDecision evaluatePolicy(const std::vector<const CompiledFilter*>& filters, PolicyDirection direction,
                              const RouteFacts& route);

// Adds the communities and prepends the AS numbers (the priority is not a path attribute).
void applyChanges(const RouteChanges& changes, PathAttributes& attrs);

// BGPConfiguration.prefixAdvertisements with community names resolved.
struct PrefixCommunities {
  Prefix cidr;
  RouteChanges changes;  // communities only
  bool operator==(const PrefixCommunities&) const = default;
};

// Calico reads the node's own BGPConfiguration ("node.<name>") if it has prefix advertisements,
// else the cluster's ("default"); names are looked up in that resource's communities, then the
// default's. An entry that does not resolve is skipped and reported.
std::vector<PrefixCommunities> compilePrefixAdvertisements(const model::BGPConfigurationSpec* node,
                                                           const model::BGPConfigurationSpec* global,
                                                           std::vector<std::string>& warnings);
// Every advertisement whose cidr contains the prefix adds its communities (BIRD `net ~ cidr`).
RouteChanges prefixAdvertisementChanges(const std::vector<PrefixCommunities>& advertisements,
                                        const Prefix& prefix);

// ---- the speaker's policy per peer: filters first, then the default -----------------------

struct ImportOutcome {
  std::optional<PathAttributes> attrs;    // nullopt: rejected
  std::optional<std::uint32_t> priority;  // setPriority of the accepting rule
};

// Whether a destination can be a route at all, as BIRD decides for every route before any
// filter runs (nest/rt-table.c rte_validate, by the class and scope of the prefix's address;
// 0.0.0.0/0 and ::/0 are universal). Never routes: IPv4 0.x.x.x but 0.0.0.0, 127/8 (host
// scope), 224/4 (multicast), 240/4 and 255.255.255.255; IPv6 fe80::/10 (link-local), ff00::/8
// (multicast), ::1 and the other addresses under ::/64 that are neither an IPv4-compatible
// (::a.b.c.d) nor an IPv4-mapped (::ffff:a.b.c.d) form of an IPv4 address that is routable.
// 169.254.0.0/16 is unicast of universe scope to BIRD, so it is routable here too.
bool routableDestination(const Prefix& prefix);

// A route received from `from` (peer AS `fromAs`). As Calico's BIRD (`import all`: "we don't
// know what the upstream topology is and therefore have to trust the ToR/RR"): a routable
// destination is imported unless one of the peer's BGPFilters rejects it; an Accept rule's
// operations apply. A destination that is no route (above) is refused before any filter, so no
// Accept rule can bring it in.
ImportOutcome importRoute(const SpeakerConfig& config, const PeerSpec& from, std::uint32_t fromAs,
                          const Prefix& prefix, PathAttributes attrs);

// Whether a route learned from a peer may be installed in this node's kernel (Calico's
// calico_kernel_programming filter): not when it lies in a service range of the cluster-wide
// BGPConfiguration (serviceClusterIPs, serviceExternalIPs, serviceLoadBalancerIPs), which
// kube-proxy owns on every node; Calico programs those ranges as "reject" CIDRs for that reason.
// The route stays in the Loc-RIB and is exported as the export policy says.
bool installLearnedRoute(const SpeakerConfig& config, const Prefix& prefix);

// The Loc-RIB's best route for a prefix, as the export policy sees it.
struct ExportCandidate {
  const PathAttributes* locRib = nullptr;  // before the eBGP/iBGP rewriting of the Rib
  bool local = false;                      // originated by this node (an IPAM block or a kernel route)
  std::optional<std::uint32_t> priority;
  bool kernel = false;                                  // a kernel route chosen by --announce-kernel-routes
  std::optional<std::string> interface = std::nullopt;  // its output interface
};

// `out` is what the Rib would send to `to` (RFC 4271 rewriting done). The peer's BGPFilters'
// export rules decide first (an Accept bypasses the default, as in Calico); without a match the
// default exports our blocks, the service ranges, the kernel routes the operator chose to announce,
// and routes inside IP pools without disableBGPExport (but not a learned route inside one of our
// blocks: Calico's calico_aggr), with the communities of BGPConfiguration prefix advertisements.
// Then BGPPeer nextHopMode applies.
std::optional<PathAttributes> exportRoute(const SpeakerConfig& config, const PeerSpec& to,
                                          const PeerInfo& toInfo, const Prefix& prefix,
                                          const ExportCandidate& best, PathAttributes out);

}  // namespace tartan::bgp::speaker
