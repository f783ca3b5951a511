// tartan-bgpd — the node's BGP speaker.
//
// The wiring, edge by edge:
//   datastore ──syncer (BGP kinds, Node, IPPool, IPAM)──▶ snapshot ──buildConfig──▶ Speaker::applyConfig
//   Speaker ◀──TCP 179──▶ peers;  Speaker ──FibWriter (rtnetlink, proto 117)──▶ kernel
//   Speaker ──report()/routes()──▶ StatusServer (gRPC, unix socket) ──▶ tartanctl
//   kernel ──dump + RouteMonitor──▶ KernelRouteWatcher (--announce-kernel-routes specs)
//          ──KernelRouteChanges──▶ Speaker::updateKernelRoutes (originated, exported to peers)
//   SIGTERM/SIGINT ──▶ Speaker::shutdown(): sockets closed without NOTIFICATION, kernel routes
//   left in place, so peers and the kernel keep forwarding across a restart (RFC 4724).
#include "config.hpp"
#include "kernel_routes.hpp"
#include "speaker.hpp"
#include "status_server.hpp"

#include <tartan/bgp/status_client.hpp>
#include <tartan/common/log.hpp>
#include <tartan/datastore/datastore.hpp>
#include <tartan/netlink/netlink.hpp>
#include <tartan/syncer/syncer.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <malloc.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

using namespace tartan;
namespace asio = boost::asio;
namespace bs = tartan::bgp::speaker;

namespace {

// Resources as the syncer last delivered them, and the config they make.
class ConfigSource {
 public:
  ConfigSource(std::string node, std::string secretsDir, bs::Speaker& speaker)
      : node_(std::move(node)), secretsDir_(std::move(secretsDir)), speaker_(speaker) {}

  void update(const syncer::Update& u) {
    std::lock_guard lock(mutex_);
    if (u.resource)
      resources_[u.key] = *u.resource;
    else
      resources_.erase(u.key);
    if (inSync_) push();
  }
  void inSync() {
    std::lock_guard lock(mutex_);
    inSync_ = true;
    push();
  }

