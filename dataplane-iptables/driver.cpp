// The iptables dataplane driver; see tartan/dataplane/iptables/driver.hpp.
#include "tartan/dataplane/iptables/driver.hpp"

#include "driver_state.hpp"
#include "recording_ip_set_kernel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

namespace tartan::dataplane::iptables {

using namespace detail;

Driver::Driver(DriverKernel kernel, StatusSink status) : state_(std::make_unique<State>()) {
  state_->kernel = std::move(kernel);
  state_->status = std::move(status);
}

Driver::~Driver() = default;

void Driver::onMessage(const pb::ToDataplane& message) {
  State& s = *state_;
  s.lastSequence = message.sequence_number();
  switch (message.payload_case()) {
    case pb::ToDataplane::kInSync:
      s.inSync = true;
      break;
    case pb::ToDataplane::kConfigUpdate:
      s.setConfig(message.config_update().config());
      break;
    case pb::ToDataplane::kIpsetUpdate: {
      const auto& m = message.ipset_update();
      if (names::isDriverSetId(m.id())) {
        s.log->error("IPSetUpdate {}: the id is the driver's own (outgoing NAT); ignored", m.id());
        break;
      }
      for (auto& f : s.families) f.sets.replace(m.id(), setType(m.type()), strings(m.members()));
      break;
    }
    case pb::ToDataplane::kIpsetDeltaUpdate: {
      const auto& m = message.ipset_delta_update();
      if (names::isDriverSetId(m.id())) break;  // refused with its IPSetUpdate
      for (auto& f : s.families)
        f.sets.applyDelta(m.id(), strings(m.added_members()), strings(m.removed_members()));
      break;
    }
    case pb::ToDataplane::kIpsetRemove:
      if (names::isDriverSetId(message.ipset_remove().id())) break;
      for (auto& f : s.families) f.sets.remove(message.ipset_remove().id());
      break;
    case pb::ToDataplane::kIpamPoolUpdate: {
      const auto& m = message.ipam_pool_update();
      auto changed = s.pools.update(m.id(), m.pool().cidr(), m.pool().masquerade());
      if (!changed) {
        s.log->error("{}", changed.error().toString());
        s.natDirty = true;
      } else if (*changed) {
        s.natDirty = true;
      }
      break;
    }
    case pb::ToDataplane::kIpamPoolRemove:
      if (s.pools.remove(message.ipam_pool_remove().id())) s.natDirty = true;
      break;
    case pb::ToDataplane::kActivePolicyUpdate: {
      const auto& m = message.active_policy_update();
      s.policies[policyKey(m.id())] = {m.id(), m.policy()};
      s.dirtyPolicies.insert(policyKey(m.id()));
      break;
    }
    case pb::ToDataplane::kActivePolicyRemove:
      s.policies.erase(policyKey(message.active_policy_remove().id()));
      s.dirtyPolicies.insert(policyKey(message.active_policy_remove().id()));
      break;
    case pb::ToDataplane::kActiveProfileUpdate: {
      const auto& m = message.active_profile_update();
      s.profiles[m.id().name()] = m.profile();
      s.dirtyProfiles.insert(m.id().name());
      break;
    }
    case pb::ToDataplane::kActiveProfileRemove:
      s.profiles.erase(message.active_profile_remove().id().name());
      s.dirtyProfiles.insert(message.active_profile_remove().id().name());
      break;
    case pb::ToDataplane::kWorkloadEndpointUpdate: {
      const auto& m = message.workload_endpoint_update();
      const std::string key = workloadKey(m.id());
      auto it = s.workloads.find(key);
      if (it == s.workloads.end() || it->second.second.interface_name() != m.endpoint().interface_name())
        s.dispatchDirty = true;
      s.workloads[key] = {m.id(), m.endpoint()};
      s.dirtyWorkloads.insert(key);
      s.statusWorkloads.insert(key);
      break;
    }
    case pb::ToDataplane::kWorkloadEndpointRemove: {
      const std::string key = workloadKey(message.workload_endpoint_remove().id());
      if (s.workloads.erase(key) != 0) s.dispatchDirty = true;
      s.dirtyWorkloads.insert(key);
      s.statusWorkloads.insert(key);
      break;
    }
    case pb::ToDataplane::kHostEndpointUpdate: {
      const auto& m = message.host_endpoint_update();
      s.hosts[m.id().endpoint_id()] = {m.id(), m.endpoint()};
      s.dirtyHosts.insert(m.id().endpoint_id());
      s.statusHosts.insert(m.id().endpoint_id());
      s.dispatchDirty = true;
      break;
    }
    case pb::ToDataplane::kHostEndpointRemove: {
      const auto& id = message.host_endpoint_remove().id().endpoint_id();
      s.hosts.erase(id);
      s.dirtyHosts.insert(id);
      s.statusHosts.insert(id);
      s.dispatchDirty = true;
      break;
    }
    case pb::ToDataplane::PAYLOAD_NOT_SET:
      break;
  }
}

// iptables-restore names the line it refused ("Error occurred at line: N" when it parses or checks
// a rule, "line N failed" when the commit is refused). If that line belongs to one of our chains,
// the chain is quarantined so that the next attempt programs everything else.
void Driver::State::quarantineRefused(const std::vector<Table*>& written, std::string_view input,
                                      std::string_view error) {
  std::size_t line = 0;
  for (std::string_view marker : {"Error occurred at line: ", "line "}) {
    auto at = error.find(marker);
    if (at == std::string_view::npos) continue;
    at += marker.size();
    while (at < error.size() && error[at] >= '0' && error[at] <= '9') line = line * 10 + (error[at++] - '0');
    if (line != 0) break;
  }
  if (line == 0) return;
  // The refused line of the input that was refused, and the table it stands in.
  std::string_view text, tableName;
  for (std::size_t n = 1; n <= line && !input.empty(); ++n) {
    const auto nl = input.find('\n');
    text = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
    if (text.starts_with("*")) tableName = text.substr(1);
  }
  std::string_view chain;
  if (text.starts_with(":")) chain = text.substr(1, text.find(' ') - 1);
  if (text.starts_with("-A ")) chain = text.substr(3, text.find(' ', 3) - 3);
  if (!chain.starts_with(kChainPrefix)) return;  // a hook, a removal, COMMIT: nothing to quarantine
  for (Table* table : written) {
    if (table->name() != tableName) continue;
    std::string reason(error);
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    if (!table->quarantine(std::string(chain), reason)) return;
    log->error("{} table {}: chain {} refused by the kernel; programmed as DROP until it changes: {}",
               table->family() == IpFamily::kV4 ? "IPv4" : "IPv6", table->name(), chain, reason);
    ++stats.quarantined;
    return;
  }
}

Result<void> Driver::State::readBack(Family& f) {
  ++stats.readBacks;
  for (Table* table : f.tables()) {
    auto text = runner->save(f.family, table->name());
    if (!text && table == &f.nat && pools.sets(f.family).masq.empty()) {
      // A kernel without NAT support can still be policed: while no pool of this family
      // masquerades there is nothing of ours to find in a nat table it cannot show.
      log->debug("{} nat table not readable ({}); no pool masquerades, so nothing to take over",
                 f.family == IpFamily::kV4 ? "IPv4" : "IPv6", text.error().toString());
      table->setProgrammed(SavedTable{});
      continue;
    }
    if (!text) return text.error();
    auto parsed = parseIptablesSave(*text);
    if (!parsed) return parsed.error();
    auto it = parsed->find(table->name());
    table->setProgrammed(it == parsed->end() ? SavedTable{} : it->second);
  }
  return f.sets.resync(*setKernel);
}

Result<void> Driver::State::write() {
  if (!runner) {
    runner = kernel.restoreRunner(backend, lockTimeout);
    if (const bool fully = runner->supportsRandomFully(); fully != config.randomFully) {
      config.randomFully = fully;
      natDirty = true;
    }
  }
  if (!setKernel) setKernel = kernel.ipSetKernel();
  if (!kernelKnown) {
    for (Family* f : enabled())
      if (auto r = readBack(*f); !r) return r;
    kernelKnown = true;
    lastReadBack = std::chrono::steady_clock::now();
    if (repairPass)
      for (Family* f : enabled())
        for (Table* table : f->tables())
          for (auto& d : table->drift()) drift.push_back({f->family, table->name(), std::move(d)});
    // Interfaces come and go: look for host endpoints' expected addresses again.
    for (const auto& [key, hep] : hosts)
      if (hep.second.name().empty()) dispatchDirty = true;
  }
  const auto renderStart = std::chrono::steady_clock::now();
  render();
  const auto setsStart = std::chrono::steady_clock::now();
  stats.renderMicros +=
      std::chrono::duration_cast<std::chrono::microseconds>(setsStart - renderStart).count();
  // Sets first, so every rule we are about to write can refer to them.
  for (Family* f : enabled())
    if (auto r = f->sets.applyAdditions(*setKernel); !r) return r;
  const auto restoreStart = std::chrono::steady_clock::now();
  stats.ipSetMicros +=
      std::chrono::duration_cast<std::chrono::microseconds>(restoreStart - setsStart).count();
  // One transaction per family, both families at once.
  struct Pending {
    Family* family;
    std::string input;
    std::vector<Table*> written;
  };
  std::vector<Pending> pending;
  for (Family* f : enabled()) {
    Pending p{f, {}, {}};
    for (Table* table : f->tables()) {
      if (!table->needsApply()) continue;
      stats.chainsWritten += table->pendingChains().size();
      p.input += table->restoreInput();
      p.written.push_back(table);
    }
    if (!p.written.empty()) pending.push_back(std::move(p));
  }
  if (!pending.empty()) {
    std::vector<RestoreRunner::Input> inputs;
    for (const auto& p : pending) inputs.push_back({p.family->family, p.input});
    stats.restores += pending.size();
    auto results = runner->restoreEach(inputs);
    stats.restoreMicros +=
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - restoreStart)
            .count();
    Result<void> failed;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      stats.restoreBytes += pending[i].input.size();
      if (results[i]) {
        for (Table* table : pending[i].written) table->applied();
        continue;
      }
      log->error("iptables-restore failed: {}", results[i].error().toString());
      log->debug("input was:\n{}", pending[i].input);
      quarantineRefused(pending[i].written, pending[i].input, results[i].error().what);
      if (failed) failed = results[i];
    }
    if (!failed) return failed;
  }
  // Then the sets no rule refers to any more.
  for (Family* f : enabled())
    if (auto r = f->sets.applyRemovals(*setKernel); !r)
      log->warn("IP set removal deferred: {}", r.error().toString());
  return {};
}

