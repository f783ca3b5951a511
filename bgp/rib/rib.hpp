// bgp/rib/rib.hpp — Adj-RIB-In, Loc-RIB and Adj-RIB-Out of the speaker (RFC 4271 §3.2, §9).
//
// What: routes come in per peer (announce/withdraw, or a decoded UPDATE with its RFC 7606
// outcome), are loop-checked (AS_PATH, RFC 4456 ORIGINATOR_ID/CLUSTER_LIST) and run through the
// import policy into the Loc-RIB, where the decision process picks a best path and an ECMP set
// per prefix. Every best-path change is exported to every peer: split horizon, well-known
// communities, route-reflection rules (RFC 4456 §6), eBGP/iBGP attribute rewriting, then the
// export-policy hook; the result is diffed against that peer's Adj-RIB-Out and queued.
// takeOutbound() hands the queue to packUpdates() (packing.hpp) for the wire.
// Owns: the interned attribute store and every table. Memory: a route is a prefix plus an 8-byte
// attribute handle; attribute sets are shared.
// Threading: not thread-safe; one strand owns the Rib. Pure: no I/O, no clocks.
#pragma once

#include "codec/message.hpp"
#include "rib/attr_store.hpp"
#include "rib/decision.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace tartan::bgp {

using PeerId = std::uint32_t;
inline constexpr PeerId kLocalPeer = 0;  // routes this speaker originates

struct PeerInfo {
  PeerId id = 0;
  Address address;             // the peer's address (decision step g)
  std::uint32_t routerId = 0;  // its BGP Identifier
  std::uint32_t asn = 0;
  bool routeReflectorClient = false;
  bool nextHopSelf = false;  // rewrite next hop on eBGP-learned routes sent over iBGP
  Address localAddress;      // our IPv4 address towards it: next hop self
  std::optional<Address> localAddressV6;
  std::optional<Address> localLinkLocal;
  std::vector<AfiSafi> families{kIpv4Unicast, kIpv6Unicast};  // negotiated
  // RFC 4271 §6.3 / RFC 7606 §7.2: from an eBGP peer the leftmost AS must be the peer's (off for
  // route servers, which do not prepend themselves).
  bool enforceFirstAs = true;
};

struct RibConfig {
  std::uint32_t localAs = 0;
  std::uint32_t routerId = 0;
  bool routeReflector = false;
  std::optional<std::uint32_t> clusterId;  // defaults to routerId (RFC 4456 §7)
  std::size_t maxPaths = 1;                // ECMP width kept in the Loc-RIB (at most 255)
  // Keep each peer's routes as received, before import policy (RFC 4271 §3.2 Adj-RIB-In), so a
  // policy change can be re-applied without a ROUTE-REFRESH. Off saves a table entry per route.
  bool keepAdjRibIn = true;
};

// A hook returns the (possibly changed) attributes, or nullopt to reject the route.
using ImportPolicy =
    std::function<std::optional<PathAttributes>(const PeerInfo& from, const Prefix&, PathAttributes)>;
using ExportPolicy =
    std::function<std::optional<PathAttributes>(const PeerInfo& to, const Prefix&, PathAttributes)>;
// IGP cost to a next hop; nullopt when unknown (decision step e is then skipped for it).
using IgpCost = std::function<std::optional<std::uint32_t>(const Address& nextHop)>;

struct Route {
  PeerId peer = 0;
  std::uint32_t pathId = 0;
  Attrs attrs;
};

// One prefix of the Loc-RIB. Every usable candidate is kept, ordered so that paths[0] is the
// best and paths[0, multipathCount) the ECMP set: no index vectors, and a prefix with one path
// (the common case) needs no allocation beyond its table slot.
struct LocRibEntry {
  boost::container::small_vector<Route, 1> paths;
  std::uint8_t multipathCount = 0;
  DecisionStep decidedBy = DecisionStep::kOnlyCandidate;

  const Route& bestRoute() const { return paths.front(); }
  std::span<const Route> multipath() const { return {paths.data(), multipathCount}; }
};

// Routes of one peer keyed by prefix and path id. Open addressing: no allocation per route.
using RouteTable = boost::unordered_flat_map<NlriEntry, Attrs, std::hash<NlriEntry>>;

enum class ImportResult {
  kAccepted,
  kAsLoop,
  kFirstAsMismatch,
  kOriginatorLoop,
  kClusterLoop,
  kRejectedByPolicy,
  kUnknownPeer,
};

// Outgoing changes for one peer, grouped by identical attribute sets.
struct OutboundBatch {
  std::vector<NlriEntry> withdrawn;
  std::vector<std::pair<Attrs, std::vector<NlriEntry>>> announced;
  bool empty() const { return withdrawn.empty() && announced.empty(); }
};

