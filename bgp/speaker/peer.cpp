// The Asio shell around the pure FSM (see peer.hpp). Every handler runs on strand_.
#include "peer.hpp"

#include "socket_options.hpp"

#include <tartan/common/log.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstring>

namespace tartan::bgp::speaker {

namespace asio = boost::asio;
using asio::ip::tcp;

asio::ip::address toAsio(const Address& a) {
  if (a.family == Afi::kIpv4) return asio::ip::address_v4(a.v4HostOrder());
  asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), a.bytes.data(), 16);
  return asio::ip::address_v6(b);
}

Address fromAsio(const asio::ip::address& a) {
  if (a.is_v4()) return Address::v4(a.to_v4().to_uint());
  if (a.to_v6().is_v4_mapped())
    return Address::v4(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_uint());
  std::array<std::uint8_t, 16> bytes;
  const auto b = a.to_v6().to_bytes();
  std::memcpy(bytes.data(), b.data(), 16);
  return Address::v6(bytes);
}

namespace {

fsm::EventKind timerEvent(fsm::Timer timer) {
  switch (timer) {
    case fsm::Timer::kConnectRetry:
      return fsm::EventKind::kConnectRetryTimerExpires;
    case fsm::Timer::kHold:
      return fsm::EventKind::kHoldTimerExpires;
    case fsm::Timer::kKeepalive:
      return fsm::EventKind::kKeepaliveTimerExpires;
    case fsm::Timer::kDelayOpen:
      return fsm::EventKind::kDelayOpenTimerExpires;
  }
  return fsm::EventKind::kHoldTimerExpires;
}

}  // namespace

struct Peer::Connection {
  Connection(Strand& strand, fsm::PeerConfig config, fsm::Direction dir)
      : socket(strand),
        fsm(std::move(config)),
        direction(dir),
        timers{asio::steady_timer(strand), asio::steady_timer(strand), asio::steady_timer(strand),
               asio::steady_timer(strand)} {}

  tcp::socket socket;
  fsm::Fsm fsm;
  fsm::Direction direction;
  std::array<asio::steady_timer, 4> timers;
  std::array<std::uint64_t, 4> timerGen{};
  std::vector<std::uint8_t> in = std::vector<std::uint8_t>(64 * 1024);
  std::size_t inUsed = 0;
  std::vector<wire::Bytes> out;
  bool writing = false;
  bool closeAfterWrite = false;
  bool dead = false;
  std::uint64_t epoch = 0;  // bumped on each close: completions of an older socket are ignored
  bool notified = false;    // a NOTIFICATION was sent or received on this connection
  bool up = false;
  bool readPaused = false;  // the observer is behind (see Peer::consumed)
  CodecContext rx, tx;
};

Peer::Peer(asio::io_context& io, std::uint32_t id, PeerSpec spec, const SpeakerConfig& local,
           PeerTimers timers, RestartState restart, PeerObserver& observer)
    : io_(io),
      strand_(asio::make_strand(io)),
      id_(id),
      spec_(std::move(spec)),
      localId_(local.routerId),
      sourceAddress_(spec_.sourceAddress                  ? spec_.sourceAddress
                     : !spec_.bindNodeAddress             ? std::nullopt
                     : spec_.address.family == Afi::kIpv4 ? local.ipv4
                                                          : local.ipv6),
      timers_(timers),
      restart_(restart),
      observer_(observer),
      log_(log::get("bgp")),
      idleHold_(strand_),
      idleHoldDelay_(timers.idleHoldMin) {
  status_.key = spec_.key;
  status_.address = spec_.address;
  status_.type = spec_.type;
  status_.peerAs = spec_.peerAs;
  status_.since = std::chrono::system_clock::now();
}

Peer::~Peer() = default;

