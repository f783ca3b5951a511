// bgp/speaker/peer.hpp — one BGP neighbour: its TCP connections, their FSMs, timers and bytes.
//
// What: a Peer drives the pure fsm::Fsm of bgp/fsm with events (TCP outcomes, decoded messages,
// timer expiries) and runs the actions it returns (connect, send, start a steady_timer, drop).
// It keeps up to two connections, our outgoing one and one the peer opened, because RFC 4271
// §6.8 settles a collision only once an OPEN has arrived; the loser is dropped with Cease /
// Connection Collision Resolution. Framed messages go through the codec; UPDATEs, route
// refreshes and session up/down are handed to the PeerObserver (the speaker).
// Owns: its sockets and timers. TCP-MD5 and GTSM are set on each socket before it is used.
// Threading: everything runs on the peer's own strand; public methods post onto it, and the
// observer is called from it. status() may be called from any thread.
// Failure: connection errors and NOTIFICATIONs bring the FSM to Idle; the peer starts again after
// an idle hold time that doubles up to a minute (RFC 4271 §8.1.1 DampPeerOscillations).
#pragma once

#include "config.hpp"

#include "codec/message.hpp"
#include "fsm/collision.hpp"
#include "fsm/fsm.hpp"

#include <tartan/common/log.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tartan::bgp::speaker {

// Between our addresses and Asio's (an IPv4-mapped IPv6 address comes back as IPv4).
boost::asio::ip::address toAsio(const Address& a);
Address fromAsio(const boost::asio::ip::address& a);

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

struct ReceivedUpdate {
  Update update;
  UpdateOutcome outcome;
  std::size_t wireBytes = 0;  // the message's size on the wire, for Peer::consumed()
};

// How a session ended, which decides whether the peer's routes are kept (RFC 4724 §4.2).
struct SessionEnd {
  bool graceful = false;  // the peer can restart gracefully and no NOTIFICATION was exchanged
  std::uint16_t restartTime = 0;
};

struct SessionInfo {
  fsm::SessionParams params;
  Address localAddress;  // our end of the TCP connection
};

// Called on the peer's strand; the speaker re-posts onto its own.
class PeerObserver {
 public:
  virtual ~PeerObserver() = default;
  virtual void onSessionUp(std::uint32_t peerId, const SessionInfo& session) = 0;
  virtual void onSessionDown(std::uint32_t peerId, SessionEnd end) = 0;
  virtual void onUpdates(std::uint32_t peerId, std::vector<ReceivedUpdate> updates) = 0;
  virtual void onRouteRefresh(std::uint32_t peerId, AfiSafi family) = 0;
};

struct PeerStatus {
  std::string key;
  Address address;
  PeerType type = PeerType::kMesh;
  std::uint32_t peerAs = 0;
  fsm::State state = fsm::State::kIdle;
  std::chrono::system_clock::time_point since;
  std::string lastError;
};

// What our Graceful Restart capability says about our own last restart (RFC 4724 §3).
struct RestartState {
  // R bit: this process restarted, and the peer should not wait for our End-of-RIB before
  // sending its routes. Only in the first OPEN after the restart.
  bool restarted = false;
  // F bit: the kernel kept our forwarding state through that restart. A process that found none
  // of its routes in the kernel (first start, node reboot) must not claim it: a helper that still
  // holds our routes from before would keep forwarding to a next hop that no longer forwards.
  bool forwardingPreserved = false;
};

struct PeerTimers {
  std::uint16_t holdTime = 90;
  std::uint16_t connectRetryTime = 5;  // Calico's BIRD retries every 5 s, not 120 s
  std::chrono::milliseconds idleHoldMin{1000};
  std::chrono::milliseconds idleHoldMax{8000};
};

class Peer : public std::enable_shared_from_this<Peer> {
 public:
  Peer(boost::asio::io_context& io, std::uint32_t id, PeerSpec spec, const SpeakerConfig& local,
       PeerTimers timers, RestartState restart, PeerObserver& observer);
  ~Peer();

  std::uint32_t id() const { return id_; }
  const PeerSpec& spec() const { return spec_; }

  void start();
  // Administrative stop: Cease to the peer, no restart.
  void stop();
  // Process shutdown for a graceful restart: the sockets close without a NOTIFICATION (RFC 4724
  // §4: the peer then keeps our routes), no restart.
  void abandon();
  // A connection the listener accepted from this peer's address.
  void acceptInbound(boost::asio::ip::tcp::socket socket);
  // Encoded messages (UPDATEs, End-of-RIB) for the established session; dropped if none.
  void send(std::vector<wire::Bytes> messages);
  // Asks the peer to send its routes again (RFC 2918), e.g. after an import policy change.
  void requestRefresh(AfiSafi family);
  // The observer has applied UPDATEs of this many wire bytes. Reading stops while more than
  // kReceiveWindow bytes of UPDATEs are handed over but not applied, so a peer that sends faster
  // than the RIB takes them is held back by TCP flow control instead of growing a queue of
  // decoded UPDATEs (at a full table that queue was hundreds of megabytes). Thread-safe.
  void consumed(std::size_t bytes);
  static constexpr std::size_t kReceiveWindow = 256 * 1024;

  PeerStatus status() const;

 private:
  struct Connection;
  using ConnectionPtr = std::shared_ptr<Connection>;

  fsm::PeerConfig fsmConfig(bool passive) const;
  ConnectionPtr newConnection(fsm::Direction direction);
  void handle(const ConnectionPtr& c, const fsm::Event& event);
  void run(const ConnectionPtr& c, const fsm::Actions& actions);
  void connect(const ConnectionPtr& c);
  void startTimer(const ConnectionPtr& c, fsm::Timer timer, std::uint32_t seconds);
  void read(const ConnectionPtr& c);
  void onBytes(const ConnectionPtr& c);
  void onMessage(const ConnectionPtr& c, wire::ByteView bytes, std::vector<ReceivedUpdate>& updates);
  bool settleCollision(const ConnectionPtr& c, const Open& open);
  void write(const ConnectionPtr& c, wire::Bytes bytes);
  void flushWrites(const ConnectionPtr& c);
  void close(const ConnectionPtr& c);
  void forget(const ConnectionPtr& c);
  void scheduleRestart();
  void setState(fsm::State state, const std::string& error = {});
  ConnectionPtr established() const;
  Result<void> prepareSocket(boost::asio::ip::tcp::socket& socket, bool outbound);

  boost::asio::io_context& io_;
  Strand strand_;
  const std::uint32_t id_;
  const PeerSpec spec_;
  const std::uint32_t localId_;
  const std::optional<Address> sourceAddress_;
  const PeerTimers timers_;
  // Our OPEN's Restart State and Forwarding State bits (RFC 4724 §3). Once a session has been up,
  // a later one follows a session drop, not a restart of ours: R clear, F set (the kernel routes
  // stayed with this process).
  RestartState restart_;
  PeerObserver& observer_;
  std::shared_ptr<spdlog::logger> log_;

  std::vector<ConnectionPtr> connections_;  // at most one per direction
  boost::asio::steady_timer idleHold_;
  std::chrono::milliseconds idleHoldDelay_;
  bool stopped_ = false;
  bool gracefulPeer_ = false;  // the peer's last OPEN had the Graceful Restart capability
  std::uint16_t peerRestartTime_ = 0;
  std::atomic<std::size_t> unconsumed_{0};  // UPDATE bytes handed to the observer, not yet applied

  mutable std::mutex statusMutex_;
  PeerStatus status_;
};

}  // namespace tartan::bgp::speaker
