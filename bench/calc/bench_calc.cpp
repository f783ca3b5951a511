// bench_calc — the calc graph at Felix's scale, against a naive evaluator in the same run.
//
// Shape: 250k pods cluster-wide (200 on this node) in 1,000 namespaces, 10k policies (9k
// Kubernetes NetworkPolicies, 1k Calico policies in three tiers). Labels follow what clusters
// carry: every Deployment's pods share app / pod-template-hash / tier / version labels, 5% of
// pods belong to StatefulSets and carry a unique pod-name label, namespaces carry team and env.
// Measured: time from the first resource to the end of the first flush after in-sync, peak RSS
// (getrusage), and the time of one policy edit and one pod add (median of several) afterwards.
// Baseline: a naive evaluator that recomputes every match from scratch (all policies against
// the local endpoints, every active rule selector against every endpoint) — what a change costs
// without an index and without incremental state. Both use the same compiled selector, so the
// ratio is the algorithm's, not the evaluator's.
// Output: one JSON object on stdout. Build in an optimised, unsanitised build dir.
#include "labels.hpp"
#include "policy_conversion.hpp"
#include "selector_program.hpp"
#include "tartan/calc/calc_graph.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <sys/resource.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace tartan;
using Clock = std::chrono::steady_clock;

struct Shape {
  int namespaces = 1000;
  int deploymentsPerNamespace = 10;
  int podsPerNamespace = 250;
  int localPods = 200;
  int knpPerNamespace = 9;
  int calicoPolicies = 1000;
  int nodes = 1250;
};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Resident now (not peak), from /proc/self/statm.
long currentRssKb() {
  long pages = 0;
  long resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long peakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

class CountingSink : public calc::DataplaneSink {
 public:
  void send(const dataplane::proto::ToDataplane& m) override {
    ++messages;
    bytes += m.ByteSizeLong();
  }
  uint64_t messages = 0;
  uint64_t bytes = 0;
};

const char* kTiers[] = {"frontend", "backend", "db"};
const char* kEnvs[] = {"prod", "staging", "dev"};

std::string nsName(int n) { return "ns-" + std::to_string(n); }
std::string appName(int n, int d) { return "app-" + std::to_string(n) + "-" + std::to_string(d); }
std::string teamOf(int n) { return "team-" + std::to_string(n % 50); }

model::KubernetesNamespace makeNamespace(int n) {
  model::KubernetesNamespace r;
  r.metadata.name = nsName(n);
  r.metadata.labels = {
      {"team", teamOf(n)}, {"env", kEnvs[n % 3]}, {"kubernetes.io/metadata.name", nsName(n)}};
  return r;
}

model::KubernetesServiceAccount makeServiceAccount(int n, int d) {
  model::KubernetesServiceAccount r;
  r.metadata.namespaceName = nsName(n);
  r.metadata.name = "sa-" + std::to_string(d);
  r.metadata.labels = {{"component", appName(n, d)}};
  return r;
}

// Pod i of namespace n; `local` decides the node.
model::KubernetesPod makePod(const Shape& shape, int n, int i, bool local, uint32_t ipIndex) {
  const int d = i % shape.deploymentsPerNamespace;
  model::KubernetesPod r;
  r.metadata.namespaceName = nsName(n);
  r.metadata.name = appName(n, d) + "-" + std::to_string(i);
  r.metadata.labels = {{"app", appName(n, d)},
                       {"pod-template-hash", std::to_string((n * 7919 + d * 104729) % 1000003)},
                       {"tier", kTiers[d % 3]},
                       {"version", "v" + std::to_string(d % 3 + 1)},
                       {"app.kubernetes.io/part-of", "system-" + std::to_string(n % 100)}};
  if (i % 20 == 0) r.metadata.labels["statefulset.kubernetes.io/pod-name"] = r.metadata.name;
  r.spec.nodeName = local ? "node-local" : "node-" + std::to_string(ipIndex % shape.nodes);
  r.spec.serviceAccountName = "sa-" + std::to_string(d % 5);
  r.status.phase = "Running";
  char ip[32];
  std::snprintf(ip, sizeof ip, "10.%u.%u.%u", (ipIndex >> 16) & 255, (ipIndex >> 8) & 255, ipIndex & 255);
  r.status.podIP = ip;
  model::Container c;
  c.name = "main";
  model::ContainerPort http;
  http.name = "http";
  http.containerPort = 8080;
  c.ports.push_back(http);
  r.spec.containers.push_back(c);
  return r;
}

model::KubernetesNetworkPolicy makeKnp(const Shape& shape, int n, int k) {
  model::KubernetesNetworkPolicy r;
  r.metadata.namespaceName = nsName(n);
  r.metadata.name = "knp-" + std::to_string(k);
  const int d = k % shape.deploymentsPerNamespace;
  r.spec.podSelector.matchLabels = {{"app", appName(n, d)}};
  model::NetworkPolicyIngressRule in;
  model::NetworkPolicyPeer peer;
  if (k % 3 == 0) {
    model::LabelSelector nsSel;
    nsSel.matchLabels = {{"team", teamOf(n + k)}};
    peer.namespaceSelector = nsSel;
    model::LabelSelector podSel;
    podSel.matchLabels = {{"tier", "frontend"}};
    peer.podSelector = podSel;
  } else {
    model::LabelSelector podSel;
    podSel.matchLabels = {{"app", appName(n, (d + 1) % shape.deploymentsPerNamespace)}};
    peer.podSelector = podSel;
  }
  in.from = std::vector<model::NetworkPolicyPeer>{peer};
  model::NetworkPolicyPort port;
  port.protocol = "TCP";
  port.port = k % 4 == 0 ? model::IntOrString{std::string("http")} : model::IntOrString{8080 + k};
  in.ports = std::vector<model::NetworkPolicyPort>{port};
  r.spec.ingress = std::vector<model::NetworkPolicyIngressRule>{in};
  r.spec.policyTypes = {"Ingress"};
  if (k % 5 == 0) {
    model::NetworkPolicyEgressRule out;
    model::NetworkPolicyPeer block;
    block.ipBlock = model::IPBlock{"172.16.0.0/12", {"172.16.5.0/24"}};
    out.to = std::vector<model::NetworkPolicyPeer>{block};
    r.spec.egress = std::vector<model::NetworkPolicyEgressRule>{out};
    r.spec.policyTypes.push_back("Egress");
  }
  return r;
}

model::GlobalNetworkPolicy makeGnp(int g) {
  static const char* kTierNames[] = {"security", "platform", "default"};
  model::GlobalNetworkPolicy r;
  r.metadata.name = "gnp-" + std::to_string(g);
  r.spec.tier = kTierNames[g % 3];
  r.spec.order = g % 17;
  switch (g % 4) {
    case 0:
      r.spec.selector = "tier == '" + std::string(kTiers[g % 3]) + "'";
      break;
    case 1:
      r.spec.selector = "app.kubernetes.io/part-of == 'system-" + std::to_string(g % 100) + "'";
      break;
    case 2:
      r.spec.selector =
          "has(statefulset.kubernetes.io/pod-name) && version == 'v" + std::to_string(g % 3 + 1) + "'";
      r.spec.namespaceSelector = "team == '" + teamOf(g) + "'";
      break;
    default:
      r.spec.selector = "app == '" + appName(g % 1000, g % 10) + "'";
      break;
  }
  model::Rule rule;
  rule.action = g % 7 == 0 ? "Deny" : "Allow";
  rule.source.selector = "app.kubernetes.io/part-of == 'system-" + std::to_string((g * 3) % 100) + "'";
  if (g % 2 == 0) rule.source.namespaceSelector = "env == '" + std::string(kEnvs[g % 3]) + "'";
  r.spec.ingress = {rule};
  return r;
}

// The naive evaluator: every label as an interned set per endpoint, every selector evaluated
// against everything on every change. It holds the same data the graph needs.
struct Naive {
  calc::Interner interner;
  std::vector<calc::LabelVec> endpoints;  // effective labels, flattened
  std::vector<bool> local;
  std::vector<std::shared_ptr<const calc::SelectorProgram>> policySelectors;
  std::vector<std::vector<std::string>> ruleSelectors;

  // Returns a checksum so the work cannot be optimised away.
  std::size_t recomputeEverything() {
    std::size_t sum = 0;
    std::set<std::string> active;
    for (std::size_t p = 0; p < policySelectors.size(); ++p) {
      bool any = false;
      for (std::size_t e = 0; e < endpoints.size(); ++e) {
        if (!local[e]) continue;
        if (policySelectors[p]->matches(calc::LabelView{&endpoints[e], nullptr, nullptr}, interner)) {
          any = true;
          ++sum;
        }
      }
      if (any) active.insert(ruleSelectors[p].begin(), ruleSelectors[p].end());
    }
    for (const std::string& text : active) {
      auto program = calc::SelectorProgram::compile(text, interner);
      for (const calc::LabelVec& labels : endpoints) {
        sum += program->matches(calc::LabelView{&labels, nullptr, nullptr}, interner);
      }
    }
    return sum + active.size();
  }
};

}  // namespace

