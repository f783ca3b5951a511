// check.cpp — the snapshot show and check read, pool and block usage, borrowed addresses, and
// the consistency check (see tartan/ipam/check.hpp).
#include "tartan/ipam/check.hpp"

#include "address.hpp"
#include "block.hpp"
#include "store.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace tartan::ipam {

namespace {

template <class T>
IpamResult<std::vector<T>> values(datastore::Datastore& store) {
  auto stored = readAll<T>(store);
  if (!stored) return stored.error();
  std::vector<T> out;
  out.reserve(stored->size());
  for (auto& s : *stored) out.push_back(std::move(s.value));
  return out;
}

bool lessCidr(const Cidr& a, const Cidr& b) {
  if (a.family != b.family) return a.family < b.family;
  if (a.base != b.base) return a.base < b.base;
  return a.prefix < b.prefix;
}

// "host:node-a" -> "node-a"; another kind of affinity ("virtual:x") is no node's.
std::string hostOf(const std::optional<std::string>& affinity) {
  if (!affinity || affinity->rfind("host:", 0) != 0) return "";
  return affinity->substr(5);
}

// The address of "10.65.0.1", "10.65.0.1/32" or "fd00::1/128", canonical; nothing if it is none.
std::optional<std::string> normaliseAddress(const std::string& text) {
  auto address = parseAddress(text.substr(0, text.find('/')));
  if (!address) return std::nullopt;
  return formatAddress(address->family, address->base);
}

std::string secondary(const model::AllocationAttribute& attribute, const std::string& key) {
  auto it = attribute.secondary.find(key);
  return it == attribute.secondary.end() ? "" : it->second;
}

// calicoctl's formatAttrs: "Main:<handle> Extra:k=v,k2=v2".
std::string describeAttribute(const model::AllocationAttribute& attribute) {
  std::string extra;
  for (const auto& [k, v] : attribute.secondary) {
    if (!extra.empty()) extra += ",";
    extra += k;
    extra += '=';
    extra += v;
  }
  return "Main:" + attribute.handleID.value_or("<none>") + " Extra:" + extra;
}

// calicoctl's name for the handle Windows nodes reserve addresses under; those are in use.
constexpr std::string_view kWindowsReservedHandle = "windows-reserved-ipam-handle";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string affinityOwner(const model::BlockAffinitySpec& spec) {
  const std::string type = spec.type.empty() ? "host" : spec.type;
  return type + ":" + spec.node;
}

}  // namespace

IpamResult<IpamSnapshot> readSnapshot(datastore::Datastore& store) {
  IpamSnapshot snapshot;
  auto pools = values<model::IPPool>(store);
  if (!pools) return pools.error();
  snapshot.pools = std::move(*pools);
  auto blocks = values<model::IPAMBlock>(store);
  if (!blocks) return blocks.error();
  snapshot.blocks = std::move(*blocks);
  auto affinities = values<model::BlockAffinity>(store);
  if (!affinities) return affinities.error();
  snapshot.affinities = std::move(*affinities);
  auto handles = readAll<model::IPAMHandle>(store);
  if (!handles) return handles.error();
  for (auto& h : *handles) snapshot.handles.push_back({std::move(h.value), h.revision});
  auto endpoints = values<model::WorkloadEndpoint>(store);
  if (!endpoints) return endpoints.error();
  snapshot.workloadEndpoints = std::move(*endpoints);
  auto nodes = values<model::Node>(store);
  if (!nodes) return nodes.error();
  snapshot.nodes = std::move(*nodes);
  auto settings = readSettings(store);
  if (!settings) return settings.error();
  snapshot.config = settings->config;
  auto info = read<model::ClusterInformation>(store, "default");
  if (!info) return info.error();
  if (*info)
    snapshot.clusterInformation = Revisioned<model::ClusterInformation>{(*info)->value, (*info)->revision};
  return snapshot;
}

