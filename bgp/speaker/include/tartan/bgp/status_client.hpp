// tartan/bgp/status_client.hpp — read tartan-bgpd's status over its local socket.
//
// Plain C++ values; the gRPC transport stays inside the library so that the CLI pays nothing
// for its headers. Each call opens a channel to the unix socket, asks, and closes it.
// Failure: an unreachable daemon or a failed call is an Error naming the socket.
#pragma once

#include <tartan/common/result.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tartan::bgp::status {

// The socket tartan-bgpd serves on by default.
inline constexpr const char* kDefaultSocket = "/run/tartan/bgpd.sock";

struct PeerStatus {
  std::string key;
  std::string address;
  std::string type;   // "node-to-node mesh", "global", "node specific"
  std::string state;  // "Established", "Active", ...
  std::int64_t sinceUnix = 0;
  std::string lastError;
  std::uint32_t peerAs = 0;
  std::uint64_t prefixesReceived = 0;
  std::uint64_t prefixesAccepted = 0;
  std::uint64_t prefixesAdvertised = 0;
};

struct NodeStatus {
  std::string node;
  std::uint32_t localAs = 0;
  std::string routerId;
  std::vector<PeerStatus> peers;
  std::uint64_t locRibRoutes = 0;
  std::uint64_t kernelRoutes = 0;
};

struct RouteEntry {
  std::string prefix;
  std::vector<std::string> nextHops;
  std::string from;
  std::vector<std::uint32_t> asPath;
  bool best = true;
};

// prefixCounts=false skips the per-peer prefix counts, which cost a walk of each Adj-RIB-In.
Result<NodeStatus> getNodeStatus(const std::string& socketPath = kDefaultSocket, bool prefixCounts = true);
Result<std::vector<RouteEntry>> listRoutes(const std::string& socketPath = kDefaultSocket);

}  // namespace tartan::bgp::status
