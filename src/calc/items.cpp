// Items (endpoints, network sets), their interned label sets, and the namespace / service-account
// parents whose labels they inherit. A change to any of them is turned into "which selectors
// could have flipped" via the set index, then evaluated once per label set.
#include "graph_state.hpp"
#include "hash.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace tartan::calc {
namespace {

template <class Map, class K>
void eraseFrom(Map& map, const K& key, uint32_t value) {
  auto it = map.find(key);
  if (it == map.end()) return;
  auto& vec = it->second;
  auto pos = std::find(vec.begin(), vec.end(), value);
  if (pos != vec.end()) {
    *pos = vec.back();
    vec.pop_back();
  }
  if (vec.empty()) map.erase(it);
}

void eraseValue(std::vector<uint32_t>& vec, uint32_t value) {
  auto pos = std::find(vec.begin(), vec.end(), value);
  if (pos != vec.end()) {
    *pos = vec.back();
    vec.pop_back();
  }
}

}  // namespace

void SelectorIndex::add(uint32_t id, const Anchor& anchor) {
  switch (anchor.kind) {
    case Anchor::Kind::kLabels:
      for (StrId v : anchor.values) byLabel_[labelKey(anchor.key, v)].push_back(id);
      break;
    case Anchor::Kind::kKey:
      byKey_[anchor.key].push_back(id);
      break;
    case Anchor::Kind::kNone:
      unanchored_.push_back(id);
      break;
  }
}

void SelectorIndex::remove(uint32_t id, const Anchor& anchor) {
  switch (anchor.kind) {
    case Anchor::Kind::kLabels:
      for (StrId v : anchor.values) eraseFrom(byLabel_, labelKey(anchor.key, v), id);
      break;
    case Anchor::Kind::kKey:
      eraseFrom(byKey_, anchor.key, id);
      break;
    case Anchor::Kind::kNone:
      eraseValue(unanchored_, id);
      break;
  }
}

uint32_t CalcGraph::Impl::parentId(std::string_view key) {
  if (auto it = parentsByKey_.find(key); it != parentsByKey_.end()) return it->second;
  const auto id = static_cast<uint32_t>(parents_.size());
  parentsByKey_.emplace(std::string(key), id);
  parents_.emplace_back();
  return id;
}

LabelVec CalcGraph::Impl::internLabels(const model::Labels& labels) {
  LabelVec out;
  out.reserve(labels.size());
  for (const auto& [k, v] : labels) out.push_back(Label{interner_.intern(k), interner_.intern(v)});
  std::sort(out.begin(), out.end());
  return out;
}

uint32_t CalcGraph::Impl::internLabelSet(const LabelVec& own, uint32_t ns, uint32_t sa) {
  uint64_t hash = kHashBasis;
  auto mix = [&hash](uint64_t v) {
    hash ^= v;
    hash *= kHashPrime;
  };
  for (const Label& l : own) mix(labelKey(l.key, l.value));
  mix(labelKey(ns, sa));
  for (auto [it, end] = labelSetsByHash_.equal_range(hash); it != end; ++it) {
    const LabelSet& candidate = labelSets_[it->second];
    if (candidate.ns == ns && candidate.sa == sa && candidate.own == own) return it->second;
  }

  uint32_t id;
  if (!freeLabelSets_.empty()) {
    id = freeLabelSets_.back();
    freeLabelSets_.pop_back();
  } else {
    id = static_cast<uint32_t>(labelSets_.size());
    labelSets_.emplace_back();
    stamp_.push_back(0);
  }
  LabelSet& ls = labelSets_[id];
  ls.own.assign(own.begin(), own.end());  // exactly sized: 23k of them live
  ls.ns = ns;
  ls.sa = sa;
  ls.items.clear();
  ls.hash = hash;
  for (const Label& l : ls.own) {
    labelSetsByLabel_[labelKey(l.key, l.value)].push_back(id);
    labelSetsByKeyOnly_[l.key].push_back(id);
  }
  if (ns != kNone) parents_[ns].labelSets.push_back(id);
  if (sa != kNone) parents_[sa].labelSets.push_back(id);
  labelSetsByHash_.emplace(hash, id);
  return id;
}

