#include "rib/rib.hpp"

#include <algorithm>

namespace tartan::bgp {
namespace {

bool hasCommunity(const PathAttributes& a, std::uint32_t c) {
  return a.communities && std::find(a.communities->begin(), a.communities->end(), c) != a.communities->end();
}

bool familyOf(const PeerInfo& peer, Afi afi) {
  return std::any_of(peer.families.begin(), peer.families.end(), [&](AfiSafi f) { return f.afi == afi; });
}

}  // namespace

Rib::Rib(RibConfig config) : config_(config) {
  local_.id = kLocalPeer;
  local_.routerId = config_.routerId;
  local_.asn = config_.localAs;
}

Rib::~Rib() {
  // Tables go before the store (member order); nothing else to do.
}

const PeerInfo* Rib::peerInfo(PeerId id) const {
  if (id == kLocalPeer) return &local_;
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second.info;
}

void Rib::addPeer(const PeerInfo& peer) {
  auto& state = peers_[peer.id];
  state.info = peer;
  state.up = true;
  if (!keepsAdjIn(state)) state.adjIn = {};
  // A new session starts from an empty Adj-RIB-Out: everything is sent again.
  state.adjOut = {};
  state.pending = {};
  locRib_.forEach([&](const LocRibEntry& entry) { exportPrefix(entry.prefix(), state); });
}

void Rib::markStale(PeerId peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  auto routes = routesOf(peer, std::nullopt);
  it->second.stale.insert(routes.begin(), routes.end());
  it->second.up = false;
  it->second.adjOut = {};
  it->second.pending = {};
}

void Rib::sweepStale(PeerId peer, Afi family) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  std::vector<NlriEntry> routes;
  for (const auto& r : it->second.stale)
    if (r.prefix.family() == family) routes.push_back(r);
  for (const auto& r : routes) withdraw(peer, r);
}

std::size_t Rib::staleCount(PeerId peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.stale.size();
}

void Rib::removePeer(PeerId peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  it->second.up = false;  // nothing more is queued for it while its routes go
  for (const auto& route : routesOf(peer, std::nullopt)) withdraw(peer, route);
  peers_.erase(peer);
}

std::vector<NlriEntry> Rib::routesOf(PeerId peer, std::optional<Afi> family) const {
  std::vector<NlriEntry> routes;
  const auto wanted = [&](const Prefix& p) { return !family || p.family() == *family; };
  auto state = peers_.find(peer);
  if (state != peers_.end() && keepsAdjIn(state->second)) {
    auto it = state;
    for (const auto& [route, attrs] : it->second.adjIn)
      if (wanted(route.prefix)) routes.push_back(route);
    return routes;
  }
  // Without an Adj-RIB-In the Loc-RIB is the only record: a full walk, as BIRD's flush does.
  locRib_.forEach([&](const LocRibEntry& entry) {
    if (wanted(entry.prefix()))
      for (const auto& path : entry.paths_)
        if (path.peer == peer) routes.push_back(NlriEntry{entry.prefix(), path.pathId});
  });
  return routes;
}

ImportResult Rib::loopCheck(const PeerInfo& from, const PathAttributes& attrs) const {
  // RFC 4271 §9.1.2: a route whose AS_PATH holds our AS came back to us (unless the peer is
  // allowed that many of them).
  const bool external = from.asn != config_.localAs;
  if (external && attrs.asPath && asPathCount(*attrs.asPath, config_.localAs) > from.allowLocalAs)
    return ImportResult::kAsLoop;
  // RFC 4271 §6.3 (and RFC 7606 §7.2: treat-as-withdraw): an eBGP peer's AS comes first.
  if (external && from.enforceFirstAs && (!attrs.asPath || neighbourAs(*attrs.asPath) != from.asn))
    return ImportResult::kFirstAsMismatch;
  // RFC 4456 §8: our own ORIGINATOR_ID, or our CLUSTER_ID in CLUSTER_LIST, is a reflection loop.
  if (attrs.originatorId == config_.routerId) return ImportResult::kOriginatorLoop;
  if (attrs.clusterList && std::find(attrs.clusterList->begin(), attrs.clusterList->end(), clusterId()) !=
                               attrs.clusterList->end())
    return ImportResult::kClusterLoop;
  return ImportResult::kAccepted;
}

