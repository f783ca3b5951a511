// tartan/netlink/netlink.hpp — Tartan's window on the kernel's routing tables and links.
//
// What: the policy agent programs /32 routes to local workloads and looks up interfaces; the BGP
// speaker installs learned routes (ECMP, blackholes for its own blocks) under its own
// rtm_protocol and follows route changes. Both talk to the kernel only through the small
// interfaces below, RouteTable and LinkTable, so their tests run against the in-memory fakes in
// test/support/fake_netlink.hpp, and only this module's kernel tests need root.
//
// Layers: codec.hpp turns messages into bytes and back (pure, tested byte for byte);
// Netlink is the thin libmnl socket shell that sends those bytes and matches the acks;
// route_sync.hpp compares a desired set with a dump and prunes — it knows nothing of netlink;
// sysctl.hpp writes the per-interface knobs under /proc/sys/net.
//
// Owns: one NETLINK_ROUTE socket per Netlink object, one more per RouteMonitor.
//
// Namespaces: a netlink socket belongs to the network namespace of the thread that created it,
// for its whole life. To program a namespace, setns() into it (EnterNamespace in tests) and then
// open the Netlink; the object keeps working on that namespace after the thread leaves it.
//
// Threading: a Netlink or RouteMonitor is used by one thread at a time (no internal locks); open
// one per thread that needs one.
//
// Failure: every kernel refusal is a Result error naming the operation and the route, e.g.
// "RTM_NEWROUTE 10.65.0.0/26: File exists"; replies that do not parse are errors too, never a
// crash. A batch reports each failed change and still applies the others.
#pragma once

#include <tartan/netlink/codec.hpp>
#include <tartan/netlink/types.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct mnl_socket;

namespace tartan::netlink {

// Which routes a listing returns; an unset field matches everything.
struct RouteFilter {
  std::optional<Family> family;
  std::optional<uint32_t> table;
  std::optional<uint8_t> protocol;

  bool matches(const Route& route) const {
    return (!family || route.family() == *family) && (!table || route.table == *table) &&
           (!protocol || route.protocol == *protocol);
  }
};

// The outcome of a batch: each change either applied or failed with its own error.
struct BatchResult {
  size_t applied = 0;
  struct Failure {
    size_t index = 0;  // into the batch given
    int errnum = 0;    // the kernel's errno (EEXIST, ESRCH, ENETUNREACH ...)
    Error error;
  };
  std::vector<Failure> failures;
  bool ok() const { return failures.empty(); }
};

// Routes in one network namespace. The kernel's rules hold for every implementation:
// Add of an existing key fails with EEXIST, Replace creates or overwrites, Delete of a missing
// route fails with ESRCH, and a Delete only removes a route of the protocol it names.
class RouteTable {
 public:
  virtual ~RouteTable() = default;
  virtual Result<std::vector<Route>> listRoutes(const RouteFilter& filter) = 0;
  // Applies the changes in order. The Result is an error only when the transport broke (and
  // then it is unknown which changes took); each refused change is a Failure in the BatchResult.
  virtual Result<BatchResult> applyRoutes(std::span<const RouteChange> changes) = 0;

  Result<void> addRoute(const Route& route) { return applyOne(RouteOp::Add, route); }
  Result<void> replaceRoute(const Route& route) { return applyOne(RouteOp::Replace, route); }
  Result<void> deleteRoute(const Route& route) { return applyOne(RouteOp::Delete, route); }

