// The iptables dataplane driver; see tartan/dataplane/iptables/driver.hpp.
#include "tartan/dataplane/iptables/driver.hpp"

#include "recording_ip_set_kernel.hpp"
#include "tartan/common/log.hpp"
#include "tartan/dataplane/iptables/ip_sets.hpp"
#include "tartan/dataplane/iptables/render.hpp"
#include "tartan/dataplane/iptables/table.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <iterator>
#include <map>
#include <set>

namespace tartan::dataplane::iptables {

namespace pb = tartan::dataplane::proto;

namespace {

std::string policyKey(const pb::PolicyID& id) { return id.tier() + "/" + id.name(); }
std::string workloadKey(const pb::WorkloadEndpointID& id) {
  return id.orchestrator_id() + "/" + id.workload_id() + "/" + id.endpoint_id();
}

enum class TableKind { kFilter, kRaw, kMangle };

// The tables and sets of one IP family, and which chains each model object produced last time.
struct Family {
  explicit Family(IpFamily f) : family(f), filter("filter", f), raw("raw", f), mangle("mangle", f), sets(f) {
    for (const auto& hook : hooks()) table(hook.table).setHook(hook.builtin, hook.target);
  }
  Table& table(std::string_view name) { return name == "raw" ? raw : name == "mangle" ? mangle : filter; }
  Table& table(TableKind kind) {
    return kind == TableKind::kRaw ? raw : kind == TableKind::kMangle ? mangle : filter;
  }

  // Replaces the chains `owner` produced with `chains`, removing those it no longer produces.
  void own(const std::string& owner, std::vector<std::pair<TableKind, Chain>> chains) {
    auto& previous = owned[owner];
    std::set<std::pair<TableKind, std::string>> now;
    for (const auto& [kind, chain] : chains) now.emplace(kind, chain.name);
    for (const auto& old : previous)
      if (now.count(old) == 0) table(old.first).removeChain(old.second);
    previous.assign(now.begin(), now.end());
    for (auto& [kind, chain] : chains) table(kind).setChain(std::move(chain));
    if (previous.empty()) owned.erase(owner);
  }

  IpFamily family;
  Table filter, raw, mangle;
  IpSets sets;
  std::map<std::string, std::vector<std::pair<TableKind, std::string>>> owned;
};

std::vector<std::pair<TableKind, Chain>> inTable(TableKind kind, std::vector<Chain> chains) {
  std::vector<std::pair<TableKind, Chain>> out;
  for (auto& c : chains) out.emplace_back(kind, std::move(c));
  return out;
}
std::vector<std::pair<TableKind, Chain>> inTables(TableChains chains) {
  auto out = inTable(TableKind::kFilter, std::move(chains.filter));
  for (auto& c : chains.raw) out.emplace_back(TableKind::kRaw, std::move(c));
  for (auto& c : chains.mangle) out.emplace_back(TableKind::kMangle, std::move(c));
  return out;
}

IpSetType setType(pb::IPSetType type) {
  return type == pb::IP_SET_TYPE_IP_AND_PORT ? IpSetType::kIpPort : IpSetType::kNet;
}

std::vector<std::string> strings(const google::protobuf::RepeatedPtrField<std::string>& list) {
  return {list.begin(), list.end()};
}

}  // namespace

struct Driver::State {
  DriverKernel kernel;
  StatusSink status;
  std::shared_ptr<spdlog::logger> log = tartan::log::get("dataplane");

  // Configuration.
  RenderConfig config{{"cali"}, defaultFailsafeInbound(), defaultFailsafeOutbound()};
  Backend backend = Backend::kAuto;
  int lockTimeout = 10;
  std::chrono::seconds refreshInterval{90};
  bool ipv6 = true;

  // Sync state.
  bool inSync = false;
  std::uint64_t lastSequence = 0;
  std::unique_ptr<RestoreRunner> runner;
  std::unique_ptr<IpSetKernel> setKernel;
  bool kernelKnown = false;
  std::chrono::steady_clock::time_point lastReadBack{};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point lastProcessReport{};
  DriverStats stats;
  // A repair pass is a read-back with nothing of ours pending: what it writes is drift.
  bool repairPass = false;
  struct FoundDrift {
    IpFamily family;
    std::string table;
    Table::Drift drift;
  };
  std::vector<FoundDrift> drift;
  // The IP set check: every kIpSetCheck, stretched when listing our sets takes long.
  static constexpr std::chrono::seconds kIpSetCheck{1};
  std::chrono::steady_clock::duration ipSetCheckEvery = kIpSetCheck;
  std::chrono::steady_clock::time_point lastIpSetCheck{};

