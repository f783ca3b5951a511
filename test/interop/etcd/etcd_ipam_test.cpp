// IPAM on etcd: several clients (each its own connection, as separate processes would be) on three
// nodes assign at once; every write is a compare-and-swap on mod_revision, so no address is handed
// out twice and the blocks account for every assignment.
#include "etcd_server.hpp"
#include "support/skip.hpp"
#include "tartan/datastore/etcd_datastore.hpp"
#include "tartan/ipam/ipam.hpp"
#include "tartan/model/model.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <thread>

namespace tartan::datastore {
namespace {

TEST_CASE("parallel autoAssign on etcd hands out every address once", "[interop]") {
  if (!test::etcd::haveEtcd()) {
    WARN("etcd is not installed (scripts/install-deps)");
    test::markSkipped();
    return;
  }
  test::etcd::EtcdServer etcd;
  etcd.start();
  REQUIRE(etcd.waitHealthy());
  EtcdOptions options;
  options.endpoints = {etcd.endpoint()};
  auto setup = openEtcdDatastore(options).value();
  REQUIRE(setup->create(Key{"IPPool", "", "pool"},
                        "apiVersion: tartan.dev/v1\nkind: IPPool\nmetadata:\n  name: pool\nspec:\n"
                        "  cidr: 10.65.0.0/24\n  blockSize: 28\n  nodeSelector: all()\n"));

  constexpr int kClients = 6;
  constexpr int kPerClient = 8;
  std::vector<std::vector<std::string>> taken(kClients);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto store = openEtcdDatastore(options);
      if (!store) {
        failures[c] = store.error().toString();
        return;
      }
      ipam::Ipam ipam(**store);
      for (int i = 0; i < kPerClient; ++i) {
        ipam::AutoAssignArgs args;
        args.num4 = 1;
        args.hostname = "node-" + std::to_string(c % 3);
        args.handleID = ipam::podHandleID("c" + std::to_string(c) + "-" + std::to_string(i));
        auto assigned = ipam.autoAssign(args);
        if (!assigned) {
          failures[c] = "autoAssign failed";
          return;
        }
        taken[c].insert(taken[c].end(), assigned->ipv4.begin(), assigned->ipv4.end());
      }
    });
  }
  for (auto& t : clients) t.join();
  std::set<std::string> all;
  size_t count = 0;
  for (int c = 0; c < kClients; ++c) {
    INFO(failures[c]);
    CHECK(failures[c].empty());
    count += taken[c].size();
    all.insert(taken[c].begin(), taken[c].end());
  }
  CHECK(count == kClients * kPerClient);
  CHECK(all.size() == count);

  // The blocks in etcd account for exactly these addresses.
  size_t allocated = 0;
  for (const KVPair& kv : setup->list("IPAMBlock").value().items) {
    auto decoded = model::decode(kv.value, "block");
    REQUIRE(decoded.ok());
    for (const auto& a : std::get<model::IPAMBlock>(decoded.resources.front()).spec.allocations)
      allocated += a.has_value();
  }
  CHECK(allocated == count);
  auto keys = etcd.ctl({"get", "/calico/ipam/v2/assignment/ipv4/block/", "--prefix", "--keys-only"});
  CHECK(keys.out.find("/calico/ipam/v2/assignment/ipv4/block/10.65.0.") != std::string::npos);
}

}  // namespace
}  // namespace tartan::datastore
