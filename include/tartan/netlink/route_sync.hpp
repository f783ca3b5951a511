// tartan/netlink/route_sync.hpp — make the kernel hold exactly the routes we want, and touch
// nothing else.
//
// Generic kernel sync in BIRD's shape (scan, compare, prune), apart from any netlink detail: the
// diff is a pure function of two route lists, and syncRoutes() runs it against any RouteTable
// (the kernel, or the fake in tests). The scope is one protocol in one table (or, for the agent's
// workload routes, what its ownership predicate calls ours): a route outside it — the kernel's,
// DHCP's, an operator's — is never replaced or deleted, even if it has a key we want; the kernel
// keeps both when their metrics differ, and refuses ours when they do not, which is reported,
// not forced.
#pragma once

#include <tartan/netlink/netlink.hpp>
#include <tartan/netlink/types.hpp>

#include <functional>
#include <vector>

namespace tartan::netlink {

struct SyncScope {
  uint32_t table = kTableMain;
  uint8_t protocol = kProtocolBgp;
  std::optional<Family> family;  // nullopt: IPv4 and IPv6
  // When set, it decides which routes of the table are ours instead of `protocol` (the agent's
  // workload routes: its own protocol, and routes to workload interfaces, as Felix's ownership
  // policy). A route of ours whose protocol differs from the wanted one is replaced.
  std::function<bool(const Route&)> owns;
};

// The changes that turn `actual` into `desired`, in the order to apply them: adds of new keys,
// replaces of keys whose forwarding changed, then deletes of stale keys (make before break). Routes of
// `actual` outside the scope are ignored; a desired route outside the scope is a caller bug (asserted).
// Duplicate desired keys: the last one wins.
std::vector<RouteChange> diffRoutes(const SyncScope& scope, const std::vector<Route>& desired,
                                    const std::vector<Route>& actual);

struct SyncReport {
  size_t added = 0;
  size_t replaced = 0;
  size_t deleted = 0;
  std::vector<BatchResult::Failure> failures;  // index into the changes that were computed
  std::vector<RouteChange> changes;
};

// Lists what `table` holds of the scope, diffs, applies. A delete that finds the route already
// gone (ESRCH) counts as done. Run it at start (reconcile) and after a monitor Overflow.
Result<SyncReport> syncRoutes(RouteTable& table, const SyncScope& scope, const std::vector<Route>& desired);

}  // namespace tartan::netlink