  // The model, as the messages describe it.
  std::map<std::string, std::pair<pb::PolicyID, pb::Policy>> policies;
  std::map<std::string, pb::Profile> profiles;
  std::map<std::string, std::pair<pb::WorkloadEndpointID, pb::WorkloadEndpoint>> workloads;
  std::map<std::string, std::pair<pb::HostEndpointID, pb::HostEndpoint>> hosts;
  std::map<std::string, IpSetRefs> setRefs;                        // owner -> IP sets its rules use
  std::map<std::string, std::vector<std::string>> hostInterfaces;  // host endpoint -> its interfaces

  // What changed since the last render.
  std::set<std::string> dirtyPolicies, dirtyProfiles, dirtyWorkloads, dirtyHosts;
  bool dispatchDirty = true, staticDirty = true;
  // Endpoints whose status is owed after the next successful apply.
  std::set<std::string> statusWorkloads, statusHosts;
  // Endpoints left out because their interface name cannot be used, with the reason.
  std::map<std::string, std::string> rejectedWorkloads;

  std::array<Family, 2> families{Family(IpFamily::kV4), Family(IpFamily::kV6)};

  std::vector<Family*> enabled() {
    std::vector<Family*> out{&families[0]};
    if (ipv6) out.push_back(&families[1]);
    return out;
  }

