// network_sets.cpp — field descriptions of GlobalNetworkSet and NetworkSet.
#include "kinds_internal.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, NetworkSetSpec& s) {
  v.field("nets", s.nets);
}

template <class V, class R>
void describeSet(V& v, R& s) {
  v.typeMeta(R::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

template <class V>
void describe(V& v, GlobalNetworkSet& s) {
  describeSet(v, s);
}
template <class V>
void describe(V& v, NetworkSet& s) {
  describeSet(v, s);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(GlobalNetworkSet)
TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(NetworkSet)

}  // namespace tartan::model
