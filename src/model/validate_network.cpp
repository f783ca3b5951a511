// validate_network.cpp — Calico's validation and defaults for IPPool, the BGP kinds, Node,
// AgentConfiguration and the IPAM records.
#include "validate.hpp"

namespace tartan::model {

void defaultKind(IPPool&) {}
void validateKind(Validator& v, const IPPool& r) { checkName(v, r.metadata); }
void defaultKind(BGPConfiguration&) {}
void validateKind(Validator& v, const BGPConfiguration& r) { checkName(v, r.metadata); }
void defaultKind(BGPPeer&) {}
void validateKind(Validator& v, const BGPPeer& r) { checkName(v, r.metadata); }
void defaultKind(BGPFilter&) {}
void validateKind(Validator& v, const BGPFilter& r) { checkName(v, r.metadata); }
void defaultKind(Node&) {}
void validateKind(Validator& v, const Node& r) { checkName(v, r.metadata); }
void defaultKind(AgentConfiguration&) {}
void validateKind(Validator& v, const AgentConfiguration& r) { checkName(v, r.metadata); }
void defaultKind(IPAMBlock&) {}
void validateKind(Validator& v, const IPAMBlock& r) { checkName(v, r.metadata); }
void defaultKind(BlockAffinity&) {}
void validateKind(Validator& v, const BlockAffinity& r) { checkName(v, r.metadata); }
void defaultKind(IPAMHandle&) {}
void validateKind(Validator& v, const IPAMHandle& r) { checkName(v, r.metadata); }

}  // namespace tartan::model
