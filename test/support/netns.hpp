// test/support/netns.hpp — network namespaces that a test owns.
//
// Tests that need root never touch the host's own namespace: they build namespaces of their own
// with these helpers. Names carry the test's pid and a counter, so parallel runs never collide;
// the destructor deletes the namespace (and with it every interface inside), and a new namespace
// first removes any left behind by a test process that died before it could clean up.
#pragma once

#include <string>
#include <string_view>

namespace tartan::test {

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs `sh -c command` and captures its output. For test set-up only.
CommandResult shell(const std::string& command);

// Like shell(), but a non-zero exit throws std::runtime_error with the output.
std::string shellOrThrow(const std::string& command);

// True when the process may create namespaces (root with CAP_SYS_ADMIN and CAP_NET_ADMIN).
// False also marks the run skipped (support/skip.hpp): the caller returns without testing, and
// the binary then exits with CTest's skip code instead of reporting a pass.
bool haveNetAdmin();

class NetNamespace {
 public:
  // `tag` is a short word for the role ("node", "pod-a"); the name is "tt-<tag>-<pid>-<n>".
  explicit NetNamespace(std::string_view tag);
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  const std::string& name() const { return name_; }
  // "/run/netns/<name>", for setns() or `ip -n`.
  std::string path() const;

  // Runs a shell command inside the namespace.
  CommandResult exec(const std::string& command) const;
  std::string execOrThrow(const std::string& command) const;

 private:
  std::string name_;
};

// Moves the calling thread into a namespace for the guard's lifetime (setns is per thread).
class EnterNamespace {
 public:
  explicit EnterNamespace(const NetNamespace& ns);
  ~EnterNamespace();
  EnterNamespace(const EnterNamespace&) = delete;
  EnterNamespace& operator=(const EnterNamespace&) = delete;

 private:
  int original_ = -1;
};

// Creates a veth pair with one end in each namespace; names are at most 15 characters.
void vethPair(const NetNamespace& a, const std::string& ifA, const NetNamespace& b, const std::string& ifB);

// A unique short suffix for interface names in this process ("<pid mod 10^5><counter>").
std::string uniqueSuffix();

}  // namespace tartan::test