void CalcGraph::Impl::releaseLabelSet(uint32_t id, uint32_t item) {
  LabelSet& ls = labelSets_[id];
  eraseValue(ls.items, item);
  if (!ls.items.empty()) return;
  for (const Label& l : ls.own) {
    eraseFrom(labelSetsByLabel_, labelKey(l.key, l.value), id);
    eraseFrom(labelSetsByKeyOnly_, l.key, id);
  }
  if (ls.ns != kNone) eraseValue(parents_[ls.ns].labelSets, id);
  if (ls.sa != kNone) eraseValue(parents_[ls.sa].labelSets, id);
  for (auto [it, end] = labelSetsByHash_.equal_range(ls.hash); it != end; ++it) {
    if (it->second == id) {
      labelSetsByHash_.erase(it);
      break;
    }
  }
  ls.own = LabelVec();

  ls.items = std::vector<uint32_t>();
  freeLabelSets_.push_back(id);
}

LabelView CalcGraph::Impl::view(uint32_t labelSet) const {
  const LabelSet& ls = labelSets_[labelSet];
  return view(ls, ls.ns != kNone ? &parents_[ls.ns].labels : nullptr,
              ls.sa != kNone ? &parents_[ls.sa].labels : nullptr);
}

LabelView CalcGraph::Impl::view(const LabelSet& ls, const LabelVec* nsLabels,
                                const LabelVec* saLabels) const {
  return LabelView{&ls.own, nsLabels, saLabels};
}

uint32_t CalcGraph::Impl::itemId(std::string_view key, bool create) {
  if (!create) {
    const uint32_t found = itemsByKey_.find(key);
    return found != ItemKeys::kAbsent ? found : kNone;
  }
  return itemsByKey_.findOrInsert(key, [this] {
    if (!freeItems_.empty()) {
      const uint32_t id = freeItems_.back();
      freeItems_.pop_back();
      return id;
    }
    items_.emplace_back();
    return static_cast<uint32_t>(items_.size() - 1);
  });
}

bool CalcGraph::Impl::matches(const SelectorProgram& program, const LabelView& v) {
  ++stats_.selectorEvaluations;
  return program.matches(v, interner_);
}

void CalcGraph::Impl::applyItemChange(uint32_t id, const std::optional<ItemSnapshot>& before,
                                      const std::optional<ItemSnapshot>& after) {
  (void)id;
  std::vector<uint32_t> candidates;
  const uint32_t stamp = ++stampValue_;
  auto visit = [&](uint32_t s) {
    if (setStamp_[s] == stamp) return;
    setStamp_[s] = stamp;
    candidates.push_back(s);
  };
  if (before) setIndex_.candidates(view(before->labelSet), visit);
  if (after) setIndex_.candidates(view(after->labelSet), visit);
  for (uint32_t s : candidates) {
    SetState& set = sets_[s];
    if (set.refs == 0) continue;
    const bool was = before && matches(*set.program, view(before->labelSet));
    const bool is = after && matches(*set.program, view(after->labelSet));
    if (was && is && before->members == after->members && before->ports == after->ports) {
      continue;
    }
    if (is) contribute(s, after->members, after->ports, true);
    if (was) contribute(s, before->members, before->ports, false);
  }
}

