// RFC 4271 §8 transitions as tables: from a state, an event gives a state and exact actions.
#include "fsm/fsm.hpp"
#include "fsm/collision.hpp"

#include <catch2/catch.hpp>

using namespace tartan::bgp;
using namespace tartan::bgp::fsm;

namespace {

PeerConfig config() {
  PeerConfig c;
  c.localAs = 65001;
  c.routerId = 0x0a000001;
  c.peerAs = 65002;
  c.holdTime = 90;
  return c;
}

Open peerOpen(std::uint16_t hold = 90) {
  Open o;
  o.myAs = 65002;
  o.holdTime = hold;
  o.bgpId = 0x0a000002;
  o.capabilities = {MultiprotocolCap{kIpv4Unicast}, FourOctetAsCap{65002}};
  return o;
}

Event ev(EventKind k) { return Event::of(k); }

// Drives a fresh FSM into the given state along the usual path (Active: as a passive peer).
Fsm fsmIn(State target, PeerConfig c = config()) {
  if (target == State::kActive) c.passive = true;
  Fsm f(c);
  if (target == State::kIdle) return f;
  f.handle(ev(EventKind::kManualStart));
  if (target == State::kConnect || target == State::kActive) return f;
  f.handle(ev(EventKind::kTcpCrAcked));
  if (target == State::kOpenSent) return f;
  f.handle(Event::openReceived(peerOpen()));
  if (target == State::kOpenConfirm) return f;
  f.handle(ev(EventKind::kKeepAliveMsg));
  REQUIRE(f.state() == State::kEstablished);
  return f;
}

const Notification kFsmOpenSent = Notification::make(ErrorCode::kFsm, FsmSubcode::kUnexpectedInOpenSent);

}  // namespace

TEST_CASE("Idle: ManualStart connects, or listens when passive; everything else is ignored") {
  Fsm active(config());
  CHECK(active.handle(ev(EventKind::kManualStart)) ==
        Actions{StartTimer{Timer::kConnectRetry, 120}, InitiateTcp{}});
  CHECK(active.state() == State::kConnect);

  auto c = config();
  c.passive = true;
  Fsm passive(c);
  CHECK(passive.handle(ev(EventKind::kManualStart)) == Actions{StartTimer{Timer::kConnectRetry, 120}});
  CHECK(passive.state() == State::kActive);

  for (auto k : {EventKind::kManualStop, EventKind::kHoldTimerExpires, EventKind::kTcpCrAcked,
                 EventKind::kKeepAliveMsg, EventKind::kUpdateMsg, EventKind::kNotifMsg}) {
    Fsm idle(config());
    CHECK(idle.handle(ev(k)).empty());
    CHECK(idle.state() == State::kIdle);
  }
}

TEST_CASE("Connect: TCP up sends OPEN and runs the large hold timer") {
  auto f = fsmIn(State::kConnect);
  const auto actions = f.handle(ev(EventKind::kTcpCrAcked));
  CHECK(actions == Actions{StopTimer{Timer::kConnectRetry}, SendOpen{makeOpen(config())},
                           StartTimer{Timer::kHold, 240}});
  CHECK(f.state() == State::kOpenSent);
}

TEST_CASE("Connect: ConnectRetry expiry drops and retries the connection") {
  auto f = fsmIn(State::kConnect);
  CHECK(f.handle(ev(EventKind::kConnectRetryTimerExpires)) ==
        Actions{DropTcp{}, StartTimer{Timer::kConnectRetry, 120}, InitiateTcp{}});
  CHECK(f.state() == State::kConnect);
}

TEST_CASE("Connect: TCP failure without DelayOpen goes Idle") {
  auto f = fsmIn(State::kConnect);
  CHECK(f.handle(ev(EventKind::kTcpConnectionFails)) == Actions{StopTimer{Timer::kConnectRetry}, DropTcp{}});
  CHECK(f.state() == State::kIdle);
}

TEST_CASE("Connect: an unexpected message goes Idle and counts a retry") {
  auto f = fsmIn(State::kConnect);
  f.handle(ev(EventKind::kKeepAliveMsg));
  CHECK(f.state() == State::kIdle);
  CHECK(f.connectRetryCounter() == 1);
}

