// bench/agent/udp_flood.hpp — small-packet UDP between two pod namespaces, counted at the receiver.
//
// The sender (sendmmsg, batches of 64) and the receiver (recvmmsg) are threads that setns into
// their pods' namespaces, so the packets cross the node namespace's forwarding path — the path the
// agent's chains sit on. Three modes: one established flow (the receiver answers the first
// packet, so conntrack calls the flow ESTABLISHED and the endpoint chains accept it at their top);
// one unreplied flow (a UDP flow no reply was seen for stays NEW in conntrack, so every packet
// walks the whole ruleset); a new flow per packet (a fresh socket and source port each time: the
// whole ruleset plus a conntrack entry per packet).
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

enum class FloodMode { kEstablished, kUnreplied, kNewFlows };

// Sends for `seconds` from `from` to `toIp`:`port` (a receiver bound in `to`); waits briefly for
// the tail, then counts.
FloodResult udpFlood(const test::NetNamespace& from, const test::NetNamespace& to, const std::string& toIp,
                     uint16_t port, double seconds, FloodMode mode, size_t payloadBytes = 18);

}  // namespace tartan::bench
