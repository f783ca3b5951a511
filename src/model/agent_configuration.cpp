// agent_configuration.cpp — field description of AgentConfiguration (FelixConfigurationSpec).
#include "kinds_internal.hpp"

namespace tartan::model {

template <class V>
void describe(V& v, AgentConfigurationSpec& s) {
  v.field("useInternalDataplaneDriver", s.useInternalDataplaneDriver);
  v.field("dataplaneDriver", s.dataplaneDriver);
  v.field("interfacePrefix", s.interfacePrefix);
}

template <class V>
void describe(V& v, AgentConfiguration& s) {
  v.typeMeta(AgentConfiguration::kKind);
  v.field("metadata", s.metadata, Need::kAlways);
  v.field("spec", s.spec, Need::kAlways);
}

TARTAN_MODEL_DEFINE_KIND_ENTRY_POINTS(AgentConfiguration)

}  // namespace tartan::model