Utilization utilization(const IpamSnapshot& snapshot) {
  struct Parsed {
    Cidr cidr;
    PoolUsage usage;
  };
  std::vector<Parsed> pools;
  for (const auto& p : snapshot.pools) {
    auto cidr = parseCidr(p.spec.cidr);
    if (!cidr) continue;  // the model's validation refuses these
    PoolUsage usage{p.metadata.name, formatCidr(*cidr), std::ldexp(1.0, cidr->hostBits()), 0, 0, {}};
    pools.push_back({*cidr, std::move(usage)});
  }
  std::sort(pools.begin(), pools.end(),
            [](const Parsed& a, const Parsed& b) { return a.usage.name < b.usage.name; });

  std::vector<std::pair<Cidr, const model::IPAMBlock*>> blocks;
  for (const auto& b : snapshot.blocks) {
    if (auto cidr = parseCidr(b.spec.cidr)) blocks.push_back({*cidr, &b});
  }
  std::sort(blocks.begin(), blocks.end(),
            [](const auto& a, const auto& b) { return lessCidr(a.first, b.first); });

  Utilization out;
  for (const auto& entry : blocks) {
    const Cidr& cidr = entry.first;
    const model::IPAMBlock* block = entry.second;
    const uint64_t capacity = cidr.size();
    const uint64_t free = std::min<uint64_t>(block->spec.unallocated.size(), capacity);
    BlockUsage usage{formatCidr(cidr), capacity, capacity - free, free};
    auto pool =
        std::find_if(pools.begin(), pools.end(), [&](const Parsed& p) { return p.cidr.overlaps(cidr); });
    if (pool == pools.end()) {
      out.orphanBlocks.push_back(std::move(usage));
      continue;
    }
    pool->usage.inUse += usage.inUse;
    pool->usage.blocks.push_back(std::move(usage));
  }
  for (auto& p : pools) {
    p.usage.free = p.usage.capacity - static_cast<double>(p.usage.inUse);
    out.pools.push_back(std::move(p.usage));
  }
  return out;
}

Borrowed borrowedAddresses(const IpamSnapshot& snapshot) {
  Borrowed out;
  for (const auto& b : snapshot.blocks) {
    auto cidr = parseCidr(b.spec.cidr);
    if (!cidr) continue;
    std::string owner;
    if (b.spec.affinity) {
      const auto colon = b.spec.affinity->find(':');
      owner = colon == std::string::npos ? *b.spec.affinity : b.spec.affinity->substr(colon + 1);
    }
    for (size_t o = 0; o < b.spec.allocations.size() && o < cidr->size(); ++o) {
      const auto& index = b.spec.allocations[o];
      if (!index || static_cast<size_t>(*index) >= b.spec.attributes.size()) continue;
      const auto& attribute = b.spec.attributes[static_cast<size_t>(*index)];
      auto node = attribute.secondary.find("node");
      if (node == attribute.secondary.end()) {
        ++out.unclassified;
        continue;
      }
      if (node->second == owner) continue;
      BorrowedAddress a{formatAddress(cidr->family, cidr->base + static_cast<Wide>(o)),
                        node->second,
                        formatCidr(*cidr),
                        owner,
                        "",
                        ""};
      const std::string ns = secondary(attribute, "namespace");
      if (auto pod = attribute.secondary.find("pod"); pod != attribute.secondary.end()) {
        a.type = "pod";
        a.allocatedTo = ns + "/" + pod->second;
      } else {
        a.type = secondary(attribute, "type");
      }
      out.addresses.push_back(std::move(a));
    }
  }
  return out;
}

std::string_view toString(FindingKind kind) {
  switch (kind) {
    case FindingKind::kLeakedAddress:
      return "LeakedAddress";
    case FindingKind::kNotInActivePool:
      return "NotInActivePool";
    case FindingKind::kNotAllocated:
      return "NotAllocated";
    case FindingKind::kSeveralOwners:
      return "SeveralOwners";
    case FindingKind::kLeakedHandle:
      return "LeakedHandle";
    case FindingKind::kMissingHandle:
      return "MissingHandle";
    case FindingKind::kHandleCountMismatch:
      return "HandleCountMismatch";
    case FindingKind::kInvalidBlock:
      return "InvalidBlock";
    case FindingKind::kBlockOutsidePools:
      return "BlockOutsidePools";
    case FindingKind::kAffinityNotConfirmed:
      return "AffinityNotConfirmed";
    case FindingKind::kAffinityWithoutBlock:
      return "AffinityWithoutBlock";
    case FindingKind::kAffinityBlockMismatch:
      return "AffinityBlockMismatch";
    case FindingKind::kBlockWithoutAffinity:
      return "BlockWithoutAffinity";
  }
  return "Unknown";
}

