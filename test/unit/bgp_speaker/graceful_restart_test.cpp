// Graceful restart, helper side (RFC 4724 §4.2): a speaker over loopback with a fake kernel, and a
// scripted peer that speaks raw BGP (OPEN with the Graceful Restart capability, one UPDATE) and
// then vanishes without a NOTIFICATION, as a killed process does. The peer's route must stay in
// the kernel while it may restart, and go when its restart time — capped by our own
// (BGPPeer maxRestartTime) — runs out, whether or not the session came back without End-of-RIB.
#include "speaker.hpp"

#include "loopback_fixture.hpp"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <mutex>
#include <thread>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using tartan::test::eventually;
using tartan::test::freePort;
using tartan::test::LockedTable;

namespace {

constexpr const char* kSpeakerAddress = "127.0.0.2";
constexpr const char* kPeerAddress = "127.0.0.3";
constexpr const char* kPeerRoute = "10.65.2.0/26";

// The speaker under test, its peer at 127.0.0.3 on a port where nobody listens (so every session
// is the one the scripted peer opens, unless a test listens on `peerPort`), our restart-time cap
// `ownRestartTime`.
struct Helper {
  // `preserved`: routes a previous run of the speaker left in the kernel (it restarts).
  // `threads`: I/O threads running the speaker (tartan-bgpd runs two).
  explicit Helper(std::uint16_t ownRestartTime, const std::vector<std::string>& preserved = {},
                  int threads = 1)
      : port(freePort(kSpeakerAddress)), peerPort(freePort(kPeerAddress)) {
    SpeakerOptions o;
    o.listenPort = port;
    o.timers.holdTime = 9;
    o.timers.connectRetryTime = 1;
    o.timers.idleHoldMin = 100ms;
    auto t = std::make_unique<LockedTable>();
    table = t.get();
    for (const auto& prefix : preserved) {
      const netlink::RouteChange add{
          netlink::RouteOp::Replace,
          netlink::Route::via(*netlink::Prefix::parse(prefix), *netlink::IpAddress::parse(kPeerAddress),
                              netlink::kProtocolBgp)};
      REQUIRE(table->applyRoutes(std::span(&add, 1)).has_value());
    }
    speaker = std::make_unique<Speaker>(io, o, std::move(t));
    for (int i = 0; i < threads; ++i) pool.emplace_back([this] { io.run(); });

    SpeakerConfig c;
    c.nodeName = "a";
    c.localAs = 64512;
    c.ipv4 = Address::parse(kSpeakerAddress);
    c.routerId = c.ipv4->v4HostOrder();
    c.pools = {{*Prefix::parse("10.65.0.0/16"), false}};
    PeerSpec p;
    p.key = "peer/scripted/127.0.0.3";
    p.type = PeerType::kGlobal;
    p.address = *Address::parse(kPeerAddress);
    p.port = peerPort;
    p.peerAs = 64512;
    p.localAs = 64512;
    p.restartTime = ownRestartTime;
    c.peers = {p};
    speaker->applyConfig(c);
  }
  ~Helper() {
    // The speaker goes only once no I/O thread can run one of its peers' handlers any more.
    speaker->shutdown();
    work.reset();
    io.stop();
    for (auto& t : pool) t.join();
    speaker.reset();
  }
  bool established() {
    auto r = speaker->report(false);
    return !r.peers.empty() && r.peers[0].status.state == fsm::State::kEstablished;
  }

  std::uint16_t port;
  std::uint16_t peerPort;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  LockedTable* table = nullptr;
  std::unique_ptr<Speaker> speaker;
  std::vector<std::thread> pool;
};

// A BGP peer as a script: blocking socket, hold time 0 (no KEEPALIVEs needed), iBGP.
class ScriptedPeer {
 public:
  // Connects and completes the OPEN exchange. `gr` is what its OPEN says about graceful restart.
  ScriptedPeer(std::uint16_t port, std::optional<GracefulRestartCap> gr) {
    // The speaker listens once its config is applied, which is asynchronous: retry briefly.
    boost::system::error_code ec;
    for (int attempt = 0; attempt < 100; ++attempt) {
      socket_.close(ec);
      socket_.open(tcp::v4());
      socket_.bind({asio::ip::make_address(kPeerAddress), 0});
      socket_.connect({asio::ip::make_address(kSpeakerAddress), port}, ec);
      if (!ec) break;
      std::this_thread::sleep_for(50ms);
    }
    REQUIRE_FALSE(ec);
    handshake(gr);
  }
  // Takes the speaker's own connection on `listener` (within a bounded wait) and completes the
  // OPEN exchange on it.
  ScriptedPeer(tcp::acceptor& listener, std::optional<GracefulRestartCap> gr) {
    REQUIRE(acceptWithin(listener, socket_, 5s));
    handshake(gr);
  }

