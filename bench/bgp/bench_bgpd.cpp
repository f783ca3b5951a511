// bench_bgpd — drives bench_bgpd.py (BIRD 2 sender → tartan-bgpd and BIRD 2 receivers) and is
// its helper: `--write-datastore DIR` writes the receiving node's resources, `SOCKET` prints the
// speaker's Loc-RIB and kernel route counts as JSON.
#include <tartan/bgp/status_client.hpp>
#include <tartan/datastore/datastore.hpp>
#include <tartan/model/model.hpp>
#include <tartan/syncer/syncer.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "--write-datastore") return writeDatastore(args[1]);
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