size_t CheckResult::allocationCount() const {
  size_t n = 0;
  for (const auto& [ip, list] : allocations) n += list.size();
  return n;
}

size_t CheckResult::count(FindingKind kind) const {
  return static_cast<size_t>(
      std::count_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.kind == kind; }));
}

namespace {

// The block's own problem, beyond what blockProblem() sees: its CIDR and size.
std::optional<std::string> blockShapeProblem(const model::IPAMBlock& block, const std::optional<Cidr>& cidr) {
  if (!cidr) return "cidr \"" + block.spec.cidr + "\" is not a CIDR";
  if (block.spec.allocations.size() != cidr->size()) {
    return "expected " + std::to_string(cidr->size()) + " addresses in this block, but allocations has " +
           std::to_string(block.spec.allocations.size());
  }
  return blockProblem(block.spec);
}

class Checker {
 public:
  explicit Checker(const IpamSnapshot& snapshot) : snapshot_(snapshot) {}

  CheckResult run() {
    recordAllocations();
    recordPools();
    recordInUse();
    countByNode();
    scanAddresses();
    scanHandles();
    scanBlocks();
    scanAffinities();
    std::stable_sort(r_.findings.begin(), r_.findings.end(),
                     [](const Finding& a, const Finding& b) { return a.kind < b.kind; });
    return std::move(r_);
  }

 private:
  void add(FindingKind kind, std::string subject, std::string detail) {
    r_.findings.push_back({kind, std::move(subject), std::move(detail)});
  }

  void recordAllocations() {
    for (const auto& b : snapshot_.blocks) {
      r_.blocks.push_back({b.spec.cidr, b.spec.affinity.value_or("<none>"), {}});
      auto cidr = parseCidr(b.spec.cidr);
      if (!cidr) continue;
      const std::string blockCidr = formatCidr(*cidr);
      r_.blocks.back().cidr = blockCidr;
      const std::string affine = hostOf(b.spec.affinity);
      for (size_t o = 0; o < b.spec.allocations.size() && o < cidr->size(); ++o) {
        const auto& index = b.spec.allocations[o];
        if (!index) continue;
        CheckedAllocation a;
        a.ip = formatAddress(cidr->family, cidr->base + static_cast<Wide>(o));
        a.block = blockCidr;
        a.node = affine;
        a.sequenceNumber = sequenceNumberOf(b.spec, static_cast<int>(o)).value_or(0);
        a.attributes = "<missing>";
        bool windowsReserved = false;
        if (*index >= 0 && static_cast<size_t>(*index) < b.spec.attributes.size()) {
          const auto& attribute = b.spec.attributes[static_cast<size_t>(*index)];
          a.attributes = describeAttribute(attribute);
          if (attribute.handleID == kWindowsReservedHandle) {
            windowsReserved = true;
          } else if (attribute.handleID) {
            a.handle = *attribute.handleID;
            handleBlocks_[a.handle][blockCidr] += 1;
          }
          if (auto n = secondary(attribute, "node"); !n.empty()) a.node = n;
          a.pod = secondary(attribute, "pod");
          a.namespaceName = secondary(attribute, "namespace");
          a.type = secondary(attribute, "type");
          a.creationTimestamp = secondary(attribute, "timestamp");
        }
        a.borrowed = a.node != affine;
        const std::string ip = a.ip;
        r_.blocks.back().ips.push_back(ip);
        r_.allocations[ip].push_back(std::move(a));
        if (windowsReserved) use(ip, "Reserved for Windows");
      }
    }
  }

  void recordPools() {
    for (const auto& p : snapshot_.pools) {
      auto cidr = parseCidr(p.spec.cidr);
      if (!cidr) continue;
      allPools_.push_back(*cidr);
      if (p.spec.disabled) continue;
      activePools_.push_back(*cidr);
      r_.activePools.push_back(p.spec.cidr);
    }
  }