 private:
  Result<void> applyOne(RouteOp op, const Route& route);
};

// Interfaces and their addresses in one network namespace.
class LinkTable {
 public:
  virtual ~LinkTable() = default;
  virtual Result<std::vector<Link>> listLinks() = 0;
  virtual Result<std::vector<InterfaceAddress>> listAddresses(std::optional<Family> family) = 0;
  // An error (ENODEV-like, naming the interface) when there is none of that name.
  virtual Result<Link> linkByName(const std::string& name);
};

// The real thing: rtnetlink over libmnl.
class Netlink final : public RouteTable, public LinkTable {
 public:
  // Opens a NETLINK_ROUTE socket in the calling thread's current network namespace.
  static Result<std::unique_ptr<Netlink>> open();
  ~Netlink() override;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  Result<std::vector<Route>> listRoutes(const RouteFilter& filter) override;
  // Sends the changes in batches of many messages per sendmsg() (bounded by the socket buffer),
  // reading the acks of one batch before sending the next.
  Result<BatchResult> applyRoutes(std::span<const RouteChange> changes) override;
  Result<std::vector<Link>> listLinks() override;
  Result<std::vector<InterfaceAddress>> listAddresses(std::optional<Family> family) override;
  // One RTM_GETLINK by name instead of a dump: the agent looks up workload interfaces often.
  Result<Link> linkByName(const std::string& name) override;

  // Messages per sendmsg() in applyRoutes; exposed for the benchmark.
  void setBatchSize(size_t messages) { batchSize_ = messages == 0 ? 1 : messages; }

 private:
  explicit Netlink(mnl_socket* socket);
  // Sends a dump request and hands each reply payload (valid only during the call) to
  // `onPayload` until NLMSG_DONE. If the kernel flags the dump as interrupted by a concurrent
  // change, `onRestart` is called and the dump runs again.
  Result<void> dump(std::vector<uint8_t> request, uint32_t seq, const char* what,
                    const std::function<Result<void>(std::span<const uint8_t>)>& onPayload,
                    const std::function<void()>& onRestart);
  Result<void> send(std::span<const uint8_t> bytes);
  Result<size_t> receive(std::vector<uint8_t>& buffer);

  mnl_socket* socket_;
  uint32_t nextSeq_ = 1;
  size_t batchSize_ = 1024;
  size_t batchBytes_ = 64 << 10;  // per sendmsg(); raised to fit the socket's send buffer
  size_t repliesMax_ = 64;        // changes per sendmsg() whose error replies surely fit
  std::vector<uint8_t> receiveBuffer_;
};

// Route and link changes as they happen (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK,
// and interface addresses on request),
// in the namespace of the thread that opened it. Poll fd() for readability (it is non-blocking),
// then call drain(). Overflow means the kernel dropped events (ENOBUFS): the listener has lost
// track and must list again.
struct MonitorEvent {
  enum class Kind : uint8_t {
    RouteAdded,
    RouteRemoved,
    LinkChanged,
    LinkRemoved,
    AddressAdded,
    AddressRemoved,
    Overflow
  };
  Kind kind = Kind::RouteAdded;
  Route route;               // RouteAdded, RouteRemoved
  Link link;                 // LinkChanged, LinkRemoved
  InterfaceAddress address;  // AddressAdded, AddressRemoved
};

class RouteMonitor {
 public:
  struct Groups {
    bool ipv4Routes = true;
    bool ipv6Routes = true;
    bool links = true;
    bool addresses = false;  // RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR
    // The kernel queues events up to this many bytes for a slow reader, then drops them and
    // reports Overflow. 0 keeps the default (32 MiB, forced when the capability allows).
    int receiveBufferBytes = 0;
  };
  static Result<std::unique_ptr<RouteMonitor>> open(Groups groups);
  static Result<std::unique_ptr<RouteMonitor>> open() { return open(Groups{}); }
  ~RouteMonitor();
  RouteMonitor(const RouteMonitor&) = delete;
  RouteMonitor& operator=(const RouteMonitor&) = delete;

  int fd() const;
  // Reads every datagram waiting (without blocking) and hands each decoded event to `onEvent`.
  // Returns how many events were delivered. Messages that do not decode are skipped and logged.
  Result<size_t> drain(const std::function<void(const MonitorEvent&)>& onEvent);

 private:
  explicit RouteMonitor(mnl_socket* socket);
  mnl_socket* socket_;
  std::vector<uint8_t> buffer_;
};

}  // namespace tartan::netlink
