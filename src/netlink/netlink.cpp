// The socket shell: bytes from codec.cpp out, replies in, acks matched to requests by sequence
// number. No message layout is known here.
#include <tartan/common/log.hpp>
#include <tartan/netlink/netlink.hpp>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace tartan::netlink {

namespace {

constexpr size_t kReceiveBufferSize = 1 << 16;  // a dump datagram is at most 32 KiB
constexpr int kSocketBufferBytes = 32 << 20;    // room for the acks of a whole batch
constexpr size_t kBatchBytesMax = 256 << 10;    // stays well below the forced send buffer
constexpr int kDumpRetries = 5;

std::string errnoText(int errnum) { return std::strerror(errnum); }

// Large socket buffers: a batch's error replies and a big dump must not overrun. The FORCE
// variants (CAP_NET_ADMIN) go past net.core.[rw]mem_max; without the capability the plain ones
// still raise the buffer up to that limit.
void growBuffers(int fd) {
  int bytes = kSocketBufferBytes;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

Result<mnl_socket*> openSocket(const char* what) {
  mnl_socket* socket = mnl_socket_open(NETLINK_ROUTE);
  if (socket == nullptr) return makeError("netlink", "", std::string(what) + ": " + errnoText(errno));
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    int saved = errno;
    mnl_socket_close(socket);
    return makeError("netlink", "", std::string(what) + " bind: " + errnoText(saved));
  }
  int one = 1;
  // Short error replies (no copy of the request) and the kernel's explanation text with them.
  mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &one, sizeof one);
  mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &one, sizeof one);
  growBuffers(mnl_socket_get_fd(socket));
  return socket;
}

// "RTM_NEWROUTE 10.65.0.0/26" (plus the table when it is not main).
std::string describe(const RouteChange& change) {
  std::string out = change.op == RouteOp::Delete ? "RTM_DELROUTE " : "RTM_NEWROUTE ";
  out += change.route.dst.toString();
  if (change.route.table != kTableMain) out += " table " + std::to_string(change.route.table);
  return out;
}

Error ackError(std::string where, const Ack& ack) {
  std::string what = errnoText(ack.error);
  if (!ack.message.empty()) what += " (" + ack.message + ")";
  return makeError(std::move(where), "", std::move(what));
}

}  // namespace

// --- the interfaces' shared helpers ---------------------------------------------------------

Result<void> RouteTable::applyOne(RouteOp op, const Route& route) {
  RouteChange change{op, route};
  auto result = applyRoutes(std::span<const RouteChange>(&change, 1));
  if (!result) return result.error();
  if (!result->failures.empty()) return result->failures.front().error;
  return {};
}

Result<Link> LinkTable::linkByName(const std::string& name) {
  auto links = listLinks();
  if (!links) return links.error();
  for (Link& link : *links) {
    if (link.name == name) return std::move(link);
  }
  return makeError("RTM_GETLINK " + name, "", errnoText(ENODEV));
}

// --- Netlink --------------------------------------------------------------------------------

Netlink::Netlink(mnl_socket* socket) : socket_(socket), receiveBuffer_(kReceiveBufferSize) {
  int fd = mnl_socket_get_fd(socket);
  int bytes = 0;
  socklen_t length = sizeof bytes;
  // sendmsg() refuses a datagram larger than the send buffer (EMSGSIZE). Without the capability
  // to force it, the buffer may have stayed at net.core.wmem_max: batch within what we got.
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, &length) == 0 && bytes > 4096)
    batchBytes_ = std::min(kBatchBytesMax, static_cast<size_t>(bytes) / 2);
  // In the worst case every change of a batch fails, and all the error replies (about 1 KiB of
  // buffer each) are queued before we read any: a batch must not have more changes than the
  // receive buffer holds replies, or the kernel drops them and the batch's outcome is lost.
  length = sizeof bytes;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, &length) == 0 && bytes > 0)
    repliesMax_ = std::max<size_t>(1, static_cast<size_t>(bytes) / 2048);
}

Netlink::~Netlink() { mnl_socket_close(socket_); }

