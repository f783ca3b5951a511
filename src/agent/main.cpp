// tartan-agent — the policy agent (Felix's job): datastore in, iptables/ipsets, routes and
// sysctls out. This file is the architecture diagram: it builds each module and wires the edges
// by hand.
//
//   datastore --watch--> Syncer --SyncerBatch (merging)--> CalcLoop [main thread]
//             CalcLoop --DataplaneBatch (appending)--> DataplaneLoop [own thread] --> kernel
//   Health/Metrics <-- both loops, the datastore (damage) and the Syncer (outages);
//   Operations: log destinations, the health endpoint and the Prometheus endpoint [own threads],
//     set from flags and environment at start, then from CalcLoop as the configuration changes
//   SIGTERM/SIGINT (signalfd) --> close the queues: both loops finish and return; rules stay.
#include "calc_loop.hpp"
#include "dataplane_loop.hpp"
#include "operations.hpp"
#include "tartan/common/log.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/syncer/syncer.hpp"

#include <CLI/CLI.hpp>

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

extern char** environ;

namespace {

using namespace tartan;

// The kinds the calc graph and the configuration read; nothing else is watched.
const std::vector<model::Kind> kWatchedKinds{
    model::Kind::kGlobalNetworkPolicy,
    model::Kind::kNetworkPolicy,
    model::Kind::kTier,
    model::Kind::kGlobalNetworkSet,
    model::Kind::kNetworkSet,
    model::Kind::kHostEndpoint,
    model::Kind::kWorkloadEndpoint,
    model::Kind::kAgentConfiguration,
    model::Kind::kIPPool,            // outgoing NAT (natOutgoing)
    model::Kind::kBGPConfiguration,  // serviceLoopPrevention: the service ranges
    model::Kind::kKubernetesNamespace,
    model::Kind::kKubernetesPod,
    model::Kind::kKubernetesServiceAccount,
    model::Kind::kKubernetesNetworkPolicy,
    model::Kind::kKubernetesService,        // rules naming a Service (source/destination.services)
    model::Kind::kKubernetesEndpointSlice,  // ... match its slices' addresses and ports
};

std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tartan-agent: the Tartan policy agent", "tartan-agent"};
  std::string datastoreSpec, nodeName, logLevel = "info", healthHost;
  int healthPort = 9099;
  std::string kubeconfig;
  app.add_option("--datastore", datastoreSpec,
                 "file:DIR or kubernetes[:KUBECONFIG] (default: $TARTAN_DATASTORE; Calico's DATASTORE_TYPE)");
  app.add_option("--kubeconfig", kubeconfig, "the kubeconfig of --datastore kubernetes");
  app.add_option("--node", nodeName, "this node's name (default: $TARTAN_NODE, else the hostname)");
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error, off");
  app.add_option("--health-port", healthPort,
                 "port for /liveness, /readiness, /metrics; 0 picks a free one (default: healthPort, 9099)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--health-host", healthHost, "address to serve health on (default: healthHost, localhost)");
  CLI11_PARSE(app, argc, argv);

  if (!log::setLevel(logLevel)) {
    std::fprintf(stderr, "tartan-agent: unknown log level '%s'\n", logLevel.c_str());
    return 2;
  }
  auto log = log::get("agent");
  // A flag that was given beats every other source of its field (see config.hpp).
  std::map<std::string, std::string> commandLine;
  if (app.count("--log-level") != 0) commandLine["logSeverityScreen"] = logLevel;
  if (app.count("--health-port") != 0) commandLine["healthPort"] = std::to_string(healthPort);
  if (app.count("--health-host") != 0) commandLine["healthHost"] = healthHost;
  if (datastoreSpec.empty()) {
    if (const char* env = std::getenv("TARTAN_DATASTORE")) datastoreSpec = env;
  }
  if (!datastoreSpec.empty() && (datastoreSpec.front() == '/' || datastoreSpec.front() == '.'))
    datastoreSpec = "file:" + datastoreSpec;
  if (!kubeconfig.empty()) {
    if (!datastoreSpec.empty() && datastoreSpec != "kubernetes") {
      std::fprintf(stderr, "tartan-agent: --kubeconfig is for the kubernetes datastore, not %s\n",
                   datastoreSpec.c_str());
      return 2;
    }
    datastoreSpec = "kubernetes:" + kubeconfig;
  }
  if (nodeName.empty()) {
    const char* env = std::getenv("TARTAN_NODE");
    nodeName = env && *env ? env : hostname();
  }

