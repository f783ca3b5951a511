// The speaker: peers ↔ Rib ↔ kernel (see speaker.hpp). Everything below runs on strand_.
#include "speaker.hpp"

#include "socket_options.hpp"

#include "rib/packing.hpp"

#include <tartan/common/log.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include <future>

namespace tartan::bgp::speaker {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The End-of-RIB marker of a family (RFC 4724 §2).
wire::Bytes endOfRibMessage(AfiSafi family, const CodecContext& ctx) {
  Update eor;
  if (family != kIpv4Unicast) eor.attributes.mpUnreach = MpUnreach{family, {}};
  return encodeMessage(eor, ctx);
}

template <class F>
auto runOn(Strand& strand, F f) {
  std::promise<decltype(f())> promise;
  auto future = promise.get_future();
  asio::post(strand, [&] { promise.set_value(f()); });
  return future.get();
}

}  // namespace

Speaker::Speaker(asio::io_context& io, SpeakerOptions options, std::unique_ptr<netlink::RouteTable> kernel)
    : io_(io),
      strand_(asio::make_strand(io)),
      options_(options),
      fib_(std::make_unique<FibWriter>(std::move(kernel))),
      restarting_(fib_->preserved() > 0),
      log_(log::get("bgp")),
      deferral_(strand_) {
  // The writer's queue is bounded; when it has drained, the changes still marked in the Loc-RIB
  // are handed over (flush()).
  fib_->setOnRoom([this] { asio::post(strand_, [this] { scheduleFlush(); }); });
  if (restarting_) {
    log_->info("{} routes of a previous run kept in the kernel until peers resend theirs", fib_->preserved());
    deferral_.expires_after(options_.deferral);
    deferral_.async_wait(asio::bind_executor(strand_, [this](const boost::system::error_code& ec) {
      if (ec || reconciled_) return;
      log_->info("graceful restart deferral over: removing stale kernel routes");
      reconciled_ = true;
      flush();  // what the RIB holds reaches the FIB writer first, so it is not swept
      fib_->reconcile();
    }));
  }
}

Speaker::~Speaker() {
  fib_->setOnRoom({});
  shutdown();
}

void Speaker::applyConfig(SpeakerConfig config) {
  asio::post(strand_, [this, config = std::move(config)]() mutable { applyOnStrand(std::move(config)); });
}

void Speaker::shutdown() {
  std::promise<void> done;
  asio::post(strand_, [&] {
    boost::system::error_code ec;
    for (auto& a : acceptors_) a->close(ec);
    acceptors_.clear();
    deferral_.cancel();
    for (auto& [id, entry] : peers_) {
      if (entry.restartTimer) entry.restartTimer->cancel();
      entry.peer->abandon();
    }
    peers_.clear();
    peerIds_.clear();
    done.set_value();
  });
  if (io_.stopped()) return;
  done.get_future().wait_for(std::chrono::seconds(5));
}