Result<std::unique_ptr<Netlink>> Netlink::open() {
  auto socket = openSocket("NETLINK_ROUTE socket");
  if (!socket) return socket.error();
  return std::unique_ptr<Netlink>(new Netlink(*socket));
}

Result<void> Netlink::send(std::span<const uint8_t> bytes) {
  ssize_t sent = mnl_socket_sendto(socket_, bytes.data(), bytes.size());
  if (sent < 0) return makeError("netlink", "", "sendmsg: " + errnoText(errno));
  if (static_cast<size_t>(sent) != bytes.size()) return makeError("netlink", "", "sendmsg: short write");
  return {};
}

Result<size_t> Netlink::receive(std::vector<uint8_t>& buffer) {
  for (;;) {
    ssize_t got = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EINTR) continue;
    // ENOBUFS: replies were dropped, so we can no longer tell which requests took.
    return makeError("netlink", "", "recvmsg: " + errnoText(errno));
  }
}

Result<void> Netlink::dump(std::vector<uint8_t> request, uint32_t seq, const char* what,
                           const std::function<Result<void>(std::span<const uint8_t>)>& onPayload,
                           const std::function<void()>& onRestart) {
  for (int attempt = 0; attempt < kDumpRetries; ++attempt) {
    // A fresh sequence per attempt, so that the tail of an interrupted dump is not mistaken
    // for the new one.
    uint32_t current = attempt == 0 ? seq : nextSeq_++;
    std::memcpy(request.data() + 8, &current, 4);
    if (attempt > 0) onRestart();
    if (auto sent = send(request); !sent) return sent.error();
    bool interrupted = false;
    bool done = false;
    while (!done) {
      auto got = receive(receiveBuffer_);
      if (!got) return got.error();
      auto messages = splitMessages(std::span<const uint8_t>(receiveBuffer_.data(), *got));
      if (!messages) return messages.error();
      for (const Message& message : *messages) {
        if (message.seq != current) continue;  // an answer to an older request
        if (message.flags & kFlagDumpInterrupted) interrupted = true;
        if (message.type == kNlmsgDone) {
          int32_t status = 0;
          if (message.payload.size() >= 4) std::memcpy(&status, message.payload.data(), 4);
          if (status < 0) return makeError(what, "", errnoText(-status));
          done = true;
          break;
        }
        if (message.type == kNlmsgError) {
          auto ack = decodeAck(message.payload, message.flags);
          if (!ack) return ack.error();
          if (ack->error != 0) return ackError(what, *ack);
          continue;
        }
        if (auto handled = onPayload(message.payload); !handled) return handled.error();
      }
    }
    // The table changed while it was being dumped: the listing may miss or repeat entries.
    if (!interrupted) return {};
    log::get("netlink")->debug("{} interrupted by a concurrent change, dumping again", what);
  }
  return makeError(what, "", "dump kept being interrupted by concurrent changes");
}

Result<std::vector<Route>> Netlink::listRoutes(const RouteFilter& filter) {
  std::vector<uint8_t> request;
  uint32_t seq = nextSeq_++;
  encodeRouteDump(request, filter.family, seq);
  std::vector<Route> routes;
  auto done = dump(
      std::move(request), seq, "RTM_GETROUTE",
      [&](std::span<const uint8_t> payload) -> Result<void> {
        if (payload.size() < 12) return makeError("RTM_GETROUTE", "rtmsg", "truncated");
        if (payload[0] != 2 && payload[0] != 10) return {};  // MPLS and others: not ours
        // Cheap filters before decoding: a big table holds many routes that are not ours.
        if (filter.protocol && payload[5] != *filter.protocol) return {};
        uint32_t flags = 0;
        std::memcpy(&flags, payload.data() + 8, 4);
        if (flags & kRouteFlagCloned) return {};  // IPv6 exceptions / cache entries
        auto route = decodeRoute(payload);
        if (!route) return route.error();
        if (filter.matches(*route)) routes.push_back(std::move(*route));
        return {};
      },
      [&] { routes.clear(); });
  if (!done) return done.error();
  return routes;
}

