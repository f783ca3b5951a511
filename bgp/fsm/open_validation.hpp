// bgp/fsm/open_validation.hpp — what we send in OPEN, and what a received OPEN means.
//
// Pure functions: makeOpen builds our OPEN from the peer's configuration; negotiate checks a
// received OPEN (RFC 4271 §6.2, RFC 6793 §4, RFC 5492 §5) and either returns the NOTIFICATION
// to send or the session parameters both sides agreed on (hold time, families, 4-octet AS,
// ADD-PATH directions, graceful restart).
#pragma once

#include "codec/message.hpp"

#include <optional>
#include <variant>
#include <vector>

namespace tartan::bgp::fsm {

struct PeerConfig {
  std::uint32_t localAs = 0;
  std::uint32_t routerId = 0;           // our BGP Identifier, host order
  std::optional<std::uint32_t> peerAs;  // nullopt: accept any AS
  std::uint16_t holdTime = 90;          // 0 or >= 3 (RFC 4271 §4.2)
  // Seconds between KEEPALIVEs; at most a third of the negotiated hold time (RFC 4271 §10),
  // which is also the default.
  std::optional<std::uint16_t> keepaliveTime;
  std::uint16_t connectRetryTime = 120;        // RFC 4271 §10 suggests 120 s
  std::uint16_t largeHoldTime = 240;           // hold timer before the OPEN exchange (§8.2.2: 4 min)
  std::optional<std::uint16_t> delayOpenTime;  // DelayOpen (§8.1.1, optional attribute 4)
  // Wait for the peer to connect and never initiate (stricter than §8.1.1 PassiveTcpEstablishment,
  // which still connects once the ConnectRetry timer expires).
  bool passive = false;
  std::vector<AfiSafi> families{kIpv4Unicast};
  bool routeRefresh = true;
  std::optional<GracefulRestartCap> gracefulRestart;
  std::vector<AddPathCap::Family> addPath;
  // Capabilities the peer must have, else OPEN Error / Unsupported Capability (RFC 5492 §5).
  std::vector<std::uint8_t> requiredCapabilities;
};

struct SessionParams {
  std::uint32_t peerAs = 0;
  std::uint32_t peerId = 0;
  std::uint16_t holdTime = 0;       // 0: no KEEPALIVEs and no hold timer
  std::uint16_t keepaliveTime = 0;  // holdTime / 3, or less if configured (RFC 4271 §10)
  bool fourOctetAs = false;
  bool routeRefresh = false;
  std::vector<AfiSafi> families;
  std::vector<AfiSafi> addPathReceive;  // the peer sends us path identifiers
  std::vector<AfiSafi> addPathSend;     // we send path identifiers
  std::optional<GracefulRestartCap> peerGracefulRestart;
  bool external = false;

  CodecContext receiveContext() const;
  CodecContext sendContext() const;
  bool operator==(const SessionParams&) const = default;
};

Open makeOpen(const PeerConfig& config);

// The NOTIFICATION for an unacceptable OPEN, or the negotiated parameters.
std::variant<SessionParams, Notification> negotiate(const PeerConfig& config, const Open& open);

}  // namespace tartan::bgp::fsm
