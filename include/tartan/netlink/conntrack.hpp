// tartan/netlink/conntrack.hpp — forgetting the connection-tracking state of addresses that are
// gone, over ctnetlink (NETLINK_NETFILTER, NFNL_SUBSYS_CTNETLINK), with no `conntrack` process.
//
// Why: conntrack keeps a flow's state after its endpoint is deleted, and every chain accepts
// RELATED,ESTABLISHED packets before any policy. A pod deleted while a flow to it was open, whose
// address then goes to a new pod, would let that flow's packets into the new pod unchecked. Felix
// deletes the conntrack entries of a workload's addresses when it loses them; so does the agent.
//
// What: flowsInvolving() chooses, purely, the flows whose original or reply tuple has one of the
// addresses as source or destination (both directions, NAT either way included); the Conntrack
// shell dumps the table once, deletes each chosen flow by its original tuple and zone, and counts
// a flow already gone (ENOENT) as deleted. The codec turns messages into bytes and back (pure,
// tested byte for byte); the shell only sends and receives.
// Owns: one NETLINK_NETFILTER socket. Namespaces: that of the thread that opened it, as netlink.hpp.
// Threading: one thread at a time. Failure: a broken socket or a refused dump is an error; a flow
// the kernel refuses to delete is counted in `failed`, and the rest are still deleted.
#pragma once

#include <tartan/common/result.hpp>
#include <tartan/netlink/types.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

struct mnl_socket;

namespace tartan::netlink {

// One conntrack entry, as much of it as deleting it needs.
struct ConntrackFlow {
  Family family = Family::V4;
  IpAddress originalSource, originalDestination, replySource, replyDestination;
  uint16_t zone = 0;
  // The payload of the CTA_TUPLE_ORIG attribute exactly as the kernel sent it (addresses, protocol,
  // ports or ICMP id): sent back as it is, it names this entry and no other.
  std::vector<uint8_t> originalTuple;
  bool operator==(const ConntrackFlow&) const = default;
};

// ---- Codec (pure)
// IPCTNL_MSG_CT_GET with NLM_F_DUMP for every family.
std::vector<uint8_t> encodeConntrackDump(uint32_t seq);
// A dump's message (netlink header included) as a flow; an error when it is truncated or lacks a
// tuple; nothing for a message of another kind.
Result<std::optional<ConntrackFlow>> decodeConntrackFlow(std::span<const uint8_t> message);
// IPCTNL_MSG_CT_DELETE of `flow` (its original tuple and zone), asking for an ack.
std::vector<uint8_t> encodeConntrackDelete(const ConntrackFlow& flow, uint32_t seq);
// The flows that have one of `addresses` as source or destination in either direction.
std::vector<ConntrackFlow> flowsInvolving(const std::vector<ConntrackFlow>& flows,
                                          const std::set<IpAddress>& addresses);

struct ConntrackCleanup {
  size_t deleted = 0;  // entries removed (or found already gone)
  size_t failed = 0;
  std::vector<Error> errors;  // one per failed delete
};

class ConntrackTable {
 public:
  virtual ~ConntrackTable() = default;
  // Deletes every flow to or from any of `addresses`, both directions.
  virtual Result<ConntrackCleanup> deleteFlowsOf(const std::set<IpAddress>& addresses) = 0;
};

// The real thing: ctnetlink over libmnl.
class Conntrack final : public ConntrackTable {
 public:
  static Result<std::unique_ptr<Conntrack>> open();
  ~Conntrack() override;
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  Result<std::vector<ConntrackFlow>> listFlows();
  Result<ConntrackCleanup> deleteFlowsOf(const std::set<IpAddress>& addresses) override;

 private:
  explicit Conntrack(mnl_socket* socket);
  mnl_socket* socket_;
  uint32_t nextSeq_ = 1;
  std::vector<uint8_t> buffer_;
};

}  // namespace tartan::netlink