 private:
  void push() {
    bs::ResourceSnapshot snap;
    for (const auto& [key, r] : resources_) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, model::BGPConfiguration>)
              snap.bgpConfigurations.push_back(v);
            else if constexpr (std::is_same_v<T, model::BGPPeer>)
              snap.bgpPeers.push_back(v);
            else if constexpr (std::is_same_v<T, model::BGPFilter>)
              snap.bgpFilters.push_back(v);
            else if constexpr (std::is_same_v<T, model::Node>)
              snap.nodes.push_back(v);
            else if constexpr (std::is_same_v<T, model::IPPool>)
              snap.ipPools.push_back(v);
            else if constexpr (std::is_same_v<T, model::IPAMBlock>)
              snap.ipamBlocks.push_back(v);
            else if constexpr (std::is_same_v<T, model::BlockAffinity>)
              snap.blockAffinities.push_back(v);
          },
          r);
    }
    auto config = bs::buildConfig(
        snap, node_, [this](const std::string& name, const std::string& key) -> std::optional<std::string> {
          // Secrets as Kubernetes mounts them: one file per key under <dir>/<secret>/<key>.
          std::ifstream in(std::filesystem::path(secretsDir_) / name / key);
          if (!in) return std::nullopt;
          std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
          return value;
        });
    if (last_ && *last_ == config) return;
    last_ = config;
    speaker_.applyConfig(std::move(config));
  }

  std::string node_;
  std::string secretsDir_;
  bs::Speaker& speaker_;
  std::mutex mutex_;
  std::map<datastore::Key, model::Resource> resources_;
  bool inSync_ = false;
  std::optional<bs::SpeakerConfig> last_;
};

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates an arena of its own, and the pools add up: a 1M-prefix
  // table peaked at 124 MB with the default and at 109 MB with a single arena.
  ::mallopt(M_ARENA_MAX, 2);
  // A fixed mmap threshold: glibc otherwise raises it to the size of each large block freed, so
  // the tables a full table grows through (hash indexes doubling, FIB batches) end up in the heap,
  // where freed space stays resident. Fixed, every block over 64 KiB is its own mapping and goes
  // back to the kernel when freed: a 1M-prefix load peaked at 117 MB before, 101 MB after.
  ::mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  CLI::App app{"tartan-bgpd: the node's BGP speaker", "tartan-bgpd"};
  std::string datastoreSpec, node, logLevel = "info", statusSocket = bgp::status::kDefaultSocket,
                                   secretsDir = "/etc/tartan/secrets";
  int listenPort = 0, holdTime = 90, deferral = 120, threads = 2, connectRetry = 5;
  std::string kubeconfig;
  app.add_option("--datastore", datastoreSpec,
                 "file:DIR or kubernetes[:KUBECONFIG] (default: $TARTAN_DATASTORE; Calico's DATASTORE_TYPE)");
  app.add_option("--kubeconfig", kubeconfig, "the kubeconfig of --datastore kubernetes");
  app.add_option("--node", node, "this node's name (its Node resource)")->required();
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error");
  app.add_option("--status-socket", statusSocket, "unix socket of the status API (empty: none)");
  app.add_option("--secrets-dir", secretsDir, "BGP passwords: <dir>/<secret>/<key>");
  app.add_option("--listen-port", listenPort, "overrides BGPConfiguration listenPort");
  app.add_option("--hold-time", holdTime, "hold time offered to peers, seconds");
  app.add_option("--connect-retry", connectRetry, "ConnectRetryTime, seconds");
  app.add_option("--gr-deferral", deferral, "seconds to wait for End-of-RIB after a restart");
  app.add_option("--threads", threads, "I/O threads");
  std::vector<std::string> kernelRouteOptions;
  app.add_option("--announce-kernel-routes", kernelRouteOptions,
                 "announce kernel routes matching SPEC (repeatable; also TARTAN_BGP_ANNOUNCE_KERNEL_ROUTES, "
                 "specs separated by ';'): comma-separated table=N (default 254), protocol=NAME|N, "
                 "prefix=CIDR (repeatable), interface=NAME")
      ->allow_extra_args(false);
  CLI11_PARSE(app, argc, argv);
  const char* kernelRouteEnv = std::getenv("TARTAN_BGP_ANNOUNCE_KERNEL_ROUTES");
  auto kernelRouteSpecs = bs::parseKernelRouteSpecs(kernelRouteOptions, kernelRouteEnv ? kernelRouteEnv : "");
  if (!kernelRouteSpecs) {
    std::fprintf(stderr, "tartan-bgpd: %s\n", kernelRouteSpecs.error().toString().c_str());
    return 2;
  }
  if (!log::setLevel(logLevel)) {
    std::fprintf(stderr, "tartan-bgpd: unknown log level %s\n", logLevel.c_str());
    return 2;
  }
  auto logger = log::get("bgp");

  if (!kubeconfig.empty()) {
    if (!datastoreSpec.empty() && datastoreSpec != "kubernetes") {
      std::fprintf(stderr, "tartan-bgpd: --kubeconfig is for the kubernetes datastore, not %s\n",
                   datastoreSpec.c_str());
      return 2;
    }
    datastoreSpec = "kubernetes:" + kubeconfig;
  }
  auto store = datastore::open(datastoreSpec);
  if (!store) {
    logger->error("datastore {}: {}", datastoreSpec, store.error().toString());
    return 1;
  }
  auto kernel = netlink::Netlink::open();
  if (!kernel) {
    logger->error("netlink: {}", kernel.error().toString());
    return 1;
  }

  asio::io_context io;
  bs::SpeakerOptions options;
  options.timers.holdTime = static_cast<std::uint16_t>(holdTime);
  options.timers.connectRetryTime = static_cast<std::uint16_t>(connectRetry);
  options.deferral = std::chrono::seconds(deferral);
  if (listenPort > 0) options.listenPort = static_cast<std::uint16_t>(listenPort);
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> pool;
  for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back([&io] { io.run(); });

  auto speaker = std::make_unique<bs::Speaker>(io, options, std::move(*kernel));
  Result<std::unique_ptr<bs::StatusServer>> status = std::unique_ptr<bs::StatusServer>{};
  if (!statusSocket.empty()) status = bs::StatusServer::start(*speaker, statusSocket);
  if (!status) logger->warn("{}", status.error().toString());

  std::unique_ptr<bs::KernelRouteWatcher> kernelRoutes;
  std::unique_ptr<syncer::Syncer> sync;
  // Every exit after this point: stop the inputs, then the speaker (routes stay in the kernel),
  // then the I/O threads, which must be joined before they are destroyed; the speaker itself is
  // destroyed last, once no I/O thread can still run a handler of one of its peers.
  auto teardown = [&](int rc) {
    if (sync) sync->stop();
    if (kernelRoutes) kernelRoutes->stop();
    speaker->shutdown();
    if (status) status->reset();
    work.reset();
    io.stop();
    for (auto& t : pool) t.join();
    speaker.reset();
    return rc;
  };
  if (!kernelRouteSpecs->empty()) {
    auto watcher = bs::KernelRouteWatcher::start(
        io, std::move(*kernelRouteSpecs),
        [&speaker](bs::KernelRouteChanges c) { speaker->updateKernelRoutes(std::move(c)); });
    if (!watcher) {
      logger->error("kernel routes: {}", watcher.error().toString());
      return teardown(1);
    }
    kernelRoutes = std::move(*watcher);
  }

  ConfigSource source(node, secretsDir, *speaker);
  sync = std::make_unique<syncer::Syncer>(
      **store,
      std::vector<model::Kind>{model::Kind::kBGPConfiguration, model::Kind::kBGPPeer, model::Kind::kBGPFilter,
                               model::Kind::kNode, model::Kind::kIPPool, model::Kind::kIPAMBlock,
                               model::Kind::kBlockAffinity},
      syncer::Callbacks{[&](const syncer::Update& u) { source.update(u); }, [&](int64_t) { source.inSync(); },
                        [&](const Error& e) { logger->warn("syncer: {}", e.toString()); }});
  if (auto r = sync->start(); !r) {
    logger->error("syncer: {}", r.error().toString());
    return teardown(1);
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::promise<int> stopped;
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    logger->info("signal {}: stopping, routes stay in the kernel for a graceful restart", signal);
    stopped.set_value(0);
  });
  return teardown(stopped.get_future().get());
}
