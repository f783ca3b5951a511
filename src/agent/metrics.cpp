// Prometheus text exposition of the agent's metrics.
#include "metrics.hpp"

#include <fmt/format.h>

namespace tartan::agent {

void Histogram::observe(double seconds) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets_[i];
      break;
    }
  }
  ++count_;
  sum_ += seconds;
}

std::string Histogram::render(const std::string& name) const {
  std::lock_guard lock(mutex_);
  std::string out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
  return out;
}

namespace {

template <class T>
void scalar(std::string& out, const char* name, const char* type, const char* help,
            const std::atomic<T>& value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value.load());
}

}  // namespace

std::string Metrics::render() const {
  std::string out;
  out +=
      "# HELP tartan_agent_apply_seconds Time to program one batch of dataplane changes.\n"
      "# TYPE tartan_agent_apply_seconds histogram\n";
  out += applyLatency.render("tartan_agent_apply_seconds");
  scalar(out, "tartan_agent_applies_total", "counter", "Dataplane applies.", applies);
  scalar(out, "tartan_agent_apply_failures_total", "counter", "Dataplane applies that failed.",
         applyFailures);
  scalar(out, "tartan_agent_resyncs_total", "counter", "Full read-backs of the kernel's rules and sets.",
         resyncs);
  scalar(out, "tartan_agent_datastore_updates_total", "counter",
         "Resource updates received from the datastore.", datastoreUpdates);
  scalar(out, "tartan_agent_datastore_errors_total", "counter", "Datastore watch errors.", datastoreErrors);
  scalar(out, "tartan_agent_route_syncs_total", "counter", "Workload route and sysctl syncs.", routeSyncs);
  scalar(out, "tartan_agent_route_failures_total", "counter", "Workload route or sysctl changes that failed.",
         routeFailures);
  scalar(out, "tartan_agent_iptables_chains_written_total", "counter", "iptables chains written.",
         iptablesChainsWritten);
  scalar(out, "tartan_agent_iptables_chains", "gauge",
         "The agent's iptables chains, all tables and families.", iptablesChains);
  scalar(out, "tartan_agent_policy_rules", "gauge", "Rules of the active policies and profiles.",
         policyRules);
  scalar(out, "tartan_agent_ipsets", "gauge", "IP sets the agent programs.", ipSets);
  scalar(out, "tartan_agent_ipset_members", "gauge", "Members of the agent's IP sets.", ipSetMembers);
  scalar(out, "tartan_agent_active_policies", "gauge", "Policies selecting a local endpoint.",
         activePolicies);
  scalar(out, "tartan_agent_local_endpoints", "gauge", "Endpoints on this node.", localEndpoints);
  scalar(out, "tartan_agent_workload_routes", "gauge", "Routes to local workloads.", workloadRoutes);
  scalar(out, "tartan_agent_in_sync", "gauge", "1 once the first full sync is programmed.", inSync);
  scalar(out, "tartan_agent_datastore_available", "gauge",
         "0 while the datastore is unavailable (the last state stays enforced).", datastoreAvailable);
  scalar(out, "tartan_agent_datastore_damaged_resources", "gauge",
         "Stored resources whose document is damaged; their last valid versions are enforced.",
         datastoreDamagedResources);
  out +=
      "# HELP tartan_agent_dataplane_repairs_total Drift someone else made, put right: our chains, the "
      "jumps to them in built-in chains, our IP sets.\n"
      "# TYPE tartan_agent_dataplane_repairs_total counter\n";
  for (const auto& [kind, value] :
       {std::pair{"chain", &chainRepairs}, std::pair{"jump", &jumpRepairs}, std::pair{"set", &setRepairs}})
    out += fmt::format("tartan_agent_dataplane_repairs_total{{kind=\"{}\"}} {}\n", kind, value->load());
  scalar(out, "tartan_agent_nftables_rechecks_total", "counter",
         "Read-backs of our rules after an nftables change notification from another process.",
         nftablesRechecks);
  return out;
}

}  // namespace tartan::agent