TEST_CASE("DelayOpen: TCP up waits; expiry sends OPEN; an early OPEN is answered at once") {
  auto c = config();
  c.delayOpenTime = 5;
  {
    auto f = fsmIn(State::kConnect, c);
    CHECK(f.handle(ev(EventKind::kTcpCrAcked)) ==
          Actions{StopTimer{Timer::kConnectRetry}, StartTimer{Timer::kDelayOpen, 5}});
    CHECK(f.state() == State::kConnect);
    CHECK(f.handle(ev(EventKind::kDelayOpenTimerExpires)) ==
          Actions{StopTimer{Timer::kConnectRetry}, SendOpen{makeOpen(c)}, StartTimer{Timer::kHold, 240}});
    CHECK(f.state() == State::kOpenSent);
  }
  {
    auto f = fsmIn(State::kConnect, c);
    f.handle(ev(EventKind::kTcpCrAcked));
    const auto actions = f.handle(Event::openReceived(peerOpen()));
    CHECK(actions == Actions{StopTimer{Timer::kConnectRetry}, StopTimer{Timer::kDelayOpen},
                             SendOpen{makeOpen(c)}, SendKeepalive{}, StartTimer{Timer::kKeepalive, 30},
                             StartTimer{Timer::kHold, 90}});
    CHECK(f.state() == State::kOpenConfirm);
  }
  {
    auto f = fsmIn(State::kConnect, c);
    f.handle(ev(EventKind::kTcpCrAcked));
    CHECK(f.handle(ev(EventKind::kTcpConnectionFails)) ==
          Actions{StartTimer{Timer::kConnectRetry, 120}, StopTimer{Timer::kDelayOpen}});
    CHECK(f.state() == State::kActive);
  }
}

TEST_CASE("Active: an accepted connection sends OPEN; ConnectRetry expiry starts connecting") {
  auto c = config();
  c.passive = true;
  {
    auto f = fsmIn(State::kActive, c);
    f.handle(ev(EventKind::kTcpConnectionConfirmed));
    CHECK(f.state() == State::kOpenSent);
  }
  {
    auto active = config();
    Fsm f(active);
    f.handle(ev(EventKind::kManualStart));
    f.handle(ev(EventKind::kTcpCrAcked));
    f.handle(ev(EventKind::kTcpConnectionFails));  // OpenSent → Active
    REQUIRE(f.state() == State::kActive);
    CHECK(f.handle(ev(EventKind::kConnectRetryTimerExpires)) ==
          Actions{StartTimer{Timer::kConnectRetry, 120}, InitiateTcp{}});
    CHECK(f.state() == State::kConnect);
  }
}

TEST_CASE("OpenSent: a valid OPEN is answered with KEEPALIVE and the negotiated timers") {
  auto f = fsmIn(State::kOpenSent);
  CHECK(f.handle(Event::openReceived(peerOpen(60))) ==
        Actions{StopTimer{Timer::kConnectRetry}, SendKeepalive{}, StartTimer{Timer::kKeepalive, 20},
                StartTimer{Timer::kHold, 60}});
  CHECK(f.state() == State::kOpenConfirm);
  REQUIRE(f.session());
  CHECK(f.session()->holdTime == 60);
  CHECK(f.session()->peerAs == 65002u);
}

TEST_CASE("OpenSent: a hold time of zero means no keepalive and no hold timer") {
  auto f = fsmIn(State::kOpenSent);
  CHECK(f.handle(Event::openReceived(peerOpen(0))) ==
        Actions{StopTimer{Timer::kConnectRetry}, SendKeepalive{}, StopTimer{Timer::kHold}});
  f.handle(ev(EventKind::kKeepAliveMsg));
  CHECK(f.state() == State::kEstablished);
}

TEST_CASE("OpenSent: an unacceptable OPEN sends its NOTIFICATION and goes Idle") {
  auto f = fsmIn(State::kOpenSent);
  auto open = peerOpen();
  open.version = 3;
  const auto actions = f.handle(Event::openReceived(open));
  REQUIRE(actions.size() > 2);
  CHECK(actions[0] == Action{StopTimer{Timer::kConnectRetry}});
  CHECK(actions[1] == Action{SendNotification{Notification::make(
                          ErrorCode::kOpenMessage, OpenSubcode::kUnsupportedVersionNumber, {0, 4})}});
  CHECK(actions.back() == Action{DropTcp{}});
  CHECK(f.state() == State::kIdle);
  CHECK(f.connectRetryCounter() == 1);
}

