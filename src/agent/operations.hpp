// src/agent/operations.hpp — the agent's operational settings put into effect while it runs:
// where logs go, the health endpoint, the Prometheus endpoint.
//
// apply() takes the merged OperationsConfig (config.hpp: defaults < AgentConfiguration <
// FELIX_*/TARTAN_* < flags) at start and whenever it changes, and makes the process match it:
// log destinations are swapped (tartan::log: screen, logFilePath, syslog, each with its
// severity); the health endpoint (/liveness, /readiness, /metrics) is started, stopped
// (healthEnabled) or moved to a new host or port; the Prometheus endpoint (/metrics alone) the
// same with prometheusMetricsEnabled/Host/Port; prometheusProcessMetricsEnabled adds the
// process_* figures to /metrics. Felix restarts itself for most of these; the agent does not
// need to.
// A move binds the new address before it closes the old one; when the two cannot coexist (the
// same port on an overlapping address) the old is closed first. If the new address cannot be
// bound, the old one is bound again and keeps serving: an endpoint is never lost to a typo.
// Owns: both endpoints' servers. Threading: apply() from one thread at a time (main at start,
// then the calc loop); the servers answer on threads of their own.
// Failure: apply() returns one error per setting it could not put into effect (an address that
// cannot be bound, a log file that cannot be opened), each naming the setting and the reason.
#pragma once

#include "config.hpp"
#include "health.hpp"
#include "health_server.hpp"
#include "metrics.hpp"
#include "tartan/common/log.hpp"
#include "tartan/common/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tartan::agent {

// Where the settings send log lines (pure). The file gets logSeverityFile only when there is a
// file; syslog records the program as `ident`.
log::Destinations logDestinations(const OperationsConfig& config, const std::string& ident = "tartan-agent");

// One HTTP endpoint that can be moved while it serves.
class MovableEndpoint {
 public:
  MovableEndpoint(std::string name, HealthServer::Handler handler)
      : name_(std::move(name)), handler_(std::move(handler)) {}
  // Serves on host:port when `enabled`, and not at all otherwise; nothing happens when that is
  // already so.
  Result<void> set(bool enabled, const std::string& host, int port);
  uint16_t port() const { return server_ ? server_->port() : 0; }
  bool serving() const { return server_ != nullptr; }

 private:
  Result<std::unique_ptr<HealthServer>> bind(const std::string& host, int port) const;
  std::string name_;
  HealthServer::Handler handler_;
  std::unique_ptr<HealthServer> server_;
  std::string host_;
  int port_ = -1;  // as asked (0: a free port was asked for)
};

class Operations {
 public:
  Operations(const Health& health, Metrics& metrics);

  std::vector<Error> apply(const OperationsConfig& config);

  // Where each endpoint listens now; 0: it is not serving.
  uint16_t healthPort() const { return health_.port(); }
  uint16_t prometheusPort() const { return prometheus_.port(); }

 private:
  Metrics& metrics_;
  MovableEndpoint health_;
  MovableEndpoint prometheus_;
  std::optional<OperationsConfig> applied_;
};

}  // namespace tartan::agent