void Driver::State::report(bool ok, bool changed, const std::string& detail) {
  if (!status) return;
  const auto now = std::chrono::steady_clock::now();
  // Process status on every change or failure, and at least every 10 s as a heartbeat.
  const bool heartbeat = changed || !ok || !statusWorkloads.empty() || !statusHosts.empty() ||
                         now - lastProcessReport >= std::chrono::seconds(10);
  if (ok) {
    for (const auto& key : statusWorkloads) {
      pb::FromDataplane out;
      out.set_sequence_number(lastSequence);
      auto it = workloads.find(key);
      if (it == workloads.end()) {
        // The id is gone with the endpoint; rebuild it from the key's parts.
        auto* rm = out.mutable_workload_endpoint_status_remove()->mutable_id();
        auto first = key.find('/'), last = key.rfind('/');
        rm->set_orchestrator_id(key.substr(0, first));
        rm->set_workload_id(key.substr(first + 1, last - first - 1));
        rm->set_endpoint_id(key.substr(last + 1));
      } else if (auto rejected = rejectedWorkloads.find(key); rejected != rejectedWorkloads.end()) {
        auto* up = out.mutable_workload_endpoint_status_update();
        *up->mutable_id() = it->second.first;
        up->mutable_status()->set_status("error");
        up->mutable_status()->set_detail(rejected->second);
      } else {
        auto* up = out.mutable_workload_endpoint_status_update();
        *up->mutable_id() = it->second.first;
        up->mutable_status()->set_status(it->second.second.state() == "inactive" ? "down" : "up");
      }
      status(out);
    }
    for (const auto& key : statusHosts) {
      pb::FromDataplane out;
      out.set_sequence_number(lastSequence);
      if (hosts.count(key) == 0) {
        out.mutable_host_endpoint_status_remove()->mutable_id()->set_endpoint_id(key);
      } else {
        auto* up = out.mutable_host_endpoint_status_update();
        up->mutable_id()->set_endpoint_id(key);
        up->mutable_status()->set_status("up");
      }
      status(out);
    }
    statusWorkloads.clear();
    statusHosts.clear();
  } else {
    for (const auto& key : statusWorkloads) {
      auto it = workloads.find(key);
      if (it == workloads.end()) continue;
      pb::FromDataplane out;
      out.set_sequence_number(lastSequence);
      auto* up = out.mutable_workload_endpoint_status_update();
      *up->mutable_id() = it->second.first;
      up->mutable_status()->set_status("error");
      up->mutable_status()->set_detail(detail);
      status(out);
    }
  }
  if (!heartbeat) return;
  lastProcessReport = now;
  pb::FromDataplane process;
  process.set_sequence_number(lastSequence);
  auto* ps = process.mutable_process_status_update();
  const std::time_t wall = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&wall, &tm);
  char iso[32];
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
  ps->set_iso_timestamp(iso);
  ps->set_uptime_seconds(std::chrono::duration<double>(now - started).count());
  ps->set_in_sync(ok);
  ps->set_last_applied_sequence_number(lastSequence);
  status(process);
}