int main(int argc, char** argv) {
  // --no-baseline skips the naive evaluator (for profiling the graph alone).
  const bool baseline = !(argc > 1 && std::string(argv[1]) == "--no-baseline");
  Shape shape;
  std::mt19937 rng(42);
  nlohmann::json out;
  out["shape"] = {{"pods", shape.namespaces * shape.podsPerNamespace},
                  {"local_pods", shape.localPods},
                  {"namespaces", shape.namespaces},
                  {"policies", shape.namespaces * shape.knpPerNamespace + shape.calicoPolicies}};
  const long rssBefore = peakRssKb();

  // Which pods are local: 200 spread over the cluster.
  std::set<std::pair<int, int>> localSet;
  while (static_cast<int>(localSet.size()) < shape.localPods) {
    localSet.emplace(static_cast<int>(rng() % shape.namespaces),
                     static_cast<int>(rng() % shape.podsPerNamespace));
  }

  // Phases. Resource objects are built in small batches outside the graph's clock, so
  // "graph" figures are onUpdate/flush alone and "generate" is the harness making model objects
  // (what an agent's decode would cost). first_flush_seconds keeps the old definition (both,
  // interleaved) so figures stay comparable with earlier runs.
  constexpr int kBatch = 1024;
  struct Phase {
    const char* name;
    double graphSeconds = 0;
    double graphCpuSeconds = 0;
    double generateSeconds = 0;
    double generateCpuSeconds = 0;
    long rssAfterKb = 0;
  };
  std::vector<Phase> phases;
  // Wall and this thread's CPU time of f(), added to the phase's graph or generate figures.
  auto timed = [](Phase& ph, bool isGraph, auto&& f) {
    const auto t0 = Clock::now();
    const double c0 = threadCpuSeconds();
    f();
    (isGraph ? ph.graphSeconds : ph.generateSeconds) += seconds(Clock::now() - t0);
    (isGraph ? ph.graphCpuSeconds : ph.generateCpuSeconds) += threadCpuSeconds() - c0;
  };

  CountingSink sink;
  calc::CalcGraph graph(calc::Config{"node-local", std::string(calc::kDefaultInterfacePrefix)}, sink);
  const double cpuStart = cpuSeconds();
  const auto start = Clock::now();
  {
    Phase ph{"tiers_namespaces_service_accounts"};
    std::vector<model::Resource> batch;
    timed(ph, false, [&] {
      for (const char* t : {"security", "platform"}) {
        model::Tier tier;
        tier.metadata.name = t;
        tier.spec.order = std::string(t) == "security" ? 100 : 200;
        batch.emplace_back(std::move(tier));
      }
    });
    for (int n = 0; n < shape.namespaces; ++n) {
      timed(ph, false, [&] {
        batch.emplace_back(makeNamespace(n));
        for (int s = 0; s < 5; ++s) batch.emplace_back(makeServiceAccount(n, s));
      });
      timed(ph, true, [&] {
        for (const auto& r : batch) graph.onUpdate(r);
      });
      batch.clear();
    }
    ph.rssAfterKb = currentRssKb();
    phases.push_back(ph);
  }
  uint32_t ip = 1;
  {
    Phase ph{"pods"};
    std::vector<model::Resource> batch;
    batch.reserve(kBatch);
    const int total = shape.namespaces * shape.podsPerNamespace;
    for (int first = 0; first < total; first += kBatch) {
      timed(ph, false, [&] {
        for (int j = first; j < std::min(total, first + kBatch); ++j) {
          const int n = j / shape.podsPerNamespace;
          const int i = j % shape.podsPerNamespace;
          batch.emplace_back(makePod(shape, n, i, localSet.count({n, i}) > 0, ip++));
        }
      });
      timed(ph, true, [&] {
        for (const auto& r : batch) graph.onUpdate(r);
      });
      batch.clear();
    }
    ph.rssAfterKb = currentRssKb();
    phases.push_back(ph);
  }
  {
    Phase ph{"policies"};
    std::vector<model::Resource> batch;
    for (int n = 0; n < shape.namespaces; ++n) {
      timed(ph, false, [&] {
        for (int k = 0; k < shape.knpPerNamespace; ++k) batch.emplace_back(makeKnp(shape, n, k));
      });
      timed(ph, true, [&] {
        for (const auto& r : batch) graph.onUpdate(r);
      });
      batch.clear();
    }
    for (int first = 0; first < shape.calicoPolicies; first += 10) {
      timed(ph, false, [&] {
        for (int g = first; g < std::min(shape.calicoPolicies, first + 10); ++g) {
          batch.emplace_back(makeGnp(g));
        }
      });
      timed(ph, true, [&] {
        for (const auto& r : batch) graph.onUpdate(r);
      });
      batch.clear();
    }
    ph.rssAfterKb = currentRssKb();
    phases.push_back(ph);
  }
  const auto loaded = Clock::now();
  const long rssLoaded = peakRssKb();
  {
    Phase ph{"in_sync_first_flush"};
    timed(ph, true, [&] {
      graph.onInSync();
      graph.flush();
    });
    ph.rssAfterKb = currentRssKb();
    phases.push_back(ph);
  }
  const auto flushed = Clock::now();
  const double cpuFlushed = cpuSeconds();
  const long rssAfter = peakRssKb();
  double graphSeconds = 0;
  double graphCpuSeconds = 0;
  double generateSeconds = 0;
  nlohmann::json phaseJson = nlohmann::json::array();
  for (const Phase& ph : phases) {
    graphSeconds += ph.graphSeconds;
    graphCpuSeconds += ph.graphCpuSeconds;
    generateSeconds += ph.generateSeconds;
    phaseJson.push_back({{"phase", ph.name},
                         {"graph_seconds", ph.graphSeconds},
                         {"graph_cpu_seconds", ph.graphCpuSeconds},
                         {"generate_seconds", ph.generateSeconds},
                         {"generate_cpu_seconds", ph.generateCpuSeconds},
                         {"rss_after_mb", ph.rssAfterKb / 1024.0}});
  }
  const calc::Stats stats = graph.stats();

  out["tartan"] = {{"counted",
                    "first_flush_*: wall/CPU from the first resource to the end of the first flush after "
                    "in-sync, including the harness building model objects (as before); graph_seconds: "
                    "onUpdate + onInSync + flush only; generate_seconds: building the model objects; "
                    "peak_rss_mb: whole process (getrusage), harness included"},
                   {"first_flush_seconds", seconds(flushed - start)},
                   {"graph_seconds", graphSeconds},
                   {"graph_cpu_seconds", graphCpuSeconds},
                   {"generate_seconds", generateSeconds},
                   {"phases", phaseJson},
                   {"first_flush_cpu_seconds", cpuFlushed - cpuStart},
                   {"load_seconds", seconds(loaded - start)},
                   {"flush_seconds", seconds(flushed - loaded)},
                   {"peak_rss_mb", rssAfter / 1024.0},
                   {"rss_before_mb", rssBefore / 1024.0},
                   {"peak_rss_before_first_flush_mb", rssLoaded / 1024.0},
                   {"messages", sink.messages},
                   {"message_bytes", sink.bytes},
                   {"label_sets", stats.labelSets},
                   {"active_policies", stats.activePolicies},
                   {"active_ip_sets", stats.activeIpSets},
                   {"ip_set_members", stats.ipSetMembers},
                   {"selector_evaluations", stats.selectorEvaluations}};

  // One policy edit: an active Kubernetes policy of a local pod's namespace gets a new peer.
  auto [localNs, localIndex] = *localSet.begin();
  const int localDeployment = localIndex % shape.deploymentsPerNamespace;
  std::vector<double> editTimes;
  for (int rep = 0; rep < 9; ++rep) {
    auto knp = makeKnp(shape, localNs, localDeployment);
    (*knp.spec.ingress)[0].from->front().podSelector->matchLabels = {
        {"app", appName(localNs, (localDeployment + 2 + rep) % shape.deploymentsPerNamespace)}};
    const auto t0 = Clock::now();
    graph.onUpdate(knp);
    graph.flush();
    editTimes.push_back(seconds(Clock::now() - t0));
  }
  // One pod add: a remote pod joining sets of active policies.
  std::vector<double> addTimes;
  for (int rep = 0; rep < 9; ++rep) {
    auto pod = makePod(shape, localNs, (localDeployment + 1) % shape.deploymentsPerNamespace, false, ip++);
    pod.metadata.name = "extra-" + std::to_string(rep);
    const auto t0 = Clock::now();
    graph.onUpdate(pod);
    graph.flush();
    addTimes.push_back(seconds(Clock::now() - t0));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  out["tartan"]["policy_edit_seconds"] = median(editTimes);
  out["tartan"]["pod_add_seconds"] = median(addTimes);

  if (!baseline) {
    std::cout << out.dump(2) << std::endl;
    return 0;
  }
  // Baseline: the same cluster, every match recomputed from scratch.
  Naive naive;
  {
    std::vector<calc::LabelVec> nsLabels(shape.namespaces);
    for (int n = 0; n < shape.namespaces; ++n) {
      for (const auto& [k, v] : makeNamespace(n).metadata.labels) {
        nsLabels[n].push_back({naive.interner.intern("pcns." + k), naive.interner.intern(v)});
      }
    }
    uint32_t nip = 1;
    for (int n = 0; n < shape.namespaces; ++n) {
      for (int i = 0; i < shape.podsPerNamespace; ++i) {
        auto pod = makePod(shape, n, i, localSet.count({n, i}) > 0, nip++);
        calc::LabelVec labels = nsLabels[n];
        for (const auto& [k, v] : pod.metadata.labels) {
          labels.push_back({naive.interner.intern(k), naive.interner.intern(v)});
        }
        labels.push_back(
            {naive.interner.intern("projectcalico.org/namespace"), naive.interner.intern(nsName(n))});
        labels.push_back(
            {naive.interner.intern("projectcalico.org/orchestrator"), naive.interner.intern("k8s")});
        std::sort(labels.begin(), labels.end());
        naive.endpoints.push_back(std::move(labels));
        naive.local.push_back(localSet.count({n, i}) > 0);
      }
    }
    auto addPolicy = [&](const calc::PolicyDef& def) {
      naive.policySelectors.push_back(calc::SelectorProgram::compile(def.selector, naive.interner));
      std::vector<std::string> rules;
      for (const auto& r : def.ingress) {
        if (!r.source.selector.empty()) rules.push_back(r.source.selector);
      }
      naive.ruleSelectors.push_back(std::move(rules));
    };
    for (int n = 0; n < shape.namespaces; ++n) {
      for (int k = 0; k < shape.knpPerNamespace; ++k) {
        addPolicy(calc::convertPolicy(calc::convertKubernetesPolicy(makeKnp(shape, n, k))));
      }
    }
    for (int g = 0; g < shape.calicoPolicies; ++g) addPolicy(calc::convertPolicy(makeGnp(g)));
  }
  const auto n0 = Clock::now();
  const double naiveCpu0 = cpuSeconds();
  const std::size_t checksum = naive.recomputeEverything();
  const double naiveSeconds = seconds(Clock::now() - n0);
  out["naive"] = {{"recompute_seconds", naiveSeconds},
                  {"recompute_cpu_seconds", cpuSeconds() - naiveCpu0},
                  {"checksum", checksum},
                  {"note",
                   "recomputes everything on every change: its policy edit and pod add "
                   "each cost one full recompute"}};
  out["ratios"] = {{"policy_edit_naive_over_tartan", naiveSeconds / median(editTimes)},
                   {"pod_add_naive_over_tartan", naiveSeconds / median(addTimes)},
                   {"first_flush_vs_felix_3_4s", seconds(flushed - start) / 3.4},
                   {"first_flush_cpu_vs_felix_3_4s", (cpuFlushed - cpuStart) / 3.4},
                   {"peak_rss_vs_felix_375mb", (rssAfter / 1024.0) / 375.0}};
  std::cout << out.dump(2) << std::endl;
  return 0;
}
