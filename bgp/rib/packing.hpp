// bgp/rib/packing.hpp — turns one peer's outbound changes into as few UPDATEs as fit.
//
// Prefixes that share an attribute set share an UPDATE (RFC 4271 §9.2: one UPDATE carries one
// set of attributes); each UPDATE stays within 4096 bytes (§4.1). IPv4 goes in the NLRI and
// Withdrawn Routes fields, IPv6 in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760). For a 2-octet AS
// peer the AS4 attributes are split out here (RFC 6793 §4.2.2), as the context says.
#pragma once

#include "codec/message.hpp"
#include "rib/rib.hpp"

#include <vector>

namespace tartan::bgp {

std::vector<Update> packUpdates(const OutboundBatch& batch, const CodecContext& ctx,
                                std::size_t maxMessageSize = kMaxMessageSize);

}  // namespace tartan::bgp
