// src/agent/metrics.hpp — the agent's counters, gauges and apply-latency histogram, and their
// Prometheus text exposition (format 0.0.4).
//
// Declared once here, updated by the loops that own each figure, read by the health server.
// Threading: every update and render() may run on any thread (atomics; the histogram locks).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace tartan::agent {

// A Prometheus histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,   0.25,   0.5,   1,    2.5,   5};
  void observe(double seconds);
  // The `_bucket`, `_sum` and `_count` lines of `name`.
  std::string render(const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::array<uint64_t, kBounds.size()> buckets_{};  // non-cumulative; cumulated when rendered
  uint64_t count_ = 0;
  double sum_ = 0;
};

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

  // The whole exposition, HELP and TYPE lines included.
  std::string render() const;
};

}  // namespace tartan::agent
