// ipam.cpp — field descriptions of IPAMBlock, BlockAffinity and IPAMHandle, and the fields,
// defaults and rules of IPAMConfiguration and IPReservation.
#include "fixed_values.hpp"
#include "kinds_internal.hpp"
#include "validate.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, AllocationAttribute& s) {
  v.field("handle_id", s.handleID);
  v.field("secondary", s.secondary);
}

template <class V>
void describe(V& v, IPAMBlockSpec& s) {
  v.field("cidr", s.cidr, Need::kRequired);
  v.field("affinity", s.affinity);
  v.field("affinityClaimTime", s.affinityClaimTime);
  v.field("strictAffinity", s.strictAffinity, Need::kAlways);
  v.field("allocations", s.allocations, Need::kAlways);
  v.field("unallocated", s.unallocated, Need::kAlways);
  v.field("attributes", s.attributes, Need::kAlways);
  v.field("deleted", s.deleted, Need::kAlways);
  v.field("sequenceNumber", s.sequenceNumber, Need::kAlways);  // no omitempty in Calico: its CRD requires it
  v.field("sequenceNumberForAllocation", s.sequenceNumberForAllocation);
}

template <class V>
void describe(V& v, BlockAffinitySpec& s) {
  v.field("state", s.state, Need::kAlways, kAffinityStates);
  v.field("node", s.node, Need::kAlways);
  v.field("type", s.type, Need::kOptional, kAffinityTypes);
  v.field("cidr", s.cidr, Need::kAlways);
  v.field("deleted", s.deleted, Need::kOptional, kBooleanStrings);
}

template <class V>
void describe(V& v, IPAMHandleSpec& s) {
  v.field("handleID", s.handleID, Need::kAlways);
  v.field("block", s.block, Need::kAlways);
  v.field("deleted", s.deleted);
}

template <class V>
void describe(V& v, IPAMConfigurationSpec& s) {
  v.field("strictAffinity", s.strictAffinity, Need::kAlways);
  v.field("maxBlocksPerHost", s.maxBlocksPerHost);
  v.field("autoAllocateBlocks", s.autoAllocateBlocks, Need::kAlways);
}

template <class V>
void describe(V& v, IPReservationSpec& s) {
  v.field("reservedCIDRs", s.reservedCIDRs);
}

template <class V, class R>
void describeIpamResource(V& v, R& s) {
  v.typeMeta(R::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

template <class V>
void describe(V& v, IPAMBlock& s) {
  describeIpamResource(v, s);
}
template <class V>
void describe(V& v, BlockAffinity& s) {
  describeIpamResource(v, s);
}
template <class V>
void describe(V& v, IPAMHandle& s) {
  describeIpamResource(v, s);
}
template <class V>
void describe(V& v, IPAMConfiguration& s) {
  describeIpamResource(v, s);
}
template <class V>
void describe(V& v, IPReservation& s) {
  describeIpamResource(v, s);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(IPAMBlock)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(BlockAffinity)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(IPAMHandle)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(IPAMConfiguration)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(IPReservation)

// Their rules live here rather than beside the other IPAM kinds' so the two kinds stay one unit.
void defaultKind(IPAMConfiguration&) {}

void validateKind(Validator& v, const IPAMConfiguration& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  if (r.spec.maxBlocksPerHost < 0) {
    v.fail("spec.maxBlocksPerHost", "maxBlocksPerHost must not be negative");
  }
}

void defaultKind(IPReservation&) {}

void validateKind(Validator& v, const IPReservation& r) {
  checkName(v, r.metadata);
  checkMetadata(v, r.metadata, false);
  for (size_t i = 0; i < r.spec.reservedCIDRs.size(); ++i) {
    if (!parseCIDROrIP(r.spec.reservedCIDRs[i])) {
      v.fail("spec.reservedCIDRs[" + std::to_string(i) + "]",
             "invalid CIDR or IP \"" + r.spec.reservedCIDRs[i] + "\"");
    }
  }
}

}  // namespace tartan::model
