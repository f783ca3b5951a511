// bgp/speaker/socket_options.hpp — the per-peer TCP options of a BGP session.
//
// TCP-MD5 signatures (RFC 2385) are keyed by peer address: set on the listening socket so the
// SYN of a keyed peer verifies, and on the connecting socket before connect(). GTSM (RFC 5082
// §3): we send with TTL/hop limit 255 and refuse segments whose TTL is below 256 - hops.
// Failure: the kernel's refusal as an Error naming the option and the peer.
#pragma once

#include "types.hpp"

#include <tartan/common/result.hpp>

#include <optional>
#include <string>

namespace tartan::bgp::speaker {

// Empty password removes the key for that address.
Result<void> setTcpMd5(int fd, const Address& peer, const std::string& password);
// hops = 1 for directly connected peers.
Result<void> setGtsm(int fd, Afi family, int hops);

}  // namespace tartan::bgp::speaker
