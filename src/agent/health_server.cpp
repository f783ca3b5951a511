// The health and metrics endpoint: the only translation unit that compiles Boost.Beast.
//
// Every connection is a Session driven by asynchronous reads and writes on the server's one
// thread, so a client that sends nothing, or one byte a second, waits on its own deadline and
// never on another client's. See health_server.hpp for the limits and why the oldest connection
// is the one closed when there are too many.
#include "health_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <deque>
#include <thread>

namespace tartan::agent {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HealthResponse respond(const std::string& target, const Health& health, const Metrics& metrics) {
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/liveness") {
    const bool live = health.live();
    return {live ? 200 : 503, "text/plain; charset=utf-8", live ? "live\n" : "a loop has stopped\n"};
  }
  if (path == "/readiness") {
    // The status is for the kubelet; the body for the person reading it: why not ready (a
    // datastore outage), and what is damaged even while ready.
    const bool ready = health.ready();
    const std::string detail = health.readinessDetail();
    if (ready) return {200, "text/plain; charset=utf-8", "ready\n" + detail};
    return {503, "text/plain; charset=utf-8", detail.empty() ? "first sync not programmed yet\n" : detail};
  }
  if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()};
  return {404, "text/plain; charset=utf-8", "not found; try /liveness, /readiness or /metrics\n"};
}

HealthResponse respondMetrics(const std::string& target, const Metrics& metrics) {
  if (target.substr(0, target.find('?')) == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()};
  return {404, "text/plain; charset=utf-8", "not found; try /metrics\n"};
}

namespace {

// One request and its response on one connection (HTTP/1.0 semantics: the server closes).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HealthServer::Handler& handler, const HealthServer::Limits& limits)
      : stream_(std::move(socket)),
        // Room for a header at its limit and a body at its, so the parser's limits, not the
        // buffer's, are what an oversized request runs into.
        buffer_(limits.headerLimit + limits.bodyLimit + 1024),
        handler_(handler) {
    parser_.header_limit(static_cast<std::uint32_t>(limits.headerLimit));
    parser_.body_limit(limits.bodyLimit);
    stream_.expires_after(limits.deadline);  // not renewed: it bounds the whole connection
  }

  void start() {
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  bool open() const { return open_; }

  void close() {
    if (!open_) return;
    open_ = false;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();  // cancels the pending read or write and the deadline
  }

 private:
  void onRead(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return reply({431, "text/plain; charset=utf-8", "request header too large\n"}, false);
    }
    if (ec == http::error::body_limit) {
      return reply({413, "text/plain; charset=utf-8", "request body too large\n"}, false);
    }
    // A deadline passed, the client went away, the request was not HTTP, or we were closed.
    if (ec) return close();
    const auto& request = parser_.get();
    reply(handler_(std::string(request.target())), request.method() == http::verb::head);
  }

  void reply(const HealthResponse& r, bool head) {
    if (!open_) return;
    response_.result(static_cast<http::status>(r.status));
    response_.version(11);
    response_.set(http::field::server, "tartan-agent");
    response_.set(http::field::content_type, r.contentType);
    response_.keep_alive(false);
    response_.body() = head ? std::string() : r.body;
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
  const HealthServer::Handler& handler_;  // the server's, which outlives every session
  bool open_ = true;
};

}  // namespace

struct HealthServer::Impl {
  Impl(Handler h, Limits l) : handler(std::move(h)), limits(l) {}
  const Handler handler;
  const Limits limits;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  // Open connections, oldest first; only the server's thread touches this (or stop() after it).
  std::deque<std::weak_ptr<Session>> sessions;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) accept();
        return;
      }
      admit(std::move(socket));
      accept();
    });
  }

  void admit(tcp::socket socket) {
    std::erase_if(sessions, [](const std::weak_ptr<Session>& s) {
      const auto session = s.lock();
      return !session || !session->open();
    });
    // Beyond the bound the oldest goes: the newest is most likely the probe that matters, and
    // refusing it would let a handful of idle connections fail liveness.
    while (sessions.size() >= std::max<std::size_t>(limits.maxConnections, 1)) {
      if (auto oldest = sessions.front().lock()) oldest->close();
      sessions.pop_front();
    }
    auto session = std::make_shared<Session>(std::move(socket), handler, limits);
    sessions.push_back(session);
    session->start();
  }
};

HealthServer::HealthServer(const Health& health, const Metrics& metrics, Limits limits)
    : HealthServer(
          [&health, &metrics](const std::string& target) { return respond(target, health, metrics); },
          limits) {}

HealthServer::HealthServer(Handler handler) : HealthServer(std::move(handler), Limits{}) {}

HealthServer::HealthServer(Handler handler, Limits limits)
    : impl_(std::make_unique<Impl>(std::move(handler), limits)) {}

HealthServer::~HealthServer() { stop(); }

Result<void> HealthServer::start(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  // "" is every address: IPv6's any, taking IPv4 too, or IPv4's where there is no IPv6.
  const bool any = host.empty();
  const auto address = any                   ? asio::ip::address(asio::ip::address_v6::any())
                       : host == "localhost" ? asio::ip::address(asio::ip::address_v4::loopback())
                                             : asio::ip::make_address(host, ec);
  if (ec) return makeError("health server", "host", "'" + host + "' is not an address");
  tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (any && ec) {
    ec.clear();
    endpoint = tcp::endpoint(asio::ip::address_v4::any(), port);
    impl_->acceptor.open(endpoint.protocol(), ec);
  }
  if (!ec && any && endpoint.protocol() == tcp::v6())
    impl_->acceptor.set_option(asio::ip::v6_only(false), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return makeError("health server", host + ":" + std::to_string(port), ec.message());
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return {};
}

uint16_t HealthServer::port() const {
  boost::system::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HealthServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
  // The server's thread has ended, so this one may close what it owned: nothing answers after stop().
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (const auto& s : impl_->sessions) {
    if (auto session = s.lock()) session->close();
  }
  impl_->sessions.clear();
}

}  // namespace tartan::agent