void Speaker::applyOnStrand(SpeakerConfig config) {
  for (const auto& w : config.warnings) log_->warn("config: {}", w);
  const bool ribChanged =
      !configured_ || config.localAs != config_.localAs || config.routerId != config_.routerId ||
      config.routeReflector != config_.routeReflector || config.clusterId != config_.clusterId;
  const SpeakerConfig old = std::exchange(config_, std::move(config));
  const bool filtersChanged =
      configured_ && (old.policies != config_.policies ||
                      old.prefixCommunities != config_.prefixCommunities || old.pools != config_.pools);
  configured_ = true;

  if (ribChanged) {
    // Identity changed: every session restarts with the new AS / router ID.
    for (auto& [id, entry] : peers_) entry.peer->stop();
    peers_.clear();
    peerIds_.clear();
    RibConfig rc;
    rc.localAs = config_.localAs;
    rc.routerId = config_.routerId;
    rc.routeReflector = config_.routeReflector;
    rc.clusterId = config_.clusterId;
    rc.maxPaths = options_.maxPaths;
    // Only peers with BGPFilters keep an Adj-RIB-In (see peerInfo): a policy change is applied
    // with a ROUTE-REFRESH (RFC 2918), as BIRD does without `import table`.
    rc.keepAdjRibIn = true;
    if (rib_) {
      std::vector<std::pair<Prefix, std::optional<FibRoute>>> gone;
      rib_->forEachLocRib([&](const LocRibEntry& e) { gone.emplace_back(e.prefix(), std::nullopt); });
      fib_->update(std::move(gone));
    }
    rib_ = std::make_unique<Rib>(rc);
    rib_->setImportPolicy([this](const PeerInfo& from, const Prefix& prefix, PathAttributes attrs) {
      return importPolicy(from, prefix, std::move(attrs));
    });
    rib_->setExportPolicy([this](const PeerInfo& to, const Prefix& prefix, PathAttributes attrs) {
      return exportPolicy(to, prefix, std::move(attrs));
    });
    log_->info("node {}: AS {}, router ID {}{}", config_.nodeName, config_.localAs,
               Address::v4(config_.routerId).toString(), config_.routeReflector ? ", route reflector" : "");
  }

  const std::uint16_t port = options_.listenPort.value_or(config_.listenPort);
  std::vector<Address> listenAddresses;  // empty: every address
  if (config_.listenOnNodeAddresses)
    for (const auto& a : {config_.ipv4, config_.ipv6})
      if (a) listenAddresses.push_back(*a);
  if (port != listeningPort_ || listenAddresses != listenAddresses_) listen(port, std::move(listenAddresses));

  // Peers: stop those gone or changed, start the new ones; untouched sessions stay up.
  for (auto it = peerIds_.begin(); it != peerIds_.end();) {
    const PeerSpec* now = config_.peer(it->first);
    auto& entry = peers_.at(it->second);
    if (now && *now == entry.peer->spec()) {
      ++it;
      continue;
    }
    log_->info("peer {}: {}", it->first, now ? "settings changed, restarting" : "removed");
    entry.peer->stop();
    if (entry.restartTimer) entry.restartTimer->cancel();
    if (entry.up || rib_->staleCount(it->second) > 0) rib_->removePeer(it->second);
    peers_.erase(it->second);
    it = peerIds_.erase(it);
  }
  for (const auto& spec : config_.peers) {
    if (peerIds_.contains(spec.key)) continue;
    const PeerId id = nextPeerId_++;
    // A peer configured after the restart is over (every End-of-RIB in, or the deferral run
    // out) meets a speaker that is not restarting any more.
    const RestartState restart{.restarted = restarting_ && !reconciled_, .forwardingPreserved = restarting_};
    auto peer = std::make_shared<Peer>(io_, id, spec, config_, options_.timers, restart, *this);
    peers_[id].peer = peer;
    peerIds_[spec.key] = id;
    log_->info("peer {}: {} AS {} ({})", spec.key, spec.address.toString(), spec.peerAs,
               peerTypeName(spec.type));
  }
  setMd5Keys();
  for (auto& [id, entry] : peers_) entry.peer->start();

  originate(ribChanged ? SpeakerConfig{} : old, ribChanged);
  if (filtersChanged)
    for (auto& [id, entry] : peers_)
      if (entry.up && entry.session) reapplyPolicy(id, entry);
  scheduleFlush();
}