fsm::PeerConfig Peer::fsmConfig(bool passive) const {
  fsm::PeerConfig c;
  c.localAs = spec_.localAs;
  c.routerId = localId_;
  c.peerAs = spec_.peerAs;
  c.holdTime = timers_.holdTime;
  c.keepaliveTime = spec_.keepaliveTime;
  c.connectRetryTime = timers_.connectRetryTime;
  c.passive = passive;
  // One session per address family, as Calico runs BIRD and BIRD6.
  const AfiSafi family = spec_.address.family == Afi::kIpv4 ? kIpv4Unicast : kIpv6Unicast;
  c.families = {family};
  if (spec_.gracefulRestart) {
    // RFC 4724 §3: Restart State set in the first OPEN after we restarted; Forwarding State set
    // when the kernel kept our routes across that restart (see RestartState).
    GracefulRestartCap gr;
    gr.restarting = restart_.restarted;
    gr.restartTime = spec_.restartTime;
    gr.families.push_back({family, restart_.forwardingPreserved});
    c.gracefulRestart = gr;
  }
  return c;
}

void Peer::start() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->stopped_ || !self->connections_.empty()) return;
    auto c = self->newConnection(fsm::Direction::kOutbound);
    self->handle(c, fsm::Event::of(fsm::EventKind::kManualStart));
  });
}

void Peer::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->idleHold_.cancel();
    auto conns = self->connections_;
    for (auto& c : conns) self->handle(c, fsm::Event::of(fsm::EventKind::kManualStop));
  });
}

void Peer::abandon() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->idleHold_.cancel();
    for (auto& c : std::vector<ConnectionPtr>(self->connections_)) {
      c->out.clear();
      c->dead = true;
      for (auto& t : c->timers) t.cancel();
      boost::system::error_code ec;
      ++c->epoch;
      c->socket.close(ec);
    }
    self->connections_.clear();
  });
}

Peer::ConnectionPtr Peer::newConnection(fsm::Direction direction) {
  auto c = std::make_shared<Connection>(strand_, fsmConfig(direction == fsm::Direction::kInbound), direction);
  connections_.push_back(c);
  return c;
}

Result<void> Peer::prepareSocket(tcp::socket& socket, bool outbound) {
  const int fd = socket.native_handle();
  if (outbound && spec_.password) {
    if (auto r = setTcpMd5(fd, spec_.address, *spec_.password); !r) return r;
  }
  if (spec_.ttlSecurity) {
    if (auto r = setGtsm(fd, spec_.address.family, *spec_.ttlSecurity); !r) return r;
  }
  return {};
}

void Peer::acceptInbound(tcp::socket socket) {
  auto raw = std::make_shared<tcp::socket>(std::move(socket));
  asio::post(strand_, [self = shared_from_this(), raw] {
    boost::system::error_code ec;
    if (self->stopped_) {
      raw->close(ec);
      return;
    }
    // RFC 4724 §4.2: a new connection from a peer whose session is still Established and who
    // can restart gracefully means it restarted: the old session goes, its routes turn stale.
    if (auto old = self->established();
        old && old->fsm.session() && old->fsm.session()->peerGracefulRestart) {
      self->log_->info("peer {}: new connection while established: peer restarted",
                       self->spec_.address.toString());
      self->handle(old, fsm::Event::of(fsm::EventKind::kTcpConnectionFails));
    }
    for (auto& existing : std::vector<ConnectionPtr>(self->connections_))
      if (existing->direction == fsm::Direction::kInbound)
        self->handle(existing, fsm::Event::of(fsm::EventKind::kTcpConnectionFails));
    auto c = self->newConnection(fsm::Direction::kInbound);
    const auto protocol = raw->local_endpoint(ec).protocol();
    c->socket.assign(protocol, raw->release(ec), ec);
    if (auto r = self->prepareSocket(c->socket, false); !r)
      self->log_->warn("peer {}: {}", self->spec_.key, r.error().toString());
    self->handle(c, fsm::Event::of(fsm::EventKind::kManualStart));
    self->handle(c, fsm::Event::of(fsm::EventKind::kTcpConnectionConfirmed));
    if (!c->dead) self->read(c);
  });
}

void Peer::send(std::vector<wire::Bytes> messages) {
  asio::post(strand_, [self = shared_from_this(), messages = std::move(messages)]() mutable {
    auto c = self->established();
    if (!c) return;
    for (auto& m : messages) c->out.push_back(std::move(m));
    self->flushWrites(c);
  });
}

