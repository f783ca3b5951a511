// assign.cpp — autoAssign and assignIP: choosing pools, claiming blocks, taking addresses.
//
// The order of libcalico-go's autoAssign, per family: the node's own (affine) blocks; then new
// blocks claimed for the node (two-phase: a pending BlockAffinity, the IPAMBlock created, the
// affinity confirmed), unless autoAllocateBlocks is off or maxBlocksPerHost is reached; then, unless
// strictAffinity, free addresses borrowed from other blocks. Taking addresses from a block counts
// them on the handle first and then writes the block by compare-and-swap; a conflict takes the
// count back and reads the block again.
#include "block.hpp"
#include "ipam_internal.hpp"
#include "store.hpp"

#include "tartan/selector/selector.hpp"

#include <algorithm>
#include <set>

namespace tartan::ipam {

namespace {

std::string_view useName(Use use) {
  switch (use) {
    case Use::kWorkload:
      return "Workload";
    case Use::kTunnel:
      return "Tunnel";
    case Use::kLoadBalancer:
      return "LoadBalancer";
  }
  return "Workload";
}

bool allows(const Pool& pool, Use use) {
  if (pool.spec.allowedUses.empty()) return use != Use::kLoadBalancer;  // Calico's default
  return std::find(pool.spec.allowedUses.begin(), pool.spec.allowedUses.end(), useName(use)) !=
         pool.spec.allowedUses.end();
}

bool isManual(const Pool& pool) { return pool.spec.assignmentMode.value_or("Automatic") == "Manual"; }

const Pool* findPool(const std::vector<Pool>& pools, const std::string& nameOrCidr) {
  auto cidr = parseCidr(nameOrCidr, true);
  for (const Pool& p : pools) {
    if (p.name == nameOrCidr || (cidr && p.cidr == *cidr)) return &p;
  }
  return nullptr;
}

}  // namespace

IpamResult<std::vector<Pool>> choosePools(const std::vector<Pool>& all, int family,
                                          const std::vector<std::string>& requested,
                                          const model::Labels& labels, Use use) {
  std::vector<Pool> chosen;
  if (!requested.empty()) {
    for (const std::string& name : requested) {
      const Pool* pool = findPool(all, name);
      if (pool == nullptr || pool->cidr.family != family) {
        return makeIpamError(ErrorKind::kInvalid, name,
                             "no IPv" + std::to_string(family) + " pool of that name or CIDR");
      }
      if (pool->spec.disabled) return makeIpamError(ErrorKind::kInvalid, name, "the pool is disabled");
      if (!allows(*pool, use)) {
        return makeIpamError(ErrorKind::kInvalid, name,
                             "the pool does not allow use " + std::string(useName(use)));
      }
      chosen.push_back(*pool);
    }
    return chosen;
  }
  for (const Pool& pool : all) {
    if (pool.cidr.family != family || pool.spec.disabled || isManual(pool) || !allows(pool, use)) continue;
    auto selector = selector::parse(pool.spec.nodeSelector);
    if (!selector || !selector->matches(labels)) continue;
    chosen.push_back(pool);
  }
  return chosen;
}

const Pool* poolOf(const std::vector<Pool>& pools, const Cidr& block) {
  for (const Pool& p : pools) {
    if (p.cidr.contains(block)) return &p;
  }
  return nullptr;
}

IpamResult<std::vector<std::string>> Shell::takeFromBlock(const Cidr& block, int want, const Request& request,
                                                          bool borrowing) {
  const std::string name = blockName(block);
  const std::string affinity = "host:" + request.hostname;
  for (int attempt = 0; attempt < attempts_; ++attempt) {
    auto stored = read<model::IPAMBlock>(store_, name);
    if (!stored) return stored.error();
    if (!*stored || (*stored)->value.spec.deleted) return std::vector<std::string>{};
    model::IPAMBlock updated = (*stored)->value;
    const bool ours = updated.spec.affinity == affinity;
    if (borrowing ? (ours || updated.spec.strictAffinity) : !ours) return std::vector<std::string>{};
    const std::vector<int> ordinals =
        allocateFromBlock(updated.spec, block, want, request.attribute, request.reserved);
    if (ordinals.empty()) return std::vector<std::string>{};
    const int n = static_cast<int>(ordinals.size());
    const std::string blockCidr = formatCidr(block);
    if (auto counted = adjustHandle(store_, attempts_, request.handleID, blockCidr, n); !counted) {
      return counted.error();
    }
    auto written = store_.update(keyFor<model::IPAMBlock>(name), encode(updated), (*stored)->revision);
    if (written) {
      std::vector<std::string> ips;
      for (int o : ordinals) ips.push_back(formatAddress(block.family, block.base + static_cast<Wide>(o)));
      return ips;
    }
    if (auto undone = adjustHandle(store_, attempts_, request.handleID, blockCidr, -n); !undone) {
      return undone.error();
    }
    if (written.error().kind != datastore::ErrorKind::Conflict &&
        written.error().kind != datastore::ErrorKind::NotFound) {
      return fromStore(written.error());
    }
  }
  return retriesExhausted("IPAMBlock/" + name, attempts_);
}

IpamResult<bool> Shell::claim(const Cidr& block, const std::string& hostname, bool strictAffinity) {
  const std::string affinityKeyName = affinityName(hostname, block);
  const auto affinityKey = keyFor<model::BlockAffinity>(affinityKeyName);
  model::BlockAffinity affinity;
  affinity.metadata.name = affinityKeyName;
  affinity.spec = {"pending", hostname, "host", formatCidr(block), "false"};
  int64_t affinityRevision = 0;
  auto created = store_.create(affinityKey, encode(affinity));
  if (created) {
    affinityRevision = created->revision;
  } else if (created.error().kind == datastore::ErrorKind::AlreadyExists) {
    // Left behind by an earlier claim of this node that did not finish: carry on with it.
    auto existing = read<model::BlockAffinity>(store_, affinityKeyName);
    if (!existing) return existing.error();
    if (!*existing || (*existing)->value.spec.node != hostname) return false;
    affinity = (*existing)->value;
    affinityRevision = (*existing)->revision;
  } else {
    return fromStore(created.error());
  }

  model::IPAMBlock newBlock;
  newBlock.metadata.name = blockName(block);
  newBlock.spec = newBlockSpec(block, "host:" + hostname, strictAffinity);
  auto blockCreated = store_.create(keyFor<model::IPAMBlock>(newBlock.metadata.name), encode(newBlock));
  if (!blockCreated) {
    if (blockCreated.error().kind != datastore::ErrorKind::AlreadyExists)
      return fromStore(blockCreated.error());
    // Somebody created the block first. If it is ours (an earlier claim got this far), confirm;
    // otherwise withdraw the pending affinity.
    auto existing = read<model::IPAMBlock>(store_, newBlock.metadata.name);
    if (!existing) return existing.error();
    if (!*existing || (*existing)->value.spec.affinity != "host:" + hostname) {
      if (affinity.spec.state == "pending") (void)store_.remove(affinityKey, affinityRevision);
      return false;
    }
  }

  for (int attempt = 0; attempt < attempts_; ++attempt) {
    if (affinity.spec.state == "confirmed") return true;
    affinity.spec.state = "confirmed";
    auto confirmed = store_.update(affinityKey, encode(affinity), affinityRevision);
    if (confirmed) return true;
    if (confirmed.error().kind != datastore::ErrorKind::Conflict) return fromStore(confirmed.error());
    auto again = read<model::BlockAffinity>(store_, affinityKeyName);
    if (!again) return again.error();
    if (!*again) return false;
    affinity = (*again)->value;
    affinityRevision = (*again)->revision;
  }
  return retriesExhausted("BlockAffinity/" + affinityKeyName, attempts_);
}

IpamResult<std::optional<Cidr>> Shell::claimNewBlock(const std::vector<Pool>& pools, const Request& request,
                                                     bool strictAffinity) {
  auto blocks = readAll<model::IPAMBlock>(store_);
  if (!blocks) return blocks.error();
  std::set<std::pair<int, Wide>> existing;
  for (const auto& b : *blocks) {
    if (auto cidr = parseCidr(b.value.spec.cidr)) existing.insert({cidr->family, cidr->base});
  }
  for (const Pool& pool : pools) {
    const int shift = pool.cidr.bits() - pool.blockSize;
    const int indexBits = pool.blockSize - pool.cidr.prefix;
    const Wide count = indexBits >= 127 ? ~Wide{0} : Wide{1} << indexBits;
    for (Wide i = 0; i < count; ++i) {
      const Cidr block{pool.cidr.family, pool.cidr.base + (shift >= 128 ? 0 : (i << shift)), pool.blockSize};
      if (existing.count({block.family, block.base})) continue;
      const bool allReserved = std::any_of(request.reserved.begin(), request.reserved.end(),
                                           [&](const Cidr& r) { return r.contains(block); });
      if (allReserved) continue;
      auto claimed = claim(block, request.hostname, strictAffinity);
      if (!claimed) return claimed.error();
      if (*claimed) return std::optional<Cidr>{block};
      existing.insert({block.family, block.base});
    }
  }
  return std::optional<Cidr>{};
}

IpamResult<std::vector<std::string>> Shell::assignFamily(int family, int num,
                                                         const std::vector<std::string>& requested,
                                                         const Request& request, const Settings& settings,
                                                         const std::vector<Pool>& allPools,
                                                         const model::Labels& labels, Use use) {
  std::vector<std::string> ips;
  if (num <= 0) return ips;
  auto pools = choosePools(allPools, family, requested, labels, use);
  if (!pools) return pools.error();
  if (pools->empty()) {
    return makeIpamError(ErrorKind::kExhausted, request.hostname,
                         "no IPv" + std::to_string(family) + " pool may be used by this node");
  }
  auto take = [&](const Cidr& block, bool borrowing) -> IpamResult<void> {
    auto got = takeFromBlock(block, num - static_cast<int>(ips.size()), request, borrowing);
    if (!got) return got.error();
    ips.insert(ips.end(), got->begin(), got->end());
    return {};
  };

  // 1. The node's own blocks, in address order. Read again after the claims of step 2: another
  // process of this node may have claimed a block since the first read, and step 2 skips blocks
  // that exist while step 3 skips the node's own, so without the second read such a block would
  // be tried by nobody and a node with free addresses would answer Exhausted.
  int hostBlocks = 0;
  std::set<std::pair<int, Wide>> tried;
  auto takeFromAffine = [&]() -> IpamResult<void> {
    auto affinities = readAll<model::BlockAffinity>(store_);
    if (!affinities) return affinities.error();
    hostBlocks = 0;
    std::vector<Cidr> affine;
    for (const auto& a : *affinities) {
      if (a.value.spec.node != request.hostname) continue;
      auto cidr = parseCidr(a.value.spec.cidr);
      if (!cidr || cidr->family != family) continue;
      ++hostBlocks;
      if (a.value.spec.state == "confirmed" && poolOf(*pools, *cidr)) affine.push_back(*cidr);
    }
    std::sort(affine.begin(), affine.end(), [](const Cidr& x, const Cidr& y) { return x.base < y.base; });
    for (const Cidr& block : affine) {
      if (static_cast<int>(ips.size()) >= num) break;
      if (!tried.insert({block.family, block.base}).second) continue;
      if (auto r = take(block, false); !r) return r.error();
    }
    return {};
  };
  if (auto r = takeFromAffine(); !r) return r.error();

  // 2. New blocks for the node.
  const int maxBlocks = settings.config.maxBlocksPerHost;
  while (static_cast<int>(ips.size()) < num && settings.config.autoAllocateBlocks &&
         (maxBlocks <= 0 || hostBlocks < maxBlocks)) {
    auto claimed = claimNewBlock(*pools, request, settings.config.strictAffinity);
    if (!claimed) return claimed.error();
    if (!*claimed) break;
    ++hostBlocks;
    tried.insert({(*claimed)->family, (*claimed)->base});
    if (auto r = take(**claimed, false); !r) return r.error();
  }
  if (static_cast<int>(ips.size()) < num) {
    if (auto r = takeFromAffine(); !r) return r.error();
  }

  // 3. Borrow from blocks of other nodes (or of none).
  if (static_cast<int>(ips.size()) < num && !settings.config.strictAffinity) {
    auto blocks = readAll<model::IPAMBlock>(store_);
    if (!blocks) return blocks.error();
    for (const auto& b : *blocks) {
      if (static_cast<int>(ips.size()) >= num) break;
      auto cidr = parseCidr(b.value.spec.cidr);
      if (!cidr || cidr->family != family || !poolOf(*pools, *cidr) || freeCount(b.value.spec) == 0) continue;
      if (auto r = take(*cidr, true); !r) return r.error();
    }
  }
  return ips;
}

IpamResult<AutoAssignResult> Ipam::autoAssign(const AutoAssignArgs& args) {
  if (args.handleID.empty() || args.hostname.empty()) {
    return makeIpamError(ErrorKind::kInvalid, "autoAssign", "a handle id and a hostname are required");
  }
  if (args.num4 < 0 || args.num6 < 0)
    return makeIpamError(ErrorKind::kInvalid, "autoAssign", "negative count");
  Shell shell(store_, options_.maxAttempts);
  auto pools = readPools(store_);
  if (!pools) return pools.error();
  auto settings = readSettings(store_);
  if (!settings) return settings.error();
  auto labels = nodeLabels(store_, args.hostname);
  if (!labels) return labels.error();
  Request request;
  request.handleID = args.handleID;
  request.hostname = args.hostname;
  request.attribute.handleID = args.handleID;
  for (const auto& [k, v] : args.attributes) request.attribute.secondary[k] = v;
  request.reserved = settings->reserved;

  AutoAssignResult result;
  auto undo = [&](IpamError error) -> IpamResult<AutoAssignResult> {
    std::vector<ReleaseOptions> taken;
    for (const auto* list : {&result.ipv4, &result.ipv6}) {
      for (const auto& ip : *list) taken.push_back({ip, args.handleID, std::nullopt});
    }
    if (!taken.empty()) (void)releaseIPs(taken);
    return error;
  };
  const std::pair<int, int> families[] = {{4, args.num4}, {6, args.num6}};
  for (const auto& [family, num] : families) {
    auto& out = family == 4 ? result.ipv4 : result.ipv6;
    auto got = shell.assignFamily(family, num, family == 4 ? args.ipv4Pools : args.ipv6Pools, request,
                                  *settings, *pools, *labels, args.use);
    if (!got) return undo(got.error());
    out = std::move(*got);
    if (static_cast<int>(out.size()) < num) {
      return undo(makeIpamError(ErrorKind::kExhausted, args.hostname,
                                "assigned " + std::to_string(out.size()) + " of " + std::to_string(num) +
                                    " IPv" + std::to_string(family) + " addresses; no more are free"));
    }
  }
  return result;
}

IpamResult<void> Ipam::assignIP(const AssignIPArgs& args) {
  if (args.handleID.empty() || args.hostname.empty()) {
    return makeIpamError(ErrorKind::kInvalid, "assignIP", "a handle id and a hostname are required");
  }
  auto address = parseAddress(args.ip);
  if (!address) return makeIpamError(ErrorKind::kInvalid, args.ip, "not an IP address");
  auto pools = readPools(store_);
  if (!pools) return pools.error();
  const Pool* pool = nullptr;
  for (const Pool& p : *pools) {
    if (p.cidr.family == address->family && p.cidr.contains(address->base)) pool = &p;
  }
  if (pool == nullptr) return makeIpamError(ErrorKind::kInvalid, args.ip, "not in any IP pool");
  if (pool->spec.disabled)
    return makeIpamError(ErrorKind::kInvalid, args.ip, "its pool " + pool->name + " is disabled");
  auto settings = readSettings(store_);
  if (!settings) return settings.error();

  const Cidr block = blockContaining(*pool, address->base);
  const int ordinal = static_cast<int>(address->base - block.base);
  const std::string name = blockName(block);
  const std::string blockCidr = formatCidr(block);
  Shell shell(store_, options_.maxAttempts);
  AllocationAttribute attribute;
  attribute.handleID = args.handleID;
  for (const auto& [k, v] : args.attributes) attribute.secondary[k] = v;

  for (int attempt = 0; attempt < options_.maxAttempts; ++attempt) {
    auto stored = read<model::IPAMBlock>(store_, name);
    if (!stored) return stored.error();
    if (!*stored) {
      auto claimed = shell.claim(block, args.hostname, settings->config.strictAffinity);
      if (!claimed) return claimed.error();
      continue;  // ours or somebody else's, the block now exists: read it
    }
    model::IPAMBlock updated = (*stored)->value;
    if (!assignOrdinal(updated.spec, ordinal, attribute)) {
      return makeIpamError(ErrorKind::kAlreadyAllocated, args.ip, "the address is already allocated");
    }
    if (auto counted = adjustHandle(store_, options_.maxAttempts, args.handleID, blockCidr, 1); !counted) {
      return counted.error();
    }
    auto written = store_.update(keyFor<model::IPAMBlock>(name), encode(updated), (*stored)->revision);
    if (written) return {};
    if (auto undone = adjustHandle(store_, options_.maxAttempts, args.handleID, blockCidr, -1); !undone) {
      return undone.error();
    }
    const auto kind = written.error().kind;
    if (kind != datastore::ErrorKind::Conflict && kind != datastore::ErrorKind::NotFound) {
      return fromStore(written.error());
    }
  }
  return retriesExhausted("IPAMBlock/" + name, options_.maxAttempts);
}

}  // namespace tartan::ipam