TEST_CASE("OpenSent transition table for the other events") {
  struct Row {
    EventKind event;
    State next;
    std::optional<Notification> sent;
  };
  const std::vector<Row> rows = {
      {EventKind::kHoldTimerExpires, State::kIdle, Notification(ErrorCode::kHoldTimerExpired, 0)},
      {EventKind::kManualStop, State::kIdle,
       Notification::make(ErrorCode::kCease, CeaseSubcode::kAdministrativeShutdown)},
      {EventKind::kOpenCollisionDump, State::kIdle,
       Notification::make(ErrorCode::kCease, CeaseSubcode::kConnectionCollisionResolution)},
      {EventKind::kKeepAliveMsg, State::kIdle, kFsmOpenSent},
      {EventKind::kUpdateMsg, State::kIdle, kFsmOpenSent},
      {EventKind::kKeepaliveTimerExpires, State::kIdle, kFsmOpenSent},
      {EventKind::kConnectRetryTimerExpires, State::kIdle, kFsmOpenSent},
      {EventKind::kNotifMsgVerErr, State::kIdle, std::nullopt},
      {EventKind::kTcpConnectionFails, State::kActive, std::nullopt},
      {EventKind::kManualStart, State::kOpenSent, std::nullopt},
  };
  for (const auto& row : rows) {
    INFO("event " << static_cast<int>(row.event));
    auto f = fsmIn(State::kOpenSent);
    const auto actions = f.handle(ev(row.event));
    CHECK(f.state() == row.next);
    const bool sentSomething = !actions.empty() && std::holds_alternative<SendNotification>(actions.front());
    CHECK(sentSomething == row.sent.has_value());
    if (row.sent && sentSomething)
      CHECK(std::get<SendNotification>(actions.front()).notification == *row.sent);
  }
}

TEST_CASE("OpenConfirm: KEEPALIVE brings the session up") {
  auto f = fsmIn(State::kOpenConfirm);
  const auto actions = f.handle(ev(EventKind::kKeepAliveMsg));
  REQUIRE(actions.size() == 2);
  CHECK(actions[0] == Action{StartTimer{Timer::kHold, 90}});
  REQUIRE(std::holds_alternative<SessionUp>(actions[1]));
  CHECK(std::get<SessionUp>(actions[1]).session.families == std::vector<AfiSafi>{kIpv4Unicast});
  CHECK(f.state() == State::kEstablished);
}

TEST_CASE("OpenConfirm: keepalive timer sends KEEPALIVE; UPDATE is an FSM error; NOTIFICATION goes Idle") {
  {
    auto f = fsmIn(State::kOpenConfirm);
    CHECK(f.handle(ev(EventKind::kKeepaliveTimerExpires)) ==
          Actions{SendKeepalive{}, StartTimer{Timer::kKeepalive, 30}});
  }
  {
    auto f = fsmIn(State::kOpenConfirm);
    const auto actions = f.handle(ev(EventKind::kUpdateMsg));
    CHECK(actions.front() == Action{SendNotification{
                                 Notification::make(ErrorCode::kFsm, FsmSubcode::kUnexpectedInOpenConfirm)}});
    CHECK(f.state() == State::kIdle);
  }
  {
    auto f = fsmIn(State::kOpenConfirm);
    const auto actions = f.handle(ev(EventKind::kNotifMsg));
    CHECK(std::none_of(actions.begin(), actions.end(),
                       [](const Action& a) { return std::holds_alternative<SendNotification>(a); }));
    CHECK(f.state() == State::kIdle);
  }
}

TEST_CASE("Established: traffic restarts the hold timer; keepalive timer sends KEEPALIVE") {
  auto f = fsmIn(State::kEstablished);
  CHECK(f.handle(ev(EventKind::kUpdateMsg)) == Actions{StartTimer{Timer::kHold, 90}});
  CHECK(f.handle(ev(EventKind::kKeepAliveMsg)) == Actions{StartTimer{Timer::kHold, 90}});
  CHECK(f.handle(ev(EventKind::kKeepaliveTimerExpires)) ==
        Actions{SendKeepalive{}, StartTimer{Timer::kKeepalive, 30}});
  CHECK(f.state() == State::kEstablished);
}

