// test/kernel/conformance/raw_probes.hpp — traffic the lab's probe does not send.
//
// What: an SCTP INIT crafted by hand (this kernel has no SCTP sockets, but netfilter's sctp match
// and conntrack do exist, so a raw INIT is what an SCTP policy rule really sees), an ICMP echo,
// and a TCP connection held open across policy changes and agent restarts.
// Owns: its sockets; every socket is made inside the pod's namespace by a thread that entered
// it (setns is per thread) and the socket stays in that namespace after the thread leaves.
// Failure: set-up errors throw std::runtime_error; verdicts are return values.
#pragma once

#include <cstdint>
#include <string>

namespace tartan::conformance {

// Sends an SCTP INIT (RFC 9260 §3.3.2, CRC32c checksum §6.8) from the pod namespace `fromNetns`
// to toIp:dstPort, a few times within timeoutMs, and reports whether the destination namespace
// saw it arrive (a raw IPPROTO_SCTP socket there, matching source address, port and the INIT's
// initiate tag, so no other packet counts).
bool sctpInitArrives(const std::string& fromNetns, const std::string& fromIp, const std::string& toNetns,
                     const std::string& toIp, uint16_t dstPort, int timeoutMs);

// An ICMP echo request (type 8, code 0), or an ICMPv6 one (type 128) when `toIp` is IPv6, from
// the namespace to `toIp`; true when the reply comes.
bool pingReplies(const std::string& fromNetns, const std::string& toIp, int timeoutMs);

// One TCP connect from the namespace to toIp:port (IPv4 or IPv6); true when the handshake
// completes in time.
bool tcpConnects(const std::string& fromNetns, const std::string& toIp, uint16_t port, int timeoutMs);

// A TCP SYN from the namespace with a chosen source address and port (which the pod need not
// own: it is added to eth0 for the attempt and removed again), to toIp:port. Nothing is returned:
// whether the SYN was forwarded is read from the node's conntrack table by the caller.
void spoofedSyn(const std::string& fromNetns, const std::string& spoofedIp, uint16_t srcPort,
                const std::string& toIp, uint16_t port);

// A TCP connection (IPv4 or IPv6) to the lab's echo server, made from a pod namespace and kept open.
class HeldConnection {
 public:
  HeldConnection(const std::string& fromNetns, const std::string& toIp, uint16_t port);
  ~HeldConnection();
  HeldConnection(const HeldConnection&) = delete;
  HeldConnection& operator=(const HeldConnection&) = delete;

  // Sends a line and waits for its echo; false if it does not come back within timeoutMs or the
  // connection was reset.
  bool roundTrip(int timeoutMs);

 private:
  int fd_ = -1;
  int counter_ = 0;
};

}  // namespace tartan::conformance
