// The health and metrics endpoint: the only translation unit that compiles Boost.Beast.
#include "health_server.hpp"

#include "tartan/common/log.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>

namespace tartan::agent {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

HealthResponse respond(const std::string& target, const Health& health, const Metrics& metrics) {
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/liveness") {
    const bool live = health.live();
    return {live ? 200 : 503, "text/plain; charset=utf-8", live ? "live\n" : "a loop has stopped\n"};
  }
  if (path == "/readiness") {
    const bool ready = health.ready();
    return {ready ? 200 : 503, "text/plain; charset=utf-8",
            ready ? "ready\n" : "first sync not programmed yet\n"};
  }
  if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()};
  return {404, "text/plain; charset=utf-8", "not found; try /liveness, /readiness or /metrics\n"};
}

struct HealthServer::Impl {
  Impl(const Health& h, const Metrics& m) : health(h), metrics(m) {}
  const Health& health;
  const Metrics& metrics;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) accept();
        return;
      }
      serve(std::move(socket));
      accept();
    });
  }

  // One request per connection, read and answered with a short deadline of its own: the socket
  // is blocking, but only localhost probes talk to it.
  void serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    boost::system::error_code ec;
    timeval timeout{2, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    http::read(socket, buffer, request, ec);
    if (ec) return;
    const HealthResponse r = respond(std::string(request.target()), health, metrics);
    http::response<http::string_body> response{static_cast<http::status>(r.status), request.version()};
    response.set(http::field::server, "tartan-agent");
    response.set(http::field::content_type, r.contentType);
    response.keep_alive(false);
    response.body() = request.method() == http::verb::head ? std::string() : r.body;
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
};

HealthServer::HealthServer(const Health& health, const Metrics& metrics)
    : impl_(std::make_unique<Impl>(health, metrics)) {}

HealthServer::~HealthServer() { stop(); }

Result<void> HealthServer::start(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return makeError("health server", "host", "'" + host + "' is not an address");
  const tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), ec);
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
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace tartan::agent
