// block.hpp (private) — the arithmetic of one allocation block, pure: which addresses are free,
// allocation from the head of the free list, release to its tail, per-address sequence numbers,
// attribute bookkeeping. Calico's allocationBlock (libcalico-go lib/ipam/allocation_block.go) on
// the model's IPAMBlockSpec, so what is stored is Calico's shape.
//
// Invariants every function keeps (blockConsistent() checks them): each ordinal is either
// allocated (allocations[o] names an attribute) or in `unallocated`, never both, never twice; every
// attribute is referenced; sequenceNumber only grows, and every allocated ordinal has the
// sequence number it was stamped with.
#pragma once

#include "address.hpp"
#include "tartan/model/ipam.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tartan::ipam {

using model::AllocationAttribute;
using model::IPAMBlockSpec;

// An empty block: every ordinal free, in order.
IPAMBlockSpec newBlockSpec(const Cidr& cidr, std::optional<std::string> affinity, bool strictAffinity);

// Up to `count` free ordinals taken from the head of the free list (so the address free longest
// is reused first), skipping addresses inside `reserved`. Each is stamped with the block's
// sequence number, which then grows. Returns the ordinals taken, in order.
std::vector<int> allocateFromBlock(IPAMBlockSpec& block, const Cidr& cidr, int count,
                                   const AllocationAttribute& attribute, const std::vector<Cidr>& reserved);

// Takes one given ordinal; false (and no change) if it is not free.
bool assignOrdinal(IPAMBlockSpec& block, int ordinal, const AllocationAttribute& attribute);

struct ReleaseRequest {
  int ordinal = 0;
  // If set, the address is released only if it still carries this sequence number: a release
  // that read the block before the address was freed and handed out again must not free it.
  std::optional<uint64_t> sequenceNumber;
};

enum class ReleaseOutcome {
  kReleased,
  kNotAllocated,  // already free
  kStale,         // the sequence number differs: the address was reused since
};

struct BlockRelease {
  std::vector<ReleaseOutcome> outcomes;         // per request, in order
  std::map<std::string, int> releasedByHandle;  // handle id -> addresses released
};

// Frees the requested ordinals, each appended to the tail of the free list, and drops the
// attributes no longer referenced.
BlockRelease releaseFromBlock(IPAMBlockSpec& block, const std::vector<ReleaseRequest>& requests);

// The allocated ordinals whose attribute names `handleID`.
std::vector<int> ordinalsOfHandle(const IPAMBlockSpec& block, std::string_view handleID);

std::optional<uint64_t> sequenceNumberOf(const IPAMBlockSpec& block, int ordinal);
bool blockEmpty(const IPAMBlockSpec& block);
int freeCount(const IPAMBlockSpec& block);

// The problem with a block's bookkeeping, if any (see the invariants above).
std::optional<std::string> blockProblem(const IPAMBlockSpec& block);

}  // namespace tartan::ipam
