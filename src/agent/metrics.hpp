// src/agent/metrics.hpp — the agent's counters, gauges and apply-latency histogram, and their
// Prometheus text exposition (format 0.0.4).
//
// Declared once here, updated by the loops that own each figure, read by the health and
// Prometheus endpoints. Each figure is exported under Tartan's name (tartan_agent_*) and, where
// Felix exports the same measure, under Felix's name and type too (felix_*, e.g.
// felix_int_dataplane_apply_time_seconds, a summary of sum and count as Felix's is), so that
// dashboards and alerts written for Calico keep working. Felix metrics for what Tartan does not
// measure are left out rather than faked. With processMetrics, the process_* figures of the
// Prometheus client libraries are read from /proc/self at each scrape.
// Threading: every update and render() may run on any thread (atomics; the histogram locks).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tartan::agent {

// A Prometheus histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,   0.25,   0.5,   1,    2.5,   5};
  void observe(double seconds);
  // The `_bucket`, `_sum` and `_count` lines of `name`.
  std::string render(const std::string& name) const;
  // Only the `_sum` and `_count` lines: a Prometheus summary without quantiles, as Felix's.
  std::string renderSummary(const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::array<uint64_t, kBounds.size()> buckets_{};  // non-cumulative; cumulated when rendered
  uint64_t count_ = 0;
  double sum_ = 0;
};

// One row per table Tartan programs, per IP version (Felix labels its iptables gauges so).
inline constexpr std::array<const char*, 4> kIptablesTables{"raw", "mangle", "filter", "nat"};
inline constexpr std::size_t kTableSlots = 2 * kIptablesTables.size();
inline constexpr std::size_t tableSlot(int ipVersion, std::size_t table) {
  return (ipVersion == 6 ? kIptablesTables.size() : 0) + table;
}

// The process_* figures, as the Prometheus client libraries define them.
struct ProcessStats {
  double cpuSeconds = 0;     // user + system
  double startTime = 0;      // seconds since the epoch
  int64_t virtualBytes = 0;  // address space
  int64_t residentBytes = 0;
  int64_t openFds = 0;
  int64_t maxFds = 0;
};
// From /proc/self/stat's text, the system's boot time (/proc/stat btime), clock ticks per second
// and page size. Nothing if the text is not a stat line.
std::optional<ProcessStats> parseProcessStat(std::string_view stat, double bootTime, long ticksPerSecond,
                                             long pageSize);
// This process's, read from /proc; nothing if /proc cannot be read.
std::optional<ProcessStats> readProcessStats();

struct Metrics {
  Histogram applyLatency;  // one dataplane apply (iptables, sets, routes)
  std::atomic<uint64_t> applies{0};
  std::atomic<uint64_t> applyFailures{0};
  std::atomic<uint64_t> resyncs{0};           // full read-backs of the kernel (driver refresh)
  std::atomic<uint64_t> datastoreUpdates{0};  // resource updates the syncer delivered
  std::atomic<uint64_t> datastoreErrors{0};
  std::atomic<uint64_t> routeSyncs{0};
  std::atomic<uint64_t> routeFailures{0};
  std::atomic<int64_t> iptablesChainsWritten{0};
  std::atomic<int64_t> iptablesChains{0};  // our chains, all tables and families
  std::atomic<int64_t> policyRules{0};     // rules of the active policies and profiles
  std::atomic<int64_t> ipSets{0};          // kernel IP sets we own
  std::atomic<int64_t> ipSetMembers{0};
  std::atomic<int64_t> activePolicies{0};
  std::atomic<int64_t> localEndpoints{0};
  std::atomic<int64_t> workloadRoutes{0};
  std::atomic<int> inSync{0};                         // first full sync programmed
  std::atomic<int> datastoreAvailable{1};             // 0 while the datastore is unavailable
  std::atomic<int64_t> datastoreDamagedResources{0};  // stored documents damaged, last valid kept
  // Drift someone else made, repaired: our chains, jumps in built-in chains, IP sets.
  std::atomic<uint64_t> chainRepairs{0}, jumpRepairs{0}, setRepairs{0};
  std::atomic<uint64_t> nftablesRechecks{0};  // re-checks after an nftables change notification

  Histogram calcLatency;                      // one batch of datastore updates through the calc graph
  std::atomic<uint64_t> datastoreResyncs{0};  // complete (re)lists of the datastore
  std::atomic<uint64_t> iptablesRestores{0};  // iptables-restore runs
  std::array<std::atomic<int64_t>, kTableSlots> chainsByTable{};  // by tableSlot()
  std::array<std::atomic<int64_t>, kTableSlots> rulesByTable{};
  std::array<std::atomic<int64_t>, 2> ipSetsByVersion{};  // [0] IPv4, [1] IPv6, in the kernel
  std::atomic<int64_t> clusterWorkloadEndpoints{0};
  std::atomic<int64_t> clusterHostEndpoints{0};
  // prometheusProcessMetricsEnabled: the process_* figures are part of the exposition.
  std::atomic<bool> processMetrics{false};

  // The whole exposition, HELP and TYPE lines included.
  std::string render() const;
};

}  // namespace tartan::agent
