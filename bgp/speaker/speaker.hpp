// bgp/speaker/speaker.hpp — the BGP speaker of one node: peers, RIB, kernel, live config.
//
// What: applyConfig() takes the node's SpeakerConfig (config.hpp) and makes it so: peers that
// appear are started, peers that go are stopped with a Cease, peers whose settings changed are
// restarted, and every other session stays up. The node's blocks are originated, each with a
// blackhole in the kernel; every route a peer sends is imported unless a BGPFilter rejects it
// (Calico's `import all`, policy.hpp), decided in the Rib (bgp/rib), exported per BGPFilter and
// installed in the kernel through the FibWriter, which never displaces another protocol's route
// (fib.hpp). A peer's route for one of our blocks loses to our own (locally originated first).
// Graceful restart: as helper (RFC 4724 §4.2) a peer's routes are kept stale when its session
// drops without a NOTIFICATION, until its End-of-RIB or its restart time (capped by BGPPeer
// maxRestartTime, and running on after the session is back until End-of-RIB); as restarting speaker
// (§4.1) the kernel routes of a previous run keep forwarding until every peer sent End-of-RIB
// (or a deferral timeout), then the stale ones are removed.
// Owns: the listening sockets, the peers, the Rib and the FibWriter.
// Threading: the Rib lives on the speaker's strand; each peer on its own. Public methods are
// thread-safe (they post, and the status calls wait for the answer).
// Failure: a listen failure is returned; everything later is logged and retried.
#pragma once

#include "config.hpp"
#include "fib.hpp"
#include "kernel_routes.hpp"
#include "peer.hpp"

#include "rib/rib.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <vector>

namespace tartan::bgp::speaker {

struct SpeakerOptions {
  PeerTimers timers;
  // Restarting speaker: how long to wait for every peer's End-of-RIB before removing stale
  // kernel routes of the previous run (RFC 4724 §4.1 selection deferral).
  std::chrono::seconds deferral{120};
  std::optional<std::uint16_t> listenPort;  // overrides BGPConfiguration.listenPort
  std::size_t maxPaths = 8;                 // ECMP width
};

struct PeerReport {
  PeerStatus status;
  std::size_t received = 0;
  std::size_t accepted = 0;
  std::size_t advertised = 0;
};

struct RouteReport {
  Prefix prefix;
  std::vector<Address> nextHops;  // empty for our own blocks
  std::string from;               // peer key, or "local"
  std::vector<std::uint32_t> asPath;
  bool best = true;
};

struct SpeakerReport {
  std::string nodeName;
  std::uint32_t localAs = 0;
  std::uint32_t routerId = 0;
  std::vector<PeerReport> peers;
  FibStats fib;
  std::size_t locRibSize = 0;
};

class Speaker : public PeerObserver {
 public:
  Speaker(boost::asio::io_context& io, SpeakerOptions options, std::unique_ptr<netlink::RouteTable> kernel);
  ~Speaker() override;

  void applyConfig(SpeakerConfig config);
  // Closes the sockets without a NOTIFICATION and leaves the kernel routes in place: peers that
  // help with graceful restart keep our routes, and forwarding goes on while we restart.
  void shutdown();

  // Kernel routes chosen by --announce-kernel-routes (kernel_routes.hpp): originated as local
  // routes, like the blocks but without a blackhole (the kernel already has them). A prefix that
  // is also one of the node's blocks is announced as the block.
  void updateKernelRoutes(KernelRouteChanges changes);

  SpeakerReport report(bool prefixCounts = true);
  std::vector<RouteReport> routes();
  FibWriter& fib() { return *fib_; }

  // PeerObserver (called on a peer's strand).
  void onSessionUp(std::uint32_t peerId, const SessionInfo& session) override;
  void onSessionDown(std::uint32_t peerId, SessionEnd end) override;
  void onUpdates(std::uint32_t peerId, std::vector<ReceivedUpdate> updates) override;
  void onRouteRefresh(std::uint32_t peerId, AfiSafi family) override;

 private:
  struct PeerEntry {
    std::shared_ptr<Peer> peer;
    bool up = false;
    std::optional<SessionInfo> session;
    bool endOfRibReceived = false;
    std::shared_ptr<boost::asio::steady_timer> restartTimer;  // helper mode: stale routes' deadline
  };

  void applyOnStrand(SpeakerConfig config);
  // On every address, or only on `addresses` when there are any (bindMode NodeIP).
  void listen(std::uint16_t port, std::vector<Address> addresses);
  void accept(std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor);
  void setMd5Keys();
  void originate(const SpeakerConfig& old, bool ribChanged);
  PathAttributes originAttributes(const Prefix& prefix) const;
  bool isBlock(const Prefix& prefix) const;
  // Originated by the configuration: a block or a service range.
  bool isConfigured(const Prefix& prefix) const;
  void scheduleFlush();
  void flush();
  void maybeReconcile();
  // Graceful restart helper (RFC 4724 §4.2): how long stale routes are kept, and their timer.
  std::chrono::seconds staleBound(const PeerEntry& entry, std::uint16_t peerRestartTime) const;
  void keepOrSweepStale(PeerId peerId, PeerEntry& entry, const fsm::SessionParams& params);
  void armStaleTimer(PeerId peerId, PeerEntry& entry, std::chrono::seconds after);
  void cancelStaleTimer(PeerEntry& entry);
  std::optional<FibRoute> kernelRoute(const Prefix& prefix) const;
  PeerInfo peerInfo(const PeerEntry& entry, PeerId id) const;
  // A BGPFilter, pool or prefix advertisement changed: the peer's routes are imported and
  // exported again under the new policy, and what it may no longer have is withdrawn.
  void reapplyPolicy(PeerId id, PeerEntry& entry);
  // Packs a peer's outgoing changes into UPDATEs and sends them (the peer is established).
  void send(PeerEntry& entry, const OutboundBatch& batch);
  // Rib policy hooks: the peer's BGPFilters and the defaults (policy.hpp).
  std::optional<PathAttributes> importPolicy(const PeerInfo& from, const Prefix& prefix,
                                             PathAttributes attrs) const;
  std::optional<PathAttributes> exportPolicy(const PeerInfo& to, const Prefix& prefix,
                                             PathAttributes attrs) const;
  std::optional<std::uint32_t> priorityOf(const Prefix& prefix, const Route& route) const;

  boost::asio::io_context& io_;
  Strand strand_;
  SpeakerOptions options_;
  std::unique_ptr<FibWriter> fib_;
  bool restarting_;
  std::shared_ptr<spdlog::logger> log_;
  SpeakerConfig config_;
  bool configured_ = false;
  std::unique_ptr<Rib> rib_;
  std::map<PeerId, PeerEntry> peers_;
  std::map<std::string, PeerId> peerIds_;  // by PeerSpec key
  PeerId nextPeerId_ = 1;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::uint16_t listeningPort_ = 0;
  std::vector<Address> listenAddresses_;
  bool flushScheduled_ = false;
  bool reconciled_ = false;
  boost::asio::steady_timer deferral_;
  KernelAnnouncements kernelRoutes_;  // announced kernel routes, with their output interface
};

}  // namespace tartan::bgp::speaker