class Rib {
 public:
  explicit Rib(RibConfig config);
  ~Rib();
  Rib(const Rib&) = delete;
  Rib& operator=(const Rib&) = delete;

  // A peer whose session came up; its Adj-RIB-Out is filled with the current best paths. For a
  // peer that was restarting (markStale), its retained routes stay until swept.
  void addPeer(const PeerInfo& peer);
  // Session down: its routes are withdrawn everywhere and its tables dropped.
  void removePeer(PeerId peer);
  // Session down with graceful restart (RFC 4724 §4.2): the peer's routes are kept but marked
  // stale, and nothing is sent to it until addPeer. Routes it announces again lose the mark.
  void markStale(PeerId peer);
  // End-of-RIB for a family, or the restart timer ran out: the still-stale routes go.
  void sweepStale(PeerId peer, Afi family);
  std::size_t staleCount(PeerId peer) const;

  void setImportPolicy(ImportPolicy policy) { importPolicy_ = std::move(policy); }
  void setExportPolicy(ExportPolicy policy) { exportPolicy_ = std::move(policy); }
  void setIgpCost(IgpCost cost) { igpCost_ = std::move(cost); }

  // attrs must not carry MP_REACH NLRI or MP_UNREACH; for IPv6 the next hop rides in
  // attrs.mpReach (family and next hops, empty NLRI).
  ImportResult announce(PeerId peer, const NlriEntry& route, const PathAttributes& attrs);
  void withdraw(PeerId peer, const NlriEntry& route);
  // Applies a decoded UPDATE and its RFC 7606 outcome: treat-as-withdraw turns every prefix of
  // the message into a withdrawal; AFI/SAFI disable flushes that family from the peer.
  void applyUpdate(PeerId peer, const Update& update, const UpdateOutcome& outcome);
  // All routes of one family from a peer go (RFC 7606 AFI/SAFI disable, or End-of-RIB cleanup).
  void flushFamily(PeerId peer, Afi family);

  void originate(const Prefix& prefix, PathAttributes attrs);
  void withdrawOriginated(const Prefix& prefix);

  const LocRibEntry* locRib(const Prefix& prefix) const;
  std::size_t locRibSize() const { return locRib_.size(); }
  // nullptr for an unknown peer, or when keepAdjRibIn is off.
  const RouteTable* adjRibIn(PeerId peer) const;
  const RouteTable* adjRibOut(PeerId peer) const;
  // Prefixes whose best path or ECMP set changed since the last call (for the FIB).
  std::vector<Prefix> takeChangedPrefixes();
  // The changes queued for a peer since the last call, in prefix order.
  OutboundBatch takeOutbound(PeerId peer);
  // ROUTE-REFRESH received (RFC 2918 §4): queue the peer's whole Adj-RIB-Out of that family again.
  void refreshPeer(PeerId peer, Afi family);

  AttrStore& attrStore() { return store_; }
  std::uint32_t clusterId() const { return config_.clusterId.value_or(config_.routerId); }

 private:
  struct PeerState {
    PeerInfo info;
    RouteTable adjIn;    // as received (pre-policy), when keepAdjRibIn
    RouteTable adjOut;   // as last queued for sending
    RouteTable pending;  // empty Attrs = withdraw
    boost::unordered_flat_set<NlriEntry, std::hash<NlriEntry>> stale;  // graceful restart
    bool up = true;  // session established: exports are queued only then
  };

  ImportResult loopCheck(const PeerInfo& from, const PathAttributes& attrs) const;
  void setCandidate(const Prefix& prefix, PeerId peer, std::uint32_t pathId, Attrs attrs);
  void removeCandidate(const Prefix& prefix, PeerId peer, std::uint32_t pathId);
  std::vector<NlriEntry> routesOf(PeerId peer, std::optional<Afi> family) const;
  // Re-runs the decision process; selectedChanged says a path of the old ECMP set was replaced
  // or removed, so the result counts as changed even if the same paths win.
  void decide(const Prefix& prefix, bool selectedChanged);
  void exportPrefix(const Prefix& prefix, PeerState& to);
  std::optional<PathAttributes> exportAttrs(const Prefix& prefix, const Route& best,
                                            const PeerInfo& to) const;
  const PeerInfo* peerInfo(PeerId id) const;

  // Declared first so it is destroyed last: every table below holds handles into it.
  AttrStore store_;
  RibConfig config_;
  PeerInfo local_;
  ImportPolicy importPolicy_;
  ExportPolicy exportPolicy_;
  IgpCost igpCost_;
  std::map<PeerId, PeerState> peers_;
  boost::unordered_flat_map<Prefix, LocRibEntry, std::hash<Prefix>> locRib_;
  boost::unordered_flat_set<Prefix, std::hash<Prefix>> changed_;
};

}  // namespace tartan::bgp