Result<void> Driver::apply() {
  State& s = *state_;
  if (!s.inSync) return {};  // nothing is written before the initial snapshot is complete
  ++s.stats.applies;
  const auto before = s.stats;
  const auto start = std::chrono::steady_clock::now();
  auto setOps = [&s] {
    std::uint64_t n = 0;
    for (const auto& f : s.families) n += f.sets.stats().adds + f.sets.stats().dels + f.sets.stats().creates;
    return n;
  };
  const std::uint64_t setOpsBefore = setOps();
  auto result = s.write();
  const bool changed = s.stats.restores != before.restores || s.stats.readBacks != before.readBacks ||
                       setOps() != setOpsBefore;
  if (changed && result)
    s.log->debug(
        "applied in {:.1f} ms (render {:.1f}, IP sets {:.1f}, restore {:.1f}): {} chains, {} restores, {} "
        "read-backs, "
        "{} IP set member changes",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(),
        (s.stats.renderMicros - before.renderMicros) / 1e3, (s.stats.ipSetMicros - before.ipSetMicros) / 1e3,
        (s.stats.restoreMicros - before.restoreMicros) / 1e3, s.stats.chainsWritten - before.chainsWritten,
        s.stats.restores - before.restores, s.stats.readBacks - before.readBacks, setOps() - setOpsBefore);
  if (!result) {
    ++s.stats.failures;
    s.kernelKnown = false;  // read back before the next attempt
    s.markAllDirty();
  }
  s.report(result.has_value(), changed, result ? std::string() : result.error().toString());
  return result;
}

