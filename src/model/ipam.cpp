// ipam.cpp — field descriptions of IPAMBlock, BlockAffinity and IPAMHandle.
#include "kinds_internal.hpp"

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
  v.field("sequenceNumber", s.sequenceNumber);
  v.field("sequenceNumberForAllocation", s.sequenceNumberForAllocation);
}

template <class V>
void describe(V& v, BlockAffinitySpec& s) {
  v.field("state", s.state, Need::kAlways);
  v.field("node", s.node, Need::kAlways);
  v.field("type", s.type);
  v.field("cidr", s.cidr, Need::kAlways);
  v.field("deleted", s.deleted);
}

template <class V>
void describe(V& v, IPAMHandleSpec& s) {
  v.field("handleID", s.handleID, Need::kAlways);
  v.field("block", s.block, Need::kAlways);
  v.field("deleted", s.deleted);
}

template <class V, class R>
void describeIpamResource(V& v, R& s) {
  v.typeMeta(R::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

template <class V>
void describe(V& v, IPAMBlock& s) { describeIpamResource(v, s); }
template <class V>
void describe(V& v, BlockAffinity& s) { describeIpamResource(v, s); }
template <class V>
void describe(V& v, IPAMHandle& s) { describeIpamResource(v, s); }

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(IPAMBlock)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(BlockAffinity)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(IPAMHandle)

}  // namespace tartan::model
