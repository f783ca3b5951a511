#include "support/netns.hpp"
#include "support/skip.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <mutex>

#include <array>
#include <atomic>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace tartan::test {

namespace {
std::atomic<int> counter{0};

// Deletes namespaces named tt-*-<pid>-* whose pid no longer runs: leftovers of a test that
// crashed before its destructors ran.
void reapOrphans() {
  auto listing = shell("ip netns list 2>/dev/null");
  std::istringstream lines(listing.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind("tt-", 0) != 0) continue;
    auto last = name.rfind('-');
    if (last == std::string::npos || last == 0) continue;
    auto before = name.rfind('-', last - 1);
    if (before == std::string::npos) continue;
    int pid = 0;
    try {
      pid = std::stoi(name.substr(before + 1, last - before - 1));
    } catch (...) {
      continue;
    }
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) shell("ip netns del " + name);
  }
}
}  // namespace

CommandResult shell(const std::string& command) {
  CommandResult result;
  std::string wrapped = command + " 2>&1";
  FILE* pipe = popen(wrapped.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed for: " + command);
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string shellOrThrow(const std::string& command) {
  auto result = shell(command);
  if (result.exitCode != 0)
    throw std::runtime_error("command failed (" + std::to_string(result.exitCode) + "): " + command + "\n" +
                             result.output);
  return result.output;
}

bool haveNetAdmin() {
  const bool have = geteuid() == 0 && shell("ip netns list").exitCode == 0;
  if (!have) markSkipped();  // the test returns now; the binary reports SKIPPED, not passed
  return have;
}

std::string uniqueSuffix() {
  return std::to_string(getpid() % 100000) + "x" + std::to_string(counter.fetch_add(1));
}

NetNamespace::NetNamespace(std::string_view tag) {
  static std::once_flag reaped;
  std::call_once(reaped, reapOrphans);
  name_ =
      "tt-" + std::string(tag) + "-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
  shellOrThrow("ip netns add " + name_);
  shellOrThrow("ip -n " + name_ + " link set lo up");
}

NetNamespace::~NetNamespace() { shell("ip netns del " + name_); }

std::string NetNamespace::path() const { return "/run/netns/" + name_; }

CommandResult NetNamespace::exec(const std::string& command) const {
  return shell("ip netns exec " + name_ + " sh -c '" + command + "'");
}

std::string NetNamespace::execOrThrow(const std::string& command) const {
  return shellOrThrow("ip netns exec " + name_ + " sh -c '" + command + "'");
}

EnterNamespace::EnterNamespace(const NetNamespace& ns) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) throw std::runtime_error("cannot open own network namespace");
  int target = open(ns.path().c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) throw std::runtime_error("cannot open " + ns.path());
  int rc = setns(target, CLONE_NEWNET);
  close(target);
  if (rc != 0) throw std::runtime_error("setns into " + ns.name() + " failed");
}

EnterNamespace::~EnterNamespace() {
  if (setns(original_, CLONE_NEWNET) != 0) std::abort();  // a thread left in a test namespace
  close(original_);
}

void vethPair(const NetNamespace& a, const std::string& ifA, const NetNamespace& b, const std::string& ifB) {
  shellOrThrow("ip -n " + a.name() + " link add " + ifA + " type veth peer name " + ifB + " netns " +
               b.name());
  shellOrThrow("ip -n " + a.name() + " link set " + ifA + " up");
  shellOrThrow("ip -n " + b.name() + " link set " + ifB + " up");
}

}  // namespace tartan::test
