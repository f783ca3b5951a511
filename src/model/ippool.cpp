// ippool.cpp — field description of IPPool.
#include "fixed_values.hpp"
#include "kinds_internal.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, IPIPConfiguration& s) {
  v.field("enabled", s.enabled);
  v.field("mode", s.mode);
}

template <class V>
void describe(V& v, IPPoolSpec& s) {
  v.field("cidr", s.cidr, Need::kRequired);
  v.field("vxlanMode", s.vxlanMode, Need::kOptional, kEncapsulationModes);
  v.field("ipipMode", s.ipipMode, Need::kOptional, kEncapsulationModes);
  v.field("natOutgoing", s.natOutgoing);
  v.field("disabled", s.disabled);
  v.field("disableBGPExport", s.disableBGPExport);
  v.field("blockSize", s.blockSize);
  v.field("nodeSelector", s.nodeSelector);
  v.field("namespaceSelector", s.namespaceSelector);
  v.field("ipip", s.ipip);
  v.field("nat-outgoing", s.natOutgoingV1);
  v.field("allowedUses", s.allowedUses, Need::kOptional, kAllowedUses);
  v.field("assignmentMode", s.assignmentMode, Need::kOptional, kAssignmentModes);
}

template <class V>
void describe(V& v, IPPool& s) {
  v.typeMeta(IPPool::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(IPPool)

}  // namespace tartan::model
