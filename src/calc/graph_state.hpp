// graph_state.hpp — the calc graph's state (CalcGraph::Impl), private to the module.
//
// Stages, as Felix's calc graph, but as plain data rather than a callback web:
//   items        every endpoint and network set in the cluster: a label-set id and the members it
//                contributes to IP sets (addresses, nets, named ports)
//   label sets   interned effective label sets (own + namespace parent + service-account parent);
//                items sharing labels share one, so selectors are evaluated per label set
//   policies     every policy converted (PolicyDef) with its compiled selector, filed in an index;
//                matched only against LOCAL items, found through the local label index by the
//                selector's anchor; active when it matches at least one. Selector and rules are
//                kept packed (rule_codec.hpp): most policies never become active here
//   ip sets      one per distinct selector (or selector + named port) used by an active policy's
//                rules, reference-counted, members reference-counted, filed in a second index
//                under the required label that the fewest label sets carried when it was made;
//                and one per Service a rule names (services.cpp), fed by its EndpointSlices
//   services     every EndpointSlice's members, filed under the Service its label names, and
//                whether that Service exists (Felix's ServiceIndex)
//   sequencer    dirty marks and what was last sent, turned into messages by flush()
#pragma once

#include "item_keys.hpp"
#include "labels.hpp"
#include "local_index.hpp"
#include "members.hpp"
#include "policy_conversion.hpp"
#include "rule_codec.hpp"
#include "selector_program.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <array>
#include <cassert>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace tartan::dataplane::proto {
class Rule;
class TierInfo;
}  // namespace tartan::dataplane::proto

namespace tartan::calc {

inline constexpr uint32_t kNone = ~uint32_t{0};

// Lets string-keyed maps be searched with a string_view, without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIds = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

// Selectors filed by anchor. Candidates for a label view: the selectors anchored on one of its
// labels or keys, plus the unanchored ones. A selector may be offered more than once.
class SelectorIndex {
 public:
  void add(uint32_t id, const Anchor& anchor);
  void remove(uint32_t id, const Anchor& anchor);
  template <class F>
  void candidates(const LabelView& view, F&& f) const {
    view.forEach([&](const Label& l) {
      if (auto it = byLabel_.find(labelKey(l.key, l.value)); it != byLabel_.end()) {
        for (uint32_t id : it->second) f(id);
      }
      if (auto it = byKey_.find(l.key); it != byKey_.end()) {
        for (uint32_t id : it->second) f(id);
      }
    });
    for (uint32_t id : unanchored_) f(id);
  }

 private:
  std::unordered_map<uint64_t, std::vector<uint32_t>> byLabel_;
  std::unordered_map<StrId, std::vector<uint32_t>> byKey_;
  std::vector<uint32_t> unanchored_;
};

struct NamedPort {
  StrId name;
  StrId protocol;  // "tcp", "udp", "sctp"
  uint16_t port;
  bool operator==(const NamedPort&) const = default;
};

// A namespace or a service account: labels every endpoint in it inherits.
struct Parent {
  bool exists = false;
  LabelVec labels;                  // pcns.* / pcsa.* keys
  std::vector<uint32_t> labelSets;  // label sets that inherit from it
};

struct LabelSet {
  LabelVec own;
  uint32_t ns = kNone;
  uint32_t sa = kNone;
  std::vector<uint32_t> items;
  uint64_t hash = 0;  // of (own, ns, sa), its key in labelSetsByHash_
};

enum class ItemKind : uint8_t { kWorkload, kHost, kNetworkSet };

// What a workload or host endpoint on this node needs to be rendered.
struct LocalInfo {
  std::string nsName;
  std::string saName;
  std::string name;          // WEP name / HEP interface name
  std::string orchestrator;  // "k8s"
  std::string workloadId;    // "<ns>/<pod>"
  std::string endpointId;    // "eth0"; HEP: its name
  std::string interfaceName;
  std::string mac;
  std::vector<std::string> nets;      // "10.0.0.1/32"; HEP: expected addresses
  std::vector<std::string> profiles;  // HEP: spec.profiles
};

// 16 bytes: there is one per endpoint in the cluster.
struct Item {
  MemberList members;  // addresses or nets
  uint32_t labelSet = kNone;
  uint32_t alive : 1 = 0;
  uint32_t local : 1 = 0;  // on this node: localEndpoints_ holds the rest

  // Index in portLists_ (named ports), kNone if none.
  uint32_t ports() const { return ports_ == kNoPorts ? kNone : ports_; }
  void setPorts(uint32_t ports) {
    assert(ports == kNone || ports < kNoPorts);
    ports_ = ports == kNone ? kNoPorts : ports;
  }
  ItemKind kind() const { return static_cast<ItemKind>(kind_); }
  void setKind(ItemKind kind) { kind_ = static_cast<uint32_t>(kind); }

