// bench_bgpd — drives bench_bgpd.py (BIRD 2 sender → tartan-bgpd and BIRD 2 receivers) and is
// its helper: `--write-datastore DIR` writes the receiving node's resources, `SOCKET` prints the
// speaker's Loc-RIB and kernel route counts as JSON, and `--count-routes PROTO FILE` follows the
// kernel's route events in the current namespace and keeps FILE holding the number of IPv4
// routes of that rtm_protocol — the same cheap kernel count for every receiver, where a dump of a
// million routes per probe would cost seconds and slow the receiver being timed.
#include <tartan/bgp/status_client.hpp>
#include <tartan/datastore/datastore.hpp>
#include <tartan/model/model.hpp>
#include <tartan/netlink/netlink.hpp>
#include <tartan/syncer/syncer.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <unordered_set>
#include <vector>

using namespace tartan;

namespace {

int writeDatastore(const std::string& dir) {
  model::BGPConfiguration config;
  config.metadata.name = "default";
  config.spec.asNumber = model::ASNumber{64512};
  config.spec.nodeToNodeMeshEnabled = false;
  model::Node node;
  node.metadata.name = "bench";
  node.spec.bgp = model::NodeBGPSpec{};
  node.spec.bgp->ipv4Address = "10.98.1.2/24";
  model::IPPool pool;
  pool.metadata.name = "bench";
  pool.spec.cidr = "64.0.0.0/4";
  model::BGPPeer peer;
  peer.metadata.name = "sender";
  peer.spec.peerIP = "10.98.1.1";
  peer.spec.asNumber = model::ASNumber{65000};
  auto store = datastore::open("file:" + dir);
  if (!store) return 1;
  for (model::Resource r : std::vector<model::Resource>{config, node, pool, peer}) {
    model::applyDefaults(r);
    if (!(*store)->apply(syncer::keyOf(r), model::encodeYaml(r))) return 1;
  }
  return 0;
}

int countRoutes(int protocol, const std::string& file) {
  netlink::RouteMonitor::Groups groups;
  groups.ipv6Routes = false;
  groups.links = false;
  groups.receiveBufferBytes = 512 << 20;  // a million events must not overflow while we count
  auto monitor = netlink::RouteMonitor::open(groups);
  if (!monitor) {
    std::fprintf(stderr, "route monitor: %s\n", monitor.error().toString().c_str());
    return 1;
  }
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 1;
  std::unordered_set<std::uint64_t> routes;  // replaced routes are announced again: count keys
  long long written = -2;
  bool overflow = false;
  for (;;) {
    const long long count = overflow ? -1 : static_cast<long long>(routes.size());
    if (count != written) {
      char line[32];
      const int n = std::snprintf(line, sizeof line, "%20lld\n", count);
      if (::pwrite(fd, line, static_cast<std::size_t>(n), 0) != n) return 1;
      written = count;
    }
    pollfd p{(*monitor)->fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    auto drained = (*monitor)->drain([&](const netlink::MonitorEvent& e) {
      using Kind = netlink::MonitorEvent::Kind;
      if (e.kind == Kind::Overflow) overflow = true;
      if ((e.kind != Kind::RouteAdded && e.kind != Kind::RouteRemoved) || e.route.protocol != protocol ||
          e.route.table != netlink::kTableMain)
        return;
      std::uint64_t key = e.route.dst.length;
      for (int i = 0; i < 4; ++i) key = key << 8 | e.route.dst.address.bytes[i];
      if (e.kind == Kind::RouteAdded)
        routes.insert(key);
      else
        routes.erase(key);
    });
    if (!drained) {
      std::fprintf(stderr, "route monitor: %s\n", drained.error().toString().c_str());
      return 1;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "--write-datastore") return writeDatastore(args[1]);
  if (args.size() == 3 && args[0] == "--count-routes") return countRoutes(std::stoi(args[1]), args[2]);
  if (args.size() == 1 && args[0].front() == '/') {
    auto s = bgp::status::getNodeStatus(args[0], false);
    if (!s) return 1;
    std::printf("{\"loc_rib\": %llu, \"kernel\": %llu}\n", static_cast<unsigned long long>(s->locRibRoutes),
                static_cast<unsigned long long>(s->kernelRoutes));
    return 0;
  }
  // Otherwise: run the benchmark script with this binary as its helper.
  const std::string self = ::realpath(argv[0], nullptr);
  const std::string dir = self.substr(0, self.rfind('/'));
  std::vector<std::string> cmd{
      "python3", BENCH_SCRIPT, "--bgpd", dir + "/../../bgp/speaker/tartan-bgpd", "--status-tool", self};
  cmd.insert(cmd.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& c : cmd) cargs.push_back(c.data());
  cargs.push_back(nullptr);
  ::execvp("python3", cargs.data());
  return 127;
}
