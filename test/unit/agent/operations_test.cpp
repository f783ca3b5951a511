// The operational settings put into effect while the agent runs: log destinations switched, the
// health and Prometheus endpoints started, moved and stopped.
#include "operations.hpp"

#include <tartan/common/http_get.hpp>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace tartan;
using namespace tartan::agent;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A loopback port nobody listens on at the moment of asking.
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

int get(uint16_t port, const std::string& path, std::string* body = nullptr) {
  auto r = httpGetLocal(port, path, std::chrono::seconds(5));
  if (body) *body = r.body;
  return r.status;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("tartan-operations-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

// A configuration with the health endpoint on a free port and nothing else served.
OperationsConfig quiet() {
  OperationsConfig c;
  c.healthHost = "127.0.0.1";
  c.healthPort = 0;
  return c;
}

}  // namespace

TEST_CASE("the settings name the log destinations and their severities") {
  struct Case {
    const char* rule;
    OperationsConfig config;
    log::Destinations expected;
  };
  OperationsConfig file;
  file.logFilePath = "/var/log/tartan/agent.log";
  file.logSeverityFile = "Warning";
  OperationsConfig severities;
  severities.logSeverityScreen = "Panic";
  severities.logSeverityFile = "Debug";  // no file: nothing to set
  severities.logSeveritySys = "Trace";
  OperationsConfig none;
  none.logSeverityScreen = "None";
  const Case cases[] = {
      {"the defaults: the screen at info, no file, no syslog",
       OperationsConfig{},
       {spdlog::level::info, "", spdlog::level::off, spdlog::level::off, "tartan-agent"}},
      {"a file at its own severity",
       file,
       {spdlog::level::info, "/var/log/tartan/agent.log", spdlog::level::warn, spdlog::level::off,
        "tartan-agent"}},
      {"Panic is critical only; a file severity without a file sends nothing",
       severities,
       {spdlog::level::critical, "", spdlog::level::off, spdlog::level::trace, "tartan-agent"}},
      {"None silences the screen",
       none,
       {spdlog::level::off, "", spdlog::level::off, spdlog::level::off, "tartan-agent"}},
  };
  for (const Case& c : cases) {
    SECTION(c.rule) { CHECK(logDestinations(c.config) == c.expected); }
  }
}

TEST_CASE("the log file follows the configuration while the process runs") {
  TempDir dir;
  Health health;
  Metrics metrics;
  Operations operations(health, metrics);
  auto log = log::get("operations-test");

  OperationsConfig c = quiet();
  c.logFilePath = (dir.path / "sub" / "agent.log").string();  // its directory is made
  c.logSeverityFile = "Debug";
  REQUIRE(operations.apply(c).empty());
  log->debug("first line, debug");
  log->trace("never, below the file's severity");
  CHECK(slurp(c.logFilePath).find("first line, debug") != std::string::npos);
  CHECK(slurp(c.logFilePath).find("never") == std::string::npos);
  CHECK(log->level() == spdlog::level::debug);  // the least any destination takes

  c.logSeverityFile = "Error";
  REQUIRE(operations.apply(c).empty());
  log->info("an info line the file no longer takes");
  log->error("an error line");
  CHECK(slurp(c.logFilePath).find("an info line") == std::string::npos);
  CHECK(slurp(c.logFilePath).find("an error line") != std::string::npos);

  const std::string first = c.logFilePath;
  c.logFilePath = (dir.path / "second.log").string();
  REQUIRE(operations.apply(c).empty());
  log->error("to the second file");
  CHECK(slurp(c.logFilePath).find("to the second file") != std::string::npos);
  CHECK(slurp(first).find("to the second file") == std::string::npos);

  c.logFilePath.clear();  // none
  REQUIRE(operations.apply(c).empty());
  log->error("to no file");
  CHECK(slurp(dir.path / "second.log").find("to no file") == std::string::npos);
  CHECK(log::destinations().file.empty());

  c.logFilePath = "/proc/no-such-dir/agent.log";
  const auto errors = operations.apply(c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].where == "log file");
  CHECK(errors[0].field == "/proc/no-such-dir/agent.log");
  REQUIRE(operations.apply(OperationsConfig(quiet())).empty());
  CHECK(log::destinations() == logDestinations(quiet()));
}

