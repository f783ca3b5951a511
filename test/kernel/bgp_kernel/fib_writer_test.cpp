// FibWriter against the real kernel, in a namespace of its own: what a previous run left is kept
// until reconcile() and then only what was asked for again survives; changes are applied in the
// order given (two changes to one prefix in one batch leave the last); ECMP, blackholes and a
// metric change; nothing of another protocol is touched.
#include "fib.hpp"

#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;
using namespace std::chrono_literals;

namespace {

Prefix prefix(const char* text) { return *Prefix::parse(text); }

FibRoute via(std::initializer_list<const char*> gateways, std::uint32_t priority = 0) {
  FibRoute r;
  for (const char* g : gateways) r.gateways.push_back(*Address::parse(g));
  r.priority = priority;
  return r;
}

FibRoute blackhole() {
  FibRoute r;
  r.blackhole = true;
  return r;
}

// `ip route show` of one family, protocol 117, one route per line with ECMP legs joined.
std::string kernelRoutes(const test::NetNamespace& ns, const char* family = "-4") {
  std::string out = ns.execOrThrow(std::string("ip -o ") + family + " route show proto 117");
  std::string squeezed;
  for (char c : out) {
    if (c == '\t') c = ' ';
    if (c == ' ' && !squeezed.empty() && squeezed.back() == ' ') continue;
    squeezed += c;
  }
  return squeezed;
}

}  // namespace

