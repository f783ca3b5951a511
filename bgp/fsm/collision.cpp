#include "fsm/collision.hpp"

namespace tartan::bgp::fsm {

CollisionDecision resolveCollision(State existingState, Direction existingDirection, std::uint32_t localId,
                                   std::uint32_t remoteId) {
  switch (existingState) {
    case State::kIdle:
    case State::kConnect:
    case State::kActive:
      return CollisionDecision::kNoCollision;
    case State::kEstablished:
      // §6.8: a collision with an Established connection closes the newly created one.
      return CollisionDecision::kCloseNew;
    case State::kOpenSent:  // the new connection's OPEN tells us the remote identifier
    case State::kOpenConfirm:
      break;
  }
  // §6.8: if the local identifier is lower, the connection we initiated is closed; otherwise the
  // connection the peer initiated is closed.
  const Direction loser = localId < remoteId ? Direction::kOutbound : Direction::kInbound;
  return loser == existingDirection ? CollisionDecision::kCloseExisting : CollisionDecision::kCloseNew;
}

}  // namespace tartan::bgp::fsm