  // Waits at most `limit` for a connection on `listener` (never blocks for good).
  static bool acceptWithin(tcp::acceptor& listener, tcp::socket& socket, std::chrono::milliseconds limit) {
    listener.non_blocking(true);
    boost::system::error_code ec;
    const bool accepted = eventually(
        [&] {
          listener.accept(socket, ec);
          return !ec;
        },
        limit, 10ms);
    if (accepted) socket.non_blocking(false);
    return accepted;
  }

 private:
  void handshake(const std::optional<GracefulRestartCap>& gr) {
    Open open;
    open.myAs = 64512;
    open.holdTime = 0;
    open.bgpId = Address::parse(kPeerAddress)->v4HostOrder();
    open.capabilities = {MultiprotocolCap{kIpv4Unicast}, FourOctetAsCap{64512}};
    if (gr) open.capabilities.push_back(*gr);
    send(open);
    for (;;) {
      auto m = receive();
      if (auto* theirs = std::get_if<Open>(&m)) {
        speakerOpen_ = std::move(*theirs);
        break;
      }
    }
    send(Keepalive{});
    while (!std::holds_alternative<Keepalive>(receive())) {
    }
  }

 public:
  void announce() {
    Update u;
    u.attributes.origin = Origin::kIgp;
    u.attributes.asPath = AsPath{};
    u.attributes.nextHop = Address::parse(kPeerAddress);
    u.attributes.localPref = 100;
    u.nlri = {NlriEntry{*Prefix::parse(kPeerRoute), 0}};
    send(u);
  }
  void endOfRib() { send(Update{}); }
  // The route and the End-of-RIB in one write, so that the speaker reads them together.
  void announceWithEndOfRib() {
    Update u;
    u.attributes.origin = Origin::kIgp;
    u.attributes.asPath = AsPath{};
    u.attributes.nextHop = Address::parse(kPeerAddress);
    u.attributes.localPref = 100;
    u.nlri = {NlriEntry{*Prefix::parse(kPeerRoute), 0}};
    auto bytes = encodeMessage(u, ctx_);
    const auto eor = encodeMessage(Update{}, ctx_);
    bytes.insert(bytes.end(), eor.begin(), eor.end());
    asio::write(socket_, asio::buffer(bytes));
  }
  // What the speaker said about its own restart in its OPEN (RFC 4724 §3), if anything.
  std::optional<GracefulRestartCap> speakerRestartCap() const {
    const auto* gr = gracefulRestart(speakerOpen_.capabilities);
    return gr ? std::optional<GracefulRestartCap>(*gr) : std::nullopt;
  }
  // Gone without a NOTIFICATION, as a killed process is.
  void vanish() {
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  void send(const Message& m) { asio::write(socket_, asio::buffer(encodeMessage(m, ctx_))); }
  Message receive() {
    std::vector<std::uint8_t> bytes(19);
    asio::read(socket_, asio::buffer(bytes));
    const std::size_t length = (std::size_t{bytes[16]} << 8) | bytes[17];
    bytes.resize(length);
    asio::read(socket_, asio::buffer(bytes.data() + 19, length - 19));
    auto decoded = decodeMessage(bytes, ctx_);
    REQUIRE(decoded.message.has_value());
    return *decoded.message;
  }

  asio::io_context io_;
  tcp::socket socket_{io_};
  CodecContext ctx_;
  Open speakerOpen_;
};

GracefulRestartCap grCap(std::uint16_t restartTime, bool restarting, bool forwardingPreserved) {
  GracefulRestartCap gr;
  gr.restarting = restarting;
  gr.restartTime = restartTime;
  gr.families = {{kIpv4Unicast, forwardingPreserved}};
  return gr;
}

}  // namespace

TEST_CASE("graceful restart helper: stale routes live until End-of-RIB or the restart time, never longer",
          "[bgp][speaker][graceful-restart]") {
  // Our cap is 3 s; the peer asks for 120 s. Only the cap can explain a removal within seconds.
  Helper helper(3);
  auto first = std::make_unique<ScriptedPeer>(helper.port, grCap(120, false, true));
  REQUIRE(eventually([&] { return helper.established(); }, 10s));
  first->announce();
  first->endOfRib();
  REQUIRE(eventually([&] { return helper.table->has(kPeerRoute); }, 10s));
  first->vanish();
  REQUIRE(eventually([&] { return !helper.established(); }, 10s));

  SECTION("a peer that never comes back loses them when the capped restart time runs out") {
    CHECK(helper.table->has(kPeerRoute));  // kept as stale first
    CHECK(eventually([&] { return !helper.table->has(kPeerRoute); }, 15s));
  }
  SECTION("a peer that comes back but never sends End-of-RIB loses them when the time runs out again") {
    ScriptedPeer again(helper.port, grCap(120, true, true));
    REQUIRE(eventually([&] { return helper.established(); }, 10s));
    CHECK(helper.table->has(kPeerRoute));
    CHECK(eventually([&] { return !helper.table->has(kPeerRoute); }, 15s));
    CHECK(helper.established());  // the session itself stays
  }
  SECTION("a peer that comes back and announces the route before End-of-RIB keeps it") {
    ScriptedPeer again(helper.port, grCap(120, true, true));
    REQUIRE(eventually([&] { return helper.established(); }, 10s));
    again.announce();
    again.endOfRib();
    // Past the 3 s bound: the route, fresh again, is not swept by an old timer.
    std::this_thread::sleep_for(5s);
    CHECK(helper.table->has(kPeerRoute));
  }
  SECTION("a peer that comes back and sends End-of-RIB without the route loses it") {
    ScriptedPeer again(helper.port, grCap(120, true, true));
    REQUIRE(eventually([&] { return helper.established(); }, 10s));
    again.endOfRib();
    CHECK(eventually([&] { return !helper.table->has(kPeerRoute); }, 2s));
  }
}

TEST_CASE("graceful restart helper: a peer back without preserved forwarding loses its stale routes at once",
          "[bgp][speaker][graceful-restart]") {
  // Cap and peer restart time are long: only §4.2's F-bit / capability rule can remove the route.
  Helper helper(60);
  auto first = std::make_unique<ScriptedPeer>(helper.port, grCap(120, false, true));
  REQUIRE(eventually([&] { return helper.established(); }, 10s));
  first->announce();
  REQUIRE(eventually([&] { return helper.table->has(kPeerRoute); }, 10s));
  first->vanish();
  REQUIRE(eventually([&] { return !helper.established(); }, 10s));
  REQUIRE(helper.table->has(kPeerRoute));

  SECTION("F bit clear") {
    ScriptedPeer again(helper.port, grCap(120, true, false));
    REQUIRE(eventually([&] { return helper.established(); }, 10s));
    CHECK(eventually([&] { return !helper.table->has(kPeerRoute); }, 5s));
  }
  SECTION("no Graceful Restart capability") {
    ScriptedPeer again(helper.port, std::nullopt);
    REQUIRE(eventually([&] { return helper.established(); }, 10s));
    CHECK(eventually([&] { return !helper.table->has(kPeerRoute); }, 5s));
  }
}

TEST_CASE(
    "restarting speaker: a route the peer announces again in the same read as its End-of-RIB never "
    "leaves the kernel",
    "[bgp][speaker][graceful-restart]") {
  // A previous run left the peer's route and one nobody announces any more (RFC 4724 §4.1).
  Helper helper(120, {kPeerRoute, "10.65.9.0/26"});
  ScriptedPeer peer(helper.port, grCap(120, false, true));
  REQUIRE(eventually([&] { return helper.established(); }, 10s));
  peer.announceWithEndOfRib();
  // The End-of-RIB ends the wait: the route nobody announced goes ...
  REQUIRE(eventually([&] { return !helper.table->has("10.65.9.0/26"); }, 10s));
  // ... and the one announced with it was never deleted, not even for a moment.
  CHECK(helper.table->has(kPeerRoute));
  const auto deleted = helper.table->deleted();
  CHECK(std::count(deleted.begin(), deleted.end(), std::string(kPeerRoute)) == 0);
}

TEST_CASE(
    "restarting speaker: the Restart State and Forwarding State bits say whether the kernel kept our "
    "routes, and only the first session after the restart is a restart",
    "[bgp][speaker][graceful-restart]") {
  struct Case {
    const char* name;
    std::vector<std::string> preserved;  // our routes a previous run left in the kernel
    bool restarted;                      // R bit of the first OPEN
    bool forwardingPreserved;            // F bit of the first OPEN
  };
  // RFC 4724 §3: F only for forwarding state that was in fact kept. A start with nothing of ours in
  // the kernel (first start, node reboot) must not let a helper go on forwarding to us.
  const Case cases[] = {
      {"restart with routes kept in the kernel", {kPeerRoute}, true, true},
      {"start with nothing kept", {}, false, false},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      Helper helper(120, c.preserved);
      {
        ScriptedPeer first(helper.port, grCap(120, false, true));
        REQUIRE(eventually([&] { return helper.established(); }, 10s));
        const auto gr = first.speakerRestartCap();
        REQUIRE(gr.has_value());
        CHECK(gr->restarting == c.restarted);
        CHECK(gr->restartTime == 120);  // what we ask the peer to wait for us (BGPPeer maxRestartTime)
        REQUIRE(gr->families.size() == 1);
        CHECK(gr->families[0].family == kIpv4Unicast);
        CHECK(gr->families[0].forwardingPreserved == c.forwardingPreserved);
        first.vanish();
      }
      REQUIRE(eventually([&] { return !helper.established(); }, 10s));
      // The session comes back while this process runs on: no restart of ours, and the kernel
      // routes stayed with us.
      ScriptedPeer again(helper.port, grCap(120, false, true));
      REQUIRE(eventually([&] { return helper.established(); }, 10s));
      const auto gr = again.speakerRestartCap();
      REQUIRE(gr.has_value());
      CHECK_FALSE(gr->restarting);
      REQUIRE(gr->families.size() == 1);
      CHECK(gr->families[0].forwardingPreserved);
    }
  }
}

