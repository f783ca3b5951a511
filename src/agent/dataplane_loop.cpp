// The dataplane loop: iptables/ipset driver, then workload routes and sysctls.
#include "dataplane_loop.hpp"

#include "tartan/common/log.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/dataplane/iptables/ip_sets.hpp"
#include "tartan/dataplane/iptables/nft_monitor.hpp"
#include "tartan/dataplane/iptables/recheck_schedule.hpp"
#include "tartan/dataplane/iptables/table.hpp"
#include "tartan/netlink/conntrack.hpp"

namespace tartan::agent {
namespace pb = dataplane::proto;
namespace dpi = dataplane::iptables;
using Clock = std::chrono::steady_clock;

namespace {

std::string endpointKey(const pb::WorkloadEndpointID& id) {
  return id.orchestrator_id() + "/" + id.workload_id() + "/" + id.endpoint_id();
}

// Chains and rules per table and IP version, and IP sets per version (Felix's labelled gauges);
// and the chains of raw, mangle and filter in both versions (Tartan's own gauge).
void recordPerTable(const dpi::Driver& driver, Metrics& metrics) {
  int64_t chains = 0;
  for (auto family : {dpi::IpFamily::kV4, dpi::IpFamily::kV6}) {
    const int version = family == dpi::IpFamily::kV4 ? 4 : 6;
    for (std::size_t i = 0; i < kIptablesTables.size(); ++i) {
      const dpi::Table* t = driver.table(family, kIptablesTables[i]);
      const int64_t tableChains = t ? static_cast<int64_t>(t->desiredChainCount()) : 0;
      metrics.chainsByTable[tableSlot(version, i)] = tableChains;
      metrics.rulesByTable[tableSlot(version, i)] = t ? static_cast<int64_t>(t->desiredRuleCount()) : 0;
      if (std::string_view(kIptablesTables[i]) != "nat") chains += tableChains;
    }
    const dpi::IpSets* sets = driver.ipSets(family);
    metrics.ipSetsByVersion[version == 4 ? 0 : 1] = sets ? static_cast<int64_t>(sets->desiredCount()) : 0;
  }
  metrics.iptablesChains = chains;
}

uint64_t repairs(const dpi::DriverStats& stats) {
  return stats.chainRepairs + stats.jumpRepairs + stats.setRepairs;
}

// Whether a link is a workload's: its name starts with one of the (comma-separated) prefixes.
bool isWorkloadInterface(std::string_view name, const AgentConfig& config) {
  for (std::string_view rest = config.interfacePrefix; !rest.empty();) {
    const auto comma = rest.find(',');
    const auto prefix = rest.substr(0, comma);
    if (!prefix.empty() && name.starts_with(prefix)) return true;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return false;
}

// The route manager's settings from the agent's configuration (addresses already checked).
HostSettings hostSettings(const AgentConfig& config) {
  HostSettings host;
  host.rpFilter = config.rpFilter();
  host.ipForwarding = config.ipForwarding;
  host.routeProtocol = static_cast<uint8_t>(config.deviceRouteProtocol);
  if (auto a = netlink::IpAddress::parse(config.deviceRouteSourceAddress)) host.routeSourceV4 = *a;
  if (auto a = netlink::IpAddress::parse(config.deviceRouteSourceAddressIPv6)) host.routeSourceV6 = *a;
  host.removeExternalRoutes = config.removeExternalRoutes;
  host.workloadPrefixes.clear();
  for (std::string_view rest = config.interfacePrefix; !rest.empty();) {
    const auto comma = rest.find(',');
    if (comma != 0) host.workloadPrefixes.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return host;
}

}  // namespace

DataplaneLoop::DataplaneLoop(MergingQueue<DataplaneBatch>& in, Metrics& metrics, Health& health)
    : in_(in), metrics_(metrics), health_(health) {}

void DataplaneLoop::run() {
  auto log = log::get("dataplane");
  dpi::Driver driver({}, [&](const pb::FromDataplane& report) {
    if (report.has_workload_endpoint_status_update() &&
        report.workload_endpoint_status_update().status().status() == "error")
      log->warn("endpoint {}: {}", report.workload_endpoint_status_update().id().workload_id(),
                report.workload_endpoint_status_update().status().detail());
  });
  // The sockets belong to this thread's namespace, which is the process's.
  auto netlinkOpened = netlink::Netlink::open();
  if (!netlinkOpened)
    log->error("netlink: {}; workload routes will not be programmed", netlinkOpened.error().toString());
  std::unique_ptr<netlink::Netlink> nl = netlinkOpened ? std::move(*netlinkOpened) : nullptr;
  netlink::RouteMonitor::Groups groups;
  groups.ipv4Routes = groups.ipv6Routes = false;  // only links: a workload interface appearing
  auto monitorOpened = netlink::RouteMonitor::open(groups);
  std::unique_ptr<netlink::RouteMonitor> monitor = monitorOpened ? std::move(*monitorOpened) : nullptr;
  // nf_tables announces every ruleset change: someone else's (a chain flushed by hand, a rule
  // above our jump) is read back and repaired within the debounce, not at the next refresh.
  auto nftOpened = dpi::NftMonitor::open();
  if (!nftOpened)
    log->warn("nftables notifications: {}; drift is repaired at iptablesRefreshInterval only",
              nftOpened.error().toString());
  std::unique_ptr<dpi::NftMonitor> nft = nftOpened ? std::move(*nftOpened) : nullptr;
  dpi::RecheckSchedule recheck;
  // Conntrack state of released workload addresses is deleted over ctnetlink, as Felix does.
  auto conntrackOpened = netlink::Conntrack::open();
  if (!conntrackOpened)
    log->warn("{}; flows of deleted workloads' addresses will stay tracked",
              conntrackOpened.error().toString());
  std::unique_ptr<netlink::Conntrack> conntrack = conntrackOpened ? std::move(*conntrackOpened) : nullptr;
  netlink::ProcSysctls sysctls;
  RouteManager routes;
  AgentConfig config;
  Clock::time_point lastRouteSync{};
  uint64_t readBacks = 0;
  bool wasReady = false;
  bool lastOk = true;

  for (;;) {
    health_.beat(Health::Loop::kDataplane);
    // With the nftables socket to watch, wake often enough that a re-check is not late.
    auto batch = in_.pop(nft ? std::chrono::milliseconds(50) : std::chrono::milliseconds(1000));
    if (!batch && in_.closed()) break;
    if (batch) {
      if (batch->config) {
        config = *batch->config;
        routes
            .markDirty();  // deviceRouteProtocol, the route sources or removeExternalRoutes may have changed
      }
      for (const auto& message : batch->messages) {
        if (message.has_workload_endpoint_update()) {
          const auto& u = message.workload_endpoint_update();
          routes.setEndpoint(
              endpointKey(u.id()),
              WorkloadRoutes{u.endpoint().interface_name(),
                             {u.endpoint().ipv4_nets().begin(), u.endpoint().ipv4_nets().end()},
                             {u.endpoint().ipv6_nets().begin(), u.endpoint().ipv6_nets().end()}});
        } else if (message.has_workload_endpoint_remove()) {
          routes.removeEndpoint(endpointKey(message.workload_endpoint_remove().id()));
        }
        driver.onMessage(message);
      }
    }
    if (monitor) {
      auto drained = monitor->drain([&](const netlink::MonitorEvent& event) {
        if (event.kind != netlink::MonitorEvent::Kind::LinkChanged &&
            event.kind != netlink::MonitorEvent::Kind::Overflow)
          return;
        if (event.kind == netlink::MonitorEvent::Kind::Overflow ||
            isWorkloadInterface(event.link.name, config))
          routes.markDirty();
      });
      if (!drained) routes.markDirty();
    }
    if (nft) {
      auto drained = nft->drain([&](const dpi::NftChange& change) {
        if (change.kind == dpi::NftChange::Kind::kGeneration && driver.isOwnWriter(change.pid)) return;
        if (change.kind == dpi::NftChange::Kind::kLost)
          log->debug("nftables notifications lost: re-check scheduled");
        else
          log->debug("nftables generation {} committed by {} (pid {}): re-check scheduled", change.generation,
                     change.process, change.pid);
        recheck.changed(Clock::now());
      });
      if (!drained) {
        log->warn("nftables notifications: {}; re-check scheduled", drained.error().toString());
        recheck.changed(Clock::now());
      }
    }
    if (!driver.inSync()) continue;  // nothing is written before the first full snapshot

    const auto start = Clock::now();
    const bool routesDue = routes.dirty() || (config.routeRefreshInterval.count() > 0 &&
                                              start - lastRouteSync >= config.routeRefreshInterval);
    Result<void> applied;
    if (recheck.due(start)) {
      const uint64_t before = repairs(driver.stats());
      applied = driver.refresh();
      ++metrics_.nftablesRechecks;
      recheck.checked(start, repairs(driver.stats()) != before);
    } else {
      applied = driver.tick(start);
    }
    bool ok = static_cast<bool>(applied);
    if (!applied) log->error("apply failed, will read back and retry: {}", applied.error().toString());
    if (nl && routesDue) {
      RouteSyncReport report = routes.sync(*nl, *nl, sysctls, hostSettings(config));
      lastRouteSync = start;
      ++metrics_.routeSyncs;
      metrics_.workloadRoutes = static_cast<int64_t>(report.routes);
      metrics_.routeFailures += report.errors.size();
      for (const auto& e : report.errors) log->warn("workload routes: {}", e.toString());
      if (report.changes != 0 || report.sysctlsApplied != 0)
        log->debug("workload routes: {} wanted, {} changed, {} interfaces configured, {} interfaces missing",
                   report.routes, report.changes, report.sysctlsApplied, report.missingInterfaces);
    }
    // After the endpoint's chains and routes are gone: an established flow of a released address
    // must not outlive it, or its packets would reach the next pod given that address.
    if (const auto released = routes.takeReleasedAddresses(); !released.empty() && conntrack) {
      auto cleaned = conntrack->deleteFlowsOf(released);
      if (!cleaned) {
        log->warn("conntrack cleanup of {} released addresses: {}", released.size(),
                  cleaned.error().toString());
      } else {
        for (const auto& e : cleaned->errors) log->warn("conntrack cleanup: {}", e.toString());
        log->info("conntrack: {} flows of {} released workload addresses deleted", cleaned->deleted,
                  released.size());
      }
    }
    // An apply is a tick that had work: a batch, a route sync, or a retry after a failure.
    if (batch || routesDue || !lastOk) {
      metrics_.applyLatency.observe(std::chrono::duration<double>(Clock::now() - start).count());
      ++metrics_.applies;
      if (!ok) ++metrics_.applyFailures;
    }
    lastOk = ok;
    const auto& stats = driver.stats();
    metrics_.resyncs += stats.readBacks - readBacks;
    readBacks = stats.readBacks;
    metrics_.iptablesChainsWritten = static_cast<int64_t>(stats.chainsWritten);
    metrics_.iptablesRestores = stats.restores;
    recordPerTable(driver, metrics_);
    metrics_.chainRepairs = stats.chainRepairs;
    metrics_.jumpRepairs = stats.jumpRepairs;
    metrics_.setRepairs = stats.setRepairs;
    if (ok && !wasReady) {
      wasReady = true;
      metrics_.inSync = 1;
      health_.setReady();
      log->info("first full sync programmed: {} chains, {} workload routes; ready",
                metrics_.iptablesChains.load(), metrics_.workloadRoutes.load());
    }
  }
  log->info("dataplane loop stopped; rules stay in place");
}

}  // namespace tartan::agent
