// test/support/kube_test_client.hpp — the clients of the test API server (kube_test_server.hpp):
// a scratch folder for their files, a configuration of tartan::kube's client for the server, and
// Debian's kubectl run against it, as the independent client.
#pragma once

#include "support/kube_test_server.hpp"
#include "tartan/kube/client.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace tartan::test {

// A temporary folder, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tartan-kube-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A configuration for `server`: its CA, `token`, no rate limit worth the name, short timeouts.
inline kube::Config kubeConfigFor(const KubeTestServer& server, const std::string& token = "test-token") {
  kube::Config config;
  config.server = server.url();
  config.caPem = server.pki().ca.certPem;
  config.token = token;
  config.qps = 1000;
  config.burst = 1000;
  config.timeout = std::chrono::seconds(10);
  config.source = "test";
  return config;
}

inline constexpr const char* kKubectl = "/usr/bin/kubectl";

// A kubectl started by the test with the scratch folder's `kubeconfig` (its cache and HOME there
// too), its stdout and stderr in one pipe; killed by its PID only.
class Kubectl {
 public:
  Kubectl(const ScratchDir& dir, std::vector<std::string> args) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    args.insert(args.begin(),
                {kKubectl, "--kubeconfig=" + dir.file("kubeconfig"), "--cache-dir=" + dir.file("cache")});
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      std::vector<char*> argv;
      argv.reserve(args.size() + 1);
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::setenv("HOME", dir.path().c_str(), 1);
      ::execv(kKubectl, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Kubectl() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(fd_);
  }
  Kubectl(const Kubectl&) = delete;
  Kubectl& operator=(const Kubectl&) = delete;

  // Reads until `done(output)` holds, the process ends, or the time is up.
  bool readUntil(const std::function<bool(const std::string&)>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done(output_)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        ended_ = true;
        return done(output_);
      }
      output_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  // Waits for the exit (a minute at most; then it is killed): its status, all its output read.
  int wait() {
    readUntil([](const std::string&) { return false; }, std::chrono::seconds(60));
    if (!ended_) {
      ::kill(pid_, SIGKILL);
      output_ += "\n(killed after a minute)";
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool ended_ = false;  // its output reached its end
  std::string output_;
};

struct KubectlRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs kubectl to its end.
inline KubectlRun runKubectl(const ScratchDir& dir, const std::vector<std::string>& args) {
  Kubectl kubectl(dir, args);
  KubectlRun run;
  run.status = kubectl.wait();
  run.output = kubectl.output();
  return run;
}

}  // namespace tartan::test