  void use(const std::string& ip, const std::string& owner) {
    r_.inUse[ip].push_back(owner);
    auto it = r_.allocations.find(ip);
    if (it == r_.allocations.end()) return;
    for (auto& a : it->second) {
      a.inUse = true;
      a.owners.push_back(owner);
    }
  }

  void recordInUse() {
    for (const auto& n : snapshot_.nodes) {
      std::vector<std::string> texts = {n.spec.ipv4VXLANTunnelAddr, n.spec.ipv6VXLANTunnelAddr};
      if (n.spec.wireguard) {
        texts.push_back(n.spec.wireguard->interfaceIPv4Address);
        texts.push_back(n.spec.wireguard->interfaceIPv6Address);
      }
      if (n.spec.bgp) texts.push_back(n.spec.bgp->ipv4IPIPTunnelAddr);
      for (const auto& text : texts) {
        if (auto ip = normaliseAddress(text)) {
          use(*ip, "Node(" + n.metadata.name + ")");
          ++r_.nodeIPs;
        }
      }
    }
    for (const auto& w : snapshot_.workloadEndpoints) {
      for (const auto& text : w.spec.ipNetworks) {
        // The model's validation admits only addresses here.
        if (auto ip = normaliseAddress(text)) {
          use(*ip, "Workload(" + w.metadata.namespaceName + "/" + w.metadata.name + ")");
          ++r_.workloadIPs;
        }
      }
    }
  }