void CalcGraph::Impl::setItem(uint32_t id, std::optional<ItemSnapshot> next, ItemKind kind,
                              std::unique_ptr<LocalInfo> local) {
  Item& item = items_[id];
  std::optional<ItemSnapshot> before;
  if (item.alive) before = ItemSnapshot{item.labelSet, item.members, item.ports()};
  const bool sameLabelSet = before && next && before->labelSet == next->labelSet;
  if (next && !sameLabelSet) labelSets_[next->labelSet].items.push_back(id);
  applyItemChange(id, before, next);
  if (before && !sameLabelSet) releaseLabelSet(before->labelSet, id);

  const bool wasLocal = item.local;
  const bool wasEndpoint = item.alive && item.kind() != ItemKind::kNetworkSet;
  const bool isEndpoint = next.has_value() && kind != ItemKind::kNetworkSet;
  stats_.endpoints += static_cast<std::size_t>(isEndpoint) - static_cast<std::size_t>(wasEndpoint);
  if (next) {
    item.alive = true;
    item.setKind(kind);
    item.labelSet = next->labelSet;
    item.members = std::move(next->members);
    item.setPorts(next->ports);
    item.local = local != nullptr;
  } else {
    item.alive = false;
    item.labelSet = kNone;
    item.members = MemberList();
    item.setPorts(kNone);
    item.local = false;
  }

  if (item.local) {
    LocalEndpointState& ep = localEndpoints_[id];
    ep.info = std::move(local);
    ep.host = kind == ItemKind::kHost;
    recomputeLocalMatches(id);
    markEndpointDirty(id);
  } else if (wasLocal) {
    auto it = localEndpoints_.find(id);
    std::set<uint32_t> policies = it->second.policies;
    for (uint32_t p : policies) setPolicyMatch(p, id, false);
    for (const std::string& profile : it->second.profiles) {
      if (--profileRefs_[profile] == 0) profileRefs_.erase(profile);
    }
    localEndpoints_.erase(it);
    localIndex_.erase(id);
  }
  if (!next) freeItems_.push_back(id);
}

void CalcGraph::Impl::applyParentChange(uint32_t parentIndex, LabelVec newLabels, bool exists) {
  Parent& parent = parents_[parentIndex];
  const bool existsChanged = parent.exists != exists;
  parent.exists = exists;
  std::vector<uint32_t> localItems;
  if (parent.labels != newLabels) {
    LabelVec old = std::move(parent.labels);
    for (const Label& l : old) {
      eraseFrom(parentsByLabel_, labelKey(l.key, l.value), parentIndex);
      eraseFrom(parentsByKeyOnly_, l.key, parentIndex);
    }
    parent.labels = std::move(newLabels);
    for (const Label& l : parent.labels) {
      parentsByLabel_[labelKey(l.key, l.value)].push_back(parentIndex);
      parentsByKeyOnly_[l.key].push_back(parentIndex);
    }
    for (uint32_t lsId : parent.labelSets) {
      const LabelSet& ls = labelSets_[lsId];
      auto pick = [&](uint32_t p, const LabelVec* current) -> const LabelVec* {
        if (p == parentIndex) return current;
        return p != kNone ? &parents_[p].labels : nullptr;
      };
      const LabelView before = view(ls, pick(ls.ns, &old), pick(ls.sa, &old));
      const LabelView after = view(lsId);
      std::vector<uint32_t> candidates;
      const uint32_t stamp = ++stampValue_;
      auto visit = [&](uint32_t s) {
        if (setStamp_[s] == stamp) return;
        setStamp_[s] = stamp;
        candidates.push_back(s);
      };
      setIndex_.candidates(before, visit);
      setIndex_.candidates(after, visit);
      for (uint32_t s : candidates) {
        if (sets_[s].refs == 0) continue;
        const bool was = matches(*sets_[s].program, before);
        const bool is = matches(*sets_[s].program, after);
        if (was == is) continue;
        for (uint32_t itemIndex : ls.items) {
          contribute(s, items_[itemIndex].members, items_[itemIndex].ports(), is);
        }
      }
      for (uint32_t itemIndex : ls.items) {
        if (items_[itemIndex].local) localItems.push_back(itemIndex);
      }
    }
  } else if (existsChanged) {
    for (uint32_t lsId : parent.labelSets) {
      for (uint32_t itemIndex : labelSets_[lsId].items) {
        if (items_[itemIndex].local) localItems.push_back(itemIndex);
      }
    }
  }
  for (uint32_t itemIndex : localItems) {
    recomputeLocalMatches(itemIndex);
    markEndpointDirty(itemIndex);
  }
}

}  // namespace tartan::calc