  // Signals are taken by a signalfd, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const int signalFd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  if (signalFd < 0) {
    log->error("signalfd: {}", std::strerror(errno));
    return 1;
  }

  agent::Metrics metrics;
  agent::Health health;

  // Edge: datastore -> Health + Metrics: damaged resources (the store logs each, naming the file
  // and the problem, and serves their last valid versions). Only valid resources are recorded
  // (checkStored), so a restarted agent enforces what a running one kept. A store that is not
  // there is waited for, never created empty.
  datastore::OpenOptions openOptions;
  openOptions.create = false;
  openOptions.validate = syncer::checkStored;
  openOptions.onDamage = [&](const std::vector<datastore::Damage>& damaged) {
    std::vector<std::string> described;
    for (const auto& d : damaged) described.push_back(d.toString());
    metrics.datastoreDamagedResources = static_cast<int64_t>(damaged.size());
    health.setDamaged(std::move(described));
  };
  auto store = datastore::open(datastoreSpec, openOptions);
  if (!store) {
    log->error("cannot open datastore '{}': {}", datastoreSpec, store.error().toString());
    return 1;
  }
  agent::MergingQueue<agent::SyncerBatch> syncerQueue;
  agent::MergingQueue<agent::DataplaneBatch> dataplaneQueue;

  // Edge: datastore watch thread -> syncerQueue. Each update is a full snapshot of its key, so
  // the queue keeps only the newest per key while the calc loop is busy.
  syncer::Syncer syncer(
      **store, kWatchedKinds,
      syncer::Callbacks{
          [&](const syncer::Update& update) {
            agent::SyncerBatch batch;
            batch.updates.emplace(update.key, update);
            batch.received = 1;
            syncerQueue.push(std::move(batch));
          },
          [&](int64_t revision) {
            log->debug("datastore in sync at revision {}", revision);
            ++metrics.datastoreResyncs;
            agent::SyncerBatch batch;
            batch.inSync = true;
            syncerQueue.push(std::move(batch));
          },
          [&](const Error& error) {
            ++metrics.datastoreErrors;
            log->warn("datastore: {}; retrying", error.toString());
          },
          // An outage of the store: not ready, and why; the last state stays
          // enforced (the syncer delivers no removal) until it is back.
          [&](const std::optional<Error>& outage) {
            metrics.datastoreAvailable = outage ? 0 : 1;
            if (outage) ++metrics.datastoreErrors;
            health.setDatastoreOutage(outage ? std::optional(outage->toString()) : std::nullopt);
          },
      });

  // Edge: syncerQueue -> CalcLoop (this thread) -> dataplaneQueue. Batches of dataplane API
  // messages; the first is ConfigUpdate, the whole state, InSync.
  agent::CalcLoop calc(nodeName, agent::tartanEnvironment(environ), syncerQueue, dataplaneQueue, metrics,
                       health);
  calc.setCommandLine(commandLine);

  // Edge: dataplaneQueue -> DataplaneLoop (own thread) -> iptables, ipsets, routes, sysctls.
  agent::DataplaneLoop dataplane(dataplaneQueue, metrics, health);
  std::thread dataplaneThread([&] { dataplane.run(); });

  // Edge: Health + Metrics -> Operations -> the health and Prometheus endpoints (own threads) and
  // the log destinations: at once from the flags and environment (the datastore's configuration
  // is not read yet), then CalcLoop -> Operations whenever the merged configuration changes them.
  agent::Operations operations(health, metrics);
  {
    agent::MergeInput early;
    early.environment = agent::tartanEnvironment(environ);
    early.commandLine = commandLine;
    const agent::OperationsConfig first = agent::mergeConfig(early).config.operations;
    for (const auto& e : operations.apply(first)) log->error("{}", e.toString());
    if (first.healthEnabled && operations.healthPort() == 0) {
      dataplaneQueue.close();
      dataplaneThread.join();
      return 1;
    }
  }
  calc.onOperations([&](const agent::OperationsConfig& config) {
    for (const auto& e : operations.apply(config)) log->error("configuration: {}", e.toString());
  });
  log->info("node {}, datastore {}", nodeName, datastoreSpec);
  std::printf("health port %u\n", static_cast<unsigned>(operations.healthPort()));
  std::fflush(stdout);

  if (auto started = syncer.start(); !started) {
    log->error("datastore watch: {}", started.error().toString());
    dataplaneQueue.close();
    dataplaneThread.join();
    return 1;
  }

  // Edge: signalfd -> close syncerQueue: the calc loop returns, then the dataplane queue closes.
  std::thread signalThread([&] {
    pollfd p{signalFd, POLLIN, 0};
    while (!syncerQueue.closed()) {
      if (::poll(&p, 1, 500) <= 0) continue;
      signalfd_siginfo info{};
      if (::read(signalFd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        log->info("signal {}: stopping; rules stay in place", info.ssi_signo);
        syncerQueue.close();
      }
    }
  });

  calc.run();
  syncer.stop();
  dataplaneQueue.close();
  dataplaneThread.join();
  signalThread.join();
  ::close(signalFd);
  log->info("stopped");
  return 0;
}
