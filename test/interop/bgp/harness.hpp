// test/interop/bgp/harness.hpp — processes, temp dirs, bounded waits and datastore set-up for
// the BGP interop tests, and the scenarios every peer daemon goes through the same way (TCP-MD5,
// graceful restart in both roles). Every process is started by us, inside a namespace of ours,
// tracked by PID and stopped by PID; every wait is a bounded poll.
#pragma once

#include "support/eventually.hpp"
#include "support/netns.hpp"

#include <tartan/model/model.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
std::string linkTartanToPeer(const NetNamespace& tartanNs, const NetNamespace& peerNs,
                             const std::string& peerPrefix);

// Polls `predicate` every 100 ms for all of `window`: true when it held at every poll.
bool holdsThroughout(const std::function<bool()>& predicate, std::chrono::milliseconds window);

// Polls `predicate` every 100 ms on a thread of its own, from construction until stop(), while
// the test does something else (restarts a daemon): the proof that a route never left a kernel.
// `describe`, when given, is called at the first failed poll: what the predicate looked at then
// (which RIB or kernel lost what), for the failure message.
class Watch {
 public:
  explicit Watch(std::function<bool()> predicate, std::function<std::string()> describe = {});
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  // Stops polling; true when the predicate held at every poll (and was polled at all).
  bool stop();
  // "n polls, first failure after t ms: <describe()>" for failure messages
  std::string summary() const;
  // Whether a poll has failed so far.
  bool failed() const;
  // Time since construction, on the clock of summary().
  std::chrono::milliseconds elapsed() const;

 private:
  std::function<bool()> predicate_;
  std::function<std::string()> describe_;
  mutable std::mutex mutex_;
  bool stopping_ = false;
  std::size_t polls_ = 0;
  std::optional<std::chrono::milliseconds> firstFailure_;
  std::string firstFailureState_;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

// How many times `what` occurs in `text` (log lines, status output).
std::size_t countOf(const std::string& text, const std::string& what);

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
                        const std::string& secret = "", std::optional<int> ttlSecurity = std::nullopt,
                        std::optional<std::string> maxRestartTime = std::nullopt);
// The secret `secret` (key "password") as tartan-bgpd reads it from --secrets-dir `secretsDir`.
void writeSecret(const std::string& secretsDir, const std::string& secret, const std::string& password);

// Paths of what the build produced.
std::string bgpdBinary();

// tartan-bgpd's command line in a lab dir: datastore dir/store, status socket dir/bgpd.sock,
// secrets dir/secrets, timers short enough for a test (hold 9 s, connect retry 2 s, End-of-RIB
// deferral 20 s after a restart).
std::vector<std::string> bgpdCommand(const TempDir& dir);

// Whether tartan-bgpd's status socket reports `peers` sessions, all Established.
bool tartanEstablished(const std::string& statusSocket, std::size_t peers);

// One graceful restart (RFC 4724), told as what to do and what to look at, so that the BIRD, FRR
// and GoBGP tests run the very same scenario. `forwarding` is what must hold at every poll for
// the whole restart: a route still in a kernel. Returns "" when the scenario held, else what broke.
struct GracefulRestartScenario {
  std::function<bool()> forwarding;       // polled throughout
  std::function<std::string()> state;     // what `forwarding` reads, reported at its first failure
  std::function<void()> stop;             // the restarting daemon goes away without a NOTIFICATION
  std::function<bool()> helperSawItDown;  // the other side noticed the session went
  std::function<void()> start;            // the daemon starts again
  std::function<bool()> established;      // both sides Established again
  std::function<bool()> endOfRibDone;     // the helper has the restarted side's End-of-RIB
  std::chrono::seconds settle{3};         // polled on after End-of-RIB: nothing swept later
};
std::string runGracefulRestart(const GracefulRestartScenario& scenario);

// `ip route` output for one prefix in a namespace ("" when absent).
std::string routeIn(const NetNamespace& ns, const std::string& prefix, bool v6 = false);

// tartan-bgpd and BIRD 2, each in a namespace of its own joined by linkTartanToPeer (tartan
// 10.99.0.1 / fd99::1, BIRD 10.99.0.2 / fd99::2), with one lab dir: the datastore in dir/store
// (written by the test before startTartan), BIRD's config, control socket and both logs.
class TartanAndBird {
 public:
  // Namespaces "bgp<tag>" and "bird<tag>"; BIRD's end of the veth is "<tag><suffix>".
  explicit TartanAndBird(const std::string& tag);
  void startBird(const std::string& config);
  // bgpdCommand(dir) and `extraArgs`.
  void startTartan(const std::vector<std::string>& extraArgs = {});
  std::string birdc(const std::string& command);
  bool birdEstablished(const std::string& protocol);
  // Both logs, BIRD's routes and tartan's kernel routes: what a failure prints.
  std::string diagnostics();

  NetNamespace tartanNs_;
  NetNamespace birdNs_;
  TempDir dir_;
  std::unique_ptr<Process> bird_;
  std::unique_ptr<Process> tartan_;
};

}  // namespace tartan::test::bgp
