// The FIB writer thread (see fib.hpp).
#include "fib.hpp"

#include <tartan/common/log.hpp>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <set>

namespace tartan::bgp::speaker {

netlink::IpAddress toNetlink(const Address& address) {
  netlink::IpAddress out;
  out.family = address.family == Afi::kIpv4 ? netlink::Family::V4 : netlink::Family::V6;
  std::memcpy(out.bytes.data(), address.bytes.data(), 16);
  return out;
}

netlink::Prefix toNetlink(const Prefix& prefix) {
  return netlink::Prefix{toNetlink(prefix.address()), prefix.length()};
}

Prefix fromNetlink(const netlink::Prefix& prefix) {
  Address a;
  a.family = prefix.family() == netlink::Family::V4 ? Afi::kIpv4 : Afi::kIpv6;
  std::memcpy(a.bytes.data(), prefix.address.bytes.data(), 16);
  return Prefix(a, prefix.length);
}

FibWriter::FibWriter(std::unique_ptr<netlink::RouteTable> table, std::uint8_t protocol)
    : table_(std::move(table)), protocol_(protocol) {
  netlink::RouteFilter filter;
  filter.table = netlink::kTableMain;
  filter.protocol = protocol_;
  if (auto routes = table_->listRoutes(filter)) {
    for (const auto& r : *routes) installed_.set(fromNetlink(r.dst), {r.type, netlink::effectivePriority(r)});
  } else {
    log::get("bgp")->warn("fib: cannot list kernel routes: {}", routes.error().toString());
  }
  preserved_ = installed_.size();
  trackWanted_ = preserved_ > 0;
  stats_.installed = installed_.size();
  thread_ = std::thread([this] { loop(); });
}

FibWriter::~FibWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void FibWriter::update(std::vector<Change> changes) {
  {
    std::lock_guard lock(mutex_);
    if (pending_.empty())
      pending_ = std::move(changes);
    else
      pending_.insert(pending_.end(), std::make_move_iterator(changes.begin()),
                      std::make_move_iterator(changes.end()));
    stats_.pending = pending_.size();
  }
  wake_.notify_one();
}

void FibWriter::reconcile() {
  {
    std::lock_guard lock(mutex_);
    reconcileRequested_ = true;
  }
  wake_.notify_one();
}

std::size_t FibWriter::room() {
  std::lock_guard lock(mutex_);
  return pending_.size() >= kMaxPending ? 0 : kMaxPending - pending_.size();
}

void FibWriter::notifyWhenRoom() {
  std::function<void()> now;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() > kMaxPending / 2)
      roomWanted_ = true;  // the writer calls back when it has drained to half
    else
      now = onRoom_;
  }
  if (now) now();
}

void FibWriter::setOnRoom(std::function<void()> onRoom) {
  std::lock_guard lock(mutex_);
  onRoom_ = std::move(onRoom);
}

std::optional<FibWriter::Installed> FibWriter::InstalledSet::find(const Prefix& prefix) const {
  if (plain(prefix) && v4Plain_[prefix.length()].contains(prefix.address().v4HostOrder())) return Installed{};
  auto it = other_.find(prefix);
  if (it == other_.end()) return std::nullopt;
  return it->second;
}

void FibWriter::InstalledSet::set(const Prefix& prefix, Installed route) {
  if (plain(prefix) && route.type == netlink::RouteType::Unicast && route.priority == 0) {
    if (v4Plain_[prefix.length()].insert(prefix.address().v4HostOrder()).second) ++v4PlainCount_;
    if (!other_.empty()) other_.erase(prefix);
    return;
  }
  other_.insert_or_assign(prefix, route);
  if (plain(prefix) && v4Plain_[prefix.length()].erase(prefix.address().v4HostOrder())) --v4PlainCount_;
}

void FibWriter::InstalledSet::erase(const Prefix& prefix) {
  if (plain(prefix) && v4Plain_[prefix.length()].erase(prefix.address().v4HostOrder())) --v4PlainCount_;
  if (!other_.empty()) other_.erase(prefix);
}

FibStats FibWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool FibWriter::waitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return pending_.empty() && !busy_ && !reconcileRequested_; });
}