ImportResult Rib::announce(PeerId peer, const NlriEntry& route, const PathAttributes& attrs) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return ImportResult::kUnknownPeer;
  return announceChecked(it->second, route, attrs, store_.intern(attrs), loopCheck(it->second.info, attrs));
}

ImportResult Rib::announceChecked(PeerState& from, const NlriEntry& route, const PathAttributes& attrs,
                                  const Attrs& received, ImportResult loop) {
  const PeerId peer = from.info.id;
  if (!from.stale.empty()) from.stale.erase(route);
  if (keepsAdjIn(from)) from.adjIn.insert_or_assign(route, received);

  ImportResult result = loop;
  if (result == ImportResult::kAccepted && importFilter_ && !importFilter_(from.info, route.prefix))
    result = ImportResult::kRejectedByPolicy;
  Attrs imported = received;
  if (result == ImportResult::kAccepted && importPolicy_) {
    auto changed = importPolicy_(from.info, route.prefix, attrs);
    if (!changed)
      result = ImportResult::kRejectedByPolicy;
    else if (!(*changed == attrs))
      imported = store_.intern(*changed);
  }
  if (!keepsAdjIn(from)) {
    if (result != ImportResult::kAccepted)
      from.rejected.insert(route);
    else if (!from.rejected.empty())
      from.rejected.erase(route);
  }
  if (result != ImportResult::kAccepted) {
    // A rejected route replaces (so withdraws) whatever the peer sent before for it.
    removeCandidate(route.prefix, peer, route.pathId);
    return result;
  }
  setCandidate(route.prefix, peer, route.pathId, std::move(imported));
  return ImportResult::kAccepted;
}

void Rib::withdraw(PeerId peer, const NlriEntry& route) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  if (keepsAdjIn(it->second)) it->second.adjIn.erase(route);
  if (!it->second.stale.empty()) it->second.stale.erase(route);
  if (!it->second.rejected.empty()) it->second.rejected.erase(route);
  removeCandidate(route.prefix, peer, route.pathId);
}

void Rib::flushFamily(PeerId peer, Afi family) {
  for (const auto& route : routesOf(peer, family)) withdraw(peer, route);
  if (auto it = peers_.find(peer); it != peers_.end())
    boost::unordered::erase_if(it->second.rejected,
                               [&](const NlriEntry& r) { return r.prefix.family() == family; });
}

void Rib::applyUpdate(PeerId peer, const Update& update, const UpdateOutcome& outcome) {
  if (outcome.action == ErrorAction::kSessionReset) return;  // the FSM tears the session down
  // RFC 7606 §2 AFI/SAFI disable: the family's routes from this peer go, and its NLRI is ignored.
  const auto disabled = [&](Afi afi) {
    return std::any_of(outcome.disabledFamilies.begin(), outcome.disabledFamilies.end(),
                       [&](AfiSafi f) { return f.afi == afi; });
  };
  for (const auto& f : outcome.disabledFamilies) flushFamily(peer, f.afi);
  const auto& a = update.attributes;
  if (!disabled(Afi::kIpv4))
    for (const auto& r : update.withdrawn) withdraw(peer, r);
  if (a.mpUnreach && !disabled(a.mpUnreach->family.afi))
    for (const auto& r : a.mpUnreach->withdrawn) withdraw(peer, r);
  // RFC 7606 §2: treat-as-withdraw handles every prefix of the UPDATE as withdrawn.
  const bool asWithdraw = outcome.treatAsWithdraw;
  PathAttributes base = a;
  base.mpReach.reset();
  base.mpUnreach.reset();
  mergeAs4(base);  // RFC 6793 §4.2.3; a no-op for 4-octet peers, whose AS4 attributes were discarded
  // Every prefix of an UPDATE shares its attributes: interned and loop-checked once, not per
  // prefix (a full table arrives as a few hundred prefixes per UPDATE).
  const auto announceAll = [&](const std::vector<NlriEntry>& nlri, const PathAttributes& attrs) {
    if (nlri.empty()) return;
    if (asWithdraw) {
      for (const auto& r : nlri) withdraw(peer, r);
      return;
    }
    auto it = peers_.find(peer);
    if (it == peers_.end()) return;
    const Attrs received = store_.intern(attrs);
    const ImportResult loop = loopCheck(it->second.info, attrs);
    for (const auto& r : nlri) announceChecked(it->second, r, attrs, received, loop);
  };
  if (!disabled(Afi::kIpv4)) announceAll(update.nlri, base);
  if (a.mpReach && !disabled(a.mpReach->family.afi)) {
    PathAttributes mp = base;
    // IPv4 learned through MP_REACH_NLRI is stored like any IPv4 route, with a NEXT_HOP.
    if (a.mpReach->family.afi == Afi::kIpv4) {
      mp.nextHop = a.mpReach->nextHop;
    } else {
      mp.nextHop.reset();
      mp.mpReach = MpReach{a.mpReach->family, a.mpReach->nextHop, a.mpReach->linkLocal, {}};
    }
    announceAll(a.mpReach->nlri, mp);
  }
}

