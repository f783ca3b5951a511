// Two speakers in one process, over loopback TCP, with fake kernels: sessions come up, each
// node's blocks reach the other's FIB, and a config change that does not touch a session leaves
// it up. No root needed: 127.0.0.0/8 is all loopback.
#include "speaker.hpp"

#include "loopback_fixture.hpp"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <mutex>
#include <thread>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;
using namespace std::chrono_literals;
using tartan::test::eventually;
using tartan::test::freePort;
using tartan::test::LockedTable;

namespace {

SpeakerConfig nodeConfig(const std::string& name, const std::string& self, const std::string& other,
                         std::uint16_t otherPort, const std::string& block) {
  SpeakerConfig c;
  c.nodeName = name;
  c.localAs = 64512;
  c.ipv4 = Address::parse(self);
  c.routerId = c.ipv4->v4HostOrder();
  c.blocks = {*Prefix::parse(block)};
  c.pools = {{*Prefix::parse("10.65.0.0/16"), false}};
  PeerSpec p;
  p.key = "mesh/other/v4";
  p.address = *Address::parse(other);
  p.port = otherPort;
  p.peerAs = 64512;
  p.localAs = 64512;
  c.peers = {p};
  return c;
}

struct Node {
  Node(std::uint16_t port) {
    SpeakerOptions o;
    o.listenPort = port;
    o.timers.holdTime = 9;
    o.timers.connectRetryTime = 1;
    o.timers.idleHoldMin = 100ms;
    auto t = std::make_unique<LockedTable>();
    table = t.get();
    speaker = std::make_unique<Speaker>(io, o, std::move(t));
    thread = std::thread([this] { io.run(); });
  }
  ~Node() {
    // The speaker goes only once no I/O thread can run one of its peers' handlers any more.
    speaker->shutdown();
    work.reset();
    io.stop();
    thread.join();
    speaker.reset();
  }
  bool established() {
    auto r = speaker->report();
    return !r.peers.empty() && r.peers[0].status.state == fsm::State::kEstablished;
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  LockedTable* table = nullptr;
  std::unique_ptr<Speaker> speaker;
  std::thread thread;
};

}  // namespace

TEST_CASE("two speakers over loopback exchange their blocks and install them") {
  const auto portA = freePort(), portB = freePort();
  Node a(portA), b(portB);
  a.speaker->applyConfig(nodeConfig("a", "127.0.0.2", "127.0.0.3", portB, "10.65.1.0/26"));
  b.speaker->applyConfig(nodeConfig("b", "127.0.0.3", "127.0.0.2", portA, "10.65.2.0/26"));
  REQUIRE(eventually([&] { return a.established() && b.established(); }, 20s));

  REQUIRE(eventually([&] { return a.table->find("10.65.2.0/26").has_value(); }, 10s));
  auto learned = *a.table->find("10.65.2.0/26");
  CHECK(learned.protocol == netlink::kProtocolBgp);
  REQUIRE(learned.nexthops.size() == 1);
  CHECK(learned.nexthops[0].gateway->toString() == "127.0.0.3");
  auto own = a.table->find("10.65.1.0/26");
  REQUIRE(own);
  CHECK(own->type == netlink::RouteType::Blackhole);

  auto report = a.speaker->report();
  REQUIRE(report.peers.size() == 1);
  CHECK(report.peers[0].received == 1);
  CHECK(report.peers[0].accepted == 1);
  CHECK(report.peers[0].advertised == 1);

  SECTION("a new block is announced while the session stays up") {
    const auto since = report.peers[0].status.since;
    auto c = nodeConfig("b", "127.0.0.3", "127.0.0.2", portA, "10.65.2.0/26");
    c.blocks.push_back(*Prefix::parse("10.65.3.0/26"));
    b.speaker->applyConfig(c);
    REQUIRE(eventually([&] { return a.table->find("10.65.3.0/26").has_value(); }, 10s));
    CHECK(a.speaker->report().peers[0].status.since == since);
  }
  SECTION("a withdrawn block leaves the other FIB") {
    auto c = nodeConfig("b", "127.0.0.3", "127.0.0.2", portA, "10.65.2.0/26");
    c.blocks.clear();
    b.speaker->applyConfig(c);
    REQUIRE(eventually([&] { return !a.table->find("10.65.2.0/26").has_value(); }, 10s));
  }
  SECTION("a kernel route is announced without a route of ours at home, and withdrawn") {
    const auto kernel = *Prefix::parse("10.65.9.0/24");
    b.speaker->updateKernelRoutes({{{kernel, {"eth9"}}}, {}});
    REQUIRE(eventually([&] { return a.table->find("10.65.9.0/24").has_value(); }, 10s));
    CHECK(a.table->find("10.65.9.0/24")->nexthops.at(0).gateway->toString() == "127.0.0.3");
    CHECK_FALSE(b.table->find("10.65.9.0/24").has_value());  // the kernel has the operator's route
    // The same prefix as one of the node's blocks is announced as the block (with its blackhole).
    b.speaker->updateKernelRoutes({{{*Prefix::parse("10.65.2.0/26"), {"eth9"}}}, {}});
    b.speaker->updateKernelRoutes({{}, {kernel}});
    REQUIRE(eventually([&] { return !a.table->find("10.65.9.0/24").has_value(); }, 10s));
    CHECK(b.table->find("10.65.2.0/26")->type == netlink::RouteType::Blackhole);
    CHECK(a.table->find("10.65.2.0/26").has_value());
  }
  SECTION(
      "every prefix the peer sends is imported, in a pool or not, but never over our own block or into a "
      "service range") {
    auto ca = nodeConfig("a", "127.0.0.2", "127.0.0.3", portB, "10.65.1.0/26");
    ca.serviceCidrs = {*Prefix::parse("10.96.0.0/12")};
    a.speaker->applyConfig(ca);
    auto c = nodeConfig("b", "127.0.0.3", "127.0.0.2", portA, "10.65.2.0/26");
    for (const char* p : {"0.0.0.0/0", "192.168.0.0/24", "10.65.1.0/26", "10.65.1.8/29", "10.96.5.0/26"})
      c.blocks.push_back(*Prefix::parse(p));
    b.speaker->applyConfig(c);
    REQUIRE(eventually([&] { return a.speaker->report().peers[0].accepted == 6; }, 10s));
    REQUIRE(eventually([&] { return a.table->has("0.0.0.0/0") && a.table->has("192.168.0.0/24"); }, 10s));
    CHECK(a.table->find("0.0.0.0/0")->nexthops.at(0).gateway->toString() == "127.0.0.3");
    CHECK(a.table->find("192.168.0.0/24")->protocol == netlink::kProtocolBgp);
    // Inside our block (an address b borrowed): installed, more specific than our blackhole.
    REQUIRE(eventually([&] { return a.table->has("10.65.1.8/29"); }, 10s));
    // Our block itself: our own route wins, the blackhole stays.
    CHECK(a.table->find("10.65.1.0/26")->type == netlink::RouteType::Blackhole);
    // In a service range: imported (the Loc-RIB has it), not installed.
    CHECK_FALSE(a.table->has("10.96.5.0/26"));
  }
}

namespace {

bool canConnect(const char* address, std::uint16_t port) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address(address), port}, ec);
  return !ec;
}

}  // namespace

TEST_CASE(
    "bindMode NodeIP: the speaker listens on the node's address only, and on every address again when "
    "unset") {
  const auto port = freePort();
  Node a(port);
  auto c = nodeConfig("a", "127.0.0.2", "127.0.0.3", freePort(), "10.65.1.0/26");
  c.peers.clear();
  c.listenOnNodeAddresses = true;
  a.speaker->applyConfig(c);
  REQUIRE(eventually([&] { return canConnect("127.0.0.2", port); }, 5s));
  CHECK_FALSE(canConnect("127.0.0.4", port));
  c.listenOnNodeAddresses = false;
  a.speaker->applyConfig(c);
  CHECK(eventually([&] { return canConnect("127.0.0.4", port); }, 5s));
  CHECK(canConnect("127.0.0.2", port));
}
