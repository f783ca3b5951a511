// Real TCP traffic between test namespaces: an echo server and a client that connects from a
// chosen namespace. Sockets belong to the namespace of the thread that created them.
#pragma once

#include "support/netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tartan::test {

// "10.0.0.1" or "fd00::1" with a port, as a socket address; returns its length.
inline socklen_t fillAddress(const std::string& ip, int port, sockaddr_storage& out) {
  if (ip.find(':') == std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&out);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
  return sizeof(sockaddr_in6);
}

class EchoServer {
 public:
  EchoServer(const NetNamespace& ns, const std::string& ip, int port) {
    EnterNamespace in(ns);
    sockaddr_storage addr{};
    const socklen_t len = fillAddress(ip, port, addr);
    listen_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_, 64) != 0)
      throw std::runtime_error("echo server bind/listen: " + std::string(std::strerror(errno)));
    thread_ = std::thread([this] { run(); });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
    for (int fd : clients_) ::close(fd);
    ::close(listen_);
  }

 private:
  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_, POLLIN, 0}};
      for (int fd : clients_) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) clients_.push_back(fd);
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        char buf[256];
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          ::close(fds[i].fd);
          clients_.erase(std::find(clients_.begin(), clients_.end(), fds[i].fd));
        } else if (::write(fds[i].fd, buf, static_cast<std::size_t>(n)) < 0) {
        }
      }
    }
  }
  int listen_ = -1;
  std::vector<int> clients_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A TCP connection from `ns`, or fd -1 if it did not complete within the timeout (a DROP).
inline int connectFrom(const NetNamespace& ns, const std::string& ip, int port, int timeoutMs = 1500) {
  EnterNamespace in(ns);
  sockaddr_storage addr{};
  const socklen_t addrLen = fillAddress(ip, port, addr);
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), addrLen) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (::poll(&p, 1, timeoutMs) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, 0);
  return fd;
}

inline bool canConnect(const NetNamespace& ns, const std::string& ip, int port) {
  int fd = connectFrom(ns, ip, port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Sends a line over an open connection and waits for its echo.
inline bool echoes(int fd, int timeoutMs = 1500) {
  const char ping[] = "ping";
  if (::send(fd, ping, 4, MSG_NOSIGNAL) != 4) return false;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeoutMs) != 1) return false;
  char buf[8];
  return ::read(fd, buf, sizeof buf) == 4 && std::memcmp(buf, ping, 4) == 0;
}

}  // namespace tartan::test
