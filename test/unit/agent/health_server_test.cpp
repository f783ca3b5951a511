// The health server over real loopback sockets: clients that are idle, slow (slowloris) or
// oversized never hold up /liveness, and each is closed by its deadline, the connection bound or
// the size limits. No timing is asserted beyond "before the test's own deadline".
#include "health_server.hpp"

#include <tartan/common/http_get.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace tartan::agent;
using namespace std::chrono_literals;

namespace {

// A client socket connected to 127.0.0.1:port, closed when it goes out of scope.
class Client {
 public:
  explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  // False once the server has closed or reset the connection.
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Reads until the server closes the connection or `limit` passes: whether it closed; what came.
  bool readUntilClosed(std::chrono::milliseconds limit, std::string* received = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return true;  // EOF, or a reset after the server closed with our bytes unread
      if (received) received->append(buf, static_cast<size_t>(n));
    }
  }
  // Nothing to read and no end of stream: the server still holds the connection open.
  bool stillOpen() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  int fd_;
  bool connected_ = false;
};

int liveness(uint16_t port) { return tartan::httpGetLocal(port, "/liveness", 5s).status; }

struct LiveServer {
  explicit LiveServer(HealthServer::Limits limits = {}) : server(health, metrics, limits) {
    health.beat(Health::Loop::kCalc);
    health.beat(Health::Loop::kDataplane);
    REQUIRE(server.start("127.0.0.1", 0));
  }
  Health health;
  Metrics metrics;
  HealthServer server;
};

}  // namespace

TEST_CASE("idle connections up to the bound and beyond it never hold up /liveness; the oldest go first") {
  HealthServer::Limits limits;
  limits.maxConnections = 8;
  limits.deadline = 60s;  // far beyond the test: only the bound may close an idle client here
  LiveServer s(limits);
  const uint16_t port = s.server.port();

  std::vector<std::unique_ptr<Client>> idle;
  for (size_t i = 0; i < limits.maxConnections; ++i) {
    idle.push_back(std::make_unique<Client>(port));
    REQUIRE(idle.back()->connected());
  }
  // At the bound: the probe is the ninth connection and is answered; it displaces idle[0].
  CHECK(liveness(port) == 200);
  // Beyond the bound: of three more idle clients the first takes the answered probe's place and
  // the others displace idle[1] and idle[2]; the next probe displaces idle[3], and once it is
  // answered the /metrics request finds its place free.
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<Client>(port));
    REQUIRE(idle.back()->connected());
  }
  CHECK(liveness(port) == 200);
  CHECK(tartan::httpGetLocal(port, "/metrics", 5s).status == 200);

  for (size_t i = 0; i < idle.size(); ++i) {
    INFO("idle client " << i);
    if (i <= 3) {
      CHECK(idle[i]->readUntilClosed(5s));
    } else {
      CHECK(idle[i]->stillOpen());
    }
  }
}

TEST_CASE("a slowloris client is cut off at its deadline and never holds up /liveness") {
  HealthServer::Limits limits;
  limits.deadline = 1s;
  LiveServer s(limits);
  const uint16_t port = s.server.port();

  Client slow(port);
  REQUIRE(slow.connected());
  REQUIRE(slow.send("GET /liveness HTTP/1.1\r\nX-Slow: "));
  // One byte at a time, a header that never ends, until the server hangs up or the test gives up.
  std::atomic<bool> cutOff{false};
  std::thread writer([&] {
    const auto testDeadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < testDeadline) {
      if (slow.readUntilClosed(50ms) || !slow.send("a")) {
        cutOff = true;
        return;
      }
    }
  });
  for (int i = 0; i < 3; ++i) CHECK(liveness(port) == 200);
  writer.join();
  CHECK(cutOff);
  CHECK(liveness(port) == 200);
}

TEST_CASE("an oversized request is refused (431, 413) and closed, and /liveness still answers") {
  LiveServer s;
  const uint16_t port = s.server.port();
  const HealthServer::Limits limits;

  SECTION("a header beyond the header limit") {
    Client big(port);
    REQUIRE(big.connected());
    big.send("GET /liveness HTTP/1.1\r\nX-Big: " + std::string(8 * limits.headerLimit, 'a') + "\r\n\r\n");
    std::string response;
    CHECK(big.readUntilClosed(10s, &response));
    // The server may close with some of our bytes unread, and a reset can overtake the answer.
    if (!response.empty()) CHECK(response.rfind("HTTP/1.1 431", 0) == 0);
  }
  SECTION("a body beyond the body limit is refused on its Content-Length alone") {
    Client big(port);
    REQUIRE(big.connected());
    REQUIRE(big.send("POST /liveness HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                     std::to_string(100 * limits.bodyLimit) + "\r\n\r\n"));
    std::string response;
    CHECK(big.readUntilClosed(10s, &response));
    CHECK(response.rfind("HTTP/1.1 413", 0) == 0);
  }
  CHECK(liveness(port) == 200);
}

TEST_CASE("a request that is not HTTP is closed and /liveness still answers") {
  LiveServer s;
  Client junk(s.server.port());
  REQUIRE(junk.connected());
  junk.send(std::string("\x16\x03\x01\x02\x00", 5) + std::string(64, '\0'));  // a TLS hello, say
  CHECK(junk.readUntilClosed(10s));
  CHECK(liveness(s.server.port()) == 200);
}