TEST_CASE(
    "a peer that hangs up on our connections while it restarts, as GoBGP does for 5 s after a "
    "session drops, gets a clean connection at the next retry once it answers",
    "[bgp][speaker][graceful-restart]") {
  // A retry reuses the connection's FSM and timers, not what the socket it had left behind: not
  // the start of a message it had read (which framed the next connection's OPEN wrongly), not a
  // close still pending from a hang-up during our OPEN's write (which closed the next connection
  // right after its OPEN: the peer's attempt failed, and a helper then dropped our routes). Several
  // I/O threads, as tartan-bgpd runs, so that hang-ups also land while our OPEN is being written.
  Helper helper(120, {}, 4);
  asio::io_context io;
  tcp::acceptor peer(io, {asio::ip::make_address(kPeerAddress), helper.peerPort});
  for (int i = 0; i < 4; ++i) {
    INFO("hang-up " << i);
    tcp::socket hungUp(io);
    REQUIRE(ScriptedPeer::acceptWithin(peer, hungUp, 5s));  // ConnectRetry is 1 s
    if (i < 3) {
      hungUp.close();  // at once, our OPEN unread
      continue;
    }
    // Last, our OPEN read (so that the close is a FIN, not a reset), then the start of a header:
    // the connection that follows is the one that must carry the session.
    std::vector<std::uint8_t> header(19);
    asio::read(hungUp, asio::buffer(header));
    std::vector<std::uint8_t> body((std::size_t{header[16]} << 8 | header[17]) - 19);
    asio::read(hungUp, asio::buffer(body));
    const std::vector<std::uint8_t> marker(10, 0xff);
    asio::write(hungUp, asio::buffer(marker));
    hungUp.close();
  }
  // The peer answers now: the next connection carries the session, for good. Not merely some
  // later one: a connection we spoil and drop is followed by another within the idle hold.
  ScriptedPeer answering(peer, grCap(120, false, true));
  REQUIRE(eventually([&] { return helper.established(); }, 5s));
  answering.announce();
  CHECK(eventually([&] { return helper.table->has(kPeerRoute); }, 5s));
  tcp::socket another(io);
  CHECK_FALSE(ScriptedPeer::acceptWithin(peer, another, 2s));
  CHECK(helper.established());
}