void Speaker::reapplyPolicy(PeerId id, PeerEntry& entry) {
  // What the peer was sent: a prefix the new export policy withholds must be withdrawn.
  std::vector<NlriEntry> advertised;
  if (const auto* out = rib_->adjRibOut(id))
    for (const auto& [route, attrs] : *out) advertised.push_back(route);
  if (const auto* in = rib_->adjRibIn(id)) {
    // Imports: the routes as received go through the new policy again, in place, so nothing
    // leaves the kernel that the new policy still accepts.
    std::vector<std::pair<NlriEntry, PathAttributes>> received;
    for (const auto& [route, attrs] : *in) received.emplace_back(route, *attrs);
    for (const auto& [route, attrs] : received) rib_->announce(id, route, attrs);
    // A new setPriority changes no attribute, so the Rib sees no change: the kernel routes of
    // what stays are written again with the priority the new policy gives them.
    std::vector<std::pair<Prefix, std::optional<FibRoute>>> kernel;
    for (const auto& [route, attrs] : received)
      if (rib_->locRib(route.prefix))
        if (auto r = kernelRoute(route.prefix)) kernel.emplace_back(route.prefix, std::move(r));
    if (!kernel.empty()) fib_->update(std::move(kernel));
  } else {
    // No Adj-RIB-In kept: the peer sends its routes again (ROUTE-REFRESH, RFC 2918 §3).
    for (const auto& family : entry.session->params.families) entry.peer->requestRefresh(family);
    rib_->removePeer(id);
  }
  rib_->addPeer(peerInfo(entry, id));  // exports under the new policy, from an empty Adj-RIB-Out
  OutboundBatch withdrawn;
  const auto* now = rib_->adjRibOut(id);
  for (const auto& route : advertised)
    if (!now || !now->contains(route)) withdrawn.withdrawn.push_back(route);
  if (!withdrawn.empty()) send(entry, withdrawn);
}

void Speaker::send(PeerEntry& entry, const OutboundBatch& batch) {
  const auto ctx = entry.session->params.sendContext();
  auto updates = packUpdates(batch, ctx);
  std::vector<wire::Bytes> bytes;
  bytes.reserve(updates.size());
  for (const auto& u : updates) bytes.push_back(encodeMessage(u, ctx));
  entry.peer->send(std::move(bytes));
}

