// bgp/fsm/collision.hpp — connection collision detection (RFC 4271 §6.8) as a pure decision.
//
// When an OPEN arrives on a connection while another connection to the same peer exists, the
// shell asks which one to keep; the loser gets OpenCollisionDump (Cease / Connection Collision
// Resolution, RFC 4486).
#pragma once

#include "fsm/fsm.hpp"

#include <cstdint>

namespace tartan::bgp::fsm {

enum class Direction { kInbound, kOutbound };  // who opened the TCP connection

enum class CollisionDecision {
  kNoCollision,    // the other connection has not got far enough to collide
  kCloseExisting,  // keep the connection whose OPEN just arrived
  kCloseNew,       // keep the existing connection
};

// existingState/existingDirection describe the other connection; the new one runs the other way.
// Identifiers are compared as 4-octet unsigned integers in host order (§6.8).
CollisionDecision resolveCollision(State existingState, Direction existingDirection, std::uint32_t localId,
                                   std::uint32_t remoteId);

}  // namespace tartan::bgp::fsm