void Rib::originate(const Prefix& prefix, PathAttributes attrs) {
  if (!attrs.origin) attrs.origin = Origin::kIgp;
  if (!attrs.asPath) attrs.asPath = AsPath{};
  setCandidate(prefix, kLocalPeer, 0, store_.intern(std::move(attrs)));
}

void Rib::withdrawOriginated(const Prefix& prefix) { removeCandidate(prefix, kLocalPeer, 0); }

void Rib::setCandidate(const Prefix& prefix, PeerId peer, std::uint32_t pathId, Attrs attrs) {
  LocRibEntry& entry = locRib_.obtain(prefix);
  std::size_t count = entry.paths_.size();
  Route* paths = entry.paths_.data();
  for (std::size_t i = 0; i < count; ++i) {
    auto& path = paths[i];
    if (path.peer == peer && path.pathId == pathId) {
      if (path.attrs == attrs) return;  // nothing changed
      path.attrs = std::move(attrs);
      decide(entry, i < entry.multipathCount_);
      return;
    }
  }
  if (count == 0) {
    // The common case, a prefix with one path: no vector, no decision to run.
    entry.paths_.one_ = Route{peer, pathId, std::move(attrs)};
    locRib_.addLive(1);
  } else {
    auto all = entry.paths_.take();
    all.push_back(Route{peer, pathId, std::move(attrs)});
    entry.paths_.set(std::move(all));
  }
  if (peer != kLocalPeer)
    if (auto it = peers_.find(peer); it != peers_.end()) ++it->second.accepted;
  decide(entry, false);
}

void Rib::removeCandidate(const Prefix& prefix, PeerId peer, std::uint32_t pathId) {
  LocRibEntry* entry = locRib_.findAny(prefix);
  if (!entry) return;
  std::size_t count = entry->paths_.size();
  Route* paths = entry->paths_.data();
  std::size_t at = count;
  for (std::size_t i = 0; i < count; ++i)
    if (paths[i].peer == peer && paths[i].pathId == pathId) at = i;
  if (at == count) return;
  const bool selected = at < entry->multipathCount_;
  auto all = entry->paths_.take();
  all.erase(all.begin() + static_cast<std::ptrdiff_t>(at));
  entry->paths_.set(std::move(all));
  if (entry->paths_.empty()) locRib_.addLive(-1);
  if (peer != kLocalPeer)
    if (auto it = peers_.find(peer); it != peers_.end() && it->second.accepted > 0) --it->second.accepted;
  decide(*entry, selected);
}

std::size_t Rib::receivedCount(PeerId peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return 0;
  if (keepsAdjIn(it->second)) return it->second.adjIn.size();
  return it->second.accepted + it->second.rejected.size();
}

std::size_t Rib::acceptedCount(PeerId peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.accepted;
}

void Rib::changed(LocRibEntry& entry) {
  locRib_.markDirty(entry);
  const Prefix prefix = entry.prefix();  // the entry may be freed below
  for (auto& [id, peer] : peers_) exportPrefix(prefix, peer);
}