TEST_CASE("Established: leaving sends the right NOTIFICATION and takes the session down") {
  const Notification malformed =
      Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kMalformedAttributeList);
  struct Row {
    Event event;
    std::optional<Notification> sent;
    std::uint32_t retries;
  };
  const std::vector<Row> rows = {
      {Event::error(EventKind::kUpdateMsgErr, malformed), malformed, 1},
      {ev(EventKind::kHoldTimerExpires), Notification(ErrorCode::kHoldTimerExpired, 0), 1},
      {ev(EventKind::kManualStop),
       Notification::make(ErrorCode::kCease, CeaseSubcode::kAdministrativeShutdown), 0},
      {Event::openReceived(peerOpen()),
       Notification::make(ErrorCode::kFsm, FsmSubcode::kUnexpectedInEstablished), 1},
      {ev(EventKind::kNotifMsg), std::nullopt, 1},
      {ev(EventKind::kTcpConnectionFails), std::nullopt, 1},
  };
  for (const auto& row : rows) {
    auto f = fsmIn(State::kEstablished);
    const auto actions = f.handle(row.event);
    CHECK(f.state() == State::kIdle);
    CHECK(f.connectRetryCounter() == row.retries);
    CHECK(std::find(actions.begin(), actions.end(), Action{SessionDown{}}) != actions.end());
    CHECK(actions.back() == Action{DropTcp{}});
    if (row.sent)
      CHECK(actions.front() == Action{SendNotification{*row.sent}});
    else
      CHECK_FALSE(std::holds_alternative<SendNotification>(actions.front()));
    CHECK_FALSE(f.session());
  }
}

// --- OPEN validation and negotiation (RFC 4271 §6.2, RFC 6793, RFC 5492, RFC 7911) ----------

namespace {
Notification rejected(const PeerConfig& c, const Open& o) {
  auto r = negotiate(c, o);
  REQUIRE(std::holds_alternative<Notification>(r));
  return std::get<Notification>(r);
}
SessionParams accepted(const PeerConfig& c, const Open& o) {
  auto r = negotiate(c, o);
  REQUIRE(std::holds_alternative<SessionParams>(r));
  return std::get<SessionParams>(r);
}
Notification openErr(OpenSubcode s) { return Notification::make(ErrorCode::kOpenMessage, s); }
}  // namespace

TEST_CASE("hold time: the smaller wins, zero is allowed, 1 and 2 are unacceptable") {
  CHECK(accepted(config(), peerOpen(30)).holdTime == 30);
  CHECK(accepted(config(), peerOpen(30)).keepaliveTime == 10);
  CHECK(accepted(config(), peerOpen(240)).holdTime == 90);
  CHECK(accepted(config(), peerOpen(0)).holdTime == 0);
  CHECK(accepted(config(), peerOpen(3)).holdTime == 3);
  CHECK(rejected(config(), peerOpen(1)) == openErr(OpenSubcode::kUnacceptableHoldTime));
  CHECK(rejected(config(), peerOpen(2)) == openErr(OpenSubcode::kUnacceptableHoldTime));
}

TEST_CASE("keepalive time: the configured one when under a third of the hold time, else the third") {
  auto c = config();
  c.keepaliveTime = 5;
  CHECK(accepted(c, peerOpen(30)).keepaliveTime == 5);
  CHECK(accepted(c, peerOpen(9)).keepaliveTime == 3);
  CHECK(accepted(c, peerOpen(0)).keepaliveTime == 0);  // no hold timer: no KEEPALIVEs
  c.keepaliveTime = 0;
  CHECK(accepted(c, peerOpen(30)).keepaliveTime == 1);
}