// Runs `pass` as a repair pass: the chains and jumps its read-back finds wrong and the sets it
// changes are logged, one line each, and counted, once the pass has written them.
Result<void> Driver::State::repairing(const std::function<Result<void>()>& pass) {
  drift.clear();
  // Before the first write there is nothing of ours to have drifted: that read-back is a take-over.
  std::unique_ptr<IpSetKernel> real = std::move(setKernel);
  if (real) setKernel = std::make_unique<RecordingIpSetKernel>(*real);
  repairPass = real != nullptr;
  auto result = pass();
  repairPass = false;
  std::map<std::string, std::set<std::string>> sets;
  if (real) {
    sets = static_cast<RecordingIpSetKernel&>(*setKernel).changed();
    setKernel = std::move(real);
  }
  if (result) {
    for (const auto& [family, table, d] : drift) {
      log->warn("repaired drift: {} {} {} {}", family == IpFamily::kV4 ? "IPv4" : "IPv6", table,
                d.kind == Table::Drift::Kind::kChain ? "chain " + d.name : d.name, d.what);
      ++(d.kind == Table::Drift::Kind::kChain ? stats.chainRepairs : stats.jumpRepairs);
    }
    for (const auto& [name, what] : sets) {
      std::string done;
      for (const auto& w : what) done += (done.empty() ? "" : ", ") + w;
      log->warn("repaired drift: IP set {} ({})", name, done);
      ++stats.setRepairs;
    }
  }
  drift.clear();
  return result;
}