void FibWriter::loop() {
  auto log = log::get("bgp");
  for (;;) {
    std::vector<Change> work;
    bool reconcileNow = false;
    bool retrying = false;     // held-back routes are in `work`
    std::set<Prefix> wasHeld;  // held back before this batch: their first refusal was logged
    {
      std::unique_lock lock(mutex_);
      busy_ = false;
      idle_.notify_all();
      const auto woken = [this] { return stop_ || !pending_.empty() || reconcileRequested_; };
      if (held_.empty())
        wake_.wait(lock, woken);
      else
        wake_.wait_until(lock, nextRetry_, woken);
      if (stop_) return;
      busy_ = true;
      // All of it (at most kMaxPending): room() opens again, so the next batch is handed over
      // while this one is written.
      work.swap(pending_);
      stats_.pending = 0;
      reconcileNow = reconcileRequested_;
      reconcileRequested_ = false;
    }
    if (!held_.empty() && std::chrono::steady_clock::now() >= nextRetry_) {
      // Held-back routes are tried again, before this batch's changes: a newer change of the
      // same prefix comes later in `work` and wins.
      std::vector<Change> retry;
      retry.reserve(held_.size() + work.size());
      for (auto& [prefix, route] : held_) {
        wasHeld.insert(prefix);
        retry.emplace_back(prefix, std::move(route));
      }
      held_.clear();
      std::move(work.begin(), work.end(), std::back_inserter(retry));
      work = std::move(retry);
      retrying = true;
    }
    // A prefix changed twice in one batch is written once, as its last change: what is installed
    // is only known after the batch, so a later delete could not be told what an earlier replace
    // put there.
    std::vector<std::uint32_t> order(work.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return work[a].first < work[b].first; });
    std::vector<netlink::RouteChange> changes;
    std::vector<Prefix> keys;
    std::vector<const FibRoute*> routeOf;  // per change: the route an Add or Replace writes
    changes.reserve(work.size());
    // A delete names what is installed: the type and the metric are part of a kernel route's key.
    auto remove = [&](const Prefix& prefix, const Installed& installed) {
      netlink::Route del;
      del.dst = toNetlink(prefix);
      del.protocol = protocol_;
      del.type = installed.type;
      del.priority = installed.priority;
      changes.push_back({netlink::RouteOp::Delete, std::move(del)});
      keys.push_back(prefix);
      routeOf.push_back(nullptr);
    };
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (k + 1 < order.size() && work[order[k + 1]].first == work[order[k]].first) continue;
      auto& [prefix, route] = work[order[k]];
      if (held_.erase(prefix) > 0) wasHeld.insert(prefix);
      if (route) {
        if (trackWanted_) wanted_.insert(prefix);
        netlink::Route r;
        if (route->blackhole) {
          r = netlink::Route::blackhole(toNetlink(prefix), protocol_);
        } else if (route->gateways.size() == 1) {
          r = netlink::Route::via(toNetlink(prefix), toNetlink(route->gateways[0]), protocol_);
        } else {
          std::vector<netlink::Nexthop> hops;
          for (const auto& g : route->gateways) {
            netlink::Nexthop hop;
            hop.gateway = toNetlink(g);
            hops.push_back(hop);
          }
          r = netlink::Route::ecmp(toNetlink(prefix), std::move(hops), protocol_);
        }
        r.priority = route->priority;
        // Only a key that is ours is replaced; any other is added, so that a route of another
        // protocol with the same key stays (EEXIST) and ours is held back.
        auto op = netlink::RouteOp::Add;
        if (auto it = installed_.find(prefix)) {
          // A new metric is a new kernel route: the one with the old metric goes first.
          if (it->priority != netlink::effectivePriority(r))
            remove(prefix, *it);
          else
            op = netlink::RouteOp::Replace;
        }
        changes.push_back({op, std::move(r)});
        keys.push_back(prefix);
        routeOf.push_back(&*route);
      } else {
        if (trackWanted_) wanted_.erase(prefix);
        if (auto it = installed_.find(prefix)) remove(prefix, *it);
      }
    }
    if (reconcileNow) {
      // RFC 4724 §4.1: after the restart, what nobody re-announced is stale.
      installed_.forEach([&](const Prefix& prefix, const Installed& installed) {
        if (!wanted_.contains(prefix)) remove(prefix, installed);
      });
      trackWanted_ = false;
      wanted_ = {};
    }
    std::size_t failures = 0;
    if (!changes.empty()) {
      auto result = table_->applyRoutes(changes);
      std::vector<bool> failed(changes.size(), false);
      if (!result) {
        log->error("fib: netlink: {}", result.error().toString());
        failures = changes.size();
        std::fill(failed.begin(), failed.end(), true);
        // Routes that were waiting keep waiting: the next retry tries them again.
        for (std::size_t i = 0; i < changes.size(); ++i)
          if (routeOf[i] && wasHeld.contains(keys[i])) held_.insert_or_assign(keys[i], *routeOf[i]);
      } else {
        for (const auto& f : result->failures) {
          if (changes[f.index].op == netlink::RouteOp::Delete && f.errnum == ESRCH) continue;
          failed[f.index] = true;
          if (changes[f.index].op == netlink::RouteOp::Add && f.errnum == EEXIST) {
            // Another protocol's route holds the key: not a failure of ours, a wait.
            const Prefix& prefix = keys[f.index];
            if (!wasHeld.contains(prefix))
              log->warn(
                  "fib: {} not installed: the kernel holds another protocol's route for it (metric {}); "
                  "tried again every {} s until it goes",
                  prefix.toString(), netlink::effectivePriority(changes[f.index].route),
                  kHeldRetry.count() / 1000);
            held_.insert_or_assign(prefix, *routeOf[f.index]);
            continue;
          }
          ++failures;
          if (failures <= 5) log->warn("fib: {}", f.error.toString());
        }
      }
      for (std::size_t i = 0; i < changes.size(); ++i) {
        if (changes[i].op == netlink::RouteOp::Delete) {
          if (!failed[i]) installed_.erase(keys[i]);
        } else if (!failed[i]) {
          installed_.set(keys[i], {changes[i].route.type, netlink::effectivePriority(changes[i].route)});
          if (wasHeld.contains(keys[i]))
            log->info("fib: {} installed: the other protocol's route has gone", keys[i].toString());
        }
      }
    }
    if (!held_.empty() && (retrying || nextRetry_ <= std::chrono::steady_clock::now()))
      nextRetry_ = std::chrono::steady_clock::now() + kHeldRetry;
    std::function<void()> notify;
    {
      std::lock_guard lock(mutex_);
      stats_.installed = installed_.size();
      stats_.failures += failures;
      stats_.heldBack = held_.size();
      stats_.writes += changes.size();
      if (reconcileNow) stats_.reconciled = true;
      if (roomWanted_ && pending_.size() <= kMaxPending / 2) {
        roomWanted_ = false;
        notify = onRoom_;
      }
    }
    if (notify) notify();
  }
}

}  // namespace tartan::bgp::speaker
