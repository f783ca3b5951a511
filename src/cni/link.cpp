#include "link.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace tartan::cni {

namespace {
std::string errnoText(int errnum) { return std::strerror(errnum); }
}  // namespace

LinkSocket::LinkSocket(mnl_socket* socket) : socket_(socket) {}
LinkSocket::~LinkSocket() { mnl_socket_close(socket_); }

Result<std::unique_ptr<LinkSocket>> LinkSocket::open() {
  mnl_socket* socket = mnl_socket_open(NETLINK_ROUTE);
  if (socket == nullptr) return makeError("netlink", "", "socket: " + errnoText(errno));
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    int saved = errno;
    mnl_socket_close(socket);
    return makeError("netlink", "", "bind: " + errnoText(saved));
  }
  return std::unique_ptr<LinkSocket>(new LinkSocket(socket));
}

Result<void> LinkSocket::request(void* message, const std::string& what) {
  auto* nlh = static_cast<nlmsghdr*>(message);
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq_++;
  lastErrno_ = 0;
  if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0) {
    lastErrno_ = errno;
    return makeError(what, "", "send: " + errnoText(errno));
  }
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  unsigned portid = mnl_socket_get_portid(socket_);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (n < 0) {
      lastErrno_ = errno;
      return makeError(what, "", "receive: " + errnoText(errno));
    }
    int ret = mnl_cb_run(buffer.data(), static_cast<size_t>(n), nlh->nlmsg_seq, portid, nullptr, nullptr);
    if (ret == MNL_CB_ERROR) {
      lastErrno_ = errno;
      return makeError(what, "", errnoText(errno));
    }
    if (ret <= MNL_CB_STOP) return {};
  }
}

Result<void> LinkSocket::createVeth(const VethSpec& spec) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, spec.name.c_str());
  if (!spec.mac.empty()) mnl_attr_put(nlh, IFLA_ADDRESS, spec.mac.size(), spec.mac.data());
  if (spec.mtu != 0) mnl_attr_put_u32(nlh, IFLA_MTU, spec.mtu);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer is an ifinfomsg followed by its own attributes.
  auto* peerIfm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  peerIfm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, spec.peerName.c_str());
  if (spec.mtu != 0) mnl_attr_put_u32(nlh, IFLA_MTU, spec.mtu);
  if (spec.peerNamespaceFd >= 0)
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peerNamespaceFd));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return request(nlh, "RTM_NEWLINK veth " + spec.name + " peer " + spec.peerName);
}

Result<void> LinkSocket::setUp(const std::string& name) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = RTM_NEWLINK;
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = IFF_UP;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  return request(nlh, "RTM_NEWLINK " + name + " up");
}

Result<bool> LinkSocket::deleteLink(const std::string& name) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = RTM_DELLINK;
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  auto result = request(nlh, "RTM_DELLINK " + name);
  if (!result) {
    if (lastErrno_ == ENODEV) return false;
    return result.error();
  }
  return true;
}

Result<void> LinkSocket::addAddress(uint32_t ifindex, const netlink::Prefix& prefix, bool nodad) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = static_cast<uint8_t>(prefix.family());
  ifa->ifa_prefixlen = prefix.length;
  ifa->ifa_index = ifindex;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  if (nodad) ifa->ifa_flags = IFA_F_NODAD;
  mnl_attr_put(nlh, IFA_LOCAL, prefix.address.size(), prefix.address.bytes.data());
  mnl_attr_put(nlh, IFA_ADDRESS, prefix.address.size(), prefix.address.bytes.data());
  return request(nlh, "RTM_NEWADDR " + prefix.toString());
}

Result<std::unique_ptr<InNamespace>> InNamespace::enter(int namespaceFd) {
  int original = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) return makeError("setns", "", "/proc/thread-self/ns/net: " + errnoText(errno));
  if (setns(namespaceFd, CLONE_NEWNET) != 0) {
    int saved = errno;
    ::close(original);
    return makeError("setns", "", errnoText(saved));
  }
  return std::unique_ptr<InNamespace>(new InNamespace(original));
}

InNamespace::~InNamespace() {
  [[maybe_unused]] int rc = setns(original_, CLONE_NEWNET);
  assert(rc == 0 && "cannot return to the original network namespace");
  ::close(original_);
}

}  // namespace tartan::cni