 private:
  static constexpr uint32_t kNoPorts = (1u << 24) - 1;
  uint32_t kind_ : 2 = 0;
  uint32_t ports_ : 24 = kNoPorts;
};
static_assert(sizeof(Item) == 16);

// An item's contribution, before and after a change.
struct ItemSnapshot {
  uint32_t labelSet = kNone;
  MemberList members;
  uint32_t ports = kNone;
};

// The endpoint as the pod and/or WorkloadEndpoint resource describe it.
struct WorkloadData {
  bool local = false;
  std::string ns;
  std::string sa;
  LabelVec labels;               // own labels, interned (synthesized ones are added later)
  std::vector<std::string> ips;  // "10.0.0.1"
  std::vector<std::tuple<std::string, std::string, uint16_t>> ports;  // name, protocol, port
  std::string wepName;
  std::string orchestrator = "k8s";
  std::string endpoint = "eth0";
  std::string interfaceName;
  std::string mac;
};
struct WorkloadSources {
  std::optional<WorkloadData> pod;
  std::optional<WorkloadData> wep;
};

// A PolicyDef without its body (selector and rules): what rendering an endpoint needs.
struct PolicyHeader {
  std::string tier;
  std::string name;
  std::optional<double> order;
  bool appliesToIngress = false;
  bool appliesToEgress = false;
  bool untracked = false;
  bool preDnat = false;
  bool applyOnForward = false;

  static PolicyHeader of(PolicyDef&& def) {
    return PolicyHeader{std::move(def.tier), std::move(def.name), def.order,   def.appliesToIngress,
                        def.appliesToEgress, def.untracked,       def.preDnat, def.applyOnForward};
  }
  bool sameAs(const PolicyDef& def) const {
    return tier == def.tier && name == def.name && order == def.order &&
           appliesToIngress == def.appliesToIngress && appliesToEgress == def.appliesToEgress &&
           untracked == def.untracked && preDnat == def.preDnat && applyOnForward == def.applyOnForward;
  }
};

struct PolicyState {
  bool alive = false;
  PolicyHeader def;
  std::string body;  // packPolicyBody(): unpacked only on activation and render
  std::shared_ptr<const SelectorProgram> program;
  std::vector<uint32_t> localMatches;  // item ids, sorted
  std::vector<uint32_t> setRefs;       // ip sets held while active
  bool active = false;
  bool dirty = false;
  bool sent = false;
  std::string sentBytes;  // the last ActivePolicyUpdate's policy, serialized
};

// kService: a destination Service's "<ip>,<protocol>:<port>" members (its slices' addresses
// with their ports); kServiceAddresses: a source Service's addresses alone.
enum class SetKind : uint8_t { kSelector, kNamedPort, kService, kServiceAddresses };

// The key of a Service's set in setsByKey_, and its id (Felix's "svc:"/"svcnoport:" sets).
std::string serviceSetKey(SetKind kind, std::string_view service);
std::string serviceSetId(SetKind kind, std::string_view service);

// One EndpointSlice: the Service it belongs to and what it adds to that Service's sets.
struct SliceState {
  std::string service;               // "<namespace>/<name>"; "" when the slice has no label
  std::vector<Member> addresses;     // for kServiceAddresses sets
  std::vector<Member> addressPorts;  // for kService sets
};

// A Service as rules see it: its slices count only while the Service itself exists, so a
// Service deleted before its slices (or slices left behind) matches nothing.
struct ServiceState {
  bool exists = false;
  std::set<std::string> slices;  // keys in slices_
  std::vector<uint32_t> sets;    // its sets that some active policy holds
};

struct SetState {
  std::string id;
  std::string key;  // in setsByKey_
  SetKind kind = SetKind::kSelector;
  std::shared_ptr<const SelectorProgram> program;  // null for a Service's set
  std::string service;                             // a Service's set: "<namespace>/<name>"
  Anchor anchor;  // where setIndex_ files it: the rarest of its labels when it was acquired
  StrId portName = kNoStr;
  StrId portProtocol = kNoStr;
  uint32_t refs = 0;
  MemberCounts members;  // member -> contributing items
  MemberCounts added;    // since the last flush (set semantics)
  MemberCounts removed;
  bool sent = false;
  bool needFull = false;
  bool dirty = false;
};

// An IP pool as outgoing NAT needs it (Felix's IPAMPool).
struct PoolState {
  std::string cidr;
  bool masquerade = false;  // natOutgoing; a disabled pool still masquerades
  bool operator==(const PoolState&) const = default;
};

struct TierState {
  std::optional<double> order;
  bool pass = false;  // defaultAction Pass
};

struct LocalEndpointState {
  std::unique_ptr<LocalInfo> info;
  std::set<uint32_t> policies;
  bool dirty = true;
  bool sent = false;
  bool host = false;
  std::string sentKey;                // serialized id
  std::string sentBytes;              // serialized endpoint
  std::vector<std::string> profiles;  // as last rendered
};

class CalcGraph::Impl {
 public:
  Impl(Config config, DataplaneSink& sink);

