// KernelRouteWatcher against the real kernel: the routes present when it starts come from the
// dump, later ones from the route monitor, deletions withdraw, and what the specs do not choose
// (another protocol, outside the prefix, Tartan's own 117) never shows up.
#include "kernel_routes.hpp"

#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <chrono>
#include <mutex>
#include <thread>

using namespace tartan;
using namespace tartan::bgp;
using namespace tartan::bgp::speaker;
using namespace std::chrono_literals;
using tartan::test::eventually;

namespace {

// What the watcher announced so far, as the speaker would hold it.
class Announced {
 public:
  void apply(const KernelRouteChanges& changes) {
    std::lock_guard lock(mutex_);
    for (const auto& [prefix, a] : changes.announced) set_[prefix] = a;
    for (const auto& prefix : changes.withdrawn) set_.erase(prefix);
  }
  std::optional<KernelAnnouncement> find(const char* prefix) {
    std::lock_guard lock(mutex_);
    auto it = set_.find(*Prefix::parse(prefix));
    if (it == set_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return set_.size();
  }

 private:
  std::mutex mutex_;
  KernelAnnouncements set_;
};

}  // namespace

TEST_CASE("the watcher announces chosen kernel routes from its dump and its monitor, and withdraws them") {
  if (!test::haveNetAdmin()) {
    WARN("needs root: skipped");
    return;
  }
  test::NetNamespace ns("kroutes");
  ns.execOrThrow("ip link add kr0 type veth peer name kr1 && ip link set kr0 up && ip link set kr1 up");
  ns.execOrThrow("ip route add 198.51.100.128/26 dev kr0 proto static");

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread thread([&] { io.run(); });
  Announced announced;
  std::unique_ptr<KernelRouteWatcher> watcher;
  {
    test::EnterNamespace enter(ns);  // the sockets belong to the namespace they were opened in
    auto specs =
        parseKernelRouteSpecs({"protocol=static,prefix=198.51.100.0/24"}, "prefix=2001:db8:100::/48").value();
    watcher = KernelRouteWatcher::start(io, std::move(specs), [&](KernelRouteChanges c) {
                announced.apply(c);
              }).value();
  }

  CHECK(eventually([&] { return announced.find("198.51.100.128/26").has_value(); }, 5s));
  CHECK(announced.find("198.51.100.128/26")->interface == std::optional<std::string>("kr0"));

  ns.execOrThrow("ip route add 198.51.100.0/27 dev kr1 proto static");
  ns.execOrThrow("ip route add 198.51.100.32/27 dev kr0 proto boot");
  ns.execOrThrow("ip route add 203.0.113.0/24 dev kr0 proto static");
  ns.execOrThrow("ip route add 198.51.100.64/27 dev kr0 proto 117");
  ns.execOrThrow("ip -6 route add 2001:db8:100:1::/64 dev kr0");
  CHECK(eventually([&] { return announced.find("198.51.100.0/27").has_value(); }, 5s));
  CHECK(announced.find("198.51.100.0/27")->interface == std::optional<std::string>("kr1"));
  CHECK(eventually([&] { return announced.find("2001:db8:100:1::/64").has_value(); }, 5s));
  CHECK(announced.size() == 3);

  ns.execOrThrow("ip route del 198.51.100.0/27 dev kr1 proto static");
  ns.execOrThrow("ip -6 route del 2001:db8:100:1::/64 dev kr0");
  CHECK(eventually([&] { return announced.size() == 1; }, 5s));
  CHECK(announced.find("198.51.100.128/26").has_value());

  // The interface goes: its routes go with it, and are withdrawn.
  ns.execOrThrow("ip link del kr0");
  CHECK(eventually([&] { return announced.size() == 0; }, 5s));

  watcher->stop();
  watcher.reset();
  work.reset();
  io.stop();
  thread.join();
}
