// ctnetlink: dump the conntrack table, delete the flows of addresses that are gone.
#include <tartan/netlink/conntrack.hpp>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tartan::netlink {

namespace {

constexpr size_t kBufferSize = 1 << 16;
constexpr uint16_t kType(uint8_t message) {
  return static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | message);
}

std::vector<uint8_t> request(uint8_t message, uint16_t flags, uint8_t family, uint32_t seq) {
  std::vector<uint8_t> bytes(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* header = mnl_nlmsg_put_header(bytes.data());
  header->nlmsg_type = kType(message);
  header->nlmsg_flags = flags;
  header->nlmsg_seq = seq;
  auto* nf = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
  nf->nfgen_family = family;
  nf->version = NFNETLINK_V0;
  nf->res_id = 0;
  bytes.resize(header->nlmsg_len);
  return bytes;
}

// Each attribute in `length` bytes from `start` (libmnl's for_each macros are C only).
template <class Visit>
void forEachAttribute(const void* start, size_t length, Visit visit) {
  const char* end = static_cast<const char*>(start) + length;
  for (auto* attr = static_cast<const nlattr*>(start);
       mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const char*>(attr)));
       attr = static_cast<const nlattr*>(mnl_attr_next(attr)))
    visit(attr);
}

// The nested attributes of `nest`, by type (at most `max`).
void nested(const nlattr* nest, int max, std::vector<const nlattr*>& out) {
  out.assign(static_cast<size_t>(max) + 1, nullptr);
  forEachAttribute(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), [&](const nlattr* attr) {
    const int type = mnl_attr_get_type(attr);
    if (type <= max) out[static_cast<size_t>(type)] = attr;
  });
}

// CTA_TUPLE_* -> (source, destination).
bool decodeTuple(const nlattr* tuple, Family family, IpAddress& source, IpAddress& destination) {
  std::vector<const nlattr*> parts;
  nested(tuple, CTA_TUPLE_MAX, parts);
  if (parts[CTA_TUPLE_IP] == nullptr) return false;
  std::vector<const nlattr*> ip;
  nested(parts[CTA_TUPLE_IP], CTA_IP_MAX, ip);
  const bool v4 = family == Family::V4;
  const nlattr* src = ip[v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC];
  const nlattr* dst = ip[v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST];
  const size_t size = v4 ? 4 : 16;
  if (src == nullptr || dst == nullptr || mnl_attr_get_payload_len(src) != size ||
      mnl_attr_get_payload_len(dst) != size)
    return false;
  source.family = destination.family = family;
  std::memcpy(source.bytes.data(), mnl_attr_get_payload(src), size);
  std::memcpy(destination.bytes.data(), mnl_attr_get_payload(dst), size);
  return true;
}

}  // namespace

std::vector<uint8_t> encodeConntrackDump(uint32_t seq) {
  return request(IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, AF_UNSPEC, seq);
}

Result<std::optional<ConntrackFlow>> decodeConntrackFlow(std::span<const uint8_t> message) {
  if (message.size() < sizeof(nlmsghdr) + sizeof(nfgenmsg))
    return makeError("ctnetlink", "message", "truncated");
  const auto* header = reinterpret_cast<const nlmsghdr*>(message.data());
  if (header->nlmsg_len > message.size() || header->nlmsg_len < sizeof(nlmsghdr) + sizeof(nfgenmsg))
    return makeError("ctnetlink", "message", "length " + std::to_string(header->nlmsg_len) + " is wrong");
  if (header->nlmsg_type != kType(IPCTNL_MSG_CT_NEW)) return std::optional<ConntrackFlow>{};
  const auto* nf = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(header));
  ConntrackFlow flow;
  if (nf->nfgen_family == AF_INET)
    flow.family = Family::V4;
  else if (nf->nfgen_family == AF_INET6)
    flow.family = Family::V6;
  else
    return std::optional<ConntrackFlow>{};  // neither IPv4 nor IPv6: no address of ours
  const nlattr* original = nullptr;
  const nlattr* reply = nullptr;
  forEachAttribute(mnl_nlmsg_get_payload_offset(header, sizeof(nfgenmsg)),
                   header->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(nfgenmsg)),
                   [&](const nlattr* attr) {
                     switch (mnl_attr_get_type(attr)) {
                       case CTA_TUPLE_ORIG:
                         original = attr;
                         break;
                       case CTA_TUPLE_REPLY:
                         reply = attr;
                         break;
                       case CTA_ZONE:
                         if (mnl_attr_get_payload_len(attr) == 2) flow.zone = ntohs(mnl_attr_get_u16(attr));
                         break;
                       default:
                         break;
                     }
                   });
  if (original == nullptr || reply == nullptr ||
      !decodeTuple(original, flow.family, flow.originalSource, flow.originalDestination) ||
      !decodeTuple(reply, flow.family, flow.replySource, flow.replyDestination))
    return makeError("ctnetlink", "IPCTNL_MSG_CT_NEW", "a flow without both tuples");
  const auto* payload = static_cast<const uint8_t*>(mnl_attr_get_payload(original));
  flow.originalTuple.assign(payload, payload + mnl_attr_get_payload_len(original));
  return std::optional<ConntrackFlow>{std::move(flow)};
}