void Peer::requestRefresh(AfiSafi family) {
  asio::post(strand_, [self = shared_from_this(), family] {
    auto c = self->established();
    if (!c || !c->fsm.session() || !c->fsm.session()->routeRefresh) return;
    RouteRefresh rr;
    rr.afi = static_cast<std::uint16_t>(family.afi);
    rr.safi = static_cast<std::uint8_t>(family.safi);
    self->write(c, encodeMessage(rr, c->tx));
  });
}

PeerStatus Peer::status() const {
  std::lock_guard lock(statusMutex_);
  return status_;
}

Peer::ConnectionPtr Peer::established() const {
  for (const auto& c : connections_)
    if (c->up && !c->dead) return c;
  return nullptr;
}

void Peer::setState(fsm::State state, const std::string& error) {
  std::lock_guard lock(statusMutex_);
  if (!error.empty()) status_.lastError = error;
  if (status_.state != state) {
    status_.state = state;
    status_.since = std::chrono::system_clock::now();
  }
}

void Peer::handle(const ConnectionPtr& c, const fsm::Event& event) {
  if (c->dead) return;
  const auto before = c->fsm.state();
  const auto actions = c->fsm.handle(event);
  run(c, actions);
  const auto after = c->fsm.state();
  if (before != after)
    log_->debug("peer {}: {} -> {} ({})", spec_.address.toString(), fsm::stateName(before),
                fsm::stateName(after), c->direction == fsm::Direction::kInbound ? "inbound" : "outbound");
  if (after == fsm::State::kIdle) forget(c);
  fsm::State best = fsm::State::kIdle;
  for (const auto& other : connections_) best = std::max(best, other->fsm.state());
  setState(best);
  if (connections_.empty() && !stopped_) scheduleRestart();
}

void Peer::run(const ConnectionPtr& c, const fsm::Actions& actions) {
  for (const auto& action : actions) {
    if (std::holds_alternative<fsm::InitiateTcp>(action)) {
      connect(c);
    } else if (std::holds_alternative<fsm::DropTcp>(action)) {
      close(c);
    } else if (auto* open = std::get_if<fsm::SendOpen>(&action)) {
      write(c, encodeMessage(open->open, c->tx));
    } else if (std::holds_alternative<fsm::SendKeepalive>(action)) {
      write(c, encodeMessage(Keepalive{}, c->tx));
    } else if (auto* n = std::get_if<fsm::SendNotification>(&action)) {
      c->notified = true;
      log_->warn("peer {}: sending NOTIFICATION {}", spec_.address.toString(), n->notification.describe());
      setState(c->fsm.state(), "sent: " + n->notification.describe());
      write(c, encodeMessage(n->notification, c->tx));
    } else if (auto* start = std::get_if<fsm::StartTimer>(&action)) {
      startTimer(c, start->timer, start->seconds);
    } else if (auto* stop = std::get_if<fsm::StopTimer>(&action)) {
      const auto i = static_cast<std::size_t>(stop->timer);
      ++c->timerGen[i];
      c->timers[i].cancel();
    } else if (auto* up = std::get_if<fsm::SessionUp>(&action)) {
      c->up = true;
      c->rx = up->session.receiveContext();
      c->tx = up->session.sendContext();
      idleHoldDelay_ = timers_.idleHoldMin;
      restart_ = {.restarted = false, .forwardingPreserved = true};
      boost::system::error_code ec;
      SessionInfo info{up->session, fromAsio(c->socket.local_endpoint(ec).address())};
      log_->info("peer {}: established (AS {}, hold {}s)", spec_.address.toString(), up->session.peerAs,
                 up->session.holdTime);
      // The other connection, if any, lost: it is closed as a collision (RFC 4271 §6.8).
      for (auto& other : std::vector<ConnectionPtr>(connections_))
        if (other != c) handle(other, fsm::Event::of(fsm::EventKind::kOpenCollisionDump));
      observer_.onSessionUp(id_, info);
    } else if (std::holds_alternative<fsm::SessionDown>(action)) {
      c->up = false;
      SessionEnd end;
      const auto& session = c->fsm.session();
      (void)session;  // the FSM clears it after the actions; the GR state was captured at up
      log_->info("peer {}: session down", spec_.address.toString());
      end.graceful = gracefulPeer_ && !c->notified && !stopped_;
      end.restartTime = peerRestartTime_;
      observer_.onSessionDown(id_, end);
    }
  }
}