  void setConfig(const google::protobuf::Map<std::string, std::string>& values);
  void markAllDirty();
  void updateRefs(const std::string& owner, IpSetRefs refs);
  void resolveHostInterfaces();
  void render();
  Result<void> readBack(Family& f);
  void quarantineRefused(const std::vector<Table*>& written, std::string_view input, std::string_view error);
  Result<void> write();
  Result<void> repairing(const std::function<Result<void>()>& pass);
  Result<void> checkIpSets();
  void report(bool ok, bool changed, const std::string& detail);
};

void Driver::State::setConfig(const google::protobuf::Map<std::string, std::string>& values) {
  auto number = [&](const std::string& key, int& out) {
    auto it = values.find(key);
    if (it == values.end()) return;
    int value = 0;
    const auto& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0)
      log->warn("config {}: '{}' is not a non-negative number; keeping {}", key, text, out);
    else
      out = value;
  };
  for (const auto& [key, value] : values) {
    if (key == "interfacePrefix") {
      config.interfacePrefixes.clear();
      for (std::string_view rest = value; !rest.empty();) {
        auto comma = rest.find(',');
        auto prefix = rest.substr(0, comma);
        if (isValidInterfaceName(prefix))
          config.interfacePrefixes.emplace_back(prefix);
        else
          log->warn("config interfacePrefix: '{}' is not an interface name prefix; ignored", prefix);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (key == "failsafeInboundHostPorts" || key == "failsafeOutboundHostPorts") {
      auto ports = parseFailsafePorts(value);
      if (!ports)
        log->warn("config {}: {}", key, ports.error().toString());
      else
        (key == "failsafeInboundHostPorts" ? config.failsafeInbound : config.failsafeOutbound) = *ports;
    } else if (key == "defaultEndpointToHostAction") {
      if (value == "Accept" || value == "ACCEPT")
        config.endpointToHost = EndpointToHostAction::kAccept;
      else if (value == "Return" || value == "RETURN")
        config.endpointToHost = EndpointToHostAction::kReturn;
      else
        config.endpointToHost = EndpointToHostAction::kDrop;
    } else if (key == "iptablesBackend") {
      backend = value == "NFT" || value == "nft"         ? Backend::kNft
                : value == "Legacy" || value == "legacy" ? Backend::kLegacy
                                                         : Backend::kAuto;
    } else if (key == "chainInsertMode") {
      const bool append = value == "Append" || value == "append";
      for (auto& f : families)
        for (const auto& hook : hooks()) f.table(hook.table).setHook(hook.builtin, hook.target, append);
    } else if (key == "logPrefix") {
      config.logPrefix = value;
    } else if (key == "ipv6Support") {
      ipv6 = value != "false" && value != "False";
    }
  }
  int refresh = static_cast<int>(refreshInterval.count());
  number("iptablesRefreshInterval", refresh);
  refreshInterval = std::chrono::seconds(refresh);
  number("iptablesLockTimeout", lockTimeout);
  int maxSet = 1048576;
  number("maxIpSetSize", maxSet);
  for (auto& f : families) f.sets.setMaxElements(static_cast<std::uint32_t>(maxSet));
  markAllDirty();
}

void Driver::State::markAllDirty() {
  for (const auto& [k, v] : policies) dirtyPolicies.insert(k);
  for (const auto& [k, v] : profiles) dirtyProfiles.insert(k);
  for (const auto& [k, v] : workloads) dirtyWorkloads.insert(k);
  for (const auto& [k, v] : hosts) dirtyHosts.insert(k);
  dispatchDirty = staticDirty = true;
}

void Driver::State::updateRefs(const std::string& owner, IpSetRefs refs) {
  auto& old = setRefs[owner];
  for (auto& f : families) {
    for (const auto& [id, named] : refs) f.sets.addReference(id, named);
    for (const auto& [id, named] : old) f.sets.dropReference(id, named);
  }
  old = std::move(refs);
  if (old.empty()) setRefs.erase(owner);
}

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
      for (auto& f : s.families) f.sets.replace(m.id(), setType(m.type()), strings(m.members()));
      break;
    }
    case pb::ToDataplane::kIpsetDeltaUpdate: {
      const auto& m = message.ipset_delta_update();
      for (auto& f : s.families)
        f.sets.applyDelta(m.id(), strings(m.added_members()), strings(m.removed_members()));
      break;
    }
    case pb::ToDataplane::kIpsetRemove:
      for (auto& f : s.families) f.sets.remove(message.ipset_remove().id());
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

// Which interfaces each host endpoint covers: its name, or the interfaces holding one of its
// expected addresses. An endpoint whose interfaces change is re-rendered.
void Driver::State::resolveHostInterfaces() {
  InterfaceAddresses addresses;
  bool listed = false;
  std::set<std::string> claimed;
  std::map<std::string, std::vector<std::string>> resolved;
  for (const auto& [key, hep] : hosts) {  // sorted by id: the lowest id claims an interface first
    const auto& e = hep.second;
    auto& interfaces = resolved[key];
    if (!e.name().empty()) {
      if (e.name() != "*" && !isValidInterfaceName(e.name()))
        log->error("host endpoint {}: interface name '{}' is not valid; left out", key, e.name());
      else if (claimed.insert(e.name()).second)
        interfaces.push_back(e.name());
      continue;
    }
    if (!listed) {
      addresses = kernel.interfaceAddresses();
      listed = true;
    }
    std::set<std::string> expected;
    for (const auto* list : {&e.expected_ipv4_addrs(), &e.expected_ipv6_addrs()})
      for (const auto& ip : *list) expected.insert(canonicalMember(ip, IpSetType::kNet));
    for (const auto& [ifname, ips] : addresses) {
      const bool match =
          std::any_of(ips.begin(), ips.end(), [&](const auto& ip) { return expected.count(ip) != 0; });
      if (match && claimed.insert(ifname).second) interfaces.push_back(ifname);
    }
    if (interfaces.empty())
      log->info("host endpoint {}: no interface holds its expected addresses (yet)", key);
  }
  for (const auto& [key, interfaces] : resolved) {
    auto it = hostInterfaces.find(key);
    if (it == hostInterfaces.end() || it->second != interfaces) {
      dirtyHosts.insert(key);
      dispatchDirty = true;
    }
  }
  for (const auto& [key, interfaces] : hostInterfaces)
    if (resolved.count(key) == 0) dirtyHosts.insert(key);
  hostInterfaces = std::move(resolved);
}

void Driver::State::render() {
  if (dispatchDirty || !dirtyHosts.empty()) resolveHostInterfaces();
  for (const auto& key : dirtyPolicies) {
    auto it = policies.find(key);
    IpSetRefs refs;
    if (it != policies.end()) collectIpSetIds(it->second.second, refs);
    updateRefs("policy:" + key, std::move(refs));
    for (Family& f : families) {
      std::vector<std::pair<TableKind, Chain>> chains;
      if (it != policies.end()) {
        const auto& [id, policy] = it->second;
        // doNotTrack policies run in raw, preDNAT ones in mangle, the rest in filter.
        const TableKind kind = policy.untracked()  ? TableKind::kRaw
                               : policy.pre_dnat() ? TableKind::kMangle
                                                   : TableKind::kFilter;
        chains = inTable(kind, renderPolicy(id, policy, f.family, config));
      }
      f.own("policy:" + key, std::move(chains));
    }
  }
  for (const auto& key : dirtyProfiles) {
    auto it = profiles.find(key);
    IpSetRefs refs;
    if (it != profiles.end()) collectIpSetIds(it->second, refs);
    updateRefs("profile:" + key, std::move(refs));
    for (Family& f : families)
      f.own("profile:" + key,
            it == profiles.end()
                ? std::vector<std::pair<TableKind, Chain>>{}
                : inTable(TableKind::kFilter, renderProfile(key, it->second, f.family, config)));
  }
  for (const auto& key : dirtyWorkloads) {
    auto it = workloads.find(key);
    rejectedWorkloads.erase(key);
    if (it != workloads.end() && !isValidInterfaceName(it->second.second.interface_name())) {
      // Programming it would make iptables-restore reject the whole batch.
      rejectedWorkloads[key] = "interface name '" + it->second.second.interface_name() + "' is not valid";
      log->error("workload endpoint {}: {}", key, rejectedWorkloads[key]);
      it = workloads.end();
    }
    for (Family& f : families)
      f.own("workload:" + key,
            it == workloads.end()
                ? std::vector<std::pair<TableKind, Chain>>{}
                : inTable(TableKind::kFilter, renderWorkloadEndpoint(it->second.second, f.family, config)));
  }
  for (const auto& key : dirtyHosts) {
    auto it = hosts.find(key);
    for (Family& f : families) {
      std::vector<std::pair<TableKind, Chain>> chains;
      if (it != hosts.end())
        for (const auto& ifname : hostInterfaces[key]) {
          auto more = inTables(renderHostEndpoint(it->second.second, ifname, f.family, config));
          std::move(more.begin(), more.end(), std::back_inserter(chains));
        }
      f.own("host:" + key, std::move(chains));
    }
  }
  if (dispatchDirty) {
    std::vector<std::string> interfaces;
    for (const auto& [key, wep] : workloads)
      if (rejectedWorkloads.count(key) == 0) interfaces.push_back(wep.second.interface_name());
    std::vector<HostDispatchEntry> entries;
    for (const auto& [key, hep] : hosts)
      for (const auto& ifname : hostInterfaces[key]) entries.push_back(hostDispatchEntry(hep.second, ifname));
    for (Family& f : families) {
      f.own("workload-dispatch", inTable(TableKind::kFilter, renderWorkloadDispatch(interfaces, config)));
      f.own("host-dispatch", inTables(renderHostDispatch(entries, config)));
    }
  }
  if (staticDirty)
    for (Family& f : families) f.own("static", inTables(renderStaticChains(f.family, config)));
  dirtyPolicies.clear();
  dirtyProfiles.clear();
  dirtyWorkloads.clear();
  dirtyHosts.clear();
  dispatchDirty = staticDirty = false;
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
  for (Table* table : {&f.raw, &f.mangle, &f.filter}) {
    auto text = runner->save(f.family, table->name());
    if (!text) return text.error();
    auto parsed = parseIptablesSave(*text);
    if (!parsed) return parsed.error();
    auto it = parsed->find(table->name());
    table->setProgrammed(it == parsed->end() ? SavedTable{} : it->second);
  }
  return f.sets.resync(*setKernel);
}

Result<void> Driver::State::write() {
  if (!runner) runner = kernel.restoreRunner(backend, lockTimeout);
  if (!setKernel) setKernel = kernel.ipSetKernel();
  if (!kernelKnown) {
    for (Family* f : enabled())
      if (auto r = readBack(*f); !r) return r;
    kernelKnown = true;
    lastReadBack = std::chrono::steady_clock::now();
    if (repairPass)
      for (Family* f : enabled())
        for (Table* table : {&f->raw, &f->mangle, &f->filter})
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
    for (Table* table : {&f->raw, &f->mangle, &f->filter}) {
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
