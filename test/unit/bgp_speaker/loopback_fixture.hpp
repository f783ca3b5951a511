// What the speaker tests over loopback share: the fake kernel behind a lock, and a free port.
#pragma once

#include "support/fake_netlink.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tartan::test {

// The FIB writer runs on its own thread; the test reads from another. Every deletion is recorded.
class LockedTable final : public netlink::RouteTable {
 public:
  Result<std::vector<netlink::Route>> listRoutes(const netlink::RouteFilter& f) override {
    std::lock_guard lock(mutex_);
    return fake_.listRoutes(f);
  }
  Result<netlink::BatchResult> applyRoutes(std::span<const netlink::RouteChange> changes) override {
    std::lock_guard lock(mutex_);
    if (failBatches_ > 0) {
      --failBatches_;
      ++failedBatches_;
      return makeError("netlink", "", "the socket is gone (injected)");
    }
    for (const auto& c : changes)
      if (c.op == netlink::RouteOp::Delete) deleted_.push_back(c.route.dst.toString());
    return fake_.applyRoutes(changes);
  }
  std::optional<netlink::Route> find(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    for (const auto& [key, route] : fake_.routes())
      if (route.dst.toString() == prefix) return route;
    return std::nullopt;
  }
  bool has(const std::string& prefix) { return find(prefix).has_value(); }
  // Every route of the prefix, whatever its protocol and metric.
  std::vector<netlink::Route> findAll(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    std::vector<netlink::Route> out;
    for (const auto& [key, route] : fake_.routes())
      if (route.dst.toString() == prefix) out.push_back(route);
    return out;
  }
  // The next `n` batches fail whole, as when the netlink socket itself fails.
  void failBatches(int n) {
    std::lock_guard lock(mutex_);
    failBatches_ = n;
  }
  int failedBatches() {
    std::lock_guard lock(mutex_);
    return failedBatches_;
  }
  // Another protocol's route (the kernel's, the agent's, an operator's) comes or goes.
  void seed(const netlink::Route& route) {
    std::lock_guard lock(mutex_);
    fake_.seedRoute(route);
  }
  void unseed(const netlink::Route& route) {
    std::lock_guard lock(mutex_);
    netlink::RouteChange del{netlink::RouteOp::Delete, route};
    (void)fake_.applyRoutes({&del, 1});
  }
  // Every prefix ever deleted, in order.
  std::vector<std::string> deleted() {
    std::lock_guard lock(mutex_);
    return deleted_;
  }

 private:
  std::mutex mutex_;
  FakeNetlink fake_;
  std::vector<std::string> deleted_;
  int failBatches_ = 0;
  int failedBatches_ = 0;
};

// A TCP port free on `address` now.
inline std::uint16_t freePort(const char* address = "127.0.0.1") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address(address), 0});
  return a.local_endpoint().port();
}

}  // namespace tartan::test
