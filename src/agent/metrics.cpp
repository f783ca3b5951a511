// Prometheus text exposition of the agent's metrics.
#include "metrics.hpp"

#include <fmt/format.h>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <tuple>
#include <vector>

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

std::string Histogram::renderSummary(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

std::optional<ProcessStats> parseProcessStat(std::string_view stat, double bootTime, long ticksPerSecond,
                                             long pageSize) {
  // "pid (comm) state ppid ...": the command may hold spaces and parentheses, so the fields are
  // counted from the last ')'. After it come fields 3 (state) onwards.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || ticksPerSecond <= 0) return std::nullopt;
  std::vector<std::string_view> fields;
  for (std::string_view rest = stat.substr(close + 1); !rest.empty();) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  auto number = [&](std::size_t field, int64_t& out) {
    const std::size_t i = field - 3;
    if (i >= fields.size()) return false;
    auto [end, ec] = std::from_chars(fields[i].data(), fields[i].data() + fields[i].size(), out);
    return ec == std::errc() && end == fields[i].data() + fields[i].size();
  };
  int64_t utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  if (!number(14, utime) || !number(15, stime) || !number(22, start) || !number(23, vsize) ||
      !number(24, rss))
    return std::nullopt;
  ProcessStats out;
  out.cpuSeconds = static_cast<double>(utime + stime) / static_cast<double>(ticksPerSecond);
  out.startTime = bootTime + static_cast<double>(start) / static_cast<double>(ticksPerSecond);
  out.virtualBytes = vsize;
  out.residentBytes = rss * pageSize;
  return out;
}

std::optional<ProcessStats> readProcessStats() {
  std::ifstream statFile("/proc/self/stat");
  std::string stat;
  std::getline(statFile, stat);
  double bootTime = 0;
  std::ifstream system("/proc/stat");
  for (std::string line; std::getline(system, line);) {
    if (line.rfind("btime ", 0) == 0) bootTime = std::strtod(line.c_str() + 6, nullptr);
  }
  auto out = parseProcessStat(stat, bootTime, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE));
  if (!out) return std::nullopt;
  if (DIR* fds = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(fds)) {
      if (e->d_name[0] != '.') ++out->openFds;
    }
    ::closedir(fds);
    --out->openFds;  // the listing's own
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) out->maxFds = static_cast<int64_t>(limit.rlim_cur);
  return out;
}

namespace {

template <class T>
void scalar(std::string& out, const char* name, const char* type, const char* help,
            const std::atomic<T>& value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value.load());
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// The figures Felix exports under the same meaning, with Felix's names, types and labels.
void renderFelix(std::string& out, const Metrics& m) {
  scalar(out, "felix_active_local_endpoints", "gauge", "Number of active endpoints on this host.",
         m.localEndpoints);
  scalar(out, "felix_active_local_policies", "gauge", "Number of active policies on this host.",
         m.activePolicies);
  scalar(out, "felix_cluster_num_workload_endpoints", "gauge",
         "Total number of workload endpoints cluster-wide.", m.clusterWorkloadEndpoints);
  scalar(out, "felix_cluster_num_host_endpoints", "gauge", "Total number of host endpoints cluster-wide.",
         m.clusterHostEndpoints);
  for (auto [name, help, values] :
       {std::tuple{"felix_iptables_chains", "Number of active iptables chains.", &m.chainsByTable},
        std::tuple{"felix_iptables_rules", "Number of active iptables rules.", &m.rulesByTable}}) {
    header(out, name, "gauge", help);
    for (int version : {4, 6}) {
      for (std::size_t t = 0; t < kIptablesTables.size(); ++t)
        out += fmt::format("{}{{ip_version=\"{}\",table=\"{}\"}} {}\n", name, version, kIptablesTables[t],
                           (*values)[tableSlot(version, t)].load());
    }
  }
  header(out, "felix_ipsets_calico", "gauge", "Number of active Calico IP sets.");
  for (int version : {4, 6})
    out += fmt::format("felix_ipsets_calico{{ip_version=\"{}\"}} {}\n", version,
                       m.ipSetsByVersion[version == 4 ? 0 : 1].load());
  scalar(out, "felix_iptables_restore_calls", "counter", "Number of iptables-restore calls.",
         m.iptablesRestores);
  header(out, "felix_int_dataplane_apply_time_seconds", "summary",
         "Time in seconds that it took to apply a dataplane update.");
  out += m.applyLatency.renderSummary("felix_int_dataplane_apply_time_seconds");
  scalar(out, "felix_int_dataplane_failures", "counter",
         "Number of times dataplane updates failed and will be retried.", m.applyFailures);
  scalar(out, "felix_resyncs_started", "counter", "Number of datastore resyncs.", m.datastoreResyncs);
  header(out, "felix_calc_graph_update_time_seconds", "summary",
         "Seconds to update calculation graph for each datastore OnUpdate call.");
  out += m.calcLatency.renderSummary("felix_calc_graph_update_time_seconds");
}

void renderProcess(std::string& out, const ProcessStats& p) {
  out += fmt::format(
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n"
      "# HELP process_open_fds Number of open file descriptors.\n"
      "# TYPE process_open_fds gauge\nprocess_open_fds {}\n"
      "# HELP process_max_fds Maximum number of open file descriptors.\n"
      "# TYPE process_max_fds gauge\nprocess_max_fds {}\n"
      "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
      "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes {}\n"
      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n"
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
      "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {:.2f}\n",
      p.cpuSeconds, p.openFds, p.maxFds, p.virtualBytes, p.residentBytes, p.startTime);
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
  out +=
      "# HELP tartan_agent_calc_seconds Time to run one batch of datastore updates through the calc graph.\n"
      "# TYPE tartan_agent_calc_seconds histogram\n";
  out += calcLatency.render("tartan_agent_calc_seconds");
  scalar(out, "tartan_agent_datastore_resyncs_total", "counter", "Complete lists of the datastore.",
         datastoreResyncs);
  renderFelix(out, *this);
  if (processMetrics.load()) {
    if (auto process = readProcessStats()) renderProcess(out, *process);
  }
  return out;
}

}  // namespace tartan::agent
