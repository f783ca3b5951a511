// Links and addresses over rtnetlink, the few requests the CNI plugin needs that tartan::netlink
// does not make (it programs routes and reads links): a veth created with its peer straight in
// another namespace, a link set up or deleted, an address added. A thin libmnl shell; errors name
// the request and the kernel's errno.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/netlink/types.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct mnl_socket;

namespace tartan::cni {

struct VethSpec {
  std::string name;          // in the socket's namespace
  std::vector<uint8_t> mac;  // empty: the kernel's random one
  std::string peerName;      // in peerNamespaceFd's namespace
  int peerNamespaceFd = -1;
  uint32_t mtu = 0;  // 0: the kernel's default
};

class LinkSocket {
 public:
  // A NETLINK_ROUTE socket in the calling thread's current network namespace, bound to it.
  static Result<std::unique_ptr<LinkSocket>> open();
  ~LinkSocket();
  LinkSocket(const LinkSocket&) = delete;
  LinkSocket& operator=(const LinkSocket&) = delete;

  Result<void> createVeth(const VethSpec& spec);
  Result<void> setUp(const std::string& name);
  // False when there is no such link.
  Result<bool> deleteLink(const std::string& name);
  // nodad: IPv6 without duplicate address detection (usable at once).
  Result<void> addAddress(uint32_t ifindex, const netlink::Prefix& prefix, bool nodad);

  // The errno of the last refused request (0 if it succeeded).
  int lastErrno() const { return lastErrno_; }

 private:
  explicit LinkSocket(mnl_socket* socket);
  Result<void> request(void* message, const std::string& what);
  mnl_socket* socket_;
  uint32_t seq_ = 1;
  int lastErrno_ = 0;
};

// The calling thread inside another network namespace for the guard's lifetime.
class InNamespace {
 public:
  static Result<std::unique_ptr<InNamespace>> enter(int namespaceFd);
  ~InNamespace();
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;

 private:
  explicit InNamespace(int original) : original_(original) {}
  int original_;
};

}  // namespace tartan::cni
