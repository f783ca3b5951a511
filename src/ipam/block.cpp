// block.cpp — allocation, release and bookkeeping inside one block.
#include "block.hpp"

#include <algorithm>
#include <set>

namespace tartan::ipam {

namespace {

// The attribute's index, added if no equal attribute exists (Calico's findOrAddAttribute).
int findOrAddAttribute(IPAMBlockSpec& block, const AllocationAttribute& attribute) {
  for (size_t i = 0; i < block.attributes.size(); ++i) {
    if (block.attributes[i] == attribute) return static_cast<int>(i);
  }
  block.attributes.push_back(attribute);
  return static_cast<int>(block.attributes.size() - 1);
}

// Removes attributes no allocation refers to and renumbers the rest.
void compactAttributes(IPAMBlockSpec& block) {
  // An index naming no attribute (a broken block) is left as it is.
  const size_t count = block.attributes.size();
  auto valid = [count](const std::optional<int>& a) {
    return a && *a >= 0 && static_cast<size_t>(*a) < count;
  };
  std::vector<int> used(block.attributes.size(), 0);
  for (const auto& a : block.allocations) {
    if (valid(a)) used[static_cast<size_t>(*a)] = 1;
  }
  std::vector<int> newIndex(block.attributes.size(), -1);
  std::vector<AllocationAttribute> kept;
  for (size_t i = 0; i < block.attributes.size(); ++i) {
    if (!used[i]) continue;
    newIndex[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(block.attributes[i]));
  }
  block.attributes = std::move(kept);
  for (auto& a : block.allocations) {
    if (valid(a)) a = newIndex[static_cast<size_t>(*a)];
  }
}

void stamp(IPAMBlockSpec& block, int ordinal) {
  block.sequenceNumberForAllocation[std::to_string(ordinal)] = block.sequenceNumber;
}

}  // namespace

IPAMBlockSpec newBlockSpec(const Cidr& cidr, std::optional<std::string> affinity, bool strictAffinity) {
  IPAMBlockSpec block;
  block.cidr = formatCidr(cidr);
  block.affinity = std::move(affinity);
  block.strictAffinity = strictAffinity;
  const int size = static_cast<int>(cidr.size());
  block.allocations.assign(static_cast<size_t>(size), std::nullopt);
  block.unallocated.reserve(static_cast<size_t>(size));
  for (int o = 0; o < size; ++o) block.unallocated.push_back(o);
  return block;
}

std::vector<int> allocateFromBlock(IPAMBlockSpec& block, const Cidr& cidr, int count,
                                   const AllocationAttribute& attribute, const std::vector<Cidr>& reserved) {
  std::vector<int> taken;
  if (count <= 0) return taken;
  std::vector<int> remaining;
  remaining.reserve(block.unallocated.size());
  for (int o : block.unallocated) {
    const Wide address = cidr.base + static_cast<Wide>(o);
    const bool isReserved = std::any_of(reserved.begin(), reserved.end(), [&](const Cidr& r) {
      return r.family == cidr.family && r.contains(address);
    });
    if (static_cast<int>(taken.size()) < count && !isReserved) {
      taken.push_back(o);
    } else {
      remaining.push_back(o);
    }
  }
  if (taken.empty()) return taken;
  const int index = findOrAddAttribute(block, attribute);
  for (int o : taken) {
    block.allocations[static_cast<size_t>(o)] = index;
    stamp(block, o);
  }
  block.unallocated = std::move(remaining);
  ++block.sequenceNumber;
  return taken;
}

bool assignOrdinal(IPAMBlockSpec& block, int ordinal, const AllocationAttribute& attribute) {
  if (ordinal < 0 || static_cast<size_t>(ordinal) >= block.allocations.size()) return false;
  if (block.allocations[static_cast<size_t>(ordinal)]) return false;
  auto it = std::find(block.unallocated.begin(), block.unallocated.end(), ordinal);
  if (it == block.unallocated.end()) return false;
  block.unallocated.erase(it);
  block.allocations[static_cast<size_t>(ordinal)] = findOrAddAttribute(block, attribute);
  stamp(block, ordinal);
  ++block.sequenceNumber;
  return true;
}

BlockRelease releaseFromBlock(IPAMBlockSpec& block, const std::vector<ReleaseRequest>& requests) {
  BlockRelease result;
  bool changed = false;
  for (const ReleaseRequest& r : requests) {
    if (r.ordinal < 0 || static_cast<size_t>(r.ordinal) >= block.allocations.size() ||
        !block.allocations[static_cast<size_t>(r.ordinal)]) {
      result.outcomes.push_back(ReleaseOutcome::kNotAllocated);
      continue;
    }
    if (r.sequenceNumber && sequenceNumberOf(block, r.ordinal) != r.sequenceNumber) {
      result.outcomes.push_back(ReleaseOutcome::kStale);
      continue;
    }
    auto& slot = block.allocations[static_cast<size_t>(r.ordinal)];
    if (*slot >= 0 && static_cast<size_t>(*slot) < block.attributes.size()) {
      const AllocationAttribute& attribute = block.attributes[static_cast<size_t>(*slot)];
      if (attribute.handleID) ++result.releasedByHandle[*attribute.handleID];
    }
    slot.reset();
    block.unallocated.push_back(r.ordinal);
    block.sequenceNumberForAllocation.erase(std::to_string(r.ordinal));
    result.outcomes.push_back(ReleaseOutcome::kReleased);
    changed = true;
  }
  if (changed) {
    compactAttributes(block);
    ++block.sequenceNumber;
  }
  return result;
}

std::vector<int> ordinalsOfHandle(const IPAMBlockSpec& block, std::string_view handleID) {
  std::vector<int> ordinals;
  for (size_t o = 0; o < block.allocations.size(); ++o) {
    const auto& a = block.allocations[o];
    if (!a || static_cast<size_t>(*a) >= block.attributes.size()) continue;
    const auto& handle = block.attributes[static_cast<size_t>(*a)].handleID;
    if (handle && *handle == handleID) ordinals.push_back(static_cast<int>(o));
  }
  return ordinals;
}

std::optional<uint64_t> sequenceNumberOf(const IPAMBlockSpec& block, int ordinal) {
  auto it = block.sequenceNumberForAllocation.find(std::to_string(ordinal));
  if (it == block.sequenceNumberForAllocation.end()) return std::nullopt;
  return it->second;
}

bool blockEmpty(const IPAMBlockSpec& block) { return block.unallocated.size() == block.allocations.size(); }

int freeCount(const IPAMBlockSpec& block) { return static_cast<int>(block.unallocated.size()); }

std::optional<std::string> blockProblem(const IPAMBlockSpec& block) {
  const size_t size = block.allocations.size();
  std::vector<int> seen(size, 0);
  for (int o : block.unallocated) {
    if (o < 0 || static_cast<size_t>(o) >= size)
      return "free ordinal " + std::to_string(o) + " out of the block";
    if (seen[static_cast<size_t>(o)]++) return "ordinal " + std::to_string(o) + " free twice";
    if (block.allocations[static_cast<size_t>(o)])
      return "ordinal " + std::to_string(o) + " free and allocated";
  }
  std::set<int> referenced;
  for (size_t o = 0; o < size; ++o) {
    const auto& a = block.allocations[o];
    if (!a) {
      if (!seen[o]) return "ordinal " + std::to_string(o) + " neither free nor allocated";
      continue;
    }
    if (*a < 0 || static_cast<size_t>(*a) >= block.attributes.size()) {
      return "ordinal " + std::to_string(o) + " names a missing attribute";
    }
    referenced.insert(*a);
    auto seq = sequenceNumberOf(block, static_cast<int>(o));
    if (!seq || *seq >= block.sequenceNumber) {
      return "ordinal " + std::to_string(o) + " has no sequence number below the block's";
    }
  }
  if (referenced.size() != block.attributes.size()) return "an attribute no address refers to";
  return std::nullopt;
}

}  // namespace tartan::ipam