void Peer::startTimer(const ConnectionPtr& c, fsm::Timer timer, std::uint32_t seconds) {
  const auto i = static_cast<std::size_t>(timer);
  const auto gen = ++c->timerGen[i];
  c->timers[i].expires_after(std::chrono::seconds(seconds));
  c->timers[i].async_wait(asio::bind_executor(
      strand_, [self = shared_from_this(), c, i, gen, timer](const boost::system::error_code& ec) {
        if (ec || c->dead || c->timerGen[i] != gen) return;
        self->handle(c, fsm::Event::of(timerEvent(timer)));
      }));
}

void Peer::connect(const ConnectionPtr& c) {
  boost::system::error_code ec;
  const auto epoch = ++c->epoch;
  c->socket.close(ec);
  // A retry (Active -> Connect) reuses the Connection, its FSM and timers, for a new TCP
  // connection: nothing of the old socket may carry over. Not the start of a message it had read
  // (the new connection's OPEN was framed behind it: a header error). Not a close left pending by
  // a hang-up handled before our OPEN's write completed (GoBGP hangs up on every connection for
  // 5 s after a session drops, and with two I/O threads that happens): it closed the new
  // connection right after our OPEN, behind the FSM's back, which sat in OpenSent until the hold
  // timer, while the peer saw its attempt fail and, as helper, dropped the routes it kept for us.
  c->out.clear();
  c->writing = false;  // an old write completes with an old epoch, and leaves this alone
  c->closeAfterWrite = false;
  c->inUsed = 0;
  c->readPaused = false;
  c->notified = false;
  c->rx = c->tx = CodecContext{};
  const tcp::endpoint remote(toAsio(spec_.address), spec_.port);
  c->socket.open(remote.protocol(), ec);
  if (!ec && sourceAddress_ && sourceAddress_->family == spec_.address.family) {
    c->socket.bind(tcp::endpoint(toAsio(*sourceAddress_), 0), ec);
    if (ec) {
      log_->debug("peer {}: cannot bind {}: {}", spec_.key, sourceAddress_->toString(), ec.message());
      ec.clear();
    }
  }
  if (!ec) {
    if (auto r = prepareSocket(c->socket, true); !r) {
      log_->warn("peer {}: {}", spec_.key, r.error().toString());
      setState(c->fsm.state(), r.error().toString());
    }
  }
  if (ec) {
    asio::post(strand_, [self = shared_from_this(), c] {
      self->handle(c, fsm::Event::of(fsm::EventKind::kTcpConnectionFails));
    });
    return;
  }
  c->socket.async_connect(remote, asio::bind_executor(strand_, [self = shared_from_this(), c,
                                                                epoch](const boost::system::error_code& err) {
                            if (c->dead || c->epoch != epoch) return;
                            if (err) {
                              self->setState(c->fsm.state(), "connect: " + err.message());
                              self->handle(c, fsm::Event::of(fsm::EventKind::kTcpConnectionFails));
                              return;
                            }
                            self->handle(c, fsm::Event::of(fsm::EventKind::kTcpCrAcked));
                            if (!c->dead) self->read(c);
                          }));
}

void Peer::read(const ConnectionPtr& c) {
  if (c->in.size() - c->inUsed < kMaxMessageSize) c->in.resize(c->inUsed + 64 * 1024);
  const auto epoch = c->epoch;
  c->socket.async_read_some(
      asio::buffer(c->in.data() + c->inUsed, c->in.size() - c->inUsed),
      asio::bind_executor(
          strand_, [self = shared_from_this(), c, epoch](const boost::system::error_code& ec, std::size_t n) {
            if (c->dead || c->epoch != epoch) return;
            if (ec) {
              if (ec != asio::error::eof) self->setState(c->fsm.state(), "read: " + ec.message());
              self->handle(c, fsm::Event::of(fsm::EventKind::kTcpConnectionFails));
              return;
            }
            c->inUsed += n;
            self->onBytes(c);
            if (c->dead || c->epoch != epoch) return;
            if (self->unconsumed_.load(std::memory_order_acquire) > kReceiveWindow) {
              c->readPaused = true;  // consumed() resumes
              return;
            }
            self->read(c);
          }));
}

