// tartan/ipam/check.hpp — what `tartanctl ipam show` and `ipam check` compute: the usage of each
// pool and block, the addresses borrowed from other nodes' blocks, and every inconsistency in the
// IPAM records, as calicoctl computes them (calicoctl/commands/ipam/{show,check,release}.go).
//
// What it does: readSnapshot() reads, kind by kind, everything these look at (pools, blocks,
// affinities, handles, WorkloadEndpoints, Nodes, the IPAM configuration, ClusterInformation);
// utilization(), borrowedAddresses() and check() are pure functions of that snapshot, so tests
// build snapshots in memory. check() finds, as calicoctl does: addresses allocated that no
// WorkloadEndpoint or Node uses (leaked), addresses in use that are in no enabled pool or have
// no allocation, handles no block refers to, handles blocks name that are not stored, blocks
// whose bookkeeping is broken. Beyond calicoctl it counts as problems: an address with several
// owners (calicoctl only prints it), a handle whose per-block counts differ from its blocks, a
// block in no IP pool, and a BlockAffinity that is not confirmed, has no block or disagrees with
// its block's affinity, or a block affine to a node that holds no BlockAffinity for it.
//
// The report (calicoctl's `ipam check -o` JSON, field for field) and the merge of several reports
// into what `ipam release --from-report` frees are here too, so the CLI only reads and prints.
//
// Owns nothing; no threads; reading fails as IpamError, a report that is not one as Error.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/ipam/ipam.hpp"
#include "tartan/model/model.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::ipam {

template <class T>
struct Revisioned {
  T value;
  int64_t revision = 0;
};

// Everything show and check read; each list is one consistent listing of its kind.
struct IpamSnapshot {
  std::vector<model::IPPool> pools;
  std::vector<model::IPAMBlock> blocks;
  std::vector<model::BlockAffinity> affinities;
  std::vector<Revisioned<model::IPAMHandle>> handles;
  std::vector<model::WorkloadEndpoint> workloadEndpoints;
  std::vector<model::Node> nodes;
  model::IPAMConfigurationSpec config;  // "default", or the defaults
  std::optional<Revisioned<model::ClusterInformation>> clusterInformation;
};

IpamResult<IpamSnapshot> readSnapshot(datastore::Datastore& store);

// --- show -----------------------------------------------------------------------------------

struct BlockUsage {
  std::string cidr;
  uint64_t capacity = 0;
  uint64_t inUse = 0;
  uint64_t free = 0;
};

struct PoolUsage {
  std::string name;
  std::string cidr;
  double capacity = 0;  // an IPv6 pool may hold more than 2^64 addresses
  uint64_t inUse = 0;
  double free = 0;
  std::vector<BlockUsage> blocks;  // in address order
};

struct Utilization {
  std::vector<PoolUsage> pools;          // in name order
  std::vector<BlockUsage> orphanBlocks;  // blocks no pool overlaps
};

// Each block counts under the first pool (by name) that overlaps it, as in libcalico-go.
Utilization utilization(const IpamSnapshot& snapshot);

struct BorrowedAddress {
  std::string ip;
  std::string borrowingNode;  // the allocation's "node" attribute
  std::string block;
  std::string blockOwner;   // the node of the block's affinity ("" if none)
  std::string type;         // "pod", or the "type" attribute
  std::string allocatedTo;  // "<namespace>/<pod>"
};

struct Borrowed {
  std::vector<BorrowedAddress> addresses;
  int unclassified = 0;  // allocations without a "node" attribute: borrowed or not, unknown
};

Borrowed borrowedAddresses(const IpamSnapshot& snapshot);

// --- check ----------------------------------------------------------------------------------

