// tartan/ipam/ipam.hpp — IP address management: Calico's block-and-affinity IPAM on the datastore.
//
// What it does: hands out pod (and tunnel, load balancer) addresses from IP pools and takes them
// back, as libcalico-go's ipam client does, so a store Calico wrote is read and written in its own
// shapes. Pools are cut into blocks (IPAMBlock, default /26 or /122); a node claims blocks with a
// BlockAffinity (pending -> confirmed -> pendingDeletion) and allocates from its own blocks first,
// then from a newly claimed block, then (unless strictAffinity) borrows a free address from
// another node's block. Every address is recorded under a handle (IPAMHandle, "k8s-pod-network.
// <containerID>" for a pod) so that releaseByHandle() frees exactly what an assignment took.
// Within a block the longest-free address is reused first, and each allocation carries the
// block's sequence number, so a release that read the block before the address was freed and
// handed out again frees nothing. IPPool nodeSelector, allowedUses, assignmentMode (a Manual pool
// only when named), disabled; IPAMConfiguration "default" (strictAffinity, autoAllocateBlocks,
// maxBlocksPerHost) and IPReservation (never handed out automatically) are honoured.
//
// Owns: nothing but what it writes to the datastore (IPAMBlock, BlockAffinity, IPAMHandle); it
// keeps no state between calls, so any number of Ipam objects in any number of processes on any
// number of nodes may share one store. The block arithmetic is pure (src/ipam/block.hpp); this
// shell only reads, decides and writes.
//
// Threading: an Ipam may be used from several threads at once; calls do not share state. Their
// writes are serialised by the store: every write is a compare-and-swap on the revision read
// (create for a new key), and a conflict reads again and retries, at most Options::maxAttempts
// times per write.
//
// Failure: as values (IpamError). Exhausted: no address left that the request may use (an
// assignment that cannot be met in full is undone before it returns). Conflict: the retries ran
// out. NotFound, AlreadyAllocated, Invalid: bad requests. Store: the datastore failed (its error
// is in the message). A failure part-way through leaves the store consistent: a handle may count
// an address the block no longer holds (release by handle tolerates it), never the reverse.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/datastore/datastore.hpp"
#include "tartan/model/ipam.hpp"

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::ipam {

enum class ErrorKind { kExhausted, kConflict, kNotFound, kAlreadyAllocated, kInvalid, kStore };

std::string_view toString(ErrorKind kind);

struct IpamError {
  ErrorKind kind = ErrorKind::kStore;
  tartan::Error error;
  std::string toString() const;
  bool operator==(const IpamError&) const = default;
};

[[noreturn]] void throw_exception_from_error(const IpamError& error, const boost::source_location& where);

template <class T>
using IpamResult = boost::system::result<T, IpamError>;

// What an address is for: IPPool allowedUses.
enum class Use { kWorkload, kTunnel, kLoadBalancer };

// Calico's handle id for a pod's addresses.
std::string podHandleID(std::string_view containerID);  // "k8s-pod-network.<containerID>"

struct AutoAssignArgs {
  int num4 = 0;
  int num6 = 0;
  std::string handleID;                           // required
  std::map<std::string, std::string> attributes;  // kept with each address (Calico's attrs)
  std::string hostname;                           // the node that asks; required
  // Pools to use, by name or CIDR, for each family. Empty: every enabled Automatic pool whose
  // nodeSelector matches the node. A named pool may be Manual and need not match the node; a
  // named pool that is disabled or missing is Invalid.
  std::vector<std::string> ipv4Pools;
  std::vector<std::string> ipv6Pools;
  Use use = Use::kWorkload;
};

struct AutoAssignResult {
  std::vector<std::string> ipv4;  // addresses, no prefix length ("10.65.0.1")
  std::vector<std::string> ipv6;
};

struct AssignIPArgs {
  std::string ip;  // an address inside an enabled pool
  std::string handleID;
  std::map<std::string, std::string> attributes;
  std::string hostname;
};

struct ReleaseOptions {
  std::string ip;
  std::optional<std::string> handleID;  // if set, the address must be held by this handle
  // If set, the address is freed only if it still carries this sequence number (see
  // Allocation::sequenceNumber).
  std::optional<uint64_t> sequenceNumber;
};

// What a stored address holds.
struct Allocation {
  std::string ip;
  std::string block;  // the block's CIDR
  std::optional<std::string> handleID;
  std::map<std::string, std::string> attributes;
  uint64_t sequenceNumber = 0;
};

// For logs and test diagnostics (and boost::system::result's own operator<<).
std::ostream& operator<<(std::ostream& os, const IpamError& error);
std::ostream& operator<<(std::ostream& os, const AutoAssignResult& result);
std::ostream& operator<<(std::ostream& os, const Allocation& allocation);

struct Options {
  int maxAttempts = 10;  // per compare-and-swap write
};

class Ipam {
 public:
  explicit Ipam(datastore::Datastore& store, Options options = {});

  // Assigns num4 IPv4 and num6 IPv6 addresses to args.handleID on args.hostname (see the design
  // block for the order of blocks tried). All or nothing: on any failure the addresses this call
  // took are released again.
  IpamResult<AutoAssignResult> autoAssign(const AutoAssignArgs& args);

  // Assigns one given address (from any enabled pool; reservations do not apply). Claims the
  // block for args.hostname if nobody holds it. AlreadyAllocated if the address is taken.
  IpamResult<void> assignIP(const AssignIPArgs& args);

  // Frees addresses. Returns those that were not allocated (or not to the given handle, or whose
  // sequence number differs): nothing was freed for them.
  IpamResult<std::vector<std::string>> releaseIPs(const std::vector<ReleaseOptions>& ips);

  // Frees every address held by the handle and removes the handle. A missing handle is NotFound.
  IpamResult<void> releaseByHandle(std::string_view handleID);

  // Gives up the node's block affinities (each pendingDeletion, then the block deleted if empty,
  // else kept without affinity unless mustBeEmpty, when the affinity is kept), as Calico's
  // ReleaseHostAffinities. Never done implicitly when a block becomes empty.
  IpamResult<void> releaseHostAffinities(std::string_view hostname, bool mustBeEmpty);
  // The same for one block ("10.65.0.0/26") of the node (Calico's ReleaseAffinity). NotFound if
  // the node has no affinity for it.
  IpamResult<void> releaseAffinity(std::string_view blockCidr, std::string_view hostname, bool mustBeEmpty);

  // The addresses a handle holds, and what is stored for one address.
  IpamResult<std::vector<std::string>> ipsByHandle(std::string_view handleID);
  IpamResult<Allocation> allocation(std::string_view ip);

  // Deletes a handle only if it is still at `revision` (and carries `uid`, when given), as
  // calicoctl's release of a report's leaked handles does: true if deleted, false if it is gone
  // or has changed since.
  IpamResult<bool> deleteHandleAt(std::string_view handleID, int64_t revision,
                                  const std::optional<std::string>& uid);

  // The IPAM configuration (IPAMConfiguration "default", or the defaults when it is not stored),
  // and setting it (Calico's GetIPAMConfig and SetIPAMConfig). Setting refuses what Calico
  // refuses: both strictAffinity and autoAllocateBlocks off, a negative maxBlocksPerHost.
  IpamResult<model::IPAMConfigurationSpec> ipamConfig();
  IpamResult<void> setIpamConfig(const model::IPAMConfigurationSpec& config);

 private:
  datastore::Datastore& store_;
  Options options_;
};

}  // namespace tartan::ipam