void Rib::decide(LocRibEntry& entry, bool selectedChanged) {
  if (entry.paths_.empty()) {
    entry.multipathCount_ = 0;
    changed(entry);
    if (LocRibEntry* e = locRib_.findAny(entry.prefix())) locRib_.releaseIfUnused(*e);
    return;
  }
  std::size_t count = entry.paths_.size();
  Route* paths = entry.paths_.data();
  // What was selected before, to tell whether anything visible changed.
  boost::container::small_vector<std::pair<PeerId, std::uint32_t>, 4> before;
  for (std::size_t i = 0; i < entry.multipathCount_ && i < count; ++i)
    before.emplace_back(paths[i].peer, paths[i].pathId);
  Attrs bestBefore = entry.multipathCount_ ? paths[0].attrs : Attrs{};

  if (count == 1) {
    entry.multipathCount_ = 1;
    entry.decidedBy_ = DecisionStep::kOnlyCandidate;
  } else {
    std::vector<Candidate> candidates;
    candidates.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Route& path = paths[i];
      const PeerInfo* from = peerInfo(path.peer);
      Candidate c;
      c.attrs = &*path.attrs;
      c.local = path.peer == kLocalPeer;
      c.external = from && from->asn != config_.localAs;
      c.peerRouterId = from ? from->routerId : 0;
      if (from) c.peerAddress = from->address;
      c.pathId = path.pathId;
      if (igpCost_) {
        const auto& a = *path.attrs;
        if (a.nextHop)
          c.igpCost = igpCost_(*a.nextHop);
        else if (a.mpReach)
          c.igpCost = igpCost_(a.mpReach->nextHop);
      }
      candidates.push_back(c);
    }
    const Selection sel = selectBest(candidates);
    // Reorder: the ECMP set (best first) to the front, the rest after.
    const std::size_t width =
        std::min<std::size_t>({sel.multipath.size(), std::max<std::size_t>(1, config_.maxPaths), 255});
    auto all = entry.paths_.take();
    std::vector<Route> ordered;
    ordered.reserve(all.size());
    std::vector<bool> taken(all.size());
    for (std::size_t k = 0; k < width; ++k) {
      ordered.push_back(std::move(all[sel.multipath[k]]));
      taken[sel.multipath[k]] = true;
    }
    for (std::size_t i = 0; i < all.size(); ++i)
      if (!taken[i]) ordered.push_back(std::move(all[i]));
    entry.paths_.set(std::move(ordered));
    entry.multipathCount_ = static_cast<std::uint8_t>(width);
    entry.decidedBy_ = sel.decidedBy;
    paths = entry.paths_.data();
    count = entry.paths_.size();
  }
  bool same = !selectedChanged && before.size() == entry.multipathCount_ && paths[0].attrs == bestBefore;
  for (std::size_t i = 0; same && i < before.size(); ++i)
    same = before[i] == std::make_pair(paths[i].peer, paths[i].pathId);
  if (same) return;
  changed(entry);
}

