// src/agent/health_server.hpp — /liveness, /readiness and /metrics over HTTP on a local port.
//
// Boost.Beast, kept entirely in health_server.cpp so that no other translation unit compiles it.
// One thread of its own runs an io_context; requests are answered one at a time (they are tiny).
// Port 0 binds a free port; port() says which. Failure: start() returns the bind error.
#pragma once

#include "health.hpp"
#include "metrics.hpp"
#include "tartan/common/result.hpp"

#include <memory>
#include <string>

namespace tartan::agent {

class HealthServer {
 public:
  HealthServer(const Health& health, const Metrics& metrics);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

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

}  // namespace tartan::agent
