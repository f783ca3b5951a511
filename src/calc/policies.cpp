// Policy resolver: which policies select which local endpoints, and which policies are active
// (select at least one). Activation takes references on the IP sets the policy's rules use.
#include "graph_state.hpp"

#include "tartan/common/log.hpp"

#include <algorithm>
#include <cctype>

namespace tartan::calc {

void CalcGraph::Impl::markEndpointDirty(uint32_t item) {
  if (auto it = localEndpoints_.find(item); it != localEndpoints_.end()) it->second.dirty = true;
}

void CalcGraph::Impl::recomputeLocalMatches(uint32_t item) {
  const LabelView v = view(items_[item].labelSet);
  localIndex_.set(item, v);  // its labels may have changed: re-file it for updatePolicy
  std::set<uint32_t> now;
  const uint32_t stamp = ++stampValue_;
  policyIndex_.candidates(v, [&](uint32_t p) {
    if (policyStamp_[p] == stamp) return;
    policyStamp_[p] = stamp;
    if (policies_[p].alive && matches(*policies_[p].program, v)) now.insert(p);
  });
  const std::set<uint32_t> before = localEndpoints_[item].policies;
  for (uint32_t p : before) {
    if (!now.count(p)) setPolicyMatch(p, item, false);
  }
  for (uint32_t p : now) {
    if (!before.count(p)) setPolicyMatch(p, item, true);
  }
}

void CalcGraph::Impl::setPolicyMatch(uint32_t p, uint32_t item, bool match) {
  PolicyState& policy = policies_[p];
  LocalEndpointState& ep = localEndpoints_[item];
  auto pos = std::lower_bound(policy.localMatches.begin(), policy.localMatches.end(), item);
  const bool had = pos != policy.localMatches.end() && *pos == item;
  if (match) {
    if (had) return;
    policy.localMatches.insert(pos, item);
    ep.policies.insert(p);
    ep.dirty = true;
    if (!policy.active) activate(p);
  } else {
    if (!had) return;
    policy.localMatches.erase(pos);
    ep.policies.erase(p);
    ep.dirty = true;
    if (policy.localMatches.empty() && policy.active) deactivate(p);
  }
}

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

void CalcGraph::Impl::activate(uint32_t p) {
  PolicyState& policy = policies_[p];
  policy.active = true;
  ++stats_.activePolicies;
  std::vector<uint32_t> refs;
  auto entity = [&](const EntityDef& e, const std::optional<model::Protocol>& protocol, bool destination) {
    if (!e.service.empty()) {
      refs.push_back(
          acquireServiceSet(destination ? SetKind::kService : SetKind::kServiceAddresses, e.service));
    }
    if (!e.selector.empty()) refs.push_back(acquireSet(SetKind::kSelector, e.selector, 0, 0));
    if (!e.notSelector.empty()) {
      refs.push_back(acquireSet(SetKind::kSelector, e.notSelector, 0, 0));
    }
    const std::string& sel = e.selector.empty() ? std::string("all()") : e.selector;
    for (const auto* ports : {&e.ports, &e.notPorts}) {
      for (const model::Port& port : *ports) {
        if (!port.isNamed()) continue;
        // No protocol: the named port of any protocol the endpoint gives it (Calico's rule).
        const StrId name = interner_.intern(port.name);
        const StrId proto = interner_.intern(protocol ? lower(protocol->toString()) : std::string());
        refs.push_back(acquireSet(SetKind::kNamedPort, sel, name, proto));
      }
    }
  };
  PolicyDef def;
  unpackPolicyBody(policy.body, def);
  for (const auto* rules : {&def.ingress, &def.egress}) {
    for (const RuleDef& r : *rules) {
      entity(r.source, r.protocol, false);
      entity(r.destination, r.protocol, true);
    }
  }
  policies_[p].setRefs = std::move(refs);
  dirtyPolicies_.insert(p);
}

void CalcGraph::Impl::deactivate(uint32_t p) {
  PolicyState& policy = policies_[p];
  policy.active = false;
  --stats_.activePolicies;
  std::vector<uint32_t> refs = std::move(policy.setRefs);
  policy.setRefs.clear();
  for (uint32_t s : refs) releaseSet(s);
  dirtyPolicies_.insert(p);
}

void CalcGraph::Impl::updatePolicy(const std::string& key, std::optional<PolicyDef> def) {
  auto found = policiesByKey_.find(key);
  if (!def) {
    if (found == policiesByKey_.end()) return;
    const uint32_t p = found->second;
    PolicyState& policy = policies_[p];
    for (uint32_t item : policy.localMatches) {
      auto& ep = localEndpoints_[item];
      ep.policies.erase(p);
      ep.dirty = true;
    }
    policy.localMatches.clear();
    if (policy.active) deactivate(p);
    policyIndex_.remove(p, policy.program->anchor());
    policy = PolicyState{};
    dirtyPolicies_.erase(p);
    freePolicies_.push_back(p);
    policiesByKey_.erase(found);
    return;
  }

  uint32_t p;
  bool existed = found != policiesByKey_.end();
  if (existed) {
    p = found->second;
    if (policies_[p].def.sameAs(*def) && policies_[p].body == packPolicyBody(*def)) {
      return;  // a duplicate update
    }
    policyIndex_.remove(p, policies_[p].program->anchor());
  } else {
    if (!freePolicies_.empty()) {
      p = freePolicies_.back();
      freePolicies_.pop_back();
    } else {
      p = static_cast<uint32_t>(policies_.size());
      policies_.emplace_back();
      policyStamp_.push_back(0);
    }
    policiesByKey_.emplace(key, p);
    policies_[p] = PolicyState{};
    policies_[p].alive = true;
  }
  const bool wasActive = policies_[p].active;
  std::vector<uint32_t> oldRefs;
  if (wasActive) oldRefs = policies_[p].setRefs;
  // Endpoints that listed the policy may order it differently now (order, tier, types).
  for (uint32_t item : policies_[p].localMatches) markEndpointDirty(item);

  auto program = SelectorProgram::compile(def->selector, interner_);
  policies_[p].body = packPolicyBody(*def);
  policies_[p].def = PolicyHeader::of(std::move(*def));
  if (!program) {
    log::get("calc")->warn("policy {}: selector does not compile; it selects nothing", key);
    program = SelectorProgram::compile("!all()", interner_);
  }
  policies_[p].program = std::move(program);
  policyIndex_.add(p, policies_[p].program->anchor());

  if (wasActive) {
    // New references first, so that a set used before and after is never dropped and re-sent.
    policies_[p].active = false;
    --stats_.activePolicies;  // activate() counts it again
    policies_[p].setRefs.clear();
    activate(p);
    for (uint32_t s : oldRefs) releaseSet(s);
  }
  // Only the local endpoints carrying the label or key the selector requires can match; those
  // it matched before and no longer may are unmatched without evaluating.
  std::vector<uint32_t> now;
  const SelectorProgram& compiled = *policies_[p].program;
  localIndex_.candidates(compiled.anchor(), [&](uint32_t item) {
    if (matches(compiled, view(items_[item].labelSet))) now.push_back(item);
  });
  std::sort(now.begin(), now.end());
  const std::vector<uint32_t> before = policies_[p].localMatches;
  for (uint32_t item : before) {
    if (!std::binary_search(now.begin(), now.end(), item)) setPolicyMatch(p, item, false);
  }
  for (uint32_t item : now) setPolicyMatch(p, item, true);
  for (uint32_t item : policies_[p].localMatches) markEndpointDirty(item);
  dirtyPolicies_.insert(p);
}

}  // namespace tartan::calc
