// IP set delta tracking and sequencing; see tartan/dataplane/iptables/ip_sets.hpp.
#include "tartan/dataplane/iptables/ip_sets.hpp"

#include "tartan/common/log.hpp"

#include <algorithm>

namespace tartan::dataplane::iptables {

namespace {
// A change touching more than this share of a set is written as rebuild-and-swap.
constexpr std::size_t kBulkMinimum = 256;
}  // namespace

std::vector<std::string> IpSets::canonical(const std::vector<std::string>& members, IpSetType type) const {
  std::vector<std::string> out;
  out.reserve(members.size());
  for (const auto& raw : members) {
    if (memberFamily(raw) != family_) continue;
    std::string member = canonicalMember(raw, type);
    if (member.empty()) {
      log::get("ipsets")->warn("ignoring invalid IP set member '{}'", raw);
      continue;
    }
    // hash:net cannot hold a /0: split it into two halves, as Calico does.
    if (member == "0.0.0.0/0") {
      out.insert(out.end(), {"0.0.0.0/1", "128.0.0.0/1"});
      continue;
    }
    if (member == "::/0") {
      out.insert(out.end(), {"::/1", "8000::/1"});
      continue;
    }
    out.push_back(std::move(member));
  }
  return out;
}

namespace {
std::string nameOf(IpFamily family, const std::string& id, IpSetType type) {
  return names::ipSet(family, id, type == IpSetType::kIpPort);
}
}  // namespace

IpSets::Wanted& IpSets::wanted(const std::string& id, IpSetType type) {
  const std::string name = nameOf(family_, id, type);
  auto& w = desired_[name];
  w.id = id;
  w.type = type;
  dirty_.insert(name);
  return w;
}

void IpSets::replace(const std::string& id, IpSetType type, const std::vector<std::string>& members) {
  if (auto old = described_.find(id); old != described_.end() && old->second != type) remove(id);
  described_[id] = type;
  auto& w = wanted(id, type);
  w.described = true;
  auto list = canonical(members, type);
  w.members = std::set<std::string>(list.begin(), list.end());
  w.fullCompare = true;
  w.pendingAdds.clear();
  w.pendingDels.clear();
}

void IpSets::applyDelta(const std::string& id, const std::vector<std::string>& added,
                        const std::vector<std::string>& removed) {
  auto type = described_.find(id);
  if (type == described_.end()) {
    log::get("ipsets")->warn("delta for unknown IP set '{}' ignored", id);
    return;
  }
  auto& w = wanted(id, type->second);
  for (auto& m : canonical(removed, w.type)) {
    if (w.members.erase(m) != 0 && !w.fullCompare && w.pendingAdds.erase(m) == 0) w.pendingDels.insert(m);
  }
  for (auto& m : canonical(added, w.type)) {
    if (w.members.insert(m).second && !w.fullCompare && w.pendingDels.erase(m) == 0) w.pendingAdds.insert(m);
  }
}

void IpSets::remove(const std::string& id) {
  auto type = described_.find(id);
  if (type == described_.end()) return;
  const std::string name = nameOf(family_, id, type->second);
  described_.erase(type);
  auto it = desired_.find(name);
  if (it == desired_.end()) return;
  it->second.described = false;
  it->second.members.clear();
  it->second.fullCompare = true;
  dirty_.insert(name);
  forgetIfUnwanted(name);
}

void IpSets::addReference(const std::string& id, bool namedPort) {
  ++wanted(id, namedPort ? IpSetType::kIpPort : IpSetType::kNet).references;
}

void IpSets::dropReference(const std::string& id, bool namedPort) {
  const std::string name = nameOf(family_, id, namedPort ? IpSetType::kIpPort : IpSetType::kNet);
  auto it = desired_.find(name);
  if (it == desired_.end()) return;
  --it->second.references;
  forgetIfUnwanted(name);
}

void IpSets::forgetIfUnwanted(const std::string& name) {
  auto it = desired_.find(name);
  if (it != desired_.end() && !it->second.described && it->second.references <= 0) {
    desired_.erase(it);
    dirty_.insert(name);
  }
}

const std::set<std::string>* IpSets::desiredMembers(const std::string& id) const {
  auto type = described_.find(id);
  if (type == described_.end()) return nullptr;
  auto it = desired_.find(nameOf(family_, id, type->second));
  return it == desired_.end() ? nullptr : &it->second.members;
}

Result<void> IpSets::resync(IpSetKernel& kernel) {
  auto sets = kernel.listOurs();
  if (!sets) return sets.error();
  programmed_.clear();
  for (auto& set : *sets) {
    if (set.family != family_) continue;
    const IpSetType type = set.type == "hash:ip,port" ? IpSetType::kIpPort : IpSetType::kNet;
    programmed_[set.name] = Programmed{type, std::move(set.members), set.type != ipSetTypeName(type)};
    dirty_.insert(set.name);
  }
  for (auto& [name, w] : desired_) {
    w.fullCompare = true;
    dirty_.insert(name);
  }
  known_ = true;
  return {};
}

Result<void> IpSets::rebuild(IpSetKernel& kernel, const std::string& name, Wanted& w) {
  const std::string temp = names::ipSetTemporary(family_, w.id);
  if (programmed_.count(temp) != 0) {
    if (auto r = kernel.destroy(temp); !r) return r;
    programmed_.erase(temp);
    ++stats_.destroys;
  }
  if (auto r = kernel.create(temp, w.type, family_, maxElements_); !r) return r;
  ++stats_.creates;
  if (auto r = kernel.update(temp, {}, w.members); !r) return r;
  stats_.adds += w.members.size();
  // swap exchanges the contents and types of the two sets atomically; rules keep their reference.
  if (auto r = kernel.swap(name, temp); !r) return r;
  ++stats_.swaps;
  if (auto r = kernel.destroy(temp); !r) return r;
  ++stats_.destroys;
  return {};
}

Result<void> IpSets::sync(IpSetKernel& kernel, const std::string& name, Wanted& w) {
  auto it = programmed_.find(name);
  if (it == programmed_.end()) {
    if (auto r = kernel.create(name, w.type, family_, maxElements_); !r) return r;
    ++stats_.creates;
    auto& created = programmed_[name] = Programmed{w.type, {}};
    if (auto r = kernel.update(name, {}, w.members); !r) return r;
    stats_.adds += w.members.size();
    created.members = w.members;
  } else if (it->second.type != w.type || it->second.foreignType) {
    // Not a set we made (the kernel cannot swap across types): replace it outright. Destroy
    // fails while a rule still refers to it, and the apply is retried.
    if (auto r = kernel.destroy(name); !r) return r;
    ++stats_.destroys;
    programmed_.erase(it);
    return sync(kernel, name, w);
  } else {
    std::set<std::string> adds, dels;
    if (w.fullCompare) {
      std::set_difference(w.members.begin(), w.members.end(), it->second.members.begin(),
                          it->second.members.end(), std::inserter(adds, adds.end()));
      std::set_difference(it->second.members.begin(), it->second.members.end(), w.members.begin(),
                          w.members.end(), std::inserter(dels, dels.end()));
    } else {
      adds = std::move(w.pendingAdds);
      dels = std::move(w.pendingDels);
    }
    auto& programmed = it->second.members;
    if (adds.size() + dels.size() > std::max(kBulkMinimum, w.members.size() / 2)) {
      if (auto r = rebuild(kernel, name, w); !r) return r;
      programmed = w.members;
    } else {
      if (auto r = kernel.update(name, dels, adds); !r) return r;
      stats_.dels += dels.size();
      stats_.adds += adds.size();
      // The programmed copy follows the delta: copying a large set for a one-member change
      // would make every pod add cost as much as the set is big.
      for (const auto& m : dels) programmed.erase(m);
      programmed.insert(adds.begin(), adds.end());
    }
  }
  w.fullCompare = false;
  w.pendingAdds.clear();
  w.pendingDels.clear();
  return {};
}

Result<void> IpSets::applyAdditions(IpSetKernel& kernel) {
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    auto w = desired_.find(*it);
    if (w == desired_.end()) {
      ++it;  // a removal: later
      continue;
    }
    if (auto r = sync(kernel, *it, w->second); !r) {
      w->second.fullCompare = true;
      known_ = false;  // the kernel may hold a partial change
      return r;
    }
    it = dirty_.erase(it);
  }
  return {};
}

Result<void> IpSets::applyRemovals(IpSetKernel& kernel) {
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    if (desired_.count(*it) != 0) {
      ++it;
      continue;
    }
    if (programmed_.count(*it) != 0) {
      if (auto r = kernel.destroy(*it); !r) return r;  // still referenced: retried next apply
      ++stats_.destroys;
      programmed_.erase(*it);
    }
    it = dirty_.erase(it);
  }
  return {};
}

}  // namespace tartan::dataplane::iptables
