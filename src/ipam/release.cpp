// release.cpp — giving addresses and affinities back, and reading what is allocated.
//
// A release writes the block first (by compare-and-swap) and then takes the count off the
// handle, the reverse of an assignment, so a handle never undercounts what its blocks hold. An
// empty block without affinity (one that was borrowed from after its node let it go) is deleted;
// an empty block of a node stays the node's until releaseHostAffinities(), as in Calico.
#include "block.hpp"
#include "ipam_internal.hpp"
#include "store.hpp"

#include <map>

namespace tartan::ipam {

namespace {

// Writes a block a release changed: deleted when it is empty and nobody's, else updated.
datastore::StoreResult<int64_t> writeReleased(datastore::Datastore& store,
                                              const Stored<model::IPAMBlock>& before,
                                              const model::IPAMBlock& after) {
  const auto key = keyFor<model::IPAMBlock>(after.metadata.name);
  if (blockEmpty(after.spec) && !after.spec.affinity) return store.remove(key, before.revision);
  auto written = store.update(key, encode(after), before.revision);
  if (!written) return written.error();
  return written->revision;
}

bool retryable(const datastore::StoreError& error) {
  return error.kind == datastore::ErrorKind::Conflict || error.kind == datastore::ErrorKind::NotFound;
}

// The stored block holding `address`, if any.
const Stored<model::IPAMBlock>* blockHolding(const std::vector<Stored<model::IPAMBlock>>& blocks,
                                             const Cidr& address, Cidr* cidrOut) {
  for (const auto& b : blocks) {
    auto cidr = parseCidr(b.value.spec.cidr);
    if (cidr && cidr->family == address.family && cidr->contains(address.base)) {
      *cidrOut = *cidr;
      return &b;
    }
  }
  return nullptr;
}

std::optional<std::string> handleAt(const model::IPAMBlockSpec& block, int ordinal) {
  if (ordinal < 0 || static_cast<size_t>(ordinal) >= block.allocations.size()) return std::nullopt;
  const auto& a = block.allocations[static_cast<size_t>(ordinal)];
  if (!a || *a < 0 || static_cast<size_t>(*a) >= block.attributes.size()) return std::nullopt;
  return block.attributes[static_cast<size_t>(*a)].handleID;
}

}  // namespace

Ipam::Ipam(datastore::Datastore& store, Options options) : store_(store), options_(options) {
  if (options_.maxAttempts < 1) options_.maxAttempts = 1;
}

namespace {

struct Target {
  const ReleaseOptions* options;
  int ordinal;
};

IpamResult<void> releaseInBlock(datastore::Datastore& store, int attempts, const Cidr& cidr,
                                const std::vector<Target>& targets, std::vector<std::string>& unallocated) {
  const std::string name = blockName(cidr);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto stored = read<model::IPAMBlock>(store, name);
    if (!stored) return stored.error();
    if (!*stored) {
      for (const Target& t : targets) unallocated.push_back(t.options->ip);
      return {};
    }
    model::IPAMBlock updated = (*stored)->value;
    std::vector<std::string> notFreed;
    std::vector<ReleaseRequest> requests;
    std::vector<const Target*> requested;
    for (const Target& t : targets) {
      if (t.options->handleID && handleAt(updated.spec, t.ordinal) != t.options->handleID) {
        notFreed.push_back(t.options->ip);
        continue;
      }
      requests.push_back({t.ordinal, t.options->sequenceNumber});
      requested.push_back(&t);
    }
    const BlockRelease released = releaseFromBlock(updated.spec, requests);
    for (size_t i = 0; i < requested.size(); ++i) {
      if (released.outcomes[i] != ReleaseOutcome::kReleased) notFreed.push_back(requested[i]->options->ip);
    }
    if (released.releasedByHandle.empty() && notFreed.size() == targets.size()) {
      unallocated.insert(unallocated.end(), notFreed.begin(), notFreed.end());
      return {};
    }
    auto written = writeReleased(store, **stored, updated);
    if (!written) {
      if (retryable(written.error())) continue;
      return fromStore(written.error());
    }
    unallocated.insert(unallocated.end(), notFreed.begin(), notFreed.end());
    for (const auto& [handle, count] : released.releasedByHandle) {
      if (auto r = adjustHandle(store, attempts, handle, formatCidr(cidr), -count); !r) return r.error();
    }
    return {};
  }
  return retriesExhausted("IPAMBlock/" + name, attempts);
}

// Frees every address of the handle in one block; the handle itself is the caller's.
IpamResult<void> releaseHandleInBlock(datastore::Datastore& store, int attempts, const Cidr& cidr,
                                      std::string_view handleID) {
  const std::string name = blockName(cidr);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto stored = read<model::IPAMBlock>(store, name);
    if (!stored) return stored.error();
    if (!*stored) return {};
    model::IPAMBlock updated = (*stored)->value;
    std::vector<ReleaseRequest> requests;
    for (int o : ordinalsOfHandle(updated.spec, handleID)) requests.push_back({o, std::nullopt});
    if (requests.empty()) return {};
    releaseFromBlock(updated.spec, requests);
    auto written = writeReleased(store, **stored, updated);
    if (written) return {};
    if (!retryable(written.error())) return fromStore(written.error());
  }
  return retriesExhausted("IPAMBlock/" + name, attempts);
}

}  // namespace

