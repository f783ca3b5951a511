#include <tartan/netlink/route_sync.hpp>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <iterator>
#include <utility>

namespace tartan::netlink {

namespace {
bool inScope(const SyncScope& scope, const Route& route) {
  return route.table == scope.table && (scope.owns ? scope.owns(route) : route.protocol == scope.protocol) &&
         (!scope.family || route.family() == *scope.family);
}
}  // namespace

namespace {
using Keyed = std::pair<RouteKey, const Route*>;

// Sorted by key; of equal keys only one is kept: the last given when `keepLast`, else the first.
// Sorted vectors rather than maps: a million routes are two sorts and one merge, not two
// million tree nodes.
std::vector<Keyed> sortedByKey(const SyncScope& scope, const std::vector<Route>& routes, bool keepLast) {
  std::vector<Keyed> keyed;
  keyed.reserve(routes.size());
  for (const Route& route : routes) {
    if (inScope(scope, route)) keyed.emplace_back(keyOf(route), &route);
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const Keyed& a, const Keyed& b) { return a.first < b.first; });
  std::vector<Keyed> unique;
  unique.reserve(keyed.size());
  for (const Keyed& entry : keyed) {
    if (!unique.empty() && unique.back().first == entry.first) {
      if (keepLast) unique.back() = entry;
      continue;
    }
    unique.push_back(entry);
  }
  return unique;
}
}  // namespace

std::vector<RouteChange> diffRoutes(const SyncScope& scope, const std::vector<Route>& desired,
                                    const std::vector<Route>& actual) {
#ifndef NDEBUG
  for (const Route& route : desired) assert(inScope(scope, route) && "desired route outside the sync scope");
#endif
  const std::vector<Keyed> want = sortedByKey(scope, desired, /*keepLast=*/true);
  const std::vector<Keyed> have = sortedByKey(scope, actual, /*keepLast=*/false);

  std::vector<RouteChange> deletes, adds, replaces;
  auto w = want.begin();
  auto h = have.begin();
  while (w != want.end() || h != have.end()) {
    if (h == have.end() || (w != want.end() && w->first < h->first)) {
      adds.push_back(RouteChange{RouteOp::Add, *w->second});
      ++w;
    } else if (w == want.end() || h->first < w->first) {
      deletes.push_back(RouteChange{RouteOp::Delete, *h->second});
      ++h;
    } else {
      if (!sameForwarding(*w->second, *h->second) || w->second->protocol != h->second->protocol)
        replaces.push_back(RouteChange{RouteOp::Replace, *w->second});
      ++w;
      ++h;
    }
  }
  // Make before break: new paths go in before stale ones go out. Keys differ, so the order
  // never makes two changes collide.
  std::vector<RouteChange> changes = std::move(adds);
  changes.reserve(changes.size() + replaces.size() + deletes.size());
  std::move(replaces.begin(), replaces.end(), std::back_inserter(changes));
  std::move(deletes.begin(), deletes.end(), std::back_inserter(changes));
  return changes;
}

Result<SyncReport> syncRoutes(RouteTable& table, const SyncScope& scope, const std::vector<Route>& desired) {
  auto actual = table.listRoutes(RouteFilter{
      scope.family, scope.table, scope.owns ? std::nullopt : std::optional<uint8_t>(scope.protocol)});
  if (!actual) return actual.error();
  SyncReport report;
  report.changes = diffRoutes(scope, desired, *actual);
  auto applied = table.applyRoutes(report.changes);
  if (!applied) return applied.error();
  std::vector<bool> failed(report.changes.size(), false);
  for (const auto& failure : applied->failures) {
    const RouteChange& change = report.changes[failure.index];
    // Somebody removed it between our listing and our delete: the goal is reached.
    if (change.op == RouteOp::Delete && failure.errnum == ESRCH) continue;
    failed[failure.index] = true;
    report.failures.push_back(failure);
  }
  for (size_t i = 0; i < report.changes.size(); ++i) {
    if (failed[i]) continue;
    switch (report.changes[i].op) {
      case RouteOp::Add:
        ++report.added;
        break;
      case RouteOp::Replace:
        ++report.replaced;
        break;
      case RouteOp::Delete:
        ++report.deleted;
        break;
    }
  }
  return report;
}

}  // namespace tartan::netlink