TEST_CASE("peer AS: 4-octet capability, AS_TRANS, and the configured AS") {
  auto c = config();
  c.peerAs = 4200000000u;
  Open o = peerOpen();
  o.myAs = kAsTrans;
  o.capabilities = {FourOctetAsCap{4200000000u}};
  const auto s = accepted(c, o);
  CHECK(s.peerAs == 4200000000u);
  CHECK(s.fourOctetAs);
  CHECK(s.external);

  o.myAs = 65002;  // a 4-octet AS must come with AS_TRANS in My AS
  CHECK(rejected(c, o) == openErr(OpenSubcode::kBadPeerAs));

  CHECK(rejected(config(), [] {
          Open x = peerOpen();
          x.capabilities = {FourOctetAsCap{65003}};
          return x;
        }()) == openErr(OpenSubcode::kBadPeerAs));

  Open wrong = peerOpen();
  wrong.myAs = 65009;
  wrong.capabilities = {};
  CHECK(rejected(config(), wrong) == openErr(OpenSubcode::kBadPeerAs));

  Open zero = peerOpen();
  zero.myAs = 0;
  zero.capabilities = {};
  auto any = config();
  any.peerAs.reset();
  CHECK(rejected(any, zero) == openErr(OpenSubcode::kBadPeerAs));

  Open old = peerOpen();
  old.capabilities = {};
  CHECK_FALSE(accepted(config(), old).fourOctetAs);
}

TEST_CASE("BGP identifier: zero is bad; our own is bad inside the AS, fine across ASes (RFC 6286)") {
  Open o = peerOpen();
  o.bgpId = 0;
  CHECK(rejected(config(), o) == openErr(OpenSubcode::kBadBgpIdentifier));
  o.bgpId = config().routerId;
  CHECK(accepted(config(), o).peerId == config().routerId);
  auto ibgp = config();
  ibgp.peerAs = 65001;
  o.myAs = 65001;
  o.capabilities = {FourOctetAsCap{65001}};
  CHECK(rejected(ibgp, o) == openErr(OpenSubcode::kBadBgpIdentifier));
}

TEST_CASE("unsupported version gets the version we speak as data") {
  Open o = peerOpen();
  o.version = 5;
  CHECK(rejected(config(), o) ==
        Notification::make(ErrorCode::kOpenMessage, OpenSubcode::kUnsupportedVersionNumber, {0x00, 0x04}));
}

TEST_CASE("a required capability the peer lacks is Unsupported Capability with our TLV as data") {
  auto c = config();
  c.requiredCapabilities = {static_cast<std::uint8_t>(CapabilityCode::kRouteRefresh)};
  CHECK(rejected(c, peerOpen()) ==
        Notification::make(ErrorCode::kOpenMessage, OpenSubcode::kUnsupportedCapability, {0x02, 0x00}));
}

TEST_CASE("families are those both sides announce; no Multiprotocol capability means IPv4 only") {
  auto c = config();
  c.families = {kIpv4Unicast, kIpv6Unicast};
  Open o = peerOpen();
  o.capabilities = {MultiprotocolCap{kIpv6Unicast}};
  CHECK(accepted(c, o).families == std::vector<AfiSafi>{kIpv6Unicast});
  o.capabilities = {};
  CHECK(accepted(c, o).families == std::vector<AfiSafi>{kIpv4Unicast});
}

TEST_CASE("ADD-PATH flows where one side sends and the other receives (RFC 7911 §5)") {
  auto c = config();
  c.families = {kIpv4Unicast, kIpv6Unicast};
  c.addPath = {{kIpv4Unicast, AddPathMode::kBoth}, {kIpv6Unicast, AddPathMode::kReceive}};
  Open o = peerOpen();
  o.capabilities = {MultiprotocolCap{kIpv4Unicast}, MultiprotocolCap{kIpv6Unicast},
                    AddPathCap{{{kIpv4Unicast, AddPathMode::kReceive}, {kIpv6Unicast, AddPathMode::kBoth}}}};
  const auto s = accepted(c, o);
  CHECK(s.addPathSend == std::vector<AfiSafi>{kIpv4Unicast});
  CHECK(s.addPathReceive == std::vector<AfiSafi>{kIpv6Unicast});
  CHECK(s.receiveContext().addPathIpv6);
  CHECK_FALSE(s.receiveContext().addPathIpv4);
  CHECK(s.sendContext().addPathIpv4);
}

TEST_CASE("our OPEN carries AS_TRANS for a 4-octet AS and lists our capabilities") {
  auto c = config();
  c.localAs = 4200000000u;
  c.gracefulRestart = GracefulRestartCap{false, false, 120, {{kIpv4Unicast, true}}};
  const Open o = makeOpen(c);
  CHECK(o.myAs == kAsTrans);
  CHECK(fourOctetAs(o.capabilities) == 4200000000u);
  CHECK(hasRouteRefresh(o.capabilities));
  REQUIRE(gracefulRestart(o.capabilities));
  CHECK(gracefulRestart(o.capabilities)->restartTime == 120);
}