TEST_CASE("syslog is a destination of its own, with its own severity") {
  Health health;
  Metrics metrics;
  Operations operations(health, metrics);
  OperationsConfig c = quiet();
  c.logSeveritySys = "Error";
  REQUIRE(operations.apply(c).empty());
  CHECK(log::destinations().syslogLevel == spdlog::level::err);
  CHECK(log::get("operations-test")->level() == spdlog::level::info);  // the screen's is lower
  REQUIRE(operations.apply(quiet()).empty());
  CHECK(log::destinations().syslogLevel == spdlog::level::off);
}

TEST_CASE("the health endpoint moves to a new port, stops and starts again") {
  Health health;
  Metrics metrics;
  Operations operations(health, metrics);
  OperationsConfig c = quiet();
  REQUIRE(operations.apply(c).empty());
  const uint16_t first = operations.healthPort();
  REQUIRE(first != 0);
  CHECK(get(first, "/liveness") == 503);  // no loop has run: answered, not live

  c.healthPort = freePort();
  REQUIRE(operations.apply(c).empty());
  CHECK(operations.healthPort() == c.healthPort);
  CHECK(get(operations.healthPort(), "/readiness") == 503);
  CHECK(get(first, "/readiness") == 0);  // the old port is closed

  c.healthEnabled = false;
  REQUIRE(operations.apply(c).empty());
  CHECK(operations.healthPort() == 0);
  c.healthEnabled = true;
  REQUIRE(operations.apply(c).empty());
  CHECK(get(operations.healthPort(), "/liveness") == 503);
}

TEST_CASE("a port that cannot be bound is an error, and the endpoint stays where it was") {
  Health health;
  Metrics metrics;
  Operations operations(health, metrics);
  HealthServer squatter(health, metrics);
  REQUIRE(squatter.start("127.0.0.1", 0));
  OperationsConfig c = quiet();
  REQUIRE(operations.apply(c).empty());
  const uint16_t before = operations.healthPort();
  c.healthPort = squatter.port();
  const auto errors = operations.apply(c);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].where == "health endpoint");
  CHECK(errors[0].field == "127.0.0.1:" + std::to_string(squatter.port()));
  REQUIRE(operations.healthPort() != 0);
  CHECK(get(operations.healthPort(), "/liveness") == 503);
  CHECK(operations.healthPort() != squatter.port());
  (void)before;
}

TEST_CASE("the Prometheus endpoint serves /metrics on a port of its own once enabled") {
  Health health;
  Metrics metrics;
  metrics.localEndpoints = 3;
  Operations operations(health, metrics);
  OperationsConfig c = quiet();
  REQUIRE(operations.apply(c).empty());
  CHECK(operations.prometheusPort() == 0);  // Felix's default: off

  c.prometheusMetricsEnabled = true;
  c.prometheusMetricsHost = "127.0.0.1";
  c.prometheusMetricsPort = freePort();
  c.prometheusProcessMetricsEnabled = true;
  REQUIRE(operations.apply(c).empty());
  REQUIRE(operations.prometheusPort() == c.prometheusMetricsPort);
  std::string body;
  CHECK(get(operations.prometheusPort(), "/metrics", &body) == 200);
  CHECK(body.find("\nfelix_active_local_endpoints 3\n") != std::string::npos);
  CHECK(body.find("\ntartan_agent_local_endpoints 3\n") != std::string::npos);
  CHECK(body.find("\nprocess_resident_memory_bytes ") != std::string::npos);
  CHECK(get(operations.prometheusPort(), "/liveness") == 404);

  c.prometheusProcessMetricsEnabled = false;
  REQUIRE(operations.apply(c).empty());
  CHECK(get(operations.prometheusPort(), "/metrics", &body) == 200);
  CHECK(body.find("process_") == std::string::npos);

  c.prometheusMetricsEnabled = false;
  REQUIRE(operations.apply(c).empty());
  CHECK(operations.prometheusPort() == 0);
}
