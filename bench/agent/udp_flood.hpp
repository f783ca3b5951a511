// bench/agent/udp_flood.hpp — small-packet UDP between two pod namespaces, counted at the receiver.
//
// The sender (sendmmsg, batches of 64) and the receiver (recvmmsg) are threads that setns into
// their pods' namespaces, so the packets cross the node namespace's forwarding path — the path the
// agent's chains sit on. Two modes: one flow (after its first packet, conntrack's established
// fast path), and new flows (a fresh socket, so a fresh source port and conntrack entry, per
// packet: every packet walks the whole ruleset).
#pragma once

#include "support/netns.hpp"

#include <cstdint>
#include <string>

namespace tartan::bench {

struct FloodResult {
  uint64_t sent = 0;
  uint64_t received = 0;
  double seconds = 0;
  double pps() const { return seconds > 0 ? static_cast<double>(received) / seconds : 0; }
};

enum class FloodMode { kOneFlow, kNewFlows };

// Sends for `seconds` from `from` to `toIp`:`port` (a receiver bound in `to`); waits briefly for
// the tail, then counts.
FloodResult udpFlood(const test::NetNamespace& from, const test::NetNamespace& to, const std::string& toIp,
                     uint16_t port, double seconds, FloodMode mode, size_t payloadBytes = 18);

}  // namespace tartan::bench
