// The agent as a test's child process (see agent_process.hpp).
#include "support/agent_process.hpp"

#include <tartan/common/http_get.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

namespace tartan::test {

std::string builtBinary(const std::string& relative) {
  const char* dir = std::getenv("TARTAN_BINARY_DIR");
  return dir ? std::string(dir) + "/" + relative : relative;
}

AgentProcess::AgentProcess(const NetNamespace& ns, Options options) : ns_(ns), options_(std::move(options)) {
  // Everything the child needs is built before fork(): after it only async-signal-safe calls.
  const std::string agent = builtBinary("src/agent/tartan-agent");
  const std::string port = std::to_string(options_.healthPort);
  std::vector<std::string> args{"ip", "netns", "exec", ns_.name()};
  if (!options_.environment.empty()) {
    args.emplace_back("env");
    args.insert(args.end(), options_.environment.begin(), options_.environment.end());
  }
  args.insert(args.end(),
              {agent, "--datastore", options_.datastore, "--node", options_.node, "--log-level", "debug"});
  if (options_.healthPortFlag) args.insert(args.end(), {"--health-port", port});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(options_.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
}

AgentProcess::~AgentProcess() { stop(SIGKILL); }

int AgentProcess::stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

bool AgentProcess::running() { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

int AgentProcess::httpGet(const std::string& path, std::string* body) const {
  HttpResponse r;
  std::thread([&] {
    EnterNamespace in(ns_);
    r = httpGetLocal(static_cast<std::uint16_t>(options_.healthPort), path);
  }).join();
  if (body) *body = r.body;
  return r.status;
}

bool AgentProcess::waitReady(std::chrono::seconds timeout) const {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (httpGet("/readiness") == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string AgentProcess::log() const {
  std::ifstream in(options_.log);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace tartan::test
