// test/support/agent_process.hpp — the real tartan-agent, started by a test in a node namespace.
//
// The binary comes from the build tree (TARTAN_BINARY_DIR, which CTest sets); it runs under
// `ip netns exec`, its output appended to a log file, and is stopped by its PID only (SIGKILL
// when the object goes, if the test has not stopped it before).
#pragma once

#include "support/netns.hpp"

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

namespace tartan::test {

// A program of the build tree ("src/agent/tartan-agent"): under TARTAN_BINARY_DIR when set.
std::string builtBinary(const std::string& relative);

class AgentProcess {
 public:
  struct Options {
    std::string datastore;  // "file:DIR"
    std::string log;        // appended to
    std::string node = "node-1";
    int healthPort = 9099;  // free: a node namespace has a loopback of its own
    // Passed as --health-port; false leaves the port to the configuration (healthPort), and
    // healthPort above is then only where httpGet() asks.
    bool healthPortFlag = true;
    std::vector<std::string> environment;  // "NAME=value", added to the agent's (FELIX_*, TARTAN_*)
  };
  AgentProcess(const NetNamespace& ns, Options options);
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // Sends `signal` and waits for the exit: the wait status, -1 if it was not running.
  int stop(int signal = SIGTERM);
  bool running();
  // GET on its health port, from its namespace: the HTTP status, 0 if nothing answered.
  int httpGet(const std::string& path, std::string* body = nullptr) const;
  // Polls /readiness until 200 or the timeout.
  bool waitReady(std::chrono::seconds timeout) const;
  std::string log() const;

 private:
  const NetNamespace& ns_;
  Options options_;
  pid_t pid_ = -1;
};

}  // namespace tartan::test