IpamResult<std::vector<std::string>> Ipam::releaseIPs(const std::vector<ReleaseOptions>& ips) {
  auto blocks = readAll<model::IPAMBlock>(store_);
  if (!blocks) return blocks.error();
  std::vector<std::string> unallocated;
  std::map<std::string, std::pair<Cidr, std::vector<Target>>> byBlock;
  for (const ReleaseOptions& options : ips) {
    auto address = parseAddress(options.ip);
    if (!address) return makeIpamError(ErrorKind::kInvalid, options.ip, "not an IP address");
    Cidr cidr;
    if (blockHolding(*blocks, *address, &cidr) == nullptr) {
      unallocated.push_back(options.ip);
      continue;
    }
    auto& group = byBlock[blockName(cidr)];
    group.first = cidr;
    group.second.push_back({&options, static_cast<int>(address->base - cidr.base)});
  }
  for (const auto& [name, group] : byBlock) {
    if (auto r = releaseInBlock(store_, options_.maxAttempts, group.first, group.second, unallocated); !r) {
      return r.error();
    }
  }
  return unallocated;
}

IpamResult<void> Ipam::releaseByHandle(std::string_view handleID) {
  const std::string id(handleID);
  for (int attempt = 0; attempt < options_.maxAttempts; ++attempt) {
    auto handle = read<model::IPAMHandle>(store_, id);
    if (!handle) return handle.error();
    if (!*handle) {
      if (attempt == 0) return makeIpamError(ErrorKind::kNotFound, "IPAMHandle/" + id, "no such handle");
      return {};
    }
    for (const auto& [blockCidr, count] : (*handle)->value.spec.block) {
      auto cidr = parseCidr(blockCidr);
      if (!cidr) continue;
      if (auto r = releaseHandleInBlock(store_, options_.maxAttempts, *cidr, id); !r) return r.error();
    }
    auto removed = store_.remove(keyFor<model::IPAMHandle>(id), (*handle)->revision);
    if (removed || removed.error().kind == datastore::ErrorKind::NotFound) return {};
    if (removed.error().kind != datastore::ErrorKind::Conflict) return fromStore(removed.error());
  }
  return retriesExhausted("IPAMHandle/" + id, options_.maxAttempts);
}

namespace {

// Calico's releaseAffinity: pendingDeletion, then the block deleted (empty) or left without an
// affinity, then the affinity deleted. With mustBeEmpty a block in use keeps its affinity.
IpamResult<void> giveUpAffinity(datastore::Datastore& store, int attempts,
                                Stored<model::BlockAffinity> affinity, bool mustBeEmpty) {
  const auto key = keyFor<model::BlockAffinity>(affinity.value.metadata.name);
  for (int attempt = 0;; ++attempt) {
    if (attempt == attempts) return retriesExhausted(key.toString(), attempts);
    model::BlockAffinity pending = affinity.value;
    pending.spec.state = "pendingDeletion";
    auto marked = store.update(key, encode(pending), affinity.revision);
    if (marked) {
      affinity = {pending, marked->revision};
      break;
    }
    if (marked.error().kind == datastore::ErrorKind::NotFound) return {};
    if (marked.error().kind != datastore::ErrorKind::Conflict) return fromStore(marked.error());
    auto again = read<model::BlockAffinity>(store, affinity.value.metadata.name);
    if (!again) return again.error();
    if (!*again) return {};
    affinity = std::move(**again);
  }

  auto cidr = parseCidr(affinity.value.spec.cidr);
  const std::string owner = "host:" + affinity.value.spec.node;
  for (int attempt = 0; cidr; ++attempt) {
    if (attempt == attempts) return retriesExhausted("IPAMBlock/" + blockName(*cidr), attempts);
    auto block = read<model::IPAMBlock>(store, blockName(*cidr));
    if (!block) return block.error();
    if (!*block || (*block)->value.spec.affinity != owner) break;
    datastore::StoreResult<int64_t> written = int64_t{0};
    if (blockEmpty((*block)->value.spec)) {
      written = store.remove(keyFor<model::IPAMBlock>(blockName(*cidr)), (*block)->revision);
    } else if (mustBeEmpty) {
      model::BlockAffinity confirmed = affinity.value;
      confirmed.spec.state = "confirmed";
      auto reverted = store.update(key, encode(confirmed), affinity.revision);
      if (!reverted) return fromStore(reverted.error());
      return {};
    } else {
      model::IPAMBlock unaffine = (*block)->value;
      unaffine.spec.affinity.reset();
      auto updated =
          store.update(keyFor<model::IPAMBlock>(blockName(*cidr)), encode(unaffine), (*block)->revision);
      if (updated) {
        written = updated->revision;
      } else {
        written = updated.error();
      }
    }
    if (written) break;
    if (!retryable(written.error())) return fromStore(written.error());
  }
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto removed = store.remove(key, affinity.revision);
    if (removed || removed.error().kind == datastore::ErrorKind::NotFound) return {};
    if (removed.error().kind != datastore::ErrorKind::Conflict) return fromStore(removed.error());
    auto again = read<model::BlockAffinity>(store, affinity.value.metadata.name);
    if (!again) return again.error();
    if (!*again) return {};
    affinity = std::move(**again);
  }
  return retriesExhausted(key.toString(), attempts);
}

}  // namespace

