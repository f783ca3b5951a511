// IP-set calculator: the members of every set an active rule refers to. A set exists while some
// active policy holds a reference; its members are reference-counted (two endpoints may share an
// address, a network set may repeat a net), and the members added and removed since the last
// flush are kept so that flush() can send a delta instead of the whole set.
#include "graph_state.hpp"
#include "hash.hpp"

#include "tartan/selector/selector.hpp"

#include <cstdio>

namespace tartan::calc {

uint32_t CalcGraph::Impl::internPorts(const std::vector<NamedPort>& ports) {
  if (ports.empty()) return kNone;
  // The fields, not the struct's bytes: its padding is indeterminate.
  std::string& key = scratchPortKey_;
  key.clear();
  for (const NamedPort& p : ports) {
    key.append(reinterpret_cast<const char*>(&p.name), sizeof p.name);
    key.append(reinterpret_cast<const char*>(&p.protocol), sizeof p.protocol);
    key.append(reinterpret_cast<const char*>(&p.port), sizeof p.port);
  }
  if (auto it = portListsByKey_.find(key); it != portListsByKey_.end()) return it->second;
  const auto id = static_cast<uint32_t>(portLists_.size());
  portListsByKey_.emplace(key, id);
  portLists_.push_back(ports);
  return id;
}

void CalcGraph::Impl::addMember(uint32_t s, Member member) {
  SetState& set = sets_[s];
  if (set.members.increment(member) != 1) return;
  if (set.sent && !set.needFull && !set.removed.erase(member)) set.added.insert(member);
  if (!set.dirty) {
    set.dirty = true;
    dirtySets_.insert(s);
  }
}

void CalcGraph::Impl::removeMember(uint32_t s, Member member) {
  SetState& set = sets_[s];
  if (set.members.decrement(member) != 0) return;
  if (set.sent && !set.needFull && !set.added.erase(member)) set.removed.insert(member);
  if (!set.dirty) {
    set.dirty = true;
    dirtySets_.insert(s);
  }
}

void CalcGraph::Impl::contribute(uint32_t s, const MemberList& members, uint32_t ports, bool add) {
  if (sets_[s].kind == SetKind::kSelector) {
    for (Member m : members) add ? addMember(s, m) : removeMember(s, m);
    return;
  }
  if (ports == kNone) return;
  // Named port: "<ip>,<protocol>:<port>" for each address of an endpoint whose port of that
  // name and protocol exists (resolved per endpoint, as Kubernetes resolves named ports); a set
  // for a rule without a protocol takes the port of that name whatever its protocol.
  const bool anyProtocol = interner_.text(sets_[s].portProtocol).empty();
  for (const NamedPort& port : portLists_[ports]) {
    if (port.name != sets_[s].portName || (!anyProtocol && port.protocol != sets_[s].portProtocol)) continue;
    const int code = protocolCode(interner_.text(port.protocol));
    for (Member ip : members) {
      if (isNet(ip, memberStrings_)) continue;  // nets never carry named ports
      const Member member = withPort(ip, code, port.port, memberStrings_);
      add ? addMember(s, member) : removeMember(s, member);
    }
  }
}

std::size_t CalcGraph::Impl::anchorCardinality(const Anchor& anchor) const {
  std::size_t n = 0;
  auto parentSets = [&](const std::vector<uint32_t>& parents) {
    for (uint32_t p : parents) n += parents_[p].labelSets.size();
  };
  switch (anchor.kind) {
    case Anchor::Kind::kLabels:
      for (StrId v : anchor.values) {
        const uint64_t k = labelKey(anchor.key, v);
        if (auto it = labelSetsByLabel_.find(k); it != labelSetsByLabel_.end()) {
          n += it->second.size();
        }
        if (auto it = parentsByLabel_.find(k); it != parentsByLabel_.end()) parentSets(it->second);
      }
      return n;
    case Anchor::Kind::kKey:
      if (auto it = labelSetsByKeyOnly_.find(anchor.key); it != labelSetsByKeyOnly_.end()) {
        n += it->second.size();
      }
      if (auto it = parentsByKeyOnly_.find(anchor.key); it != parentsByKeyOnly_.end()) {
        parentSets(it->second);
      }
      return n;
    case Anchor::Kind::kNone:
      break;
  }
  return labelSets_.size();
}

std::vector<uint32_t> CalcGraph::Impl::labelSetsFor(const Anchor& anchor) {
  std::vector<uint32_t> out;
  const uint32_t stamp = ++stampValue_;
  auto take = [&](const std::vector<uint32_t>& ids) {
    for (uint32_t id : ids) {
      if (stamp_[id] == stamp) continue;
      stamp_[id] = stamp;
      out.push_back(id);
    }
  };
  auto takeParents = [&](const std::vector<uint32_t>& parents) {
    for (uint32_t p : parents) take(parents_[p].labelSets);
  };
  switch (anchor.kind) {
    case Anchor::Kind::kLabels:
      for (StrId v : anchor.values) {
        const uint64_t k = labelKey(anchor.key, v);
        if (auto it = labelSetsByLabel_.find(k); it != labelSetsByLabel_.end()) take(it->second);
        if (auto it = parentsByLabel_.find(k); it != parentsByLabel_.end()) takeParents(it->second);
      }
      break;
    case Anchor::Kind::kKey:
      if (auto it = labelSetsByKeyOnly_.find(anchor.key); it != labelSetsByKeyOnly_.end()) {
        take(it->second);
      }
      if (auto it = parentsByKeyOnly_.find(anchor.key); it != parentsByKeyOnly_.end()) {
        takeParents(it->second);
      }
      break;
    case Anchor::Kind::kNone:
      for (uint32_t id = 0; id < labelSets_.size(); ++id) {
        if (!labelSets_[id].items.empty()) out.push_back(id);
      }
      break;
  }
  return out;
}

std::string CalcGraph::Impl::setIdFor(SetKind kind, const std::string& selector, StrId portName,
                                      StrId portProtocol) const {
  if (kind == SetKind::kSelector) {
    // Calico's selector IP-set id: the selector's UniqueID().
    auto parsed = selector::parse(selector);
    return parsed ? parsed->uniqueId() : "s:invalid";
  }
  char buf[24];
  std::snprintf(
      buf, sizeof buf, "%016llx",
      static_cast<unsigned long long>(fnv1a(std::string(interner_.text(portProtocol)) + "|" +
                                            std::string(interner_.text(portName)) + "|" + selector)));
  return std::string("n:") + buf;
}

std::pair<uint32_t, bool> CalcGraph::Impl::claimSetSlot(std::string key,
                                                        const std::function<void(SetState&)>& identify) {
  uint32_t s;
  if (auto it = setsByKey_.find(key); it != setsByKey_.end()) {
    s = it->second;
    if (sets_[s].refs > 0) {
      ++sets_[s].refs;
      return {s, true};
    }
  } else {
    if (!freeSets_.empty()) {
      s = freeSets_.back();
      freeSets_.pop_back();
    } else {
      s = static_cast<uint32_t>(sets_.size());
      sets_.emplace_back();
      setStamp_.push_back(0);
    }
    SetState& set = sets_[s];
    set = SetState{};
    identify(set);
    set.key = key;
    setsByKey_.emplace(std::move(key), s);
  }
  SetState& set = sets_[s];
  set.refs = 1;
  // A set revived before its removal was flushed is re-sent whole.
  if (set.sent) set.needFull = true;
  set.added.clear();
  set.removed.clear();
  return {s, false};
}

uint32_t CalcGraph::Impl::acquireSet(SetKind kind, const std::string& selectorText, StrId portName,
                                     StrId portProtocol) {
  std::string key = kind == SetKind::kSelector
                        ? "s|" + selectorText
                        : "n|" + std::string(interner_.text(portProtocol)) + "|" +
                              std::string(interner_.text(portName)) + "|" + selectorText;
  auto [s, live] = claimSetSlot(std::move(key), [&](SetState& set) {
    set.kind = kind;
    set.portName = portName;
    set.portProtocol = portProtocol;
    set.program = SelectorProgram::compile(selectorText, interner_);
    if (!set.program) set.program = SelectorProgram::compile("!all()", interner_);
    set.id = setIdFor(kind, selectorText, portName, portProtocol);
  });
  if (live) return s;
  SetState& set = sets_[s];
  // Anchored on whichever of its labels the fewest label sets carry now: "pcns.team == x &&
  // tier == frontend" is filed under the team (20 namespaces) rather than the tier (a third of
  // all pods). Any required label is a correct anchor; the count only decides the cost.
  set.anchor = set.program->anchor();
  std::size_t best = anchorCardinality(set.anchor);
  for (Anchor& a : set.program->anchors()) {
    const std::size_t n = anchorCardinality(a);
    if (n < best) {
      best = n;
      set.anchor = std::move(a);
    }
  }
  std::vector<uint32_t> matching;
  std::size_t expected = 0;  // members to come (for a named-port set, at most this many)
  for (uint32_t ls : labelSetsFor(set.anchor)) {
    if (!matches(*set.program, view(ls))) continue;
    matching.push_back(ls);
    for (uint32_t item : labelSets_[ls].items) expected += items_[item].members.size();
  }
  // Sized once for what it is about to hold: no doubling on the way (nor its transient peak).
  if (kind == SetKind::kSelector) set.members.reserve(expected);
  for (uint32_t ls : matching) {
    for (uint32_t item : labelSets_[ls].items) {
      contribute(s, items_[item].members, items_[item].ports(), true);
    }
  }
  setIndex_.add(s, set.anchor);
  if (!set.dirty) {
    set.dirty = true;
    dirtySets_.insert(s);
  }
  return s;
}

void CalcGraph::Impl::releaseSet(uint32_t s) {
  SetState& set = sets_[s];
  if (--set.refs != 0) return;
  if (set.kind == SetKind::kService || set.kind == SetKind::kServiceAddresses) {
    releaseServiceSet(s);
  } else {
    setIndex_.remove(s, set.anchor);
  }
  set.members.clear();
  set.added.clear();
  set.removed.clear();
  if (!set.dirty) {
    set.dirty = true;
    dirtySets_.insert(s);
  }
}

}  // namespace tartan::calc
