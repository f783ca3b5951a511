// Route programming throughput: N host routes added, dumped, reconciled and deleted through
// tartan::netlink, in a network namespace of its own, against two baselines in the same run:
// iproute2's `ip -batch` (one sendmsg and one ack per route) and our own socket with one route
// per sendmsg. Prints one JSON object. Needs root; timings are for reading, never asserted.
//
//   bench_netlink [--routes N] [--family 4|6] [--baseline 0|1]
#include <tartan/netlink/netlink.hpp>
#include <tartan/netlink/route_sync.hpp>

#include "support/netns.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace tartan::netlink;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The i-th host route: 10.128.0.0/9 or fd00:128::/96 space, via the namespace's gateway.
Route hostRoute(size_t i, Family family, uint32_t ifindex) {
  IpAddress address = IpAddress::parse(family == Family::V4 ? "10.128.0.0" : "fd00:128::").value();
  size_t last = address.size() - 1;
  address.bytes[last] = static_cast<uint8_t>(i);
  address.bytes[last - 1] = static_cast<uint8_t>(i >> 8);
  address.bytes[last - 2] = static_cast<uint8_t>(address.bytes[last - 2] | (i >> 16));
  IpAddress gateway = IpAddress::parse(family == Family::V4 ? "10.0.0.1" : "fd00::1").value();
  return Route::via(Prefix{address, static_cast<uint8_t>(address.size() * 8)}, gateway, kProtocolBgp,
                    ifindex);
}

}  // namespace

int main(int argc, char** argv) {
  size_t count = 100000;
  Family family = Family::V4;
  bool baseline = true;  // ip -batch takes minutes at a million routes
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--routes") == 0) count = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--family") == 0 && std::strcmp(argv[i + 1], "6") == 0) family = Family::V6;
    if (std::strcmp(argv[i], "--baseline") == 0) baseline = std::strcmp(argv[i + 1], "0") != 0;
  }
  nlohmann::json out;
  out["benchmark"] = "netlink_routes";
  out["routes"] = count;
  out["family"] = family == Family::V4 ? 4 : 6;
  if (!tartan::test::haveNetAdmin()) {
    out["skipped"] = "needs root to create a network namespace";
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  tartan::test::NetNamespace ns("bench");
  ns.execOrThrow(
      "ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && "
      "ip addr add 10.0.0.2/24 dev v0 && ip -6 addr add fd00::2/64 dev v0 nodad");
  std::unique_ptr<Netlink> netlink;
  {
    tartan::test::EnterNamespace enter(ns);
    netlink = Netlink::open().value();
  }
  uint32_t v0 = netlink->linkByName("v0").value().ifindex;

  std::vector<Route> routes;
  std::vector<RouteChange> adds, deletes;
  for (size_t i = 0; i < count; ++i) {
    routes.push_back(hostRoute(i, family, v0));
    adds.push_back({RouteOp::Add, routes.back()});
    deletes.push_back({RouteOp::Delete, routes.back()});
  }
  const SyncScope scope{kTableMain, kProtocolBgp, family};
  auto rate = [&](double seconds) { return static_cast<double>(count) / seconds; };

  // Baseline: iproute2 reading a batch file.
  if (baseline) {
    std::string file = "/tmp/bench-netlink-" + ns.name() + ".batch";
    std::ofstream batch(file);
    for (const Route& route : routes)
      batch << "route add " << route.dst.toString() << " via " << route.nexthops[0].gateway->toString()
            << " dev v0 proto " << int(kProtocolBgp) << "\n";
    batch.close();
    auto start = Clock::now();
    ns.execOrThrow("ip -batch " + file);
    double addSeconds = secondsSince(start);
    start = Clock::now();
    ns.execOrThrow("ip " + std::string(family == Family::V6 ? "-6 " : "") + "route flush proto " +
                   std::to_string(kProtocolBgp));
    out["ip_batch"] = {
        {"add_s", addSeconds}, {"add_per_s", rate(addSeconds)}, {"flush_s", secondsSince(start)}};
    std::remove(file.c_str());
  }

  for (size_t batchSize : {size_t{1}, size_t{1024}}) {
    netlink->setBatchSize(batchSize);
    nlohmann::json run;
    auto start = Clock::now();
    auto added = netlink->applyRoutes(adds).value();
    double addSeconds = secondsSince(start);
    start = Clock::now();
    auto listed = netlink->listRoutes({family, kTableMain, kProtocolBgp}).value();
    double dumpSeconds = secondsSince(start);
    start = Clock::now();
    auto noop = syncRoutes(*netlink, scope, routes).value();
    double syncSeconds = secondsSince(start);
    start = Clock::now();
    auto removed = netlink->applyRoutes(deletes).value();
    double deleteSeconds = secondsSince(start);
    run["add_s"] = addSeconds;
    run["add_per_s"] = rate(addSeconds);
    run["add_failures"] = added.failures.size();
    run["dump_s"] = dumpSeconds;
    run["dumped"] = listed.size();
    run["noop_sync_s"] = syncSeconds;
    run["noop_sync_changes"] = noop.changes.size();
    run["delete_s"] = deleteSeconds;
    run["delete_per_s"] = rate(deleteSeconds);
    run["delete_failures"] = removed.failures.size();
    out["tartan_batch_" + std::to_string(batchSize)] = run;
  }

  // Reconcile from an empty table: what a restart with a full RIB costs.
  {
    netlink->setBatchSize(1024);
    auto start = Clock::now();
    auto report = syncRoutes(*netlink, scope, routes).value();
    out["reconcile_from_empty"] = {{"s", secondsSince(start)}, {"added", report.added}};
    start = Clock::now();
    auto cleared = syncRoutes(*netlink, scope, {}).value();
    out["reconcile_to_empty"] = {{"s", secondsSince(start)}, {"deleted", cleared.deleted}};
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