// ipset announces nothing, so our sets are listed and compared on a timer of their own, apart
// from the (much dearer) iptables read-back.
Result<void> Driver::State::checkIpSets() {
  const auto start = std::chrono::steady_clock::now();
  ++stats.ipSetChecks;
  auto result = repairing([this]() -> Result<void> {
    for (Family* f : enabled()) {
      if (auto r = f->sets.resync(*setKernel); !r) return r;
      if (auto r = f->sets.applyAdditions(*setKernel); !r) return r;
      if (auto r = f->sets.applyRemovals(*setKernel); !r)
        log->warn("IP set removal deferred: {}", r.error().toString());
    }
    return {};
  });
  if (!result) {
    ++stats.failures;
    kernelKnown = false;  // read everything back before the next attempt
    markAllDirty();
  }
  lastIpSetCheck = std::chrono::steady_clock::now();
  // Thousands of large sets take a while to list: keep the check to about 2% of the time.
  ipSetCheckEvery = std::max<std::chrono::steady_clock::duration>(kIpSetCheck, (lastIpSetCheck - start) * 50);
  return result;
}

Result<void> Driver::refresh() {
  State& s = *state_;
  if (!s.inSync) return {};
  // Our own pending changes first: whatever the read-back then finds different is drift.
  if (s.kernelKnown)
    if (auto r = apply(); !r) return r;
  s.kernelKnown = false;
  return s.repairing([this] { return apply(); });
}

Result<void> Driver::tick(std::chrono::steady_clock::time_point now) {
  State& s = *state_;
  if (s.kernelKnown && s.refreshInterval.count() > 0 && now - s.lastReadBack >= s.refreshInterval) {
    s.lastIpSetCheck = now;  // the refresh reads the sets back too
    return refresh();
  }
  auto result = apply();
  if (result && s.inSync && s.kernelKnown && s.setKernel && now - s.lastIpSetCheck >= s.ipSetCheckEvery)
    result = s.checkIpSets();
  return result;
}

bool Driver::isOwnWriter(int pid) const { return state_->runner && state_->runner->ranRestore(pid); }

bool Driver::inSync() const { return state_->inSync; }
std::chrono::seconds Driver::refreshInterval() const { return state_->refreshInterval; }
const DriverStats& Driver::stats() const { return state_->stats; }

const Table* Driver::table(IpFamily family, std::string_view name) const {
  Family& f = state_->families[family == IpFamily::kV4 ? 0 : 1];
  return &f.table(name);
}
const IpSets* Driver::ipSets(IpFamily family) const {
  return &state_->families[family == IpFamily::kV4 ? 0 : 1].sets;
}

}  // namespace tartan::dataplane::iptables
