// A real etcd for the etcd datastore's tests: started from the Debian package's binary on loopback
// ports of its own, with a temporary data dir, killed (and restarted, paused) by its PID; and
// etcdctl run as an independent client. A member of a cluster is one EtcdServer per member.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tartan::test::etcd {

inline bool haveEtcd() {
  return ::access("/usr/bin/etcd", X_OK) == 0 && ::access("/usr/bin/etcdctl", X_OK) == 0;
}

// A loopback port nobody listens on now.
inline int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

struct CommandResult {
  int status = -1;
  std::string out;
};

// Runs argv (no shell), stdout captured, stderr to stdout.
inline CommandResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envStrings;
  for (char** e = environ; *e; ++e) envStrings.emplace_back(*e);
  for (const auto& e : env) envStrings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : envStrings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  CommandResult result;
  if (rc != 0) {
    ::close(pipeFds[0]);
    return result;
  }
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipeFds[0], buffer, sizeof buffer)) > 0)
    result.out.append(buffer, static_cast<size_t>(n));
  ::close(pipeFds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class EtcdServer {
 public:
  // A one-member cluster, or a member of `cluster` ("n1=http://127.0.0.1:P1,…") named `name`.
  EtcdServer(std::string name, int clientPort, int peerPort, std::string cluster, std::string token)
      : name_(std::move(name)),
        clientPort_(clientPort),
        peerPort_(peerPort),
        cluster_(std::move(cluster)),
        token_(std::move(token)) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("tartan-etcd-" + name_ + "-XXXXXX")).string();
    dir_ = ::mkdtemp(pattern.data());
  }
  EtcdServer() : EtcdServer("solo", freePort(), freePort(), "", "") {
    cluster_ = name_ + "=http://127.0.0.1:" + std::to_string(peerPort_);
    token_ = "tartan-test-" + std::to_string(::getpid()) + "-" + std::to_string(clientPort_);
  }
  ~EtcdServer() {
    kill();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Serve clients over TLS: the server's certificate and key, and the CA that client certificates
  // must chain to (etcdctl then uses the client pair given here).
  void useTls(std::string cert, std::string key, std::string ca, std::string clientCert,
              std::string clientKey) {
    scheme_ = "https";
    serverFlags_ = {"--cert-file=" + cert, "--key-file=" + key, "--trusted-ca-file=" + ca,
                    "--client-cert-auth"};
    ctlFlags_ = {"--cacert=" + ca, "--cert=" + clientCert, "--key=" + clientKey};
  }
  // Runs etcd and etcdctl inside a network namespace ("ip netns exec" execs in place: the PID
  // stays etcd's).
  void inNamespace(const std::string& name) { launcher_ = {"/usr/sbin/ip", "netns", "exec", name}; }
  // etcdctl's credentials once auth is on.
  void ctlUser(const std::string& user) { ctlUser_ = user; }

  std::string endpoint() const { return scheme_ + "://127.0.0.1:" + std::to_string(clientPort_); }
  std::string peerUrl() const { return "http://127.0.0.1:" + std::to_string(peerPort_); }
  std::string dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  // Starts the process (its data dir kept across restarts); extra flags appended.
  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"/usr/bin/etcd",
                                     "--name=" + name_,
                                     "--data-dir=" + dir_ + "/data",
                                     "--listen-client-urls=" + endpoint(),
                                     "--advertise-client-urls=" + endpoint(),
                                     "--listen-peer-urls=" + peerUrl(),
                                     "--initial-advertise-peer-urls=" + peerUrl(),
                                     "--initial-cluster=" + cluster_,
                                     "--initial-cluster-token=" + token_,
                                     "--initial-cluster-state=new",
                                     "--heartbeat-interval=50",
                                     "--election-timeout=500",
                                     "--logger=zap",
                                     "--log-outputs=" + dir_ + "/etcd.log"};
    for (const auto& e : serverFlags_) argv.push_back(e);
    argv.insert(argv.begin(), launcher_.begin(), launcher_.end());
    for (const auto& e : extra) argv.push_back(e);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ + "/stderr.log").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = ::posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start etcd");
  }

  // Waits until `etcdctl endpoint health` says so (a cluster member: once it has a leader).
  bool waitHealthy(std::chrono::seconds limit = std::chrono::seconds(20)) const {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ctl({"endpoint", "health", "--command-timeout=1s"}).status == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void pause() const { ::kill(pid_, SIGSTOP); }
  void resume() const { ::kill(pid_, SIGCONT); }

  // etcdctl against this member.
  CommandResult ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {"/usr/bin/etcdctl", "--endpoints=" + endpoint()});
    args.insert(args.begin() + 2, ctlFlags_.begin(), ctlFlags_.end());
    if (!ctlUser_.empty()) args.insert(args.begin() + 2, "--user=" + ctlUser_);
    args.insert(args.begin(), launcher_.begin(), launcher_.end());
    return run(args, {"ETCDCTL_API=3"});
  }

 private:
  std::string name_;
  int clientPort_;
  int peerPort_;
  std::string cluster_;
  std::string token_;
  std::string scheme_ = "http";
  std::vector<std::string> serverFlags_;
  std::vector<std::string> ctlFlags_;
  std::string ctlUser_;
  std::vector<std::string> launcher_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace tartan::test::etcd
