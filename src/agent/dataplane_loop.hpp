// src/agent/dataplane_loop.hpp — the loop that programs the kernel.
//
// Takes every pending DataplaneBatch, hands its messages to the iptables driver and its
// workload endpoints to the RouteManager, then applies: IP sets and chains (driver.tick(), which
// also does the periodic read-back and repair), then workload routes and interface sysctls.
// Nothing is written before the driver has seen InSync. The first apply that succeeds after it
// makes the agent ready. Link events (a workload veth appearing) and routeRefreshInterval trigger
// a route sync between batches. nf_tables change notifications from anyone else (NftMonitor)
// trigger a re-check of our chains and sets (driver.refresh()) after a short debounce
// (RecheckSchedule); the driver's own periodic checks cover the legacy backend and IP sets.
// Our own restores are told apart by pid (nf_tables reports the committer's pid as the initial
// pid namespace sees it): in a pid namespace of its own the agent cannot match them, and each of
// its writes then costs one re-check that finds nothing to repair.
// Owns: the driver, the netlink sockets (the nftables monitor's too), the route manager.
// Threading: run() on its own thread, which must be in the network namespace to program (it
// inherits the process's). Failure: a failed apply is counted and logged; the driver reads back
// and retries on the next tick.
#pragma once

#include "batches.hpp"
#include "health.hpp"
#include "merging_queue.hpp"
#include "metrics.hpp"
#include "route_manager.hpp"

namespace tartan::agent {

class DataplaneLoop {
 public:
  DataplaneLoop(MergingQueue<DataplaneBatch>& in, Metrics& metrics, Health& health);

  // Until `in` is closed; what is pending then is applied first.
  void run();

 private:
  MergingQueue<DataplaneBatch>& in_;
  Metrics& metrics_;
  Health& health_;
};

}  // namespace tartan::agent
