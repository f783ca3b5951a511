// bgp/fsm/fsm.hpp — the BGP finite state machine of RFC 4271 §8, as a pure state machine.
//
// What: one Fsm per connection attempt to a peer. Events go in (operator commands, TCP
// outcomes, received messages, timer expiries); actions come out (send a message, start or stop a
// timer for a number of seconds, open or drop TCP, session up/down). There is no clock, socket
// or thread inside: the shell that owns the socket and timers runs the actions, which is what
// lets every transition of §8.2.2 be tested as a table.
// Owns: the state, the ConnectRetryCounter, which optional timers run, the negotiated session.
// Threading: not thread-safe; the shell calls it from the peer's strand.
// Failure: protocol errors become NOTIFICATION actions and a transition to Idle, never exceptions.
#pragma once

#include "codec/message.hpp"
#include "fsm/open_validation.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tartan::bgp::fsm {

enum class State { kIdle, kConnect, kActive, kOpenSent, kOpenConfirm, kEstablished };
std::string_view stateName(State state);

enum class Timer { kConnectRetry, kHold, kKeepalive, kDelayOpen };

// The events of RFC 4271 §8.1 that we use (numbers in brackets).
enum class EventKind {
  kManualStart,               // [1], or [4] when the peer is configured passive
  kManualStop,                // [2]
  kAutomaticStart,            // [3]/[5]: restart after an error, same as ManualStart here
  kConnectRetryTimerExpires,  // [9]
  kHoldTimerExpires,          // [10]
  kKeepaliveTimerExpires,     // [11]
  kDelayOpenTimerExpires,     // [12]
  kTcpCrAcked,                // [16] our outgoing connection is up
  kTcpConnectionConfirmed,    // [17] an incoming connection was accepted
  kTcpConnectionFails,        // [18]
  kBgpOpen,                   // [19]/[20] a well-formed OPEN (validated here)
  kBgpHeaderErr,              // [21] notification = what to send
  kBgpOpenMsgErr,             // [22] notification = what to send
  kOpenCollisionDump,         // [23] collision resolution chose to drop this connection
  kNotifMsgVerErr,            // [24]
  kNotifMsg,                  // [25]
  kKeepAliveMsg,              // [26]
  kUpdateMsg,                 // [27]
  kUpdateMsgErr,              // [28] an UPDATE whose RFC 7606 outcome is a session reset
};

struct Event {
  EventKind kind;
  std::optional<Open> open;   // kBgpOpen
  Notification notification;  // the error events, and kNotifMsg

  static Event of(EventKind kind) { return Event{kind, std::nullopt, {}}; }
  static Event openReceived(Open open) { return Event{EventKind::kBgpOpen, std::move(open), {}}; }
  static Event error(EventKind kind, Notification n) { return Event{kind, std::nullopt, std::move(n)}; }
};

struct InitiateTcp {
  bool operator==(const InitiateTcp&) const = default;
};
struct DropTcp {
  bool operator==(const DropTcp&) const = default;
};
struct SendOpen {
  Open open;
  bool operator==(const SendOpen&) const = default;
};
struct SendKeepalive {
  bool operator==(const SendKeepalive&) const = default;
};
struct SendNotification {
  Notification notification;
  bool operator==(const SendNotification&) const = default;
};
struct StartTimer {
  Timer timer;
  std::uint32_t seconds;
  bool operator==(const StartTimer&) const = default;
};
struct StopTimer {
  Timer timer;
  bool operator==(const StopTimer&) const = default;
};
struct SessionUp {
  SessionParams session;
  bool operator==(const SessionUp&) const = default;
};
// Leaving Established: the routes learned from the peer go (RFC 4271 §8.2.2 "deletes all routes").
struct SessionDown {
  bool operator==(const SessionDown&) const = default;
};

using Action = std::variant<InitiateTcp, DropTcp, SendOpen, SendKeepalive, SendNotification, StartTimer,
                            StopTimer, SessionUp, SessionDown>;
using Actions = std::vector<Action>;

class Fsm {
 public:
  explicit Fsm(PeerConfig config) : config_(std::move(config)) {}

  Actions handle(const Event& event);

  State state() const { return state_; }
  std::uint32_t connectRetryCounter() const { return connectRetryCounter_; }
  // How long the shell should wait in Idle before AutomaticStart (RFC 4271 §8.1.1
  // DampPeerOscillations): 5 s after the first failure, doubling with each further one, capped
  // by the ConnectRetry time. Zero before any failure.
  std::uint32_t idleHoldTime() const;
  // Set once the OPEN exchange succeeded (OpenConfirm and Established).
  const std::optional<SessionParams>& session() const { return session_; }
  const PeerConfig& config() const { return config_; }

 private:
  Actions onIdle(const Event& e);
  Actions onConnectOrActive(const Event& e);
  Actions onOpenSent(const Event& e);
  Actions onOpenConfirm(const Event& e);
  Actions onEstablished(const Event& e);

  // Common tails of many transitions.
  void sendOpenAndWait(Actions& out);                                 // → OpenSent
  bool acceptOpen(const Open& open, Actions& out, bool sendOwnOpen);  // → OpenConfirm or Idle
  void toIdle(Actions& out, bool countRetry);                         // release resources, drop TCP
  void notifyAndIdle(Actions& out, Notification n, bool countRetry = true);
  void startNegotiatedTimers(Actions& out);

  PeerConfig config_;
  State state_ = State::kIdle;
  std::uint32_t connectRetryCounter_ = 0;
  bool delayOpenRunning_ = false;
  std::optional<SessionParams> session_;
};

}  // namespace tartan::bgp::fsm