std::optional<PathAttributes> Rib::exportAttrs(const Prefix& prefix, const Route& best,
                                               const PeerInfo& to) const {
  if (best.peer == to.id) return std::nullopt;  // never back to where it came from
  if (!familyOf(to, prefix.family())) return std::nullopt;
  const PeerInfo* from = peerInfo(best.peer);
  if (!from) return std::nullopt;
  const PathAttributes& in = *best.attrs;
  const bool toInternal = to.asn == config_.localAs;
  const bool local = best.peer == kLocalPeer;
  const bool fromInternal = !local && from->asn == config_.localAs;

  // RFC 1997 §3 well-known communities (no confederations here, so NO_EXPORT_SUBCONFED acts as
  // NO_EXPORT). NO_PEER (RFC 3765) is advisory and needs peer-type knowledge we lack; it passes.
  if (hasCommunity(in, community::kNoAdvertise)) return std::nullopt;
  if (!toInternal &&
      (hasCommunity(in, community::kNoExport) || hasCommunity(in, community::kNoExportSubconfed)))
    return std::nullopt;

  // RFC 4271 §9.2 and RFC 4456 §6: iBGP-learned routes go to iBGP peers only by reflection —
  // from a client to everyone, from a non-client to clients only.
  const bool reflecting = fromInternal && toInternal;
  if (reflecting) {
    if (!config_.routeReflector) return std::nullopt;
    if (!from->routeReflectorClient && !to.routeReflectorClient) return std::nullopt;
  }

  PathAttributes out = in;
  // RFC 4271 §5 / §9.1.3: unknown optional transitive attributes go on with Partial set;
  // unknown non-transitive ones stop here.
  std::erase_if(out.unknown, [](const RawAttribute& r) { return !(r.flags & attr_flag::kTransitive); });
  for (auto& r : out.unknown) r.flags |= attr_flag::kPartial;

  const bool v4 = prefix.family() == Afi::kIpv4;
  bool nextHopSelf = local || !toInternal || (to.nextHopSelf && !fromInternal);
  if (toInternal) {
    if (!out.localPref) out.localPref = kDefaultLocalPref;
    if (reflecting) {
      // RFC 4456 §8: ORIGINATOR_ID names the route's first iBGP speaker; our CLUSTER_ID goes first.
      if (!out.originatorId) out.originatorId = from->routerId;
      if (!out.clusterList) out.clusterList = std::vector<std::uint32_t>{};
      out.clusterList->insert(out.clusterList->begin(), clusterId());
    }
  } else {
    if (!out.asPath) out.asPath = AsPath{};
    prependAs(*out.asPath, config_.localAs);  // RFC 4271 §5.1.2
    out.localPref.reset();                    // §5.1.5: not sent to external peers
    if (!local) out.med.reset();              // §5.1.4: a neighbour's MED is not passed to another AS
    out.originatorId.reset();                 // RFC 4456: non-transitive, iBGP only
    out.clusterList.reset();
  }
  if (nextHopSelf) {
    if (v4) {
      if (to.localAddress == Address{}) return std::nullopt;  // no address of ours to offer
      out.nextHop = to.localAddress;
    } else {
      if (!to.localAddressV6) return std::nullopt;
      out.mpReach = MpReach{kIpv6Unicast, *to.localAddressV6, to.localLinkLocal, {}};
    }
  } else if (out.mpReach) {
    // RFC 2545 §3: a link-local next hop only means something on the link it was learned on.
    out.mpReach->linkLocal.reset();
  }
  if (exportPolicy_) return exportPolicy_(to, prefix, std::move(out));
  return out;
}

void Rib::exportPrefix(const Prefix& prefix, PeerState& to) {
  if (!to.up) return;
  std::optional<PathAttributes> want;
  if (const LocRibEntry* entry = locRib_.find(prefix))
    want = exportAttrs(prefix, entry->bestRoute(), to.info);
  const NlriEntry key{prefix, 0};
  auto out = to.adjOut.find(key);
  if (!want) {
    if (out == to.adjOut.end()) return;
    to.adjOut.erase(out);
    to.pending.insert_or_assign(key, Attrs{});
    return;
  }
  Attrs attrs = store_.intern(std::move(*want));
  if (out != to.adjOut.end() && out->second == attrs) return;
  to.adjOut.insert_or_assign(key, attrs);
  to.pending.insert_or_assign(key, std::move(attrs));
}

const LocRibEntry* Rib::locRib(const Prefix& prefix) const { return locRib_.find(prefix); }

const RouteTable* Rib::adjRibIn(PeerId peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() || !keepsAdjIn(it->second) ? nullptr : &it->second.adjIn;
}

const RouteTable* Rib::adjRibOut(PeerId peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second.adjOut;
}

std::vector<Prefix> Rib::takeChangedPrefixes(std::size_t max) { return locRib_.takeDirty(max); }

OutboundBatch Rib::takeOutbound(PeerId peer) {
  OutboundBatch batch;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return batch;
  std::vector<std::pair<NlriEntry, Attrs>> pending(it->second.pending.begin(), it->second.pending.end());
  it->second.pending = {};  // release the capacity, as for changed_
  std::sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  boost::unordered_flat_map<Attrs, std::size_t, std::hash<Attrs>> groupOf;
  for (auto& [route, attrs] : pending) {
    if (!attrs) {
      batch.withdrawn.push_back(route);
      continue;
    }
    auto [g, inserted] = groupOf.emplace(attrs, batch.announced.size());
    if (inserted) batch.announced.emplace_back(attrs, std::vector<NlriEntry>{});
    batch.announced[g->second].second.push_back(route);
  }
  return batch;
}

}  // namespace tartan::bgp

namespace tartan::bgp {

void Rib::refreshPeer(PeerId peer, Afi family) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  for (const auto& [route, attrs] : it->second.adjOut)
    if (route.prefix.family() == family) it->second.pending.insert_or_assign(route, attrs);
}

}  // namespace tartan::bgp
