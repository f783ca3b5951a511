// tartan/dataplane/iptables/nft_monitor.hpp — notice, within milliseconds, that someone changed
// the nf_tables ruleset of this network namespace.
//
// What: nf_tables announces every committed transaction on netlink (multicast group
// NFNLGRP_NFTABLES of a NETLINK_NETFILTER socket), iptables-nft's included: the objects changed,
// then one NFT_MSG_NEWGEN carrying the new generation and the pid and name of the process that
// committed. The agent listens so that a chain flushed by hand or a rule inserted above our jump
// is read back and repaired at once, not at the next periodic refresh. Only the NEWGEN matters
// (one per transaction, after its objects); a lost notification (the socket's buffer overran,
// ENOBUFS) is reported as a change, since what was lost is unknown. The legacy iptables backend
// and ipset announce nothing: those stay on their periodic checks.
// Owns: the socket. Threading: one thread; the socket belongs to the network namespace of the
// thread that opened it. Failure: open() and drain() return an Error value.
#pragma once

#include "tartan/common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tartan::dataplane::iptables {

struct NftChange {
  enum class Kind {
    kGeneration,  // a transaction was committed
    kLost,        // notifications were dropped: anything may have changed
  };
  Kind kind = Kind::kGeneration;
  std::uint32_t generation = 0;
  std::int32_t pid = 0;  // the committing process (0: the kernel did not say)
  std::string process;   // its name (comm), for logs
};

// Decodes one datagram of netlink messages from the nftables group; only NEWGEN messages give a
// change, everything else (the objects of the transaction, errors, other subsystems) is skipped.
// Pure: a truncated or malformed message ends the decode, never reads past `size`.
std::vector<NftChange> decodeNftChanges(const void* data, std::size_t size);

class NftMonitor {
 public:
  // A non-blocking socket joined to NFNLGRP_NFTABLES in the calling thread's namespace.
  static Result<std::unique_ptr<NftMonitor>> open();
  ~NftMonitor();
  NftMonitor(const NftMonitor&) = delete;
  NftMonitor& operator=(const NftMonitor&) = delete;

  int fd() const { return fd_; }
  // Hands every change received so far to `sink`; returns without waiting.
  Result<void> drain(const std::function<void(const NftChange&)>& sink);

 private:
  explicit NftMonitor(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace tartan::dataplane::iptables
