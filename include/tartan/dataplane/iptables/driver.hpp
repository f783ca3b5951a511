// tartan/dataplane/iptables/driver.hpp — the Linux iptables/ipset dataplane driver.
//
// What: consumes the dataplane API (ToDataplane messages, in process or from a pipe) and keeps
// the kernel's iptables chains and IP sets equal to what those messages describe, for IPv4 and
// IPv6. Messages only update the driver's model; apply(), called after each batch, renders what
// changed and writes the difference:
//   1. IP sets that rules will use are created and filled (libipset deltas);
//   2. one `iptables-restore --noflush` transaction per family, covering the raw, mangle, nat
//      (outgoing NAT for IP pools, see render.hpp) and filter tables,
//      rewriting only chains whose rule hashes changed;
//   3. IP sets no rule uses any more are destroyed.
// Nothing is written before InSync. The first apply after InSync reads the kernel back and takes
// over chains and sets a previous run left whose hashes match (no flush, so a restart neither
// opens nor cuts traffic); refresh() re-reads and repairs drift: when nf_tables announces a
// change (the agent's NftMonitor), at iptablesRefreshInterval, and for IP sets alone every second
// or so. Repairs are logged and counted (DriverStats).
// Owns: its model, the Tables and IpSets, the kernel edges it was given.
// Threading: one thread calls everything; that thread must be inside the network namespace to
// program (see kernel.hpp). Failure: apply() returns the Error of the step that failed and marks
// the kernel state unknown, so the next apply() reads back first and retries; status reports say
// which endpoints are up.
// No protobuf header is included here: messages are forward-declared.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/dataplane/iptables/kernel.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace tartan::dataplane::proto {
class ToDataplane;
class FromDataplane;
}  // namespace tartan::dataplane::proto

namespace tartan::dataplane::iptables {

class Table;
class IpSets;

struct DriverKernel {
  // Makes the iptables runner once the configuration (backend, lock timeout) is known.
  std::function<std::unique_ptr<RestoreRunner>(Backend, int lockTimeoutSeconds)> restoreRunner =
      makeExecRestoreRunner;
  // Makes the IP set edge, on the driver's thread, at the first apply.
  std::function<std::unique_ptr<IpSetKernel>()> ipSetKernel = makeLibIpSetKernel;
  // The node's interface addresses, for host endpoints given by expected IPs.
  std::function<InterfaceAddresses()> interfaceAddresses = listInterfaceAddresses;
};

struct DriverStats {
  std::uint64_t applies = 0;
  std::uint64_t restores = 0;       // iptables-restore runs
  std::uint64_t restoreBytes = 0;   // bytes of restore input written, all runs
  std::uint64_t chainsWritten = 0;  // chains declared and filled (or deleted)
  std::uint64_t readBacks = 0;
  std::uint64_t failures = 0;
  std::uint64_t quarantined = 0;  // chains the kernel refused, programmed as DROP instead
  // Drift someone else made, put right by a re-check (refresh(), the periodic read-back, the IP
  // set check): our chains rewritten or deleted, jumps in built-in chains put back, IP sets
  // whose members or type were changed (or that we do not keep) rewritten or destroyed.
  std::uint64_t chainRepairs = 0, jumpRepairs = 0, setRepairs = 0;
  std::uint64_t ipSetChecks = 0;  // IP-set-only re-checks
  // Where apply time goes, summed over all applies.
  std::uint64_t renderMicros = 0, ipSetMicros = 0, restoreMicros = 0;
};

class Driver {
 public:
  using StatusSink = std::function<void(const proto::FromDataplane&)>;

  explicit Driver(DriverKernel kernel = {}, StatusSink status = {});
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Updates the model; never touches the kernel.
  void onMessage(const proto::ToDataplane& message);

  // Writes what changed since the last apply (nothing before InSync).
  Result<void> apply();
  // Reads the kernel back and repairs whatever differs from the model. Pending model changes are
  // written first, so whatever the read-back then finds different is someone else's drift: each
  // repair is logged (one line naming the chain or set) and counted in the stats.
  Result<void> refresh();
  // apply(), preceded by refresh() if the refresh interval has passed since the last read-back;
  // then, every IP set check interval, a re-check of the IP sets alone (ipset announces no
  // changes; listing our sets is cheap next to iptables-save, and the interval stretches so that
  // listing large sets never takes more than about 2% of the time).
  Result<void> tick(std::chrono::steady_clock::time_point now);
  // Whether `pid` is one of our own recent iptables-restore runs (see NftMonitor): its ruleset
  // changes are ours and need no re-check.
  bool isOwnWriter(int pid) const;

  bool inSync() const;
  std::chrono::seconds refreshInterval() const;
  const DriverStats& stats() const;
  // The tables and sets of one family (for tests and diagnostics); null before the first apply.
  const Table* table(IpFamily family, std::string_view name) const;
  const IpSets* ipSets(IpFamily family) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tartan::dataplane::iptables
