// src/agent/health_server.hpp — /liveness, /readiness and /metrics over HTTP on a local port.
// The same server, given another handler, is the Prometheus endpoint (/metrics alone).
//
// Boost.Beast, kept entirely in health_server.cpp so that no other translation unit compiles it.
// One thread of its own runs an io_context; every connection is asynchronous, so no client can hold
// up another: a probe is answered while idle, slow (one byte a second) or oversized clients are
// connected. Each connection has one deadline for its whole request and response, the request's
// header and body have size limits (answered 431 / 413), and at most maxConnections are open: a new
// connection beyond that closes the oldest, so that a fresh kubelet probe is always served and an
// attacker can only evict its own idle connections. Port 0 binds a free port; port() says which.
// Failure: start() returns the bind error.
#pragma once

#include "health.hpp"
#include "metrics.hpp"
#include "tartan/common/result.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace tartan::agent {

struct HealthResponse;

class HealthServer {
 public:
  struct Limits {
    // Kubernetes probes time out after 1 s by default and send a few hundred bytes.
    std::chrono::milliseconds deadline{3000};  // whole connection: request read and response written
    std::size_t maxConnections = 64;
    std::size_t headerLimit = 8 * 1024;
    std::size_t bodyLimit = 1024;  // a GET has none; a little is tolerated and ignored
  };

  // What a request target is answered with; called on the server's thread.
  using Handler = std::function<HealthResponse(const std::string& target)>;

  HealthServer(const Health& health, const Metrics& metrics) : HealthServer(health, metrics, Limits{}) {}
  HealthServer(const Health& health, const Metrics& metrics, Limits limits);
  explicit HealthServer(Handler handler);
  HealthServer(Handler handler, Limits limits);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // `host` is an IP address, "localhost" (127.0.0.1) or "" (every address, IPv6 and IPv4).
  Result<void> start(const std::string& host, uint16_t port);
  uint16_t port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The status and body for a path (pure; the server and the tests share it).
struct HealthResponse {
  int status = 404;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};
HealthResponse respond(const std::string& target, const Health& health, const Metrics& metrics);
// The Prometheus endpoint's answer: /metrics, and nothing else.
HealthResponse respondMetrics(const std::string& target, const Metrics& metrics);

}  // namespace tartan::agent
