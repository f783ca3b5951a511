// tartan/model/ipam.hpp — the IPAM records: IPAMBlock, BlockAffinity and IPAMHandle (Calico's
// crd.projectcalico.org/v1 IPAM resources, whose JSON keys include Calico's snake_case ones), and
// the two IPAM settings kinds, IPAMConfiguration and IPReservation (projectcalico.org/v3).
#pragma once

#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tartan::model {

struct AllocationAttribute {
  std::optional<std::string> handleID;  // "handle_id"
  Labels secondary;                     // "secondary"
  bool operator==(const AllocationAttribute&) const = default;
};

struct IPAMBlockSpec {
  std::string cidr;
  std::optional<std::string> affinity;  // "host:<node>" or "virtual:<name>"
  std::optional<std::string> affinityClaimTime;
  bool strictAffinity = false;
  // One entry per address of the block: the index of its attribute, or absent (null) if free.
  std::vector<std::optional<int>> allocations;
  std::vector<int> unallocated;
  std::vector<AllocationAttribute> attributes;
  bool deleted = false;
  uint64_t sequenceNumber = 0;
  std::map<std::string, uint64_t> sequenceNumberForAllocation;
  bool operator==(const IPAMBlockSpec&) const = default;
};

struct IPAMBlock {
  static constexpr Kind kKind = Kind::kIPAMBlock;
  ObjectMeta metadata;
  IPAMBlockSpec spec;
  bool operator==(const IPAMBlock&) const = default;
};

struct BlockAffinitySpec {
  std::string state;  // confirmed, pending, pendingDeletion
  std::string node;
  std::string type;  // host (default), virtual
  std::string cidr;
  std::string deleted;  // "true" or "false", a string as in Calico
  bool operator==(const BlockAffinitySpec&) const = default;
};

struct BlockAffinity {
  static constexpr Kind kKind = Kind::kBlockAffinity;
  ObjectMeta metadata;
  BlockAffinitySpec spec;
  bool operator==(const BlockAffinity&) const = default;
};

struct IPAMHandleSpec {
  std::string handleID;
  std::map<std::string, int> block;  // block CIDR -> addresses held
  bool deleted = false;
  bool operator==(const IPAMHandleSpec&) const = default;
};

struct IPAMHandle {
  static constexpr Kind kKind = Kind::kIPAMHandle;
  ObjectMeta metadata;
  IPAMHandleSpec spec;
  bool operator==(const IPAMHandle&) const = default;
};

// Cluster-wide IPAM settings; the one that counts is named "default" (Calico's IPAMConfig).
struct IPAMConfigurationSpec {
  bool strictAffinity = false;     // never borrow from another node's block
  bool autoAllocateBlocks = true;  // claim new blocks when the node's are full
  int maxBlocksPerHost = 0;        // 0: no limit
  bool operator==(const IPAMConfigurationSpec&) const = default;
};

struct IPAMConfiguration {
  static constexpr Kind kKind = Kind::kIPAMConfiguration;
  ObjectMeta metadata;
  IPAMConfigurationSpec spec;
  bool operator==(const IPAMConfiguration&) const = default;
};

// Addresses IPAM never hands out automatically (Calico's IPReservation).
struct IPReservationSpec {
  std::vector<std::string> reservedCIDRs;  // CIDRs or single addresses
  bool operator==(const IPReservationSpec&) const = default;
};

struct IPReservation {
  static constexpr Kind kKind = Kind::kIPReservation;
  ObjectMeta metadata;
  IPReservationSpec spec;
  bool operator==(const IPReservation&) const = default;
};

}  // namespace tartan::model
