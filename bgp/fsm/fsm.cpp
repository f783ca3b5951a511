// Transitions follow RFC 4271 §8.2.2 state by state; comments name the events by number.
#include "fsm/fsm.hpp"

#include <algorithm>

namespace tartan::bgp::fsm {
namespace {

Notification fsmError(State state) {
  const auto sub = state == State::kOpenSent      ? FsmSubcode::kUnexpectedInOpenSent
                   : state == State::kOpenConfirm ? FsmSubcode::kUnexpectedInOpenConfirm
                                                  : FsmSubcode::kUnexpectedInEstablished;
  return Notification::make(ErrorCode::kFsm, sub);  // RFC 6608 subcodes
}

const Notification kCeaseShutdown =
    Notification::make(ErrorCode::kCease, CeaseSubcode::kAdministrativeShutdown);
const Notification kCeaseCollision =
    Notification::make(ErrorCode::kCease, CeaseSubcode::kConnectionCollisionResolution);
const Notification kHoldExpired = Notification(ErrorCode::kHoldTimerExpired, 0);

}  // namespace

std::string_view stateName(State state) {
  switch (state) {
    case State::kIdle:
      return "Idle";
    case State::kConnect:
      return "Connect";
    case State::kActive:
      return "Active";
    case State::kOpenSent:
      return "OpenSent";
    case State::kOpenConfirm:
      return "OpenConfirm";
    case State::kEstablished:
      return "Established";
  }
  return "?";
}

std::uint32_t Fsm::idleHoldTime() const {
  if (connectRetryCounter_ == 0) return 0;
  const std::uint32_t cap = std::max<std::uint32_t>(5, config_.connectRetryTime);
  const std::uint32_t shift = std::min<std::uint32_t>(connectRetryCounter_ - 1, 16);
  return std::min(cap, 5u << shift);
}

Actions Fsm::handle(const Event& e) {
  switch (state_) {
    case State::kIdle:
      return onIdle(e);
    case State::kConnect:
    case State::kActive:
      return onConnectOrActive(e);
    case State::kOpenSent:
      return onOpenSent(e);
    case State::kOpenConfirm:
      return onOpenConfirm(e);
    case State::kEstablished:
      return onEstablished(e);
  }
  return {};
}

void Fsm::toIdle(Actions& out, bool countRetry) {
  out.push_back(StopTimer{Timer::kConnectRetry});
  if (delayOpenRunning_) out.push_back(StopTimer{Timer::kDelayOpen});
  if (state_ >= State::kOpenSent) {
    out.push_back(StopTimer{Timer::kHold});
    out.push_back(StopTimer{Timer::kKeepalive});
  }
  if (state_ == State::kEstablished) out.push_back(SessionDown{});
  out.push_back(DropTcp{});
  delayOpenRunning_ = false;
  session_.reset();
  if (countRetry) ++connectRetryCounter_;
  state_ = State::kIdle;
}

void Fsm::notifyAndIdle(Actions& out, Notification n, bool countRetry) {
  out.push_back(SendNotification{std::move(n)});
  toIdle(out, countRetry);
}

void Fsm::sendOpenAndWait(Actions& out) {
  out.push_back(SendOpen{makeOpen(config_)});
  // §8.2.2: the hold timer runs with a large value until the peer's OPEN arrives.
  out.push_back(StartTimer{Timer::kHold, config_.largeHoldTime});
  state_ = State::kOpenSent;
}

void Fsm::startNegotiatedTimers(Actions& out) {
  // §4.4 / §10: a negotiated hold time of zero means no KEEPALIVEs and no hold timer.
  if (session_->holdTime == 0) {
    out.push_back(StopTimer{Timer::kHold});
    return;
  }
  out.push_back(StartTimer{Timer::kKeepalive, session_->keepaliveTime});
  out.push_back(StartTimer{Timer::kHold, session_->holdTime});
}

bool Fsm::acceptOpen(const Open& open, Actions& out, bool sendOwnOpen) {
  auto result = negotiate(config_, open);
  if (auto* n = std::get_if<Notification>(&result)) {
    notifyAndIdle(out, *n);
    return false;
  }
  session_ = std::get<SessionParams>(std::move(result));
  if (sendOwnOpen) out.push_back(SendOpen{makeOpen(config_)});
  out.push_back(SendKeepalive{});
  startNegotiatedTimers(out);
  state_ = State::kOpenConfirm;
  return true;
}

Actions Fsm::onIdle(const Event& e) {
  Actions out;
  if (e.kind != EventKind::kManualStart && e.kind != EventKind::kAutomaticStart)
    return out;  // all else ignored
  out.push_back(StartTimer{Timer::kConnectRetry, config_.connectRetryTime});
  if (config_.passive) {
    // [4]/[5]: listen only.
    state_ = State::kActive;
  } else {
    out.push_back(InitiateTcp{});
    state_ = State::kConnect;
  }
  if (e.kind == EventKind::kManualStart) connectRetryCounter_ = 0;
  return out;
}

Actions Fsm::onConnectOrActive(const Event& e) {
  Actions out;
  const bool connect = state_ == State::kConnect;
  switch (e.kind) {
    case EventKind::kManualStart:
    case EventKind::kAutomaticStart:
      return out;  // ignored
    case EventKind::kManualStop:
      toIdle(out, false);
      connectRetryCounter_ = 0;
      return out;
    case EventKind::kConnectRetryTimerExpires:
      // Connect: retry the connection. Active: start connecting (unless passive).
      if (connect) out.push_back(DropTcp{});
      out.push_back(StartTimer{Timer::kConnectRetry, config_.connectRetryTime});
      if (delayOpenRunning_) {
        out.push_back(StopTimer{Timer::kDelayOpen});
        delayOpenRunning_ = false;
      }
      if (!config_.passive) {
        out.push_back(InitiateTcp{});
        state_ = State::kConnect;
      }
      return out;
    case EventKind::kDelayOpenTimerExpires:
      if (!delayOpenRunning_) break;
      delayOpenRunning_ = false;
      out.push_back(StopTimer{Timer::kConnectRetry});
      sendOpenAndWait(out);
      return out;
    case EventKind::kTcpCrAcked:
    case EventKind::kTcpConnectionConfirmed:
      out.push_back(StopTimer{Timer::kConnectRetry});
      if (config_.delayOpenTime) {
        out.push_back(StartTimer{Timer::kDelayOpen, *config_.delayOpenTime});
        delayOpenRunning_ = true;
        return out;
      }
      sendOpenAndWait(out);
      return out;
    case EventKind::kTcpConnectionFails:
      if (connect && !delayOpenRunning_) {
        toIdle(out, false);
        return out;
      }
      if (connect) {
        // [18] in Connect with DelayOpen running: back to listening.
        out.push_back(StartTimer{Timer::kConnectRetry, config_.connectRetryTime});
        out.push_back(StopTimer{Timer::kDelayOpen});
        delayOpenRunning_ = false;
        state_ = State::kActive;
        return out;
      }
      out.push_back(StartTimer{Timer::kConnectRetry, config_.connectRetryTime});
      if (delayOpenRunning_) out.push_back(StopTimer{Timer::kDelayOpen});
      delayOpenRunning_ = false;
      out.push_back(DropTcp{});
      ++connectRetryCounter_;
      state_ = State::kIdle;
      return out;
    case EventKind::kBgpOpen:
      if (!delayOpenRunning_ || !e.open) break;
      // [20]: OPEN while DelayOpen runs — answer with our OPEN and a KEEPALIVE at once.
      out.push_back(StopTimer{Timer::kConnectRetry});
      out.push_back(StopTimer{Timer::kDelayOpen});
      delayOpenRunning_ = false;
      acceptOpen(*e.open, out, true);
      return out;
    case EventKind::kBgpHeaderErr:
    case EventKind::kBgpOpenMsgErr:
      notifyAndIdle(out, e.notification);
      return out;
    case EventKind::kNotifMsgVerErr:
      toIdle(out, false);
      return out;
    default:
      break;
  }
  toIdle(out, true);
  return out;
}

Actions Fsm::onOpenSent(const Event& e) {
  Actions out;
  switch (e.kind) {
    case EventKind::kManualStart:
    case EventKind::kAutomaticStart:
    // [16]/[17]: a second connection is tracked by collision detection (§6.8), not by this FSM.
    case EventKind::kTcpCrAcked:
    case EventKind::kTcpConnectionConfirmed:
      return out;
    case EventKind::kManualStop:
      notifyAndIdle(out, kCeaseShutdown, false);
      connectRetryCounter_ = 0;
      return out;
    case EventKind::kHoldTimerExpires:
      notifyAndIdle(out, kHoldExpired);
      return out;
    case EventKind::kTcpConnectionFails:
      // §8.2.2: close, restart the ConnectRetryTimer, and listen.
      out.push_back(DropTcp{});
      out.push_back(StopTimer{Timer::kHold});
      out.push_back(StartTimer{Timer::kConnectRetry, config_.connectRetryTime});
      state_ = State::kActive;
      return out;
    case EventKind::kBgpOpen:
      if (!e.open) break;
      out.push_back(StopTimer{Timer::kConnectRetry});
      acceptOpen(*e.open, out, false);
      return out;
    case EventKind::kBgpHeaderErr:
    case EventKind::kBgpOpenMsgErr:
      notifyAndIdle(out, e.notification);
      return out;
    case EventKind::kOpenCollisionDump:
      notifyAndIdle(out, kCeaseCollision);
      return out;
    case EventKind::kNotifMsgVerErr:
      toIdle(out, false);
      return out;
    default:
      break;
  }
  notifyAndIdle(out, fsmError(state_));
  return out;
}

Actions Fsm::onOpenConfirm(const Event& e) {
  Actions out;
  switch (e.kind) {
    case EventKind::kManualStart:
    case EventKind::kAutomaticStart:
    case EventKind::kTcpCrAcked:
    case EventKind::kTcpConnectionConfirmed:
      return out;
    case EventKind::kManualStop:
      notifyAndIdle(out, kCeaseShutdown, false);
      connectRetryCounter_ = 0;
      return out;
    case EventKind::kHoldTimerExpires:
      notifyAndIdle(out, kHoldExpired);
      return out;
    case EventKind::kKeepaliveTimerExpires:
      out.push_back(SendKeepalive{});
      out.push_back(StartTimer{Timer::kKeepalive, session_->keepaliveTime});
      return out;
    case EventKind::kTcpConnectionFails:
    case EventKind::kNotifMsg:
      toIdle(out, true);
      return out;
    case EventKind::kNotifMsgVerErr:  // §8.2.2: the only OpenConfirm exit that is not counted
      toIdle(out, false);
      return out;
    case EventKind::kBgpHeaderErr:
    case EventKind::kBgpOpenMsgErr:
      notifyAndIdle(out, e.notification);
      return out;
    case EventKind::kOpenCollisionDump:
      notifyAndIdle(out, kCeaseCollision);
      return out;
    case EventKind::kKeepAliveMsg:
      // [26]: the session is up.
      if (session_->holdTime != 0) out.push_back(StartTimer{Timer::kHold, session_->holdTime});
      out.push_back(SessionUp{*session_});
      state_ = State::kEstablished;
      return out;
    default:
      break;
  }
  notifyAndIdle(out, fsmError(state_));
  return out;
}

Actions Fsm::onEstablished(const Event& e) {
  Actions out;
  switch (e.kind) {
    case EventKind::kManualStart:
    case EventKind::kAutomaticStart:
    case EventKind::kTcpCrAcked:
    case EventKind::kTcpConnectionConfirmed:
      return out;
    case EventKind::kManualStop:
      notifyAndIdle(out, kCeaseShutdown, false);
      connectRetryCounter_ = 0;
      return out;
    case EventKind::kHoldTimerExpires:
      notifyAndIdle(out, kHoldExpired);
      return out;
    case EventKind::kKeepaliveTimerExpires:
      out.push_back(SendKeepalive{});
      out.push_back(StartTimer{Timer::kKeepalive, session_->keepaliveTime});
      return out;
    case EventKind::kKeepAliveMsg:
    case EventKind::kUpdateMsg:
      if (session_->holdTime != 0) out.push_back(StartTimer{Timer::kHold, session_->holdTime});
      return out;
    case EventKind::kTcpConnectionFails:
    case EventKind::kNotifMsg:
    case EventKind::kNotifMsgVerErr:
      toIdle(out, true);
      return out;
    case EventKind::kUpdateMsgErr:
    case EventKind::kBgpHeaderErr:
    case EventKind::kBgpOpenMsgErr:
      notifyAndIdle(out, e.notification);
      return out;
    case EventKind::kOpenCollisionDump:
      notifyAndIdle(out, kCeaseCollision);
      return out;
    default:
      break;
  }
  notifyAndIdle(out, fsmError(state_));
  return out;
}

}  // namespace tartan::bgp::fsm