  void onUpdate(const model::Resource& resource);
  void onRemove(model::Kind kind, std::string_view ns, std::string_view name);
  void onInSync() { inSyncRequested_ = true; }
  void flush();
  Stats stats() const;

 private:
  // Inputs (calc_graph.cpp).
  void updateNamespace(const std::string& name, const model::Labels* labels);
  void updateServiceAccount(const std::string& ns, const std::string& name, const model::Labels* labels);
  void updateWorkload(const std::string& key);
  void applyWorkload(const std::string& key, std::optional<WorkloadData> data);
  void applyRemotePod(const model::KubernetesPod& pod);
  void updateHostEndpoint(const std::string& name, const model::HostEndpoint* hep);
  void updateNetworkSet(const std::string& key, const model::Labels* labels,
                        const std::vector<std::string>* nets, const std::string& ns);
  void updatePolicy(const std::string& key, std::optional<PolicyDef> def);
  void updateTier(const std::string& name, const model::Tier* tier);
  void updatePool(const std::string& name, const model::IPPool* pool);

  // Services and EndpointSlices (services.cpp).
  void updateService(const std::string& key, bool exists);
  void updateEndpointSlice(const std::string& key, const model::KubernetesEndpointSlice* slice);
  uint32_t acquireServiceSet(SetKind kind, const std::string& service);
  void releaseServiceSet(uint32_t set);
  void contributeSlice(uint32_t set, const SliceState& slice, bool add);

  // Items and label sets (items.cpp).
  uint32_t parentId(std::string_view key);
  uint32_t internLabelSet(const LabelVec& own, uint32_t ns, uint32_t sa);
  void releaseLabelSet(uint32_t id, uint32_t item);
  LabelView view(uint32_t labelSet) const;
  LabelView view(const LabelSet& ls, const LabelVec* nsLabels, const LabelVec* saLabels) const;
  LabelVec internLabels(const model::Labels& labels);
  uint32_t itemId(std::string_view key, bool create);
  void setItem(uint32_t id, std::optional<ItemSnapshot> next, ItemKind kind,
               std::unique_ptr<LocalInfo> local);
  void applyItemChange(uint32_t id, const std::optional<ItemSnapshot>& before,
                       const std::optional<ItemSnapshot>& after);
  void applyParentChange(uint32_t parent, LabelVec newLabels, bool exists);

  // IP sets (ip_sets.cpp).
  void contribute(uint32_t set, const MemberList& members, uint32_t ports, bool add);
  void addMember(uint32_t set, Member member);
  void removeMember(uint32_t set, Member member);
  uint32_t internPorts(const std::vector<NamedPort>& ports);
  uint32_t acquireSet(SetKind kind, const std::string& selector, StrId portName, StrId portProtocol);
  // The slot of the set stored under `key`. A live one (refs > 0) gains a reference: {slot,
  // true}. Otherwise one is revived (a set whose removal is not flushed yet, still under its
  // key) or made (a free or new slot, reset, `identify` filling in what it is, registered under
  // `key`), with one reference and no pending deltas: {slot, false}, for the caller to fill.
  std::pair<uint32_t, bool> claimSetSlot(std::string key, const std::function<void(SetState&)>& identify);
  void releaseSet(uint32_t id);
  std::vector<uint32_t> labelSetsFor(const Anchor& anchor);
  std::size_t anchorCardinality(const Anchor& anchor) const;  // label sets carrying it, roughly
  bool matches(const SelectorProgram& program, const LabelView& view);

  // Policies (policies.cpp).
  void recomputeLocalMatches(uint32_t item);
  void setPolicyMatch(uint32_t policy, uint32_t item, bool match);
  void activate(uint32_t policy);
  void deactivate(uint32_t policy);
  void markEndpointDirty(uint32_t item);

  // Sequencer (flush.cpp).
  void renderPolicy(const PolicyState& policy, std::string& bytes);
  void compileRules(const std::vector<RuleDef>& rules, const PolicyState& policy, bool ingress, void* out);
  std::string setIdFor(SetKind kind, const std::string& selector, StrId portName, StrId portProtocol) const;
  void renderEndpoint(uint32_t item, LocalEndpointState& ep, std::string& key, std::string& bytes,
                      std::vector<std::string>& profiles);
  void send(void* message);

  friend class CalcGraph;