// --- Connection collision (RFC 4271 §6.8) --------------------------------------------------

TEST_CASE("collision: the connection opened by the higher identifier survives") {
  const std::uint32_t low = 0x0a000001, high = 0x0a000002;
  // We are lower: our outbound connection loses.
  CHECK(resolveCollision(State::kOpenConfirm, Direction::kOutbound, low, high) ==
        CollisionDecision::kCloseExisting);
  CHECK(resolveCollision(State::kOpenConfirm, Direction::kInbound, low, high) ==
        CollisionDecision::kCloseNew);
  // We are higher: the peer's connection loses.
  CHECK(resolveCollision(State::kOpenConfirm, Direction::kOutbound, high, low) ==
        CollisionDecision::kCloseNew);
  CHECK(resolveCollision(State::kOpenSent, Direction::kInbound, high, low) ==
        CollisionDecision::kCloseExisting);
}

TEST_CASE("collision: identifiers compare as unsigned 32-bit numbers") {
  CHECK(resolveCollision(State::kOpenConfirm, Direction::kOutbound, 0x80000000u, 0x7fffffffu) ==
        CollisionDecision::kCloseNew);
}

TEST_CASE("collision: an Established connection always wins; early states do not collide") {
  CHECK(resolveCollision(State::kEstablished, Direction::kOutbound, 1, 2) == CollisionDecision::kCloseNew);
  CHECK(resolveCollision(State::kEstablished, Direction::kInbound, 2, 1) == CollisionDecision::kCloseNew);
  for (auto s : {State::kIdle, State::kConnect, State::kActive})
    CHECK(resolveCollision(s, Direction::kOutbound, 1, 2) == CollisionDecision::kNoCollision);
}

TEST_CASE("collision dump in OpenConfirm sends Cease / Connection Collision Resolution") {
  auto f = fsmIn(State::kOpenConfirm);
  const auto actions = f.handle(ev(EventKind::kOpenCollisionDump));
  CHECK(actions.front() == Action{SendNotification{Notification::make(
                               ErrorCode::kCease, CeaseSubcode::kConnectionCollisionResolution)}});
  CHECK(f.state() == State::kIdle);
}

TEST_CASE("the Idle hold time backs off with each failed attempt, up to the ConnectRetry time") {
  Fsm f(config());
  CHECK(f.idleHoldTime() == 0);
  std::vector<std::uint32_t> seen;
  for (int i = 0; i < 7; ++i) {
    f.handle(ev(EventKind::kAutomaticStart));
    f.handle(ev(EventKind::kTcpCrAcked));
    f.handle(ev(EventKind::kHoldTimerExpires));  // OpenSent → Idle, counted
    seen.push_back(f.idleHoldTime());
  }
  CHECK(seen == std::vector<std::uint32_t>{5, 10, 20, 40, 80, 120, 120});
  f.handle(ev(EventKind::kManualStart));  // an operator start resets the count
  CHECK(f.idleHoldTime() == 0);
}

TEST_CASE("a second TCP connection does not disturb a connection past Active (RFC 4271 §6.8, §8.2.2)") {
  for (auto state : {State::kOpenSent, State::kOpenConfirm, State::kEstablished}) {
    for (auto k : {EventKind::kTcpConnectionConfirmed, EventKind::kTcpCrAcked}) {
      auto f = fsmIn(state);
      CHECK(f.handle(ev(k)).empty());
      CHECK(f.state() == state);
    }
  }
}

TEST_CASE("OpenConfirm: a NOTIFICATION with a version error goes Idle without counting a retry") {
  auto f = fsmIn(State::kOpenConfirm);
  f.handle(ev(EventKind::kNotifMsgVerErr));
  CHECK(f.state() == State::kIdle);
  CHECK(f.connectRetryCounter() == 0);
}

TEST_CASE("a passive peer never initiates: ConnectRetry expiry in Active only restarts the timer") {
  auto f = fsmIn(State::kActive);
  CHECK(f.handle(ev(EventKind::kConnectRetryTimerExpires)) == Actions{StartTimer{Timer::kConnectRetry, 120}});
  CHECK(f.state() == State::kActive);
}