IpamResult<void> Ipam::releaseHostAffinities(std::string_view hostname, bool mustBeEmpty) {
  auto affinities = readAll<model::BlockAffinity>(store_);
  if (!affinities) return affinities.error();
  for (auto& a : *affinities) {
    if (a.value.spec.node != hostname) continue;
    if (auto r = giveUpAffinity(store_, options_.maxAttempts, std::move(a), mustBeEmpty); !r)
      return r.error();
  }
  return {};
}

IpamResult<void> Ipam::releaseAffinity(std::string_view blockCidr, std::string_view hostname,
                                       bool mustBeEmpty) {
  auto cidr = parseCidr(blockCidr, true);
  if (!cidr) return makeIpamError(ErrorKind::kInvalid, std::string(blockCidr), "not a block CIDR");
  const std::string name = affinityName(hostname, *cidr);
  auto affinity = read<model::BlockAffinity>(store_, name);
  if (!affinity) return affinity.error();
  if (!*affinity) return makeIpamError(ErrorKind::kNotFound, "BlockAffinity/" + name, "no such affinity");
  return giveUpAffinity(store_, options_.maxAttempts, std::move(**affinity), mustBeEmpty);
}

IpamResult<std::vector<std::string>> Ipam::ipsByHandle(std::string_view handleID) {
  auto handle = read<model::IPAMHandle>(store_, std::string(handleID));
  if (!handle) return handle.error();
  if (!*handle)
    return makeIpamError(ErrorKind::kNotFound, "IPAMHandle/" + std::string(handleID), "no such handle");
  std::vector<std::string> ips;
  for (const auto& [blockCidr, count] : (*handle)->value.spec.block) {
    auto cidr = parseCidr(blockCidr);
    if (!cidr) continue;
    auto block = read<model::IPAMBlock>(store_, blockName(*cidr));
    if (!block) return block.error();
    if (!*block) continue;
    for (int o : ordinalsOfHandle((*block)->value.spec, handleID)) {
      ips.push_back(formatAddress(cidr->family, cidr->base + static_cast<Wide>(o)));
    }
  }
  return ips;
}

IpamResult<Allocation> Ipam::allocation(std::string_view ip) {
  auto address = parseAddress(ip);
  if (!address) return makeIpamError(ErrorKind::kInvalid, std::string(ip), "not an IP address");
  auto blocks = readAll<model::IPAMBlock>(store_);
  if (!blocks) return blocks.error();
  Cidr cidr;
  const auto* block = blockHolding(*blocks, *address, &cidr);
  const size_t ordinal = block ? static_cast<size_t>(address->base - cidr.base) : 0;
  // A block whose allocations are shorter than its CIDR, or that names a missing attribute, is
  // broken (ipam check says so); what it records is still shown, as far as it goes.
  if (block == nullptr || ordinal >= block->value.spec.allocations.size() ||
      !block->value.spec.allocations[ordinal]) {
    return makeIpamError(ErrorKind::kNotFound, std::string(ip), "not allocated");
  }
  const auto& spec = block->value.spec;
  const int index = *spec.allocations[ordinal];
  Allocation out;
  out.ip = formatAddress(address->family, address->base);
  out.block = formatCidr(cidr);
  if (index >= 0 && static_cast<size_t>(index) < spec.attributes.size()) {
    const auto& attribute = spec.attributes[static_cast<size_t>(index)];
    out.handleID = attribute.handleID;
    for (const auto& [k, v] : attribute.secondary) out.attributes[k] = v;
  }
  out.sequenceNumber = sequenceNumberOf(spec, static_cast<int>(ordinal)).value_or(0);
  return out;
}

}  // namespace tartan::ipam
