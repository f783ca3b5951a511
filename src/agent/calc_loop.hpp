// src/agent/calc_loop.hpp — the agent's main loop: syncer batches in, dataplane batches out.
//
// Felix's order of start: nothing is computed until the syncer's first snapshot is complete,
// because the configuration (interfacePrefix above all) is itself in the datastore. At the first
// in-sync the loop merges the AgentConfiguration "default" and "node.<name>" with the
// environment, builds the calc graph, feeds it the snapshot and flushes: the first DataplaneBatch
// is ConfigUpdate, the whole state, InSync. After that every batch is the graph's delta, plus a
// ConfigUpdate when the configuration changed. A changed interfacePrefix needs a restart (as in
// Felix): it is logged and the running prefix kept. The operational settings (logs, health,
// Prometheus) are not the dataplane's: they go to the onOperations callback, at the first
// in-sync and whenever they change, and never cause a ConfigUpdate.
// Threading: run() on the thread that owns the calc graph; stop by closing the input queue.
#pragma once

#include "batches.hpp"
#include "config.hpp"
#include "health.hpp"
#include "merging_queue.hpp"
#include "metrics.hpp"
#include "tartan/calc/calc_graph.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace tartan::agent {

class CalcLoop final : public calc::DataplaneSink {
 public:
  CalcLoop(std::string nodeName, std::map<std::string, std::string> environment,
           MergingQueue<SyncerBatch>& in, MergingQueue<DataplaneBatch>& out, Metrics& metrics,
           Health& health);
  ~CalcLoop() override;

  // Before run(): the fields set by command-line flags (MergeInput::commandLine), and who puts
  // the operational settings into effect.
  void setCommandLine(std::map<std::string, std::string> fields) { commandLine_ = std::move(fields); }
  void onOperations(std::function<void(const OperationsConfig&)> apply) { onOperations_ = std::move(apply); }

  // Until `in` is closed.
  void run();
  // One batch (exposed for tests).
  void process(SyncerBatch batch);

 private:
  void send(const dataplane::proto::ToDataplane& message) override;
  void apply(const syncer::Update& update);
  // Re-merges the configuration; true if it changed.
  bool refreshConfig();
  void start();
  void emit(bool configChanged);

  std::string nodeName_;
  std::map<std::string, std::string> environment_;
  std::map<std::string, std::string> commandLine_;
  std::function<void(const OperationsConfig&)> onOperations_;
  MergingQueue<SyncerBatch>& in_;
  MergingQueue<DataplaneBatch>& out_;
  Metrics& metrics_;
  Health& health_;

  SyncerBatch snapshot_;                                          // before the first in-sync
  std::map<std::string, model::AgentConfigurationSpec> configs_;  // by resource name
  // The service ranges of the BGPConfiguration "default", for serviceLoopPrevention.
  std::vector<std::string> serviceCidrs_;
  AgentConfig config_;
  std::unique_ptr<calc::CalcGraph> graph_;
  DataplaneBatch pending_;
  std::map<std::string, int64_t> policyRules_;  // per active policy/profile id
  std::set<std::string> hostEndpoints_;         // every HostEndpoint, cluster-wide, by name
};

}  // namespace tartan::agent