enum class FindingKind {
  kLeakedAddress,          // allocated, used by no WorkloadEndpoint or Node
  kNotInActivePool,        // used, not allocated, in no enabled pool
  kNotAllocated,           // used, in an enabled pool, not allocated
  kSeveralOwners,          // used by more than one owner, or allocated in more than one block
  kLeakedHandle,           // an IPAMHandle no block allocation names
  kMissingHandle,          // a handle named by allocations that is not stored
  kHandleCountMismatch,    // a handle's per-block counts differ from what its blocks hold
  kInvalidBlock,           // allocations, unallocated and attributes disagree
  kBlockOutsidePools,      // a block no IP pool contains
  kAffinityNotConfirmed,   // a BlockAffinity left pending or pendingDeletion
  kAffinityWithoutBlock,   // a confirmed BlockAffinity whose block is not stored
  kAffinityBlockMismatch,  // a confirmed BlockAffinity whose block is affine elsewhere or nowhere
  kBlockWithoutAffinity,   // a block affine to a node that has no BlockAffinity for it
};

std::string_view toString(FindingKind kind);

struct Finding {
  FindingKind kind{};
  std::string subject;  // the address, handle id, block CIDR or affinity name
  std::string detail;   // one line for a person
  bool operator==(const Finding&) const = default;
};

// One allocated address as calicoctl's report records it.
struct CheckedAllocation {
  std::string ip;
  std::string block;  // not in the report
  std::string handle;
  std::optional<uint64_t> sequenceNumber;
  std::string pod;
  std::string namespaceName;
  std::string node;
  std::string type;
  std::string creationTimestamp;
  bool inUse = false;
  bool borrowed = false;
  std::vector<std::string> owners;  // "Workload(ns/name)", "Node(name)"
  std::string attributes;           // "Main:<handle> Extra:k=v,..." (not in the report)
  bool operator==(const CheckedAllocation&) const = default;
};

struct HandleInfo {
  std::string id;
  std::optional<std::string> uid;
  std::string revision;
  bool operator==(const HandleInfo&) const = default;
};

struct CheckedBlock {
  std::string cidr;
  std::string affinity;          // "<none>" if none
  std::vector<std::string> ips;  // allocated, in ordinal order
};

struct CheckResult {
  std::vector<CheckedBlock> blocks;
  std::vector<std::string> activePools;  // enabled pools' CIDRs
  int nodeIPs = 0;
  int workloadIPs = 0;
  std::map<std::string, std::vector<std::string>> inUse;              // address -> owners
  std::map<std::string, std::vector<CheckedAllocation>> allocations;  // address -> allocations
  std::vector<std::pair<std::string, int>> allocationsByNode;         // most first
  int handlesWithAddresses = 0;
  std::vector<HandleInfo> leakedHandles;
  std::vector<Finding> findings;  // grouped by kind, in FindingKind order

  size_t allocationCount() const;
  size_t count(FindingKind kind) const;
};

CheckResult check(const IpamSnapshot& snapshot);

// --- report and release ---------------------------------------------------------------------

// calicoctl's report (`ipam check -o FILE`).
struct CheckReport {
  std::string version;
  std::string clusterGUID;
  bool datastoreLocked = false;
  std::string clusterInformationRevision;
  std::string clusterType;
  std::map<std::string, std::vector<CheckedAllocation>> allocations;
  std::vector<HandleInfo> leakedHandles;
  bool operator==(const CheckReport&) const = default;
};

// What ClusterInformation "default" says about the cluster (all empty if it is not stored): the
// report's metadata, and what release --from-report checks a report against.
struct ClusterMeta {
  std::string guid;
  std::string type;
  std::string revision;
  bool datastoreLocked = false;  // datastoreReady set to false
};

ClusterMeta clusterMeta(const std::optional<Revisioned<model::ClusterInformation>>& info);
IpamResult<ClusterMeta> readClusterMeta(datastore::Datastore& store);

CheckReport makeReport(const ClusterMeta& cluster, const CheckResult& result, std::string version);
// JSON as calicoctl writes it (two-space indent, fields in its order).
std::string encodeReport(const CheckReport& report);
// Errors name `source` and the offending field.
Result<CheckReport> decodeReport(std::string_view text, const std::string& source);

// What release --from-report does with several reports: the addresses no report found in use
// (each released only if its handle and sequence number are still the report's), and the
// handles every report found leaked at the same revision.
struct ReleasePlan {
  std::vector<ReleaseOptions> addresses;  // ordered by their text
  std::vector<HandleInfo> handles;        // in id order
};

ReleasePlan mergeReports(const std::vector<CheckReport>& reports);

}  // namespace tartan::ipam
