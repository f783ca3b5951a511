// bgp/speaker/fib.hpp — the kernel side of the Loc-RIB: best routes into the FIB, in batches.
//
// What: the speaker hands over per-prefix changes (a route, or none); a writer thread applies them
// in order with rtnetlink batches, under Tartan's BGP rtm_protocol (netlink::kProtocolBgp = 117;
// see tartan/netlink/types.hpp). Changes are merged before they get here: the Loc-RIB marks a
// changed prefix once however often it changes, and the speaker takes only what room() allows.
// Graceful restart (RFC 4724 §4.1): the routes a previous run left in the kernel are kept and
// keep forwarding until reconcile() — after every peer's End-of-RIB, or a deferral timeout —
// deletes those that are no longer wanted. Nothing of another protocol is ever touched: a route
// goes in with NLM_F_EXCL unless the key (prefix, metric) is already ours, so a peer's route
// never displaces the kernel's connected subnet, the agent's route to a local workload or an
// operator's route that holds the same key (as BIRD 1.6's kernel protocol, which Calico runs,
// adds with NLM_F_EXCL). Such a route is held back, logged once, and tried again every
// kHeldRetry (BIRD's kernel scan time in Calico) until the other route has gone.
// Memory: the queue is a vector bounded by kMaxPending changes (no hash table: the speaker keeps
// the rest marked in its Loc-RIB), so a slow kernel costs no second copy of the table. What is
// installed is remembered compactly: an IPv4 unicast route of the default metric (all but a few)
// as its 4-byte address in a set per prefix length.
// Owns: the RouteTable and the writer thread.
// Threading: update(), reconcile() and stats() are thread-safe.
// Failure: a refused change is logged with the kernel's reason and counted; the writer goes on.
#pragma once

#include "types.hpp"

#include <tartan/netlink/netlink.hpp>

#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tartan::bgp::speaker {

struct FibStats {
  std::size_t installed = 0;  // routes of ours in the kernel, as far as we know
  std::size_t pending = 0;
  std::size_t failures = 0;
  std::size_t heldBack = 0;  // wanted, but another protocol's route holds the key
  std::uint64_t writes = 0;  // changes applied since start
  bool reconciled = false;
};

// What the speaker wants in the kernel for one prefix, kept small: at a full table a million of
// these can wait for the writer at once. A blackhole for our own blocks, else the ECMP gateways.
struct FibRoute {
  bool blackhole = false;
  boost::container::small_vector<Address, 1> gateways;
  std::uint32_t priority = 0;  // kernel metric (BGPFilter setPriority); 0: the kernel's default
  bool operator==(const FibRoute&) const = default;
};

class FibWriter {
 public:
  // Lists what the previous run left (our protocol, main table) before returning.
  FibWriter(std::unique_ptr<netlink::RouteTable> table, std::uint8_t protocol = netlink::kProtocolBgp);
  ~FibWriter();
  FibWriter(const FibWriter&) = delete;
  FibWriter& operator=(const FibWriter&) = delete;

  // Routes found in the kernel at start: a previous run's forwarding state.
  std::size_t preserved() const { return preserved_; }
  using Change = std::pair<Prefix, std::optional<FibRoute>>;
  // Applied in order: of two changes to one prefix, the later wins.
  void update(std::vector<Change> changes);
  // How many more changes update() should be given now.
  std::size_t room();
  // Asks for onRoom once the queue has drained to half (at once if it already has).
  void notifyWhenRoom();
  void setOnRoom(std::function<void()> onRoom);
  static constexpr std::size_t kMaxPending = 4096;
  static constexpr std::chrono::milliseconds kHeldRetry{2000};
  // From now on the kernel holds only what update() asked for: stale routes of a previous run go.
  void reconcile();
  FibStats stats() const;
  // Waits (bounded) until everything queued is written; for tests and the benchmark.
  bool waitIdle(std::chrono::milliseconds timeout);

 private:
  void loop();

  std::unique_ptr<netlink::RouteTable> table_;
  const std::uint8_t protocol_;
  std::size_t preserved_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::vector<Change> pending_;
  bool reconcileRequested_ = false;
  bool stop_ = false;
  bool busy_ = false;
  bool roomWanted_ = false;
  std::function<void()> onRoom_;
  // Writer thread only (read under mutex_ for stats): what is in the kernel, with the type and
  // effective metric a delete must name (the metric is part of a kernel route's key).
  struct Installed {
    netlink::RouteType type = netlink::RouteType::Unicast;
    std::uint32_t priority = 0;
  };
  class InstalledSet {
   public:
    std::optional<Installed> find(const Prefix& prefix) const;
    void set(const Prefix& prefix, Installed route);
    void erase(const Prefix& prefix);
    std::size_t size() const { return v4PlainCount_ + other_.size(); }
    template <class F>
    void forEach(F&& f) const {
      for (std::size_t length = 0; length < v4Plain_.size(); ++length)
        for (std::uint32_t address : v4Plain_[length])
          f(Prefix(Address::v4(address), static_cast<std::uint8_t>(length)), Installed{});
      for (const auto& [prefix, route] : other_) f(prefix, route);
    }

   private:
    bool plain(const Prefix& p) const { return p.family() == Afi::kIpv4 && p.length() <= 32; }
    // IPv4 unicast routes of metric 0, by prefix length: 4 bytes of key each.
    std::array<boost::unordered_flat_set<std::uint32_t>, 33> v4Plain_;
    std::size_t v4PlainCount_ = 0;
    boost::unordered_flat_map<Prefix, Installed, std::hash<Prefix>> other_;
  };
  InstalledSet installed_;
  // Writer thread only: routes held back by another protocol's route of the same key, retried.
  std::map<Prefix, FibRoute> held_;
  std::chrono::steady_clock::time_point nextRetry_{};
  // Only while a previous run's routes await reconcile(): what must survive it.
  boost::unordered_flat_set<Prefix, std::hash<Prefix>> wanted_;
  bool trackWanted_ = false;
  FibStats stats_;
  std::thread thread_;
};

netlink::Prefix toNetlink(const Prefix& prefix);
netlink::IpAddress toNetlink(const Address& address);
Prefix fromNetlink(const netlink::Prefix& prefix);

}  // namespace tartan::bgp::speaker
