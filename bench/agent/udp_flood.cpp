// Sender and receiver threads for udpFlood().
#include "udp_flood.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tartan::bench {
namespace tt = tartan::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned kBatch = 64;

sockaddr_in address(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + ip);
  return a;
}

}  // namespace

FloodResult udpFlood(const tt::NetNamespace& from, const tt::NetNamespace& to, const std::string& toIp,
                     uint16_t port, double seconds, FloodMode mode, size_t payloadBytes) {
  FloodResult result;
  std::atomic<bool> receiverUp{false}, stop{false};
  std::atomic<uint64_t> received{0};
  uint64_t handshake = 0;
  std::string failure;

  std::thread receiver([&] {
    tt::EnterNamespace in(to);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = 8 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    timeval timeout{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in a = address("0.0.0.0", port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      failure = std::string("bind: ") + std::strerror(errno);
      receiverUp = true;
      ::close(fd);
      return;
    }
    receiverUp = true;
    std::vector<char> buffers(kBatch * 2048);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {buffers.data() + i * 2048, 2048};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    std::vector<sockaddr_in> sources(kBatch);
    if (mode == FloodMode::kEstablished)
      for (unsigned i = 0; i < kBatch; ++i) {
        msgs[i].msg_hdr.msg_name = &sources[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
    bool answered = false;
    while (!stop) {
      const int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
      if (n <= 0) continue;
      received += static_cast<uint64_t>(n);
      if (mode == FloodMode::kEstablished && !answered) {
        // One reply: conntrack now holds the flow as ESTABLISHED.
        ::sendto(fd, "r", 1, 0, reinterpret_cast<sockaddr*>(&sources[0]), sizeof(sockaddr_in));
        answered = true;
      }
    }
    ::close(fd);
  });
  while (!receiverUp) std::this_thread::yield();
  if (!failure.empty()) {
    receiver.join();
    throw std::runtime_error(failure);
  }

  std::thread sender([&] {
    tt::EnterNamespace in(from);
    const sockaddr_in dst = address(toIp, port);
    const std::vector<char> payload(payloadBytes, 'x');
    iovec iov{const_cast<char*>(payload.data()), payload.size()};
    std::vector<mmsghdr> msgs(kBatch);
    for (auto& m : msgs) {
      m = {};
      m.msg_hdr.msg_iov = &iov;
      m.msg_hdr.msg_iovlen = 1;
    }
    auto start = Clock::now();
    auto end = start + std::chrono::duration<double>(seconds);
    if (mode != FloodMode::kNewFlows) {
      const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ::connect(fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
      if (mode == FloodMode::kEstablished) {
        // Wait (bounded) for the receiver's one reply before the flood and its clock start.
        timeval timeout{0, 20000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        char reply[8];
        for (int tries = 0; tries < 100; ++tries) {
          ::send(fd, payload.data(), payload.size(), 0);
          ++result.sent;
          if (::recv(fd, reply, sizeof reply, 0) > 0) break;
        }
        // The handshake is not part of the measurement.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        handshake = received;
        result.sent = 0;
        start = Clock::now();
        end = start + std::chrono::duration<double>(seconds);
      }
      while (Clock::now() < end) {
        const int n = ::sendmmsg(fd, msgs.data(), kBatch, 0);
        if (n > 0) result.sent += static_cast<uint64_t>(n);
      }
      ::close(fd);
    } else {
      // A fresh ephemeral port per packet: conntrack sees a new flow each time.
      while (Clock::now() < end) {
        for (int i = 0; i < 64; ++i) {
          const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
          if (::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&dst),
                       sizeof dst) > 0)
            ++result.sent;
          ::close(fd);
        }
      }
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  });
  sender.join();
  // The tail still in flight: wait until the count stops moving.
  for (uint64_t last = ~0ull; received != last;) {
    last = received;
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  stop = true;
  receiver.join();
  result.received = received - handshake;
  return result;
}

}  // namespace tartan::bench
