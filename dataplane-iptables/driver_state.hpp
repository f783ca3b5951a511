// driver_state.hpp — the iptables driver's state (Driver::State), private to dataplane-iptables.
// driver.cpp holds the message intake, the kernel writes, read-back, repair and status;
// driver_render.cpp the configuration and the rendering of the model into tables and sets.
#pragma once

#include "nat_outgoing.hpp"
#include "tartan/common/log.hpp"
#include "tartan/dataplane/iptables/driver.hpp"
#include "tartan/dataplane/iptables/ip_sets.hpp"
#include "tartan/dataplane/iptables/render.hpp"
#include "tartan/dataplane/iptables/table.hpp"
#include "tartan/proto/dataplane.pb.h"

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace tartan::dataplane::iptables {

namespace pb = tartan::dataplane::proto;

namespace detail {

inline std::string policyKey(const pb::PolicyID& id) { return id.tier() + "/" + id.name(); }
inline std::string workloadKey(const pb::WorkloadEndpointID& id) {
  return id.orchestrator_id() + "/" + id.workload_id() + "/" + id.endpoint_id();
}

enum class TableKind { kFilter, kRaw, kMangle, kNat };

// The tables and sets of one IP family, and which chains each model object produced last time.
struct Family {
  explicit Family(IpFamily f)
      : family(f), filter("filter", f), raw("raw", f), mangle("mangle", f), nat("nat", f), sets(f) {
    for (const auto& hook : hooks()) table(hook.table).setHook(hook.builtin, hook.target);
    nat.setHook("POSTROUTING", "");  // a jump only while a pool masquerades (see renderNat)
  }
  Table& table(std::string_view name) {
    return name == "raw" ? raw : name == "mangle" ? mangle : name == "nat" ? nat : filter;
  }
  Table& table(TableKind kind) {
    return kind == TableKind::kRaw      ? raw
           : kind == TableKind::kMangle ? mangle
           : kind == TableKind::kNat    ? nat
                                        : filter;
  }
  // Every table, in the order a transaction writes them.
  std::array<Table*, 4> tables() { return {&raw, &mangle, &nat, &filter}; }

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
  Table filter, raw, mangle, nat;
  IpSets sets;
  std::map<std::string, std::vector<std::pair<TableKind, std::string>>> owned;
};

inline std::vector<std::pair<TableKind, Chain>> inTable(TableKind kind, std::vector<Chain> chains) {
  std::vector<std::pair<TableKind, Chain>> out;
  for (auto& c : chains) out.emplace_back(kind, std::move(c));
  return out;
}
inline std::vector<std::pair<TableKind, Chain>> inTables(TableChains chains) {
  auto out = inTable(TableKind::kFilter, std::move(chains.filter));
  for (auto& c : chains.raw) out.emplace_back(TableKind::kRaw, std::move(c));
  for (auto& c : chains.mangle) out.emplace_back(TableKind::kMangle, std::move(c));
  for (auto& c : chains.nat) out.emplace_back(TableKind::kNat, std::move(c));
  return out;
}

inline IpSetType setType(pb::IPSetType type) {
  return type == pb::IP_SET_TYPE_IP_AND_PORT ? IpSetType::kIpPort : IpSetType::kNet;
}

inline std::vector<std::string> strings(const google::protobuf::RepeatedPtrField<std::string>& list) {
  return {list.begin(), list.end()};
}

}  // namespace detail

using detail::Family;
using detail::TableKind;

struct Driver::State {
  DriverKernel kernel;
  StatusSink status;
  std::shared_ptr<spdlog::logger> log = tartan::log::get("dataplane");

  // Configuration.
  RenderConfig config{{"cali"}, defaultFailsafeInbound(), defaultFailsafeOutbound()};
  Backend backend = Backend::kAuto;
  int lockTimeout = 10;
  bool appendHooks = false;  // chainInsertMode Append
  InterfaceExclude interfaceExclude{{"kube-ipvs0"}, {}};
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
  NatPools pools;

  // What changed since the last render.
  std::set<std::string> dirtyPolicies, dirtyProfiles, dirtyWorkloads, dirtyHosts;
  bool dispatchDirty = true, staticDirty = true, natDirty = true;
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
  void renderNat();
  Result<void> readBack(Family& f);
  void quarantineRefused(const std::vector<Table*>& written, std::string_view input, std::string_view error);
  Result<void> write();
  Result<void> repairing(const std::function<Result<void>()>& pass);
  Result<void> checkIpSets();
  void report(bool ok, bool changed, const std::string& detail);
};

}  // namespace tartan::dataplane::iptables