TEST_CASE(
    "the FIB writer applies batches in order, keeps a previous run's routes until reconcile, and touches no "
    "one else's") {
  if (!test::haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  test::NetNamespace ns("fib");
  ns.execOrThrow(
      "ip link add fw0 type veth peer name fw1 && ip link set fw0 up && ip link set fw1 up && "
      "ip addr add 10.77.0.1/24 dev fw0 && ip addr add 10.78.0.1/24 dev fw1 && "
      "ip -6 addr add 2001:db8:77::1/64 dev fw0 nodad");
  // A previous run's routes (ours: 117), and a static one that is not ours.
  ns.execOrThrow(
      "ip route add 192.0.2.0/24 via 10.77.0.2 proto 117 && ip route add 198.51.100.0/24 via 10.77.0.2 proto "
      "117 && "
      "ip route add 203.0.113.0/24 via 10.77.0.2 proto static");

  std::unique_ptr<FibWriter> fib;
  {
    test::EnterNamespace enter(ns);
    fib = std::make_unique<FibWriter>(netlink::Netlink::open().value());
  }
  CHECK(fib->preserved() == 2);
  CHECK(fib->room() == FibWriter::kMaxPending);

  // One batch: a replace then a delete of the same prefix leaves nothing; a delete then a
  // replace leaves the route; ECMP and a blackhole; an IPv6 route.
  std::vector<FibWriter::Change> batch;
  batch.emplace_back(prefix("10.90.0.0/24"), via({"10.77.0.2"}));
  batch.emplace_back(prefix("10.90.1.0/24"), std::nullopt);
  batch.emplace_back(prefix("10.90.1.0/24"), via({"10.77.0.3"}));
  batch.emplace_back(prefix("10.90.0.0/24"), std::nullopt);
  batch.emplace_back(prefix("10.90.2.0/24"), via({"10.77.0.2", "10.78.0.2"}));
  batch.emplace_back(prefix("10.90.3.0/26"), blackhole());
  batch.emplace_back(prefix("2001:db8:90::/48"), via({"2001:db8:77::2"}));
  batch.emplace_back(prefix("198.51.100.0/24"), via({"10.77.0.4"}));  // wanted again, new gateway
  fib->update(std::move(batch));
  REQUIRE(fib->waitIdle(10s));

  std::string v4 = kernelRoutes(ns);
  CHECK(v4.find("10.90.0.0/24") == std::string::npos);
  CHECK(v4.find("10.90.1.0/24 via 10.77.0.3") != std::string::npos);
  CHECK(v4.find("10.90.2.0/24") != std::string::npos);
  CHECK(v4.find("nexthop via 10.77.0.2") != std::string::npos);
  CHECK(v4.find("nexthop via 10.78.0.2") != std::string::npos);
  CHECK(v4.find("blackhole 10.90.3.0/26") != std::string::npos);
  CHECK(kernelRoutes(ns, "-6").find("2001:db8:90::/48 via 2001:db8:77::2") != std::string::npos);
  // Not reconciled yet: the previous run's route nobody asked for still forwards.
  CHECK(v4.find("192.0.2.0/24 via 10.77.0.2") != std::string::npos);
  CHECK(v4.find("198.51.100.0/24 via 10.77.0.4") != std::string::npos);
  CHECK(fib->stats().installed == 6);

  fib->reconcile();
  REQUIRE(fib->waitIdle(10s));
  v4 = kernelRoutes(ns);
  CHECK(v4.find("192.0.2.0/24") == std::string::npos);
  CHECK(v4.find("198.51.100.0/24 via 10.77.0.4") != std::string::npos);
  CHECK(fib->stats().reconciled);
  CHECK(fib->stats().installed == 5);
  CHECK(ns.execOrThrow("ip route show proto static").find("203.0.113.0/24") != std::string::npos);

  // A new metric is a new kernel route: the old one goes, only one remains.
  fib->update({{prefix("10.90.1.0/24"), via({"10.77.0.3"}, 300)}});
  REQUIRE(fib->waitIdle(10s));
  v4 = kernelRoutes(ns);
  CHECK(v4.find("10.90.1.0/24 via 10.77.0.3 dev fw0 metric 300") != std::string::npos);
  CHECK(ns.execOrThrow("ip -o route show 10.90.1.0/24 | wc -l") == "1\n");

  // Deletions, of the metric route too; a delete of what is not there is no failure.
  fib->update({{prefix("10.90.1.0/24"), std::nullopt},
               {prefix("10.90.2.0/24"), std::nullopt},
               {prefix("10.90.3.0/26"), std::nullopt},
               {prefix("2001:db8:90::/48"), std::nullopt},
               {prefix("198.51.100.0/24"), std::nullopt},
               {prefix("10.99.0.0/24"), std::nullopt}});
  REQUIRE(fib->waitIdle(10s));
  CHECK(kernelRoutes(ns).empty());
  CHECK(kernelRoutes(ns, "-6").empty());
  CHECK(fib->stats().installed == 0);
  CHECK(fib->stats().failures == 0);
  CHECK(ns.execOrThrow("ip route show proto static").find("203.0.113.0/24") != std::string::npos);
}

TEST_CASE(
    "the FIB writer's queue is bounded: room() shrinks as changes wait and opens when they are written") {
  if (!test::haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  test::NetNamespace ns("fibq");
  ns.execOrThrow(
      "ip link add fq0 type veth peer name fq1 && ip link set fq0 up && ip addr add 10.79.0.1/16 dev fq0");
  std::unique_ptr<FibWriter> fib;
  {
    test::EnterNamespace enter(ns);
    fib = std::make_unique<FibWriter>(netlink::Netlink::open().value());
  }
  // Twice the bound, handed over as room() allows, as the speaker does.
  const std::size_t total = 2 * FibWriter::kMaxPending;
  std::size_t handed = 0;
  int roomCalls = 0;
  std::mutex m;
  std::condition_variable cv;
  fib->setOnRoom([&] {
    std::lock_guard lock(m);
    ++roomCalls;
    cv.notify_all();
  });
  while (handed < total) {
    const std::size_t room = fib->room();
    REQUIRE(room <= FibWriter::kMaxPending);
    const std::size_t n = std::min(room, total - handed);
    std::vector<FibWriter::Change> batch;
    for (std::size_t i = 0; i < n; ++i, ++handed) {
      const auto a = static_cast<std::uint32_t>(0x0b000000u + (handed << 8));  // 11.x.y.0/24
      batch.emplace_back(Prefix(Address::v4(a), 24), via({"10.79.0.2"}));
    }
    if (!batch.empty()) fib->update(std::move(batch));
    if (handed < total && fib->room() == 0) {
      int before;
      {
        std::lock_guard lock(m);
        before = roomCalls;
      }
      fib->notifyWhenRoom();  // may call back at once, on this thread
      std::unique_lock lock(m);
      REQUIRE(cv.wait_for(lock, 30s, [&] { return roomCalls > before; }));
    }
  }
  REQUIRE(fib->waitIdle(60s));
  CHECK(fib->stats().installed == total);
  CHECK(fib->stats().failures == 0);
  CHECK(ns.execOrThrow("ip route show proto 117 | wc -l") == std::to_string(total) + "\n");
}
