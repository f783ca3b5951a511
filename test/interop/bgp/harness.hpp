// test/interop/bgp/harness.hpp — processes, temp dirs, bounded waits and datastore set-up for
// the BGP interop tests. Every process is started by us, inside a namespace of ours, tracked by
// PID and stopped by PID; every wait is a bounded poll.
#pragma once

#include "support/netns.hpp"

#include <tartan/model/model.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

// Fails the test with the lab's diagnostics (both daemons' logs) when `cond` does not hold.
#define LAB_REQUIRE(lab, cond)                               \
  do {                                                       \
    if (!(cond)) FAIL(#cond << "\n" << (lab).diagnostics()); \
  } while (0)

namespace tartan::test::bgp {

inline bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}


class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A child process (argv run inside `ns` with `ip netns exec`), output to `logFile`.
class Process {
 public:
  Process(const NetNamespace& ns, std::vector<std::string> argv, std::string logFile);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const { return pid_; }
  bool running();
  // SIGTERM (or the given signal), then SIGKILL after a bounded wait.
  void stop(int signal = 15);
  std::string log() const;

 private:
  int pid_ = -1;
  std::string logFile_;
};

// Joins tartan-bgpd's namespace to a peer's by a veth pair, tartan's end "t<suffix>" with
// 10.99.0.1/24 and fd99::1/64, the peer's "<peerPrefix><suffix>" with 10.99.0.2/24 and fd99::2/64.
// Returns the suffix, so that callers can name the interfaces.
std::string linkTartanToPeer(const NetNamespace& tartanNs, const NetNamespace& peerNs, const std::string& peerPrefix);

// Polls `predicate` every 100 ms until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

// Writes resources into a file datastore at `dir`.
void writeResources(const std::string& dir, const std::vector<model::Resource>& resources);
void removeResource(const std::string& dir, const model::Resource& resource);

// Resource builders for the common shapes.
model::Resource bgpConfiguration(std::uint32_t as, bool mesh);
model::Resource node(const std::string& name, const std::string& v4Cidr, const std::string& v6Cidr,
                     const std::string& clusterId = "", std::optional<std::uint32_t> as = std::nullopt);
model::Resource ipPool(const std::string& name, const std::string& cidr);
model::Resource ipamBlock(const std::string& cidr, const std::string& node);
model::Resource bgpPeer(const std::string& name, const std::string& peerIp, std::uint32_t as,
                        const std::string& secret = "", std::optional<int> ttlSecurity = std::nullopt);

// Paths of what the build produced.
std::string bgpdBinary();

// `ip route` output for one prefix in a namespace ("" when absent).
std::string routeIn(const NetNamespace& ns, const std::string& prefix, bool v6 = false);

}  // namespace tartan::test::bgp