  void countByNode() {
    std::map<std::string, int> byNode;
    for (const auto& [ip, list] : r_.allocations) {
      for (const auto& a : list) ++byNode[a.node];
    }
    r_.allocationsByNode.assign(byNode.begin(), byNode.end());
    std::stable_sort(r_.allocationsByNode.begin(), r_.allocationsByNode.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }

  void scanAddresses() {
    for (const auto& [ip, list] : r_.allocations) {
      if (r_.inUse.count(ip)) continue;
      add(FindingKind::kLeakedAddress, ip, ip + " leaked; attrs " + list.front().attributes);
    }
    std::set<std::string> several;
    for (const auto& [ip, owners] : r_.inUse) {
      if (owners.size() > 1) several.insert(ip);
      if (r_.allocations.count(ip)) continue;
      auto address = parseAddress(ip);
      const bool active = address && std::any_of(activePools_.begin(), activePools_.end(),
                                                 [&](const Cidr& c) { return c.contains(*address); });
      const std::string by = " in use by " + join(owners);
      if (active) {
        add(FindingKind::kNotAllocated, ip, ip + by + " and in active IPAM pool but has no IPAM allocation.");
      } else {
        add(FindingKind::kNotInActivePool, ip, ip + by + " is not in any active IP pool.");
      }
    }
    for (const auto& [ip, list] : r_.allocations) {
      if (list.size() > 1) several.insert(ip);
    }
    for (const auto& ip : several) {
      // Looked up, not indexed: an address only allocated twice must not become one in use.
      std::vector<std::string> who;
      if (auto used = r_.inUse.find(ip); used != r_.inUse.end()) who = used->second;
      if (auto allocated = r_.allocations.find(ip);
          allocated != r_.allocations.end() && allocated->second.size() > 1) {
        for (const auto& a : allocated->second) who.push_back("block " + a.block);
      }
      add(FindingKind::kSeveralOwners, ip, ip + " has multiple owners: " + join(who));
    }
  }

  void scanHandles() {
    std::set<std::string> stored;
    for (const auto& h : snapshot_.handles) {
      const std::string& id = h.value.metadata.name;
      stored.insert(id);
      auto counted = handleBlocks_.find(id);
      if (counted == handleBlocks_.end()) {
        add(FindingKind::kLeakedHandle, id, id + " doesn't have any active IPs.");
        std::optional<std::string> uid;
        if (!h.value.metadata.uid.empty()) uid = h.value.metadata.uid;
        r_.leakedHandles.push_back({id, uid, std::to_string(h.revision)});
        continue;
      }
      ++r_.handlesWithAddresses;
      std::map<std::string, int> recorded;
      for (const auto& [block, count] : h.value.spec.block) {
        auto cidr = parseCidr(block);
        if (count != 0) recorded[cidr ? formatCidr(*cidr) : block] += count;
      }
      if (recorded == counted->second) continue;
      std::string detail = id + " counts";
      for (const auto& [block, count] : recorded) detail += " " + block + ":" + std::to_string(count);
      detail += " where its blocks hold";
      for (const auto& [block, count] : counted->second) detail += " " + block + ":" + std::to_string(count);
      add(FindingKind::kHandleCountMismatch, id, detail);
    }
    for (const auto& [id, blocks] : handleBlocks_) {
      if (!stored.count(id))
        add(FindingKind::kMissingHandle, id, id + " is in use in a block but doesn't exist.");
    }
  }

  void scanBlocks() {
    std::set<std::pair<std::string, std::string>> affinities;  // owner, block CIDR
    for (const auto& a : snapshot_.affinities) {
      auto cidr = parseCidr(a.spec.cidr);
      affinities.insert({affinityOwner(a.spec), cidr ? formatCidr(*cidr) : a.spec.cidr});
    }
    for (const auto& b : snapshot_.blocks) {
      auto cidr = parseCidr(b.spec.cidr);
      if (auto problem = blockShapeProblem(b, cidr)) {
        add(FindingKind::kInvalidBlock, b.spec.cidr,
            "IPAMBlock " + b.metadata.name + " is invalid: " + *problem);
      }
      if (!cidr) continue;
      const std::string text = formatCidr(*cidr);
      if (std::none_of(allPools_.begin(), allPools_.end(),
                       [&](const Cidr& p) { return p.contains(*cidr); })) {
        const auto allocated = std::count_if(b.spec.allocations.begin(), b.spec.allocations.end(),
                                             [](const std::optional<int>& a) { return a.has_value(); });
        add(FindingKind::kBlockOutsidePools, text,
            "IPAMBlock " + text + " is in no IP pool (" + std::to_string(allocated) +
                " addresses allocated)");
      }
      if (b.spec.affinity && b.spec.affinity->find(':') != std::string::npos &&
          !affinities.count({*b.spec.affinity, text})) {
        add(FindingKind::kBlockWithoutAffinity, text,
            "IPAMBlock " + text + " is affine to " + *b.spec.affinity + " but no BlockAffinity says so");
      }
    }
  }

  void scanAffinities() {
    std::map<std::string, const model::IPAMBlock*> blocks;
    for (const auto& b : snapshot_.blocks) {
      if (auto cidr = parseCidr(b.spec.cidr)) blocks[formatCidr(*cidr)] = &b;
    }
    for (const auto& a : snapshot_.affinities) {
      const std::string& name = a.metadata.name;
      if (a.spec.state != "confirmed") {
        add(FindingKind::kAffinityNotConfirmed, name,
            "BlockAffinity " + name + " of " + a.spec.node + " for " + a.spec.cidr + " is " +
                (a.spec.state.empty() ? std::string("in no state") : a.spec.state));
        continue;
      }
      auto cidr = parseCidr(a.spec.cidr);
      auto block = cidr ? blocks.find(formatCidr(*cidr)) : blocks.end();
      if (block == blocks.end()) {
        add(FindingKind::kAffinityWithoutBlock, name,
            "BlockAffinity " + name + " names block " + a.spec.cidr + ", which does not exist");
        continue;
      }
      const auto& affinity = block->second->spec.affinity;
      if (affinity != affinityOwner(a.spec)) {
        add(FindingKind::kAffinityBlockMismatch, name,
            "BlockAffinity " + name + " gives " + a.spec.cidr + " to " + affinityOwner(a.spec) +
                " but the block is affine to " + affinity.value_or("<none>"));
      }
    }
  }

  const IpamSnapshot& snapshot_;
  CheckResult r_;
  std::vector<Cidr> allPools_;
  std::vector<Cidr> activePools_;
  std::map<std::string, std::map<std::string, int>> handleBlocks_;  // handle -> block -> addresses
};

}  // namespace

CheckResult check(const IpamSnapshot& snapshot) { return Checker(snapshot).run(); }

}  // namespace tartan::ipam