void Peer::consumed(std::size_t bytes) {
  const std::size_t before = unconsumed_.fetch_sub(bytes, std::memory_order_acq_rel);
  if (before - bytes > kReceiveWindow || before <= kReceiveWindow) return;  // no threshold crossed
  asio::post(strand_, [self = shared_from_this()] {
    if (self->unconsumed_.load(std::memory_order_acquire) > kReceiveWindow) return;
    for (auto& c : std::vector<ConnectionPtr>(self->connections_)) {
      if (!c->readPaused || c->dead) continue;
      c->readPaused = false;
      // Messages already buffered are handled before the socket is read again.
      self->onBytes(c);
      if (!c->dead) self->read(c);
    }
  });
}

void Peer::onBytes(const ConnectionPtr& c) {
  std::vector<ReceivedUpdate> updates;
  std::size_t offset = 0;
  const auto epoch = c->epoch;
  while (!c->dead && c->epoch == epoch) {
    const wire::ByteView rest(c->in.data() + offset, c->inUsed - offset);
    const auto frame = frameMessage(rest);
    if (frame.status == Frame::Status::kNeedMore) break;
    if (frame.status == Frame::Status::kError) {
      handle(c, fsm::Event::error(fsm::EventKind::kBgpHeaderErr, frame.error));
      break;
    }
    onMessage(c, rest.first(frame.length), updates);
    offset += frame.length;
  }
  if (c->epoch == epoch && !c->dead) {
    std::memmove(c->in.data(), c->in.data() + offset, c->inUsed - offset);
    c->inUsed -= offset;
  }
  if (!updates.empty()) observer_.onUpdates(id_, std::move(updates));
}

void Peer::onMessage(const ConnectionPtr& c, wire::ByteView bytes, std::vector<ReceivedUpdate>& updates) {
  auto decoded = decodeMessage(bytes, c->rx);
  if (!decoded.message) {
    const auto type = static_cast<MessageType>(bytes[18]);
    const auto kind = type == MessageType::kOpen     ? fsm::EventKind::kBgpOpenMsgErr
                      : type == MessageType::kUpdate ? fsm::EventKind::kUpdateMsgErr
                                                     : fsm::EventKind::kBgpHeaderErr;
    log_->warn("peer {}: malformed message: {}", spec_.address.toString(), decoded.outcome.reason);
    handle(c, fsm::Event::error(kind, decoded.outcome.notification));
    return;
  }
  auto& message = *decoded.message;
  if (auto* open = std::get_if<Open>(&message)) {
    if (!settleCollision(c, *open)) return;
    if (auto* gr = gracefulRestart(open->capabilities)) {
      gracefulPeer_ = true;
      peerRestartTime_ = gr->restartTime;
    } else {
      gracefulPeer_ = false;
    }
    handle(c, fsm::Event::openReceived(std::move(*open)));
  } else if (auto* update = std::get_if<Update>(&message)) {
    if (c->up) {
      if (decoded.outcome.action != ErrorAction::kNone)
        log_->warn("peer {}: UPDATE error, {}: {}", spec_.address.toString(),
                   errorActionName(decoded.outcome.action), decoded.outcome.reason);
      unconsumed_.fetch_add(bytes.size(), std::memory_order_acq_rel);
      updates.push_back({std::move(*update), std::move(decoded.outcome), bytes.size()});
    }
    handle(c, fsm::Event::of(fsm::EventKind::kUpdateMsg));
  } else if (auto* n = std::get_if<Notification>(&message)) {
    c->notified = true;
    log_->warn("peer {}: received NOTIFICATION {}", spec_.address.toString(), n->describe());
    setState(c->fsm.state(), "received: " + n->describe());
    const bool versionError = n->code == 2 && n->subcode == 1;
    handle(c,
           fsm::Event::error(versionError ? fsm::EventKind::kNotifMsgVerErr : fsm::EventKind::kNotifMsg, *n));
  } else if (std::holds_alternative<Keepalive>(message)) {
    handle(c, fsm::Event::of(fsm::EventKind::kKeepAliveMsg));
  } else if (auto* rr = std::get_if<RouteRefresh>(&message)) {
    if (c->up && isSupported(rr->afi, rr->safi))
      observer_.onRouteRefresh(id_, AfiSafi{static_cast<Afi>(rr->afi), static_cast<Safi>(rr->safi)});
  }
}

