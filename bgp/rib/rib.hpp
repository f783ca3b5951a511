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
#include "rib/loc_rib_table.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace tartan::bgp {

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
  // How often our AS may appear in an eBGP route's AS_PATH before it counts as a loop (BGPPeer
  // numAllowedLocalASNumbers, BIRD's `allow local as`): 0 is RFC 4271's rule.
  std::uint32_t allowLocalAs = 0;
  // Keep this peer's Adj-RIB-In (when RibConfig::keepAdjRibIn allows): a speaker needs it only
  // for peers whose import policy it must re-run on routes as received.
  bool keepAdjRibIn = true;
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
// An ImportFilter only accepts or rejects by prefix: it runs without copying the attributes, so
// a full table is imported at the cost of one call per prefix (the speaker's IP pool and
// BGPFilter checks are of this kind). Both may be set; the filter runs first.
using ImportFilter = std::function<bool(const PeerInfo& from, const Prefix&)>;
using ImportPolicy =
    std::function<std::optional<PathAttributes>(const PeerInfo& from, const Prefix&, PathAttributes)>;
using ExportPolicy =
    std::function<std::optional<PathAttributes>(const PeerInfo& to, const Prefix&, PathAttributes)>;
// IGP cost to a next hop; nullopt when unknown (decision step e is then skipped for it).
using IgpCost = std::function<std::optional<std::uint32_t>(const Address& nextHop)>;

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
  void setImportFilter(ImportFilter filter) { importFilter_ = std::move(filter); }
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
  // Calls f(const LocRibEntry&) for every prefix of the Loc-RIB, in no particular order.
  template <class F>
  void forEachLocRib(F&& f) const {
    locRib_.forEach(std::forward<F>(f));
  }
  // Routes of a peer now candidates in the Loc-RIB (accepted by loop checks and import policy).
  std::size_t acceptedCount(PeerId peer) const;
  // Routes a peer announces now, accepted or not (its Adj-RIB-In size, also when not kept).
  std::size_t receivedCount(PeerId peer) const;
  // nullptr for an unknown peer, or when keepAdjRibIn is off (for the RIB or that peer).
  const RouteTable* adjRibIn(PeerId peer) const;
  const RouteTable* adjRibOut(PeerId peer) const;
  // Prefixes whose best path or ECMP set changed since they were last taken (for the FIB), at
  // most max of them, oldest change first. A prefix changed again before it is taken is queued
  // once: the queue is a mark in the Loc-RIB entry, so a slow kernel costs 4 bytes per prefix.
  std::vector<Prefix> takeChangedPrefixes(std::size_t max = SIZE_MAX);
  std::size_t changedCount() const { return locRib_.dirtyCount(); }
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
    bool up = true;            // session established: exports are queued only then
    std::size_t accepted = 0;  // its paths among the Loc-RIB candidates
    // Without an Adj-RIB-In, the routes it announces that were not accepted (usually few), so
    // that what it sends can still be counted.
    boost::unordered_flat_set<NlriEntry, std::hash<NlriEntry>> rejected;
  };

  ImportResult loopCheck(const PeerInfo& from, const PathAttributes& attrs) const;
  bool keepsAdjIn(const PeerState& peer) const { return config_.keepAdjRibIn && peer.info.keepAdjRibIn; }
  // announce() with the attributes interned and loop-checked once for a whole UPDATE.
  ImportResult announceChecked(PeerState& from, const NlriEntry& route, const PathAttributes& attrs,
                               const Attrs& received, ImportResult loop);
  void setCandidate(const Prefix& prefix, PeerId peer, std::uint32_t pathId, Attrs attrs);
  void removeCandidate(const Prefix& prefix, PeerId peer, std::uint32_t pathId);
  std::vector<NlriEntry> routesOf(PeerId peer, std::optional<Afi> family) const;
  // Re-runs the decision process; selectedChanged says a path of the old ECMP set was replaced
  // or removed, so the result counts as changed even if the same paths win.
  void decide(LocRibEntry& entry, bool selectedChanged);
  // The entry's best path or ECMP set changed: queued for the kernel and every peer.
  void changed(LocRibEntry& entry);
  void exportPrefix(const Prefix& prefix, PeerState& to);
  std::optional<PathAttributes> exportAttrs(const Prefix& prefix, const Route& best,
                                            const PeerInfo& to) const;
  const PeerInfo* peerInfo(PeerId id) const;

  // Declared first so it is destroyed last: every table below holds handles into it.
  AttrStore store_;
  RibConfig config_;
  PeerInfo local_;
  ImportPolicy importPolicy_;
  ImportFilter importFilter_;
  ExportPolicy exportPolicy_;
  IgpCost igpCost_;
  std::map<PeerId, PeerState> peers_;
  LocRibTable locRib_;
};

}  // namespace tartan::bgp
