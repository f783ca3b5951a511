#include <tartan/netlink/route_sync.hpp>

#include <cassert>
#include <cerrno>
#include <map>

namespace tartan::netlink {

namespace {
bool inScope(const SyncScope& scope, const Route& route) {
  return route.table == scope.table && route.protocol == scope.protocol &&
         (!scope.family || route.family() == *scope.family);
}
}  // namespace

std::vector<RouteChange> diffRoutes(const SyncScope& scope, const std::vector<Route>& desired,
                                    const std::vector<Route>& actual) {
  std::map<RouteKey, const Route*> want;
  for (const Route& route : desired) {
    assert(inScope(scope, route) && "desired route outside the sync scope");
    want[keyOf(route)] = &route;
  }
  std::map<RouteKey, const Route*> have;
  for (const Route& route : actual) {
    if (inScope(scope, route)) have.emplace(keyOf(route), &route);
  }

  std::vector<RouteChange> deletes, adds, replaces;
  for (const auto& [key, route] : have) {
    if (!want.contains(key)) deletes.push_back(RouteChange{RouteOp::Delete, *route});
  }
  for (const auto& [key, route] : want) {
    auto found = have.find(key);
    if (found == have.end()) {
      adds.push_back(RouteChange{RouteOp::Add, *route});
    } else if (!sameForwarding(*route, *found->second)) {
      replaces.push_back(RouteChange{RouteOp::Replace, *route});
    }
  }
  // Make before break: new paths go in before stale ones go out. Keys differ, so the order
  // never makes two changes collide.
  std::vector<RouteChange> changes = std::move(adds);
  changes.insert(changes.end(), replaces.begin(), replaces.end());
  changes.insert(changes.end(), deletes.begin(), deletes.end());
  return changes;
}

Result<SyncReport> syncRoutes(RouteTable& table, const SyncScope& scope, const std::vector<Route>& desired) {
  auto actual = table.listRoutes(RouteFilter{scope.family, scope.table, scope.protocol});
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