bool Peer::settleCollision(const ConnectionPtr& c, const Open& open) {
  for (auto& other : std::vector<ConnectionPtr>(connections_)) {
    if (other == c || other->dead) continue;
    const auto decision = fsm::resolveCollision(other->fsm.state(), other->direction, localId_, open.bgpId);
    switch (decision) {
      case fsm::CollisionDecision::kNoCollision:
        // The other attempt never got as far as an OPEN: this connection wins outright.
        handle(other, fsm::Event::of(fsm::EventKind::kManualStop));
        break;
      case fsm::CollisionDecision::kCloseExisting:
        log_->info("peer {}: collision, keeping the new connection", spec_.address.toString());
        handle(other, fsm::Event::of(fsm::EventKind::kOpenCollisionDump));
        break;
      case fsm::CollisionDecision::kCloseNew:
        log_->info("peer {}: collision, keeping the existing connection", spec_.address.toString());
        handle(c, fsm::Event::of(fsm::EventKind::kOpenCollisionDump));
        return false;
    }
  }
  return true;
}

void Peer::write(const ConnectionPtr& c, wire::Bytes bytes) {
  if (c->dead && !c->writing) return;
  c->out.push_back(std::move(bytes));
  flushWrites(c);
}

void Peer::flushWrites(const ConnectionPtr& c) {
  if (c->writing || c->out.empty()) return;
  // Everything queued goes in one write: a full table is thousands of UPDATEs.
  auto buffer = std::make_shared<wire::Bytes>();
  std::size_t total = 0;
  for (const auto& m : c->out) total += m.size();
  buffer->reserve(total);
  for (const auto& m : c->out) buffer->insert(buffer->end(), m.begin(), m.end());
  c->out.clear();
  c->writing = true;
  const auto epoch = c->epoch;
  asio::async_write(c->socket, asio::buffer(*buffer),
                    asio::bind_executor(strand_, [self = shared_from_this(), c, buffer, epoch](
                                                     const boost::system::error_code& ec, std::size_t) {
                      // A write of a socket since closed: `writing` is the new socket's now.
                      if (c->epoch != epoch) return;
                      c->writing = false;
                      if (ec) {
                        c->out.clear();
                        if (c->closeAfterWrite) {
                          boost::system::error_code ignored;
                          ++c->epoch;
                          c->socket.close(ignored);
                          return;
                        }
                        self->handle(c, fsm::Event::of(fsm::EventKind::kTcpConnectionFails));
                        return;
                      }
                      if (!c->out.empty()) {
                        self->flushWrites(c);
                      } else if (c->closeAfterWrite) {
                        boost::system::error_code ignored;
                        c->socket.shutdown(tcp::socket::shutdown_both, ignored);
                        ++c->epoch;
                        c->socket.close(ignored);
                      }
                    }));
}

void Peer::close(const ConnectionPtr& c) {
  if (c->writing || !c->out.empty()) {
    c->closeAfterWrite = true;  // a NOTIFICATION goes out before the connection closes
    return;
  }
  boost::system::error_code ec;
  ++c->epoch;
  c->socket.close(ec);
}

void Peer::forget(const ConnectionPtr& c) {
  c->dead = true;
  c->up = false;
  for (std::size_t i = 0; i < c->timers.size(); ++i) {
    ++c->timerGen[i];
    c->timers[i].cancel();
  }
  close(c);
  std::erase(connections_, c);
}

void Peer::scheduleRestart() {
  idleHold_.expires_after(idleHoldDelay_);
  idleHoldDelay_ = std::min(idleHoldDelay_ * 2, timers_.idleHoldMax);
  idleHold_.async_wait(
      asio::bind_executor(strand_, [self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->stopped_ || !self->connections_.empty()) return;
        auto c = self->newConnection(fsm::Direction::kOutbound);
        self->handle(c, fsm::Event::of(fsm::EventKind::kAutomaticStart));
      }));
}

}  // namespace tartan::bgp::speaker
