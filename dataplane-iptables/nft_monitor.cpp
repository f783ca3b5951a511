// nf_tables change notifications; see tartan/dataplane/iptables/nft_monitor.hpp.
#include "tartan/dataplane/iptables/nft_monitor.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace tartan::dataplane::iptables {

namespace {

Error sysError(const std::string& what, int error = errno) {
  return makeError("nftables monitor", "", what + ": " + std::strerror(error));
}

int generationAttribute(const nlattr* attr, void* data) {
  const int type = mnl_attr_get_type(attr);
  if (type <= NFTA_GEN_UNSPEC || type > NFTA_GEN_MAX) return MNL_CB_OK;
  const bool valid = type == NFTA_GEN_PROC_NAME ? mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0
                                                : mnl_attr_validate(attr, MNL_TYPE_U32) >= 0;
  if (valid) static_cast<const nlattr**>(data)[type] = attr;
  return MNL_CB_OK;
}

}  // namespace

std::vector<NftChange> decodeNftChanges(const void* data, std::size_t size) {
  std::vector<NftChange> out;
  int left = static_cast<int>(std::min<std::size_t>(size, 1u << 30));
  for (auto* nlh = static_cast<const nlmsghdr*>(data); mnl_nlmsg_ok(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left)) {
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
        NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN)
      continue;
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) continue;
    const nlattr* attrs[NFTA_GEN_MAX + 1] = {};
    if (mnl_attr_parse(nlh, sizeof(nfgenmsg), generationAttribute, attrs) < 0) continue;
    NftChange change;
    if (attrs[NFTA_GEN_ID] != nullptr) change.generation = ntohl(mnl_attr_get_u32(attrs[NFTA_GEN_ID]));
    if (attrs[NFTA_GEN_PROC_PID] != nullptr)
      change.pid = static_cast<std::int32_t>(ntohl(mnl_attr_get_u32(attrs[NFTA_GEN_PROC_PID])));
    if (attrs[NFTA_GEN_PROC_NAME] != nullptr) change.process = mnl_attr_get_str(attrs[NFTA_GEN_PROC_NAME]);
    out.push_back(std::move(change));
  }
  return out;
}

Result<std::unique_ptr<NftMonitor>> NftMonitor::open() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return sysError("socket(NETLINK_NETFILTER)");
  std::unique_ptr<NftMonitor> monitor(new NftMonitor(fd));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return sysError("bind");
  const int group = NFNLGRP_NFTABLES;
  if (::setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0)
    return sysError("join NFNLGRP_NFTABLES");
  // A large restore announces every rule it writes; room for those keeps the NEWGEN that follows
  // (an overrun is still noticed, as kLost). FORCE needs CAP_NET_ADMIN, which the agent has.
  const int bytes = 4 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  return monitor;
}

NftMonitor::~NftMonitor() { ::close(fd_); }

Result<void> NftMonitor::drain(const std::function<void(const NftChange&)>& sink) {
  std::vector<char> buffer(std::size_t{1} << 16);  // a datagram never exceeds 64 KiB
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      if (errno == ENOBUFS) {
        sink(NftChange{NftChange::Kind::kLost, 0, 0, {}});
        continue;
      }
      return sysError("recv");
    }
    for (const auto& change : decodeNftChanges(buffer.data(), static_cast<std::size_t>(n))) sink(change);
  }
}

}  // namespace tartan::dataplane::iptables