Result<BatchResult> Netlink::applyRoutes(std::span<const RouteChange> changes) {
  BatchResult result;
  std::vector<uint8_t> buffer;
  size_t next = 0;
  while (next < changes.size()) {
    // One sendmsg: as many changes as fit, none of them asking for an ack on success, then a
    // barrier that is acked once the kernel has handled all of them (it handles a batch in
    // order, in the sender's context, before sendmsg returns).
    buffer.clear();
    const uint32_t firstSeq = nextSeq_;
    size_t first = next;
    while (next < changes.size() && next - first < std::min(batchSize_, repliesMax_) &&
           buffer.size() < batchBytes_) {
      encodeRouteChange(buffer, changes[next], nextSeq_++, /*ack=*/false);
      ++next;
    }
    const uint32_t barrierSeq = nextSeq_++;
    encodeBarrier(buffer, barrierSeq);
    if (auto sent = send(buffer); !sent) return sent.error();

    size_t failed = 0;
    bool barrierSeen = false;
    while (!barrierSeen) {
      auto got = receive(receiveBuffer_);
      if (!got) return got.error();
      auto messages = splitMessages(std::span<const uint8_t>(receiveBuffer_.data(), *got));
      if (!messages) return messages.error();
      for (const Message& message : *messages) {
        if (message.type != kNlmsgError) continue;
        auto ack = decodeAck(message.payload, message.flags);
        if (!ack) return ack.error();
        if (message.seq == barrierSeq) {
          barrierSeen = true;
          continue;
        }
        // Unsigned distance, so that sequence numbers may wrap around.
        uint32_t offset = message.seq - firstSeq;
        if (offset >= next - first || ack->error == 0) continue;
        size_t index = first + offset;
        result.failures.push_back(
            BatchResult::Failure{index, ack->error, ackError(describe(changes[index]), *ack)});
        ++failed;
      }
    }
    result.applied += (next - first) - failed;
  }
  return result;
}

Result<std::vector<Link>> Netlink::listLinks() {
  std::vector<uint8_t> request;
  uint32_t seq = nextSeq_++;
  encodeLinkDump(request, seq);
  std::vector<Link> links;
  auto done = dump(
      std::move(request), seq, "RTM_GETLINK",
      [&](std::span<const uint8_t> payload) -> Result<void> {
        auto link = decodeLink(payload);
        if (!link) return link.error();
        links.push_back(std::move(*link));
        return {};
      },
      [&] { links.clear(); });
  if (!done) return done.error();
  return links;
}

Result<std::vector<InterfaceAddress>> Netlink::listAddresses(std::optional<Family> family) {
  std::vector<uint8_t> request;
  uint32_t seq = nextSeq_++;
  encodeAddressDump(request, family, seq);
  std::vector<InterfaceAddress> addresses;
  auto done = dump(
      std::move(request), seq, "RTM_GETADDR",
      [&](std::span<const uint8_t> payload) -> Result<void> {
        if (payload.empty() || (payload[0] != 2 && payload[0] != 10)) return {};
        auto address = decodeAddress(payload);
        if (!address) return address.error();
        if (!family || address->prefix.family() == *family) addresses.push_back(*address);
        return {};
      },
      [&] { addresses.clear(); });
  if (!done) return done.error();
  return addresses;
}

Result<Link> Netlink::linkByName(const std::string& name) {
  const std::string what = "RTM_GETLINK " + name;
  if (name.empty() || name.size() > 15) return makeError(what, "", errnoText(EINVAL));
  std::vector<uint8_t> request;
  uint32_t seq = nextSeq_++;
  encodeLinkGet(request, name, seq);
  if (auto sent = send(request); !sent) return sent.error();
  for (;;) {
    auto got = receive(receiveBuffer_);
    if (!got) return got.error();
    auto messages = splitMessages(std::span<const uint8_t>(receiveBuffer_.data(), *got));
    if (!messages) return messages.error();
    for (const Message& message : *messages) {
      if (message.seq != seq) continue;
      if (message.type == kNlmsgError) {
        auto ack = decodeAck(message.payload, message.flags);
        if (!ack) return ack.error();
        return ackError(what, ack->error != 0 ? *ack : Ack{ENODEV, seq, kRtmGetLink, {}});
      }
      if (message.type == kRtmNewLink) return decodeLink(message.payload);
    }
  }
}