namespace {

// What a configuration originates: the node's blocks and the service ranges, sorted.
std::vector<Prefix> configuredPrefixes(const SpeakerConfig& config) {
  std::vector<Prefix> out = config.blocks;
  out.insert(out.end(), config.serviceCidrs.begin(), config.serviceCidrs.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

void Speaker::originate(const SpeakerConfig& old, bool ribChanged) {
  const auto before = configuredPrefixes(old), now = configuredPrefixes(config_);
  for (const auto& p : before)
    if (!std::binary_search(now.begin(), now.end(), p)) rib_->withdrawOriginated(p);
  for (const auto& p : now)
    if (!std::binary_search(before.begin(), before.end(), p)) rib_->originate(p, originAttributes(p));
  // Kernel routes: all of them into a new Rib; a prefix the configuration stopped originating
  // is the kernel route's again.
  for (const auto& [prefix, announcement] : kernelRoutes_) {
    if (isConfigured(prefix)) continue;
    if (ribChanged || std::binary_search(before.begin(), before.end(), prefix))
      rib_->originate(prefix, originAttributes(prefix));
  }
}

PathAttributes Speaker::originAttributes(const Prefix& prefix) const {
  PathAttributes attrs;
  attrs.origin = Origin::kIgp;
  attrs.asPath = AsPath{};
  if (prefix.family() == Afi::kIpv4) {
    if (config_.ipv4) attrs.nextHop = *config_.ipv4;
  } else if (config_.ipv6) {
    attrs.mpReach = MpReach{kIpv6Unicast, *config_.ipv6, std::nullopt, {}};
  }
  return attrs;
}

bool Speaker::isBlock(const Prefix& prefix) const {
  return std::find(config_.blocks.begin(), config_.blocks.end(), prefix) != config_.blocks.end();
}

bool Speaker::isConfigured(const Prefix& prefix) const {
  return isBlock(prefix) || std::find(config_.serviceCidrs.begin(), config_.serviceCidrs.end(), prefix) !=
                                config_.serviceCidrs.end();
}

void Speaker::updateKernelRoutes(KernelRouteChanges changes) {
  asio::post(strand_, [this, changes = std::move(changes)] {
    for (const auto& prefix : changes.withdrawn) {
      if (kernelRoutes_.erase(prefix) == 0) continue;
      if (rib_ && configured_ && !isConfigured(prefix)) rib_->withdrawOriginated(prefix);
    }
    for (const auto& [prefix, announcement] : changes.announced) {
      auto [it, added] = kernelRoutes_.insert_or_assign(prefix, announcement);
      if (!rib_ || !configured_ || isConfigured(prefix)) continue;
      // The interface is not a path attribute: a changed one is seen by the export policy only
      // when the route is exported again.
      if (!added) rib_->withdrawOriginated(prefix);
      rib_->originate(prefix, originAttributes(prefix));
    }
    scheduleFlush();
  });
}

void Speaker::listen(std::uint16_t port, std::vector<Address> addresses) {
  boost::system::error_code ec;
  for (auto& a : acceptors_) a->close(ec);
  acceptors_.clear();
  listeningPort_ = port;
  listenAddresses_ = std::move(addresses);
  std::vector<tcp::endpoint> endpoints;
  for (const auto& a : listenAddresses_) endpoints.emplace_back(toAsio(a), port);
  if (endpoints.empty()) endpoints = {tcp::endpoint(tcp::v4(), port), tcp::endpoint(tcp::v6(), port)};
  for (const auto& endpoint : endpoints) {
    auto acceptor = std::make_shared<tcp::acceptor>(strand_);
    acceptor->open(endpoint.protocol(), ec);
    if (ec) continue;
    acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (endpoint.protocol() == tcp::v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      log_->warn("cannot listen on {} port {}: {}", endpoint.protocol() == tcp::v4() ? "IPv4" : "IPv6", port,
                 ec.message());
      continue;
    }
    if (listenAddresses_.empty())
      log_->info("listening on {} port {}", endpoint.protocol() == tcp::v4() ? "IPv4" : "IPv6", port);
    else
      log_->info("listening on {} port {}", endpoint.address().to_string(), port);
    accept(acceptor);
    acceptors_.push_back(std::move(acceptor));
  }
}

void Speaker::setMd5Keys() {
  // RFC 2385: the listening socket must know each keyed peer's password before its SYN arrives.
  for (auto& acceptor : acceptors_) {
    const bool v4 = acceptor->local_endpoint().protocol() == tcp::v4();
    for (const auto& [id, entry] : peers_) {
      const auto& spec = entry.peer->spec();
      if ((spec.address.family == Afi::kIpv4) != v4) continue;
      if (auto r = setTcpMd5(acceptor->native_handle(), spec.address, spec.password.value_or("")); !r)
        log_->warn("listener: {}", r.error().toString());
    }
  }
}

void Speaker::accept(std::shared_ptr<tcp::acceptor> acceptor) {
  // The handler holds the acceptor: a connection accepted just before the acceptor was closed
  // and dropped (a new listen address or port, shutdown) completes with success, after it.
  auto& a = *acceptor;
  a.async_accept(
      asio::bind_executor(strand_, [this, acceptor = std::move(acceptor)](const boost::system::error_code& ec,
                                                                          tcp::socket socket) mutable {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
        if (!ec) {
          boost::system::error_code e;
          const Address address = fromAsio(socket.remote_endpoint(e).address());
          bool taken = false;
          for (auto& [id, entry] : peers_) {
            if (entry.peer->spec().address == address) {
              entry.peer->acceptInbound(std::move(socket));
              taken = true;
              break;
            }
          }
          if (!taken) {
            log_->info("refusing connection from {}: not a configured peer", address.toString());
            socket.close(e);
          }
        }
        accept(std::move(acceptor));
      }));
}

PeerInfo Speaker::peerInfo(const PeerEntry& entry, PeerId id) const {
  PeerInfo info;
  info.id = id;
  const auto& spec = entry.peer->spec();
  info.address = spec.address;
  info.asn = entry.session ? entry.session->params.peerAs : spec.peerAs;
  info.routerId = entry.session ? entry.session->params.peerId : 0;
  info.routeReflectorClient = spec.routeReflectorClient;
  info.allowLocalAs = spec.allowLocalAs;
  // The kernel priority of a route (BGPFilter setPriority) is found by re-running the peer's
  // import filters on the route as received, so only a peer with filters needs its routes kept
  // as received; for the others the Adj-RIB-In would be a second copy of the table.
  info.keepAdjRibIn = !spec.filters.empty();
  info.families = entry.session ? entry.session->params.families : std::vector<AfiSafi>{};
  // Our address towards the peer is the next hop we advertise; a v6 session has the node's v4
  // address for IPv4 and the other way round.
  if (entry.session && entry.session->localAddress.family == Afi::kIpv4) {
    info.localAddress = entry.session->localAddress;
    info.localAddressV6 = config_.ipv6;
  } else {
    if (config_.ipv4) info.localAddress = *config_.ipv4;
    info.localAddressV6 = entry.session ? std::optional<Address>(entry.session->localAddress) : config_.ipv6;
  }
  return info;
}

std::optional<PathAttributes> Speaker::importPolicy(const PeerInfo& from, const Prefix& prefix,
                                                    PathAttributes attrs) const {
  auto it = peers_.find(from.id);
  if (it == peers_.end()) return std::nullopt;
  return importRoute(config_, it->second.peer->spec(), from.asn, prefix, std::move(attrs)).attrs;
}

std::optional<PathAttributes> Speaker::exportPolicy(const PeerInfo& to, const Prefix& prefix,
                                                    PathAttributes attrs) const {
  auto it = peers_.find(to.id);
  const auto* entry = rib_->locRib(prefix);
  if (it == peers_.end() || !entry || entry->paths().empty()) return std::nullopt;
  const Route& best = entry->bestRoute();
  ExportCandidate candidate{&*best.attrs, best.peer == kLocalPeer, priorityOf(prefix, best)};
  if (candidate.local && !isConfigured(prefix))
    if (auto k = kernelRoutes_.find(prefix); k != kernelRoutes_.end()) {
      candidate.kernel = true;
      candidate.interface = k->second.interface;
    }
  return exportRoute(config_, it->second.peer->spec(), to, prefix, candidate, std::move(attrs));
}

std::optional<std::uint32_t> Speaker::priorityOf(const Prefix& prefix, const Route& route) const {
  // The kernel priority a BGPFilter's setPriority gave the route on import: the import policy
  // is pure, so it is asked again with the route as received rather than kept per route.
  auto it = peers_.find(route.peer);
  if (route.peer == kLocalPeer || it == peers_.end() || it->second.peer->spec().filters.empty())
    return std::nullopt;
  const auto* in = rib_->adjRibIn(route.peer);
  if (!in) return std::nullopt;
  auto received = in->find(NlriEntry{prefix, route.pathId});
  if (received == in->end()) return std::nullopt;
  const std::uint32_t peerAs =
      it->second.session ? it->second.session->params.peerAs : it->second.peer->spec().peerAs;
  return importRoute(config_, it->second.peer->spec(), peerAs, prefix, *received->second).priority;
}

void Speaker::onSessionUp(std::uint32_t peerId, const SessionInfo& session) {
  asio::post(strand_, [this, peerId, session] {
    auto it = peers_.find(peerId);
    if (it == peers_.end()) return;
    auto& entry = it->second;
    entry.up = true;
    entry.session = session;
    entry.endOfRibReceived = false;
    rib_->addPeer(peerInfo(entry, peerId));
    keepOrSweepStale(peerId, entry, session.params);
    flush();
    // RFC 4724 §4.1: the initial table is followed by End-of-RIB for each family.
    std::vector<wire::Bytes> eor;
    for (const auto& f : session.params.families)
      eor.push_back(endOfRibMessage(f, session.params.sendContext()));
    entry.peer->send(std::move(eor));
  });
}

void Speaker::onSessionDown(std::uint32_t peerId, SessionEnd end) {
  asio::post(strand_, [this, peerId, end] {
    auto it = peers_.find(peerId);
    if (it == peers_.end()) return;
    auto& entry = it->second;
    entry.up = false;
    const bool wasUp = entry.session.has_value();
    entry.session.reset();
    if (!wasUp) return;
    if (end.graceful && end.restartTime > 0) {
      // RFC 4724 §4.2: keep the routes, marked stale, until End-of-RIB or the restart time.
      const auto keep = staleBound(entry, end.restartTime);
      log_->info("peer {}: down, keeping its routes for up to {}s (graceful restart)", entry.peer->spec().key,
                 keep.count());
      rib_->markStale(peerId);
      armStaleTimer(peerId, entry, keep);
    } else {
      cancelStaleTimer(entry);
      rib_->removePeer(peerId);
    }
    scheduleFlush();
  });
}

std::chrono::seconds Speaker::staleBound(const PeerEntry& entry, std::uint16_t peerRestartTime) const {
  // The peer's Restart Time (RFC 4724 §3), capped by our own bound (BGPPeer maxRestartTime,
  // BGPConfiguration nodeMeshMaxRestartTime): §4.2 lets a helper limit how long it keeps stale
  // routes, and a peer that asks for 4095 s should not keep a dead next hop that long.
  const std::uint16_t own = entry.peer->spec().restartTime;
  return std::chrono::seconds(own > 0 ? std::min(peerRestartTime, own) : peerRestartTime);
}

void Speaker::keepOrSweepStale(PeerId peerId, PeerEntry& entry, const fsm::SessionParams& params) {
  if (rib_->staleCount(peerId) == 0) {
    cancelStaleTimer(entry);
    return;
  }
  // RFC 4724 §4.2: a peer that comes back without the capability, or without the F bit for a
  // family, did not keep its forwarding state: its stale routes of that family go now.
  const auto& gr = params.peerGracefulRestart;
  for (const Afi afi : {Afi::kIpv4, Afi::kIpv6}) {
    const bool preserved =
        gr && std::any_of(gr->families.begin(), gr->families.end(), [&](const GracefulRestartCap::Family& f) {
          return f.family.afi == afi && f.forwardingPreserved;
        });
    if (!preserved) rib_->sweepStale(peerId, afi);
  }
  if (rib_->staleCount(peerId) == 0) {
    log_->info("peer {}: back without preserved forwarding state, its stale routes removed",
               entry.peer->spec().key);
    cancelStaleTimer(entry);
    return;
  }
  // Back, routes still stale: they wait for End-of-RIB, but not forever (RFC 4724 §4.2's upper
  // bound) — a peer that never sends End-of-RIB loses them when the restart time runs out again.
  const auto keep = staleBound(entry, gr->restartTime > 0 ? gr->restartTime : entry.peer->spec().restartTime);
  log_->info("peer {}: back, its stale routes wait up to {}s for End-of-RIB", entry.peer->spec().key,
             keep.count());
  armStaleTimer(peerId, entry, keep);
}

void Speaker::armStaleTimer(PeerId peerId, PeerEntry& entry, std::chrono::seconds after) {
  cancelStaleTimer(entry);
  auto timer = std::make_shared<asio::steady_timer>(strand_, after);
  entry.restartTimer = timer;
  timer->async_wait(
      asio::bind_executor(strand_, [this, peerId, t = timer.get()](const boost::system::error_code& ec) {
        if (ec) return;
        auto p = peers_.find(peerId);
        if (p == peers_.end() || p->second.restartTimer.get() != t) return;
        p->second.restartTimer.reset();
        if (p->second.up) {
          log_->info("peer {}: no End-of-RIB within the restart time, removing its stale routes",
                     p->second.peer->spec().key);
          rib_->sweepStale(peerId, Afi::kIpv4);
          rib_->sweepStale(peerId, Afi::kIpv6);
        } else {
          log_->info("peer {}: restart time over, removing its stale routes", p->second.peer->spec().key);
          rib_->removePeer(peerId);
        }
        scheduleFlush();
      }));
}

void Speaker::cancelStaleTimer(PeerEntry& entry) {
  if (!entry.restartTimer) return;
  entry.restartTimer->cancel();
  entry.restartTimer.reset();
}

void Speaker::onUpdates(std::uint32_t peerId, std::vector<ReceivedUpdate> updates) {
  asio::post(strand_, [this, peerId, updates = std::move(updates)] {
    auto it = peers_.find(peerId);
    if (it == peers_.end()) return;
    // Applied (or dropped): the peer may read on (Peer::consumed, its receive window).
    std::size_t bytes = 0;
    for (const auto& u : updates) bytes += u.wireBytes;
    it->second.peer->consumed(bytes);
    if (!it->second.up) return;
    for (const auto& u : updates) {
      if (auto family = endOfRib(u.update)) {
        log_->info("peer {}: End-of-RIB {}", it->second.peer->spec().key,
                   family->afi == Afi::kIpv4 ? "IPv4" : "IPv6");
        it->second.endOfRibReceived = true;
        // RFC 4724 §4.2: routes the restarted peer did not announce again are withdrawn now.
        rib_->sweepStale(peerId, family->afi);
        if (rib_->staleCount(peerId) == 0) cancelStaleTimer(it->second);
        continue;
      }
      if (log_->should_log(spdlog::level::trace))
        log_->trace("peer {}: UPDATE {} + {} announced, {} + {} withdrawn", it->second.peer->spec().key,
                    u.update.nlri.size(),
                    u.update.attributes.mpReach ? u.update.attributes.mpReach->nlri.size() : 0,
                    u.update.withdrawn.size(),
                    u.update.attributes.mpUnreach ? u.update.attributes.mpUnreach->withdrawn.size() : 0);
      rib_->applyUpdate(peerId, u.update, u.outcome);
    }
    maybeReconcile();
    scheduleFlush();
  });
}

void Speaker::onRouteRefresh(std::uint32_t peerId, AfiSafi family) {
  asio::post(strand_, [this, peerId, family] {
    if (!peers_.contains(peerId)) return;
    rib_->refreshPeer(peerId, family.afi);
    scheduleFlush();
  });
}

void Speaker::maybeReconcile() {
  if (reconciled_ || !restarting_) return;
  for (const auto& [id, entry] : peers_)
    if (!entry.endOfRibReceived) return;
  log_->info("every peer sent End-of-RIB: removing stale kernel routes of the previous run");
  reconciled_ = true;
  deferral_.cancel();
  // The End-of-RIB may share a read with the routes it closes, whose flush is only scheduled:
  // they go to the FIB writer now, or reconcile() would sweep them and the next flush put them
  // back — a gap in forwarding exactly where graceful restart promises none (RFC 4724 §4.1).
  flush();
  fib_->reconcile();
}

void Speaker::scheduleFlush() {
  if (flushScheduled_) return;
  flushScheduled_ = true;
  // Posted, not run now: updates already queued on the strand are applied first, so one flush
  // covers a whole burst.
  asio::post(strand_, [this] {
    flushScheduled_ = false;
    flush();
  });
}

std::optional<FibRoute> Speaker::kernelRoute(const Prefix& prefix) const {
  const auto* entry = rib_->locRib(prefix);
  if (!entry || entry->paths().empty()) return std::nullopt;
  FibRoute out;
  if (entry->bestRoute().peer == kLocalPeer) {
    // An announced kernel route: the kernel has it; a service range: kube-proxy's.
    if (!isBlock(prefix)) return std::nullopt;
    out.blackhole = true;  // our own block: traffic to unallocated addresses stops here
    return out;
  }
  // Learned inside a service range: kube-proxy's addresses, never routed away from the node.
  if (!installLearnedRoute(config_, prefix)) return std::nullopt;
  out.priority = priorityOf(prefix, entry->bestRoute()).value_or(0);  // BGPFilter setPriority
  for (const auto& route : entry->multipath()) {
    if (route.peer == kLocalPeer) continue;
    const auto& attrs = *route.attrs;
    std::optional<Address> nh;
    if (prefix.family() == Afi::kIpv4)
      nh = attrs.nextHop;
    else if (attrs.mpReach)
      nh = attrs.mpReach->nextHop;
    if (!nh || nh->family != prefix.family() || *nh == Address{nh->family, {}}) continue;
    if (std::find(out.gateways.begin(), out.gateways.end(), *nh) == out.gateways.end())
      out.gateways.push_back(*nh);
  }
  if (out.gateways.empty()) return std::nullopt;
  return out;
}

void Speaker::flush() {
  if (!rib_) return;
  // Kernel first: the FIB writer merges and writes in the background.
  // Only as many as the writer has room for: the rest stay marked in the Loc-RIB (a change
  // made again meanwhile is written once) and are taken when it calls back (setOnRoom).
  auto changed = rib_->changedCount() ? rib_->takeChangedPrefixes(fib_->room()) : std::vector<Prefix>{};
  if (!changed.empty()) {
    std::vector<std::pair<Prefix, std::optional<FibRoute>>> fib;
    fib.reserve(changed.size());
    for (const auto& prefix : changed) {
      auto route = kernelRoute(prefix);
      if (!route && rib_->locRib(prefix))
        log_->debug("{}: no usable next hop, not installed", prefix.toString());
      fib.emplace_back(prefix, std::move(route));
    }
    fib_->update(std::move(fib));
  }
  if (rib_->changedCount() > 0) fib_->notifyWhenRoom();
  for (auto& [id, entry] : peers_) {
    if (!entry.up || !entry.session) continue;
    auto batch = rib_->takeOutbound(id);
    if (!batch.empty()) send(entry, batch);
  }
}

SpeakerReport Speaker::report(bool prefixCounts) {
  return runOn(strand_, [this, prefixCounts] {
    SpeakerReport r;
    r.nodeName = config_.nodeName;
    r.localAs = config_.localAs;
    r.routerId = config_.routerId;
    r.fib = fib_->stats();
    r.locRibSize = rib_ ? rib_->locRibSize() : 0;
    for (const auto& [id, entry] : peers_) {
      PeerReport p;
      p.status = entry.peer->status();
      if (rib_ && prefixCounts) {
        p.received = rib_->receivedCount(id);
        p.accepted = rib_->acceptedCount(id);
        if (const auto* out = rib_->adjRibOut(id)) p.advertised = out->size();
      }
      r.peers.push_back(std::move(p));
    }
    return r;
  });
}

std::vector<RouteReport> Speaker::routes() {
  return runOn(strand_, [this] {
    std::vector<RouteReport> out;
    if (!rib_) return out;
    std::vector<Prefix> prefixes;
    prefixes.reserve(rib_->locRibSize());
    rib_->forEachLocRib([&](const LocRibEntry& e) { prefixes.push_back(e.prefix()); });
    std::sort(prefixes.begin(), prefixes.end());
    for (const auto& prefix : prefixes) {
      const auto* entry = rib_->locRib(prefix);
      if (!entry) continue;
      bool first = true;
      for (const auto& path : entry->paths()) {
        RouteReport r;
        r.prefix = prefix;
        r.best = first;
        first = false;
        auto p = peers_.find(path.peer);
        r.from = path.peer == kLocalPeer ? "local" : p != peers_.end() ? p->second.peer->spec().key : "?";
        const auto& attrs = *path.attrs;
        if (path.peer != kLocalPeer) {
          if (prefix.family() == Afi::kIpv4 && attrs.nextHop) r.nextHops.push_back(*attrs.nextHop);
          if (prefix.family() == Afi::kIpv6 && attrs.mpReach) r.nextHops.push_back(attrs.mpReach->nextHop);
        }
        if (attrs.asPath)
          for (const auto& seg : *attrs.asPath)
            r.asPath.insert(r.asPath.end(), seg.asns.begin(), seg.asns.end());
        out.push_back(std::move(r));
      }
    }
    return out;
  });
}

}  // namespace tartan::bgp::speaker
