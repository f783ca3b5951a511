// The calc loop: the first snapshot, the configuration, the calc graph and its output.
#include "calc_loop.hpp"

#include "tartan/common/log.hpp"

namespace tartan::agent {
namespace pb = dataplane::proto;

CalcLoop::CalcLoop(std::string nodeName, std::map<std::string, std::string> environment,
                   MergingQueue<SyncerBatch>& in, MergingQueue<DataplaneBatch>& out, Metrics& metrics,
                   Health& health)
    : nodeName_(std::move(nodeName)),
      environment_(std::move(environment)),
      in_(in),
      out_(out),
      metrics_(metrics),
      health_(health) {}

CalcLoop::~CalcLoop() = default;

void CalcLoop::run() {
  for (;;) {
    health_.beat(Health::Loop::kCalc);
    auto batch = in_.pop(std::chrono::seconds(1));
    if (batch)
      process(std::move(*batch));
    else if (in_.closed())
      return;
  }
}

void CalcLoop::process(SyncerBatch batch) {
  metrics_.datastoreUpdates += batch.received;
  if (!graph_) {
    snapshot_.merge(std::move(batch));
    if (snapshot_.inSync) start();
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  bool configTouched = false;
  for (const auto& [key, update] : batch.updates) {
    if (update.kind == model::Kind::kAgentConfiguration || update.kind == model::Kind::kBGPConfiguration)
      configTouched = true;
    apply(update);
  }
  emit(configTouched && refreshConfig());
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  metrics_.calcLatency.observe(took.count());
  log::get("agent")->debug("calculated {} updates in {:.1f} ms", batch.updates.size(), took.count() * 1000);
}

void CalcLoop::start() {
  // The configuration first: it decides how the graph names interfaces.
  for (const auto& [key, update] : snapshot_.updates) {
    if (update.kind == model::Kind::kAgentConfiguration || update.kind == model::Kind::kBGPConfiguration)
      apply(update);
  }
  refreshConfig();
  auto log = log::get("agent");
  log->info("in sync with the datastore ({} resources); node {}, interface prefix '{}'",
            snapshot_.updates.size(), nodeName_, config_.interfacePrefix);
  graph_ = std::make_unique<calc::CalcGraph>(calc::Config{nodeName_, config_.interfacePrefix}, *this);
  for (const auto& [key, update] : snapshot_.updates) {
    if (update.kind != model::Kind::kAgentConfiguration && update.kind != model::Kind::kBGPConfiguration)
      apply(update);
  }
  snapshot_ = {};
  graph_->onInSync();
  emit(true);
}

void CalcLoop::apply(const syncer::Update& update) {
  if (update.kind == model::Kind::kAgentConfiguration) {
    if (update.resource)
      configs_[update.key.name] = std::get<model::AgentConfiguration>(*update.resource).spec;
    else
      configs_.erase(update.key.name);
    return;
  }
  if (update.kind == model::Kind::kBGPConfiguration) {
    // Felix's serviceLoopPrevention covers the cluster-wide service ranges only.
    if (update.key.name != "default") return;
    serviceCidrs_.clear();
    if (update.resource) {
      const auto& spec = std::get<model::BGPConfiguration>(*update.resource).spec;
      for (const auto* blocks :
           {&spec.serviceClusterIPs, &spec.serviceExternalIPs, &spec.serviceLoadBalancerIPs})
        for (const auto& block : *blocks) serviceCidrs_.push_back(block.cidr);
    }
    return;
  }
  if (update.kind == model::Kind::kHostEndpoint) {
    if (update.resource)
      hostEndpoints_.insert(update.key.name);
    else
      hostEndpoints_.erase(update.key.name);
  }
  if (!graph_) return;
  if (update.resource)
    graph_->onUpdate(*update.resource);
  else
    graph_->onRemove(update.kind, update.key.namespace_, update.key.name);
}

bool CalcLoop::refreshConfig() {
  MergeInput input;
  if (auto it = configs_.find("default"); it != configs_.end()) input.global = &it->second;
  if (auto it = configs_.find("node." + nodeName_); it != configs_.end()) input.node = &it->second;
  input.environment = environment_;
  input.commandLine = commandLine_;
  MergeResult merged = mergeConfig(input);
  auto log = log::get("agent");
  for (const auto& w : merged.warnings) log->warn("configuration: {}", w.toString());
  if (graph_ && merged.config.interfacePrefix != config_.interfacePrefix) {
    log->warn("configuration: interfacePrefix changed from '{}' to '{}'; restart the agent to apply it",
              config_.interfacePrefix, merged.config.interfacePrefix);
    merged.config.interfacePrefix = config_.interfacePrefix;
  }
  // The operational settings first: a new log file is where the rest of this is written.
  const bool operationsChanged = !graph_ || merged.config.operations != config_.operations;
  if (operationsChanged && onOperations_) onOperations_(merged.config.operations);
  merged.config.serviceLoopCidrs = serviceCidrs_;
  AgentConfig previous = config_;
  previous.operations = merged.config.operations;
  config_ = merged.config;
  return !graph_ || !(merged.config == previous);
}

void CalcLoop::emit(bool configChanged) {
  if (configChanged) {
    // ConfigUpdate goes ahead of the graph's messages, so before InSync on the first flush.
    pb::ToDataplane message;
    auto& map = *message.mutable_config_update()->mutable_config();
    for (const auto& [k, v] : config_.dataplaneConfig()) map[k] = v;
    pending_.messages.push_back(std::move(message));
    pending_.config = config_;
  }
  graph_->flush();
  const calc::Stats stats = graph_->stats();
  metrics_.activePolicies = static_cast<int64_t>(stats.activePolicies);
  metrics_.localEndpoints = static_cast<int64_t>(stats.localEndpoints);
  // The graph counts each HostEndpoint as one endpoint; the rest are workloads'.
  metrics_.clusterHostEndpoints = static_cast<int64_t>(hostEndpoints_.size());
  metrics_.clusterWorkloadEndpoints = static_cast<int64_t>(stats.endpoints) - metrics_.clusterHostEndpoints;
  metrics_.ipSets = static_cast<int64_t>(stats.activeIpSets);
  metrics_.ipSetMembers = static_cast<int64_t>(stats.ipSetMembers);
  int64_t rules = 0;
  for (const auto& [id, n] : policyRules_) rules += n;
  metrics_.policyRules = rules;
  if (!pending_.empty()) out_.push(std::exchange(pending_, {}));
}

void CalcLoop::send(const pb::ToDataplane& message) {
  switch (message.payload_case()) {
    case pb::ToDataplane::kActivePolicyUpdate: {
      const auto& u = message.active_policy_update();
      policyRules_["p:" + u.id().tier() + "/" + u.id().name()] =
          u.policy().inbound_rules_size() + u.policy().outbound_rules_size();
      break;
    }
    case pb::ToDataplane::kActivePolicyRemove:
      policyRules_.erase("p:" + message.active_policy_remove().id().tier() + "/" +
                         message.active_policy_remove().id().name());
      break;
    case pb::ToDataplane::kActiveProfileUpdate: {
      const auto& u = message.active_profile_update();
      policyRules_["r:" + u.id().name()] =
          u.profile().inbound_rules_size() + u.profile().outbound_rules_size();
      break;
    }
    case pb::ToDataplane::kActiveProfileRemove:
      policyRules_.erase("r:" + message.active_profile_remove().id().name());
      break;
    default:
      break;
  }
  pending_.messages.push_back(message);
}

}  // namespace tartan::agent
