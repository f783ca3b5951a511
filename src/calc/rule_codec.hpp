// rule_codec.hpp — a policy's selector and rules packed into one string.
//
// Why: of 10k policies only the few that select a local endpoint are active, yet each is kept
// so that it can become active later. As RuleDef vectors (strings, optionals, vectors of ports)
// a one-rule policy costs ~1 KB; packed it costs the bytes of its selectors and a few more. The
// rules are unpacked only when the policy activates or is rendered, and two packings compare
// equal exactly when the definitions do (the encoding is deterministic), which is how a
// duplicate update is recognised.
#pragma once

#include "policy_conversion.hpp"

#include <string>
#include <string_view>

namespace tartan::calc {

// Packs def.selector, def.ingress and def.egress.
std::string packPolicyBody(const PolicyDef& def);

// Fills def.selector, def.ingress and def.egress from a packPolicyBody() string. `packed` must
// have come from packPolicyBody (a bug otherwise: asserted).
void unpackPolicyBody(std::string_view packed, PolicyDef& def);

}  // namespace tartan::calc