  Config config_;
  DataplaneSink& sink_;
  Interner interner_;
  Interner memberStrings_;                         // IP-set members that are not plain IPv4 (see members.hpp)
  std::vector<std::vector<NamedPort>> portLists_;  // distinct named-port lists, never freed
  StringIds portListsByKey_;
  // Scratch space of the remote-pod path, kept so that a pod costs no allocation.
  std::string scratchKey_;
  std::string scratchParentKey_;
  std::string scratchPortKey_;
  LabelVec scratchLabels_;
  std::vector<NamedPort> scratchPorts_;
  // Label keys are few and repeat on every pod: a small direct-mapped cache of their ids spares
  // the interner's hash and probe (views into the interner, which never moves its text).
  struct KeyCacheEntry {
    std::string_view text;
    StrId id = kNoStr;
  };
  std::array<KeyCacheEntry, 64> keyCache_{};
  StrId internLabelKey(std::string_view key) {
    const auto first = key.empty() ? 0u : static_cast<unsigned char>(key.front());
    const auto last = key.empty() ? 0u : static_cast<unsigned char>(key.back());
    KeyCacheEntry& e = keyCache_[(key.size() * 7 + first * 3 + last) % keyCache_.size()];
    if (e.id != kNoStr && e.text == key) return e.id;
    e.id = interner_.intern(key);
    e.text = interner_.text(e.id);
    return e.id;
  }
  StrId kTcp_ = kNoStr, kUdp_ = kNoStr, kSctp_ = kNoStr;
  StrId kNamespaceKey_, kOrchestratorKey_, kServiceAccountKey_, kK8s_;

  StringIds parentsByKey_;  // "ns" / "ns/sa"
  std::vector<Parent> parents_;

  std::unordered_multimap<uint64_t, uint32_t> labelSetsByHash_;
  std::deque<LabelSet> labelSets_;
  std::vector<uint32_t> freeLabelSets_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> labelSetsByLabel_;
  std::unordered_map<StrId, std::vector<uint32_t>> labelSetsByKeyOnly_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> parentsByLabel_;
  std::unordered_map<StrId, std::vector<uint32_t>> parentsByKeyOnly_;
  std::vector<uint32_t> stamp_;  // dedup scratch, per label set / per selector
  uint32_t stampValue_ = 0;

  ItemKeys itemsByKey_;     // "w:ns/pod" "h:name" "n:ns/name"
  std::deque<Item> items_;  // a deque: growing never copies (nor doubles) 250k items
  std::vector<uint32_t> freeItems_;
  // Only pods with a WEP (string_view lookups: the remote-pod path checks every pod here).
  std::unordered_map<std::string, WorkloadSources, StringHash, std::equal_to<>> workloadSources_;
  std::unordered_map<std::string, std::string> wepKeys_;  // "ns/wep name" -> "ns/pod"

  std::unordered_map<std::string, uint32_t> policiesByKey_;
  std::deque<PolicyState> policies_;
  std::vector<uint32_t> freePolicies_;
  SelectorIndex policyIndex_;
  std::vector<uint32_t> policyStamp_;

  std::unordered_map<std::string, uint32_t> setsByKey_;
  std::vector<SetState> sets_;
  std::vector<uint32_t> freeSets_;
  SelectorIndex setIndex_;
  std::vector<uint32_t> setStamp_;
  std::unordered_set<uint32_t> dirtySets_;

  std::map<std::string, TierState> tiers_;
  std::map<uint32_t, LocalEndpointState> localEndpoints_;  // item id -> state
  LocalLabelIndex localIndex_;  // local endpoints by effective label, for updatePolicy
  std::unordered_set<uint32_t> dirtyPolicies_;
  // What the dataplane holds, so that removals are computed, not remembered.
  std::map<std::string, uint32_t> dataplaneEndpoints_;  // serialized id -> item
  std::map<std::string, uint32_t> dataplanePolicies_;   // tier + '\n' + name -> policy
  std::map<std::string, uint32_t> profileRefs_;         // from rendered local endpoints
  std::set<std::string> dataplaneProfiles_;

  std::unordered_map<std::string, SliceState> slices_;      // "<namespace>/<slice name>"
  std::unordered_map<std::string, ServiceState> services_;  // "<namespace>/<service name>"

  // IP pools by name: as known, and as the dataplane was last told (IPAMPoolUpdate/Remove).
  std::map<std::string, PoolState> pools_;
  std::map<std::string, PoolState> dataplanePools_;
  bool poolsDirty_ = false;

  // ConfigUpdate: what the dataplane is told, and whether it changed since last sent.
  std::optional<std::string> agentInterfacePrefix_;  // AgentConfiguration "default"
  bool configDirty_ = true;
  bool inSyncRequested_ = false;
  bool inSyncSent_ = false;
  uint64_t sequence_ = 0;
  mutable Stats stats_;
};

}  // namespace tartan::calc