// --- RouteMonitor ---------------------------------------------------------------------------

RouteMonitor::RouteMonitor(mnl_socket* socket) : socket_(socket), buffer_(kReceiveBufferSize) {}

RouteMonitor::~RouteMonitor() { mnl_socket_close(socket_); }

int RouteMonitor::fd() const { return mnl_socket_get_fd(socket_); }

Result<std::unique_ptr<RouteMonitor>> RouteMonitor::open(Groups groups) {
  auto socket = openSocket("route monitor socket");
  if (!socket) return socket.error();
  std::unique_ptr<RouteMonitor> monitor(new RouteMonitor(*socket));
  if (groups.receiveBufferBytes > 0) {
    int fd = mnl_socket_get_fd(*socket);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &groups.receiveBufferBytes, sizeof(int)) != 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &groups.receiveBufferBytes, sizeof(int));
  }
  std::vector<unsigned> wanted;
  if (groups.ipv4Routes) wanted.push_back(RTNLGRP_IPV4_ROUTE);
  if (groups.ipv6Routes) wanted.push_back(RTNLGRP_IPV6_ROUTE);
  if (groups.links) wanted.push_back(RTNLGRP_LINK);
  if (groups.addresses) {
    wanted.push_back(RTNLGRP_IPV4_IFADDR);
    wanted.push_back(RTNLGRP_IPV6_IFADDR);
  }
  for (unsigned group : wanted) {
    if (mnl_socket_setsockopt(*socket, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
      return makeError("netlink", "", "join group " + std::to_string(group) + ": " + errnoText(errno));
  }
  return monitor;
}

Result<size_t> RouteMonitor::drain(const std::function<void(const MonitorEvent&)>& onEvent) {
  size_t delivered = 0;
  for (;;) {
    ssize_t got = recv(fd(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return delivered;
      if (errno == ENOBUFS) {
        MonitorEvent event;
        event.kind = MonitorEvent::Kind::Overflow;
        onEvent(event);
        ++delivered;
        continue;
      }
      return makeError("route monitor", "", "recv: " + errnoText(errno));
    }
    auto messages = splitMessages(std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(got)));
    if (!messages) {
      log::get("netlink")->warn("route monitor: dropped a datagram: {}", messages.error().toString());
      continue;
    }
    for (const Message& message : *messages) {
      MonitorEvent event;
      if (message.type == kRtmNewRoute || message.type == kRtmDelRoute) {
        if (message.payload.size() < 12 || (message.payload[0] != 2 && message.payload[0] != 10)) continue;
        uint32_t flags = 0;
        std::memcpy(&flags, message.payload.data() + 8, 4);
        if (flags & kRouteFlagCloned) continue;
        auto route = decodeRoute(message.payload);
        if (!route) {
          log::get("netlink")->warn("route monitor: {}", route.error().toString());
          continue;
        }
        event.kind =
            message.type == kRtmNewRoute ? MonitorEvent::Kind::RouteAdded : MonitorEvent::Kind::RouteRemoved;
        event.route = std::move(*route);
      } else if (message.type == kRtmNewLink || message.type == kRtmDelLink) {
        auto link = decodeLink(message.payload);
        if (!link) {
          log::get("netlink")->warn("route monitor: {}", link.error().toString());
          continue;
        }
        event.kind =
            message.type == kRtmNewLink ? MonitorEvent::Kind::LinkChanged : MonitorEvent::Kind::LinkRemoved;
        event.link = std::move(*link);
      } else if (message.type == kRtmNewAddr || message.type == kRtmDelAddr) {
        if (message.payload.empty() || (message.payload[0] != 2 && message.payload[0] != 10)) continue;
        auto address = decodeAddress(message.payload);
        if (!address) {
          log::get("netlink")->warn("route monitor: {}", address.error().toString());
          continue;
        }
        event.kind = message.type == kRtmNewAddr ? MonitorEvent::Kind::AddressAdded
                                                 : MonitorEvent::Kind::AddressRemoved;
        event.address = *address;
      } else {
        continue;
      }
      onEvent(event);
      ++delivered;
    }
  }
}

}  // namespace tartan::netlink
