// The agent's logs, health and Prometheus endpoints, following its configuration.
#include "operations.hpp"

namespace tartan::agent {

namespace {

spdlog::level::level_enum severity(const std::string& name) {
  if (name == "Trace") return spdlog::level::trace;
  if (name == "Debug") return spdlog::level::debug;
  if (name == "Info") return spdlog::level::info;
  if (name == "Warning") return spdlog::level::warn;
  if (name == "Error") return spdlog::level::err;
  if (name == "Fatal" || name == "Panic") return spdlog::level::critical;
  return spdlog::level::off;  // None
}

std::string address(const std::string& host, uint16_t port) {
  if (host.empty()) return "*:" + std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace

log::Destinations logDestinations(const OperationsConfig& config, const std::string& ident) {
  log::Destinations d;
  d.screen = severity(config.logSeverityScreen);
  d.file = config.logFilePath;
  d.fileLevel = config.logFilePath.empty() ? spdlog::level::off : severity(config.logSeverityFile);
  d.syslogLevel = severity(config.logSeveritySys);
  d.syslogIdent = ident;
  return d;
}

Result<std::unique_ptr<HealthServer>> MovableEndpoint::bind(const std::string& host, int port) const {
  auto server = std::make_unique<HealthServer>(handler_);
  if (auto started = server->start(host, static_cast<uint16_t>(port)); !started)
    return makeError(name_, address(host, static_cast<uint16_t>(port)), started.error().what);
  return server;
}

Result<void> MovableEndpoint::set(bool enabled, const std::string& host, int port) {
  if (!enabled) {
    server_.reset();  // stops it
    port_ = -1;
    return {};
  }
  if (server_ && host == host_ && port == port_) return {};
  auto moved = bind(host, port);
  if (!moved && server_) {
    // Perhaps the old listener holds the address (same port, overlapping host): let go of it.
    server_.reset();
    moved = bind(host, port);
    if (!moved) {
      if (auto back = bind(host_, port_)) server_ = std::move(*back);
      return moved.error();
    }
  }
  if (!moved) return moved.error();
  server_ = std::move(*moved);
  host_ = host;
  port_ = port;
  return {};
}

Operations::Operations(const Health& health, Metrics& metrics)
    : metrics_(metrics),
      health_("health endpoint",
              [&health, &metrics](const std::string& target) { return respond(target, health, metrics); }),
      prometheus_("Prometheus endpoint",
                  [&metrics](const std::string& target) { return respondMetrics(target, metrics); }) {}

std::vector<Error> Operations::apply(const OperationsConfig& config) {
  std::vector<Error> errors;
  if (applied_ && *applied_ == config) return errors;
  auto log = log::get("agent");
  if (auto set = log::setDestinations(logDestinations(config)); !set) errors.push_back(set.error());
  metrics_.processMetrics = config.prometheusProcessMetricsEnabled;

  const bool wasServing[] = {health_.serving(), prometheus_.serving()};
  const uint16_t wasPort[] = {health_.port(), prometheus_.port()};
  if (auto set = health_.set(config.healthEnabled, config.healthHost, config.healthPort); !set)
    errors.push_back(set.error());
  if (auto set = prometheus_.set(config.prometheusMetricsEnabled, config.prometheusMetricsHost,
                                 config.prometheusMetricsPort);
      !set)
    errors.push_back(set.error());
  const std::pair<const MovableEndpoint*, const std::string*> endpoints[] = {
      {&health_, &config.healthHost}, {&prometheus_, &config.prometheusMetricsHost}};
  for (int i = 0; i < 2; ++i) {
    const auto& [endpoint, host] = endpoints[i];
    const char* what = i == 0 ? "health (/liveness, /readiness, /metrics)" : "Prometheus metrics (/metrics)";
    if (endpoint->serving() && (!wasServing[i] || endpoint->port() != wasPort[i]))
      log->info("{} on http://{}", what, address(*host, endpoint->port()));
    else if (!endpoint->serving() && wasServing[i])
      log->info("{} no longer served", what);
  }
  if (!applied_ || applied_->logFilePath != config.logFilePath ||
      applied_->logSeveritySys != config.logSeveritySys ||
      applied_->logSeverityScreen != config.logSeverityScreen ||
      applied_->logSeverityFile != config.logSeverityFile)
    log->info("logging: screen {}, file {} ({}), syslog {}", config.logSeverityScreen,
              config.logFilePath.empty() ? "none" : config.logFilePath, config.logSeverityFile,
              config.logSeveritySys);
  applied_ = config;
  return errors;
}

}  // namespace tartan::agent
