// tartan/calc/calc_graph.hpp — the calc graph: datastore resources in, dataplane API messages out.
//
// What it does: takes the syncer's stream of resources (pods, workload and host endpoints,
// namespaces, service accounts, Services and EndpointSlices, Tartan and Kubernetes policies,
// tiers, network sets) and keeps,
// incrementally, what Calico Felix's calc graph keeps:
//   * every endpoint's labels as Calico computes them (own labels, projectcalico.org/namespace,
//     /orchestrator, /serviceaccount, the namespace's labels as pcns.<key>, the service
//     account's as pcsa.<key>);
//   * which policies select which of THIS node's endpoints (policy resolver: tiers by order,
//     policies by order then name);
//   * the active policies (those selecting a local endpoint), compiled into rules over IP sets;
//   * the members of every IP set an active rule refers to, drawn from every endpoint and
//     network set in the cluster, and from the EndpointSlices of every Service a rule names
//     (destination: "<ip>,<protocol>:<port>" for each slice port; source: the addresses; a
//     Service that does not exist, or has no slices, gives an empty set: the rule matches
//     nothing).
//   * every IP pool's CIDR and natOutgoing (IPAMPoolUpdate/Remove, disabled pools included), for
//     the dataplane's outgoing NAT.
// Policy and set selectors are kept in an index keyed by the label (key, value) or key each one
// requires, so a label change re-evaluates only the selectors that could flip; label sets are
// interned, so pods of one Deployment share one label set and are evaluated once. A new or
// edited policy is evaluated only against the local endpoints that carry a label its selector
// requires; inactive policies (most of them, on any one node) are kept packed; other nodes' pods
// are kept only as what they add to IP sets (labels, addresses, named ports).
// Output is a stream of dataplane.proto ToDataplane envelopes handed to a DataplaneSink by
// flush(): ConfigUpdate, then sets, then profiles and policies, then endpoints; removals in the
// reverse order (endpoints, policies and profiles, sets). A set is sent whole once (a big one as
// an IPSetUpdate plus IPSetDeltaUpdates of at most 4096 members), then only as deltas. Nothing
// is emitted before onInSync(); the first flush after it emits the whole state followed by one
// InSync. Updates that cancel out within one batch emit nothing.
//
// Owns: a copy of every resource it was given (in compact form). The sink is borrowed.
// Threading: not thread-safe; one owner thread calls everything (the agent's calc loop).
// Failure: resources arrive validated (model::decode); anything the graph still cannot use (a
// selector that fails to parse, a bad CIDR) is logged and treated as matching nothing, never
// thrown. Resource kinds the graph does not use are ignored.
//
// Protobuf headers stay out of this header: the sink receives the message by reference to a
// forward-declared type, so including this costs a translation unit nothing.
#pragma once

#include "tartan/model/model.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tartan::dataplane::proto {
class ToDataplane;
}

namespace tartan::calc {

// Receives the calc graph's output, one envelope at a time, during flush().
class DataplaneSink {
 public:
  virtual ~DataplaneSink() = default;
  virtual void send(const dataplane::proto::ToDataplane& message) = 0;
};

// Felix's default workload interface prefix, so that pods made by Calico's CNI plugin are
// policed after a switch (and Tartan's own are named as Calico names them).
inline constexpr std::string_view kDefaultInterfacePrefix = "cali";

struct Config {
  // Endpoints whose node is this name get WorkloadEndpointUpdate/HostEndpointUpdate messages.
  std::string nodeName;
  // Prefix of workload interface names derived from a pod (Calico's VethNameForWorkload);
  // the first entry of a comma-separated list, as Felix's FELIX_INTERFACEPREFIX.
  std::string interfacePrefix{kDefaultInterfacePrefix};
};

// Counts for logs, metrics and benchmarks.
struct Stats {
  std::size_t endpoints = 0;            // workload + host endpoints, cluster-wide
  std::size_t localEndpoints = 0;       // of which on this node
  std::size_t labelSets = 0;            // distinct effective label sets
  std::size_t policies = 0;             // all policies known
  std::size_t activePolicies = 0;       // selecting at least one local endpoint
  std::size_t activeIpSets = 0;         // referred to by an active policy
  std::size_t ipSetMembers = 0;         // summed over active sets
  std::size_t selectorEvaluations = 0;  // since construction
  uint64_t messagesSent = 0;
};

class CalcGraph {
 public:
  CalcGraph(Config config, DataplaneSink& sink);
  ~CalcGraph();
  CalcGraph(const CalcGraph&) = delete;
  CalcGraph& operator=(const CalcGraph&) = delete;

  // A resource was created or changed (a full snapshot: it replaces what was known under its
  // kind, namespace and name). Kinds the graph does not use are ignored.
  void onUpdate(const model::Resource& resource);

  // A resource is gone. Removing something unknown is not an error.
  void onRemove(model::Kind kind, std::string_view namespaceName, std::string_view name);

  // The syncer has delivered its initial snapshot.
  void onInSync();

  // Emits what changed since the last flush (nothing before onInSync()).
  void flush();

  Stats stats() const;

  // Calico's VethNameForWorkload: prefix + first 11 hex digits of sha1("<namespace>.<pod>").
  static std::string vethNameForWorkload(std::string_view prefix, std::string_view namespaceName,
                                         std::string_view podName);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tartan::calc