std::vector<uint8_t> encodeConntrackDelete(const ConntrackFlow& flow, uint32_t seq) {
  std::vector<uint8_t> bytes = request(IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK,
                                       flow.family == Family::V4 ? AF_INET : AF_INET6, seq);
  bytes.resize(MNL_SOCKET_BUFFER_SIZE);
  auto* header = reinterpret_cast<nlmsghdr*>(bytes.data());
  mnl_attr_put(header, CTA_TUPLE_ORIG | NLA_F_NESTED, flow.originalTuple.size(), flow.originalTuple.data());
  if (flow.zone != 0) mnl_attr_put_u16(header, CTA_ZONE, htons(flow.zone));  // kernels without zones
  bytes.resize(header->nlmsg_len);
  return bytes;
}

std::vector<ConntrackFlow> flowsInvolving(const std::vector<ConntrackFlow>& flows,
                                          const std::set<IpAddress>& addresses) {
  std::vector<ConntrackFlow> out;
  for (const ConntrackFlow& flow : flows) {
    for (const IpAddress* a :
         {&flow.originalSource, &flow.originalDestination, &flow.replySource, &flow.replyDestination}) {
      if (addresses.contains(*a)) {
        out.push_back(flow);
        break;
      }
    }
  }
  return out;
}

Result<std::unique_ptr<Conntrack>> Conntrack::open() {
  mnl_socket* socket = mnl_socket_open(NETLINK_NETFILTER);
  if (socket == nullptr)
    return makeError("ctnetlink", "", std::string("NETLINK_NETFILTER socket: ") + std::strerror(errno));
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int saved = errno;
    mnl_socket_close(socket);
    return makeError("ctnetlink", "", std::string("bind: ") + std::strerror(saved));
  }
  return std::unique_ptr<Conntrack>(new Conntrack(socket));
}

Conntrack::Conntrack(mnl_socket* socket) : socket_(socket), buffer_(kBufferSize) {}
Conntrack::~Conntrack() { mnl_socket_close(socket_); }

Result<std::vector<ConntrackFlow>> Conntrack::listFlows() {
  const uint32_t seq = nextSeq_++;
  const auto bytes = encodeConntrackDump(seq);
  if (mnl_socket_sendto(socket_, bytes.data(), bytes.size()) < 0)
    return makeError("ctnetlink", "IPCTNL_MSG_CT_GET", std::strerror(errno));
  struct Context {
    std::vector<ConntrackFlow> flows;
    std::optional<Error> error;
  } context;
  const unsigned portid = mnl_socket_get_portid(socket_);
  for (;;) {
    const ssize_t got = mnl_socket_recvfrom(socket_, buffer_.data(), buffer_.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return makeError("ctnetlink", "IPCTNL_MSG_CT_GET", std::strerror(errno));
    }
    const int run = mnl_cb_run(
        buffer_.data(), static_cast<size_t>(got), seq, portid,
        [](const nlmsghdr* header, void* data) -> int {
          auto* c = static_cast<Context*>(data);
          auto flow = decodeConntrackFlow(
              std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(header), header->nlmsg_len));
          if (!flow) {
            c->error = flow.error();
            return MNL_CB_ERROR;
          }
          if (*flow) c->flows.push_back(std::move(**flow));
          return MNL_CB_OK;
        },
        &context);
    if (context.error) return *context.error;
    if (run == MNL_CB_STOP) return std::move(context.flows);
    if (run < 0) return makeError("ctnetlink", "IPCTNL_MSG_CT_GET", std::strerror(errno));
  }
}

Result<ConntrackCleanup> Conntrack::deleteFlowsOf(const std::set<IpAddress>& addresses) {
  ConntrackCleanup cleanup;
  if (addresses.empty()) return cleanup;
  auto flows = listFlows();
  if (!flows) return flows.error();
  const unsigned portid = mnl_socket_get_portid(socket_);
  for (const ConntrackFlow& flow : flowsInvolving(*flows, addresses)) {
    const uint32_t seq = nextSeq_++;
    const auto bytes = encodeConntrackDelete(flow, seq);
    if (mnl_socket_sendto(socket_, bytes.data(), bytes.size()) < 0)
      return makeError("ctnetlink", "IPCTNL_MSG_CT_DELETE", std::strerror(errno));
    int run = MNL_CB_OK;
    do {
      const ssize_t got = mnl_socket_recvfrom(socket_, buffer_.data(), buffer_.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return makeError("ctnetlink", "IPCTNL_MSG_CT_DELETE", std::strerror(errno));
      run = mnl_cb_run(buffer_.data(), static_cast<size_t>(got), seq, portid, nullptr, nullptr);
    } while (run == MNL_CB_OK);
    // A flow that ended between the dump and the delete is gone all the same.
    if (run < 0 && errno != ENOENT) {
      ++cleanup.failed;
      cleanup.errors.push_back(makeError("ctnetlink", "IPCTNL_MSG_CT_DELETE",
                                         flow.originalSource.toString() + " -> " +
                                             flow.originalDestination.toString() + ": " +
                                             std::strerror(errno)));
    } else {
      ++cleanup.deleted;
    }
  }
  return cleanup;
}

}  // namespace tartan::netlink
