// HTTPS over Boost.Beast: each call opens its own connection on an io_context of its own, run on
// the calling thread. Every step has a deadline (beast::tcp_stream's expiry covers the TCP connect,
// the TLS handshake, the write and every read), and a watch's reads also look at a stop flag every
// 100 ms, so no call can block past its timeout or its owner's stop().
#include "transport.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <mutex>
#include <optional>
#include <vector>

namespace tartan::kube::detail {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kBodyLimit = size_t{512} * 1024 * 1024;

KubeError failure(ErrorKind kind, std::string where, std::string message) {
  KubeError error;
  error.kind = kind;
  error.where = std::move(where);
  error.message = std::move(message);
  return error;
}

struct Target {
  std::string host;  // without brackets
  std::string port;
  std::string hostHeader;
  bool isIp = false;
};

KubeResult<Target> parseServer(const std::string& server) {
  const std::string prefix = "https://";
  if (server.rfind(prefix, 0) != 0)
    return failure(ErrorKind::Config, "server", server + " is not an https:// URL");
  std::string rest = server.substr(prefix.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (rest.substr(slash) != "/") {
      return failure(ErrorKind::Config, "server", server + ": a path prefix is not supported");
    }
    rest.resize(slash);
  }
  Target t;
  t.hostHeader = rest;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return failure(ErrorKind::Config, "server", server + ": unclosed [");
    t.host = rest.substr(1, close - 1);
    t.port = close + 1 < rest.size() && rest[close + 1] == ':' ? rest.substr(close + 2) : "443";
  } else {
    auto colon = rest.rfind(':');
    t.host = colon == std::string::npos ? rest : rest.substr(0, colon);
    t.port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  }
  if (t.host.empty() || t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos) {
    return failure(ErrorKind::Config, "server", server + ": not host:port");
  }
  boost::system::error_code ec;
  net::ip::make_address(t.host, ec);
  t.isIp = !ec;
  return t;
}

// One connection: its io_context, the TLS stream, the read buffer.
struct Connection {
  net::io_context ioc;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  explicit Connection(ssl::context& context) : stream(ioc, context) {}

  // Starts an async operation and runs this io_context until it completes. With a stop flag, the
  // flag is checked every 100 ms and cancels the operation when set.
  template <class Start>
  beast::error_code await(Start start, const std::atomic<bool>* stop = nullptr) {
    bool done = false;
    beast::error_code result;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    bool closed = false;
    // The completion handler sets `done` from inside run_for.
    while (!done) {  // NOLINT(bugprone-infinite-loop)
      if (stop != nullptr && stop->load() && !closed) {
        // Closed, not just cancelled: a composed operation (the TLS handshake) may be between two
        // of its steps, and the next step would wait for the deadline on a merely cancelled socket.
        beast::get_lowest_layer(stream).close();
        closed = true;
      }
      ioc.restart();
      ioc.run_for(std::chrono::milliseconds(100));
    }
    return result;
  }
};

std::string describe(const beast::error_code& ec) {
  std::string text = ec.message();
  if (ec.category() == net::error::get_ssl_category()) {
    const std::string reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value())) != nullptr
                                   ? ERR_reason_error_string(static_cast<unsigned long>(ec.value()))
                                   : "";
    text = "TLS: " + (reason.empty() ? text : reason);
  }
  return text;
}

ErrorKind kindOf(const beast::error_code& ec) {
  return ec == beast::error::timeout ? ErrorKind::Timeout : ErrorKind::Transport;
}

class BeastTransport;

class BeastBodyStream : public BodyStream {
 public:
  BeastBodyStream(std::unique_ptr<Connection> connection,
                  std::unique_ptr<http::response_parser<http::buffer_body>> parser, std::string where)
      : connection_(std::move(connection)), parser_(std::move(parser)), where_(std::move(where)) {}

  KubeResult<std::optional<std::string>> read(std::chrono::milliseconds idle,
                                              const std::atomic<bool>& stop) override {
    for (;;) {
      if (stop.load()) return failure(ErrorKind::Stopped, where_, "stopped");
      if (parser_->is_done()) return std::optional<std::string>();
      char chunk[16384];
      parser_->get().body().data = chunk;
      parser_->get().body().size = sizeof chunk;
      beast::get_lowest_layer(connection_->stream).expires_after(idle);
      auto ec = connection_->await(
          [&](auto handler) {
            http::async_read_some(connection_->stream, connection_->buffer, *parser_, handler);
          },
          &stop);
      const size_t n = sizeof chunk - parser_->get().body().size;
      if (stop.load()) return failure(ErrorKind::Stopped, where_, "stopped");
      if (ec && ec != http::error::need_buffer) {
        return failure(kindOf(ec), where_, "the stream broke: " + describe(ec));
      }
      if (n > 0) return std::optional<std::string>(std::string(chunk, n));
    }
  }

 private:
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  std::string where_;
};

class BeastTransport : public Transport {
 public:
  BeastTransport(Target target, std::unique_ptr<ssl::context> context, bool verify)
      : target_(std::move(target)), context_(std::move(context)), verify_(verify) {}

  KubeResult<HttpReply> exchange(const HttpRequest& request, std::chrono::milliseconds timeout) override {
    const std::string where = request.method + " " + request.target;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const bool get = request.method == "GET";
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<Connection> c = get && attempt == 0 ? takeIdle() : nullptr;
      const bool reused = c != nullptr;
      if (!c) {
        auto dialed = dial(where, deadline, nullptr);
        if (!dialed) return dialed.error();
        c = std::move(*dialed);
      }
      if (auto error = send(*c, request, where, deadline, nullptr)) {
        if (reused) continue;
        return *error;
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      beast::get_lowest_layer(c->stream).expires_at(deadline);
      auto ec = c->await([&](auto handler) { http::async_read(c->stream, c->buffer, parser, handler); });
      if (ec && reused && ec != beast::error::timeout) continue;
      if (ec) return failure(kindOf(ec), where, "reading the response: " + describe(ec));
      HttpReply reply;
      reply.status = static_cast<int>(parser.get().result_int());
      reply.body = std::move(parser.get().body());
      if (parser.get().keep_alive() && c->buffer.size() == 0) {
        putIdle(std::move(c));
      } else {
        beast::error_code ignored;
        beast::get_lowest_layer(c->stream).socket().close(ignored);
      }
      return reply;
    }
  }

  KubeResult<std::unique_ptr<BodyStream>> open(const HttpRequest& request, std::chrono::milliseconds timeout,
                                               const std::atomic<bool>& stop) override {
    const std::string where = request.method + " " + request.target;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto connection = connect(request, where, deadline, &stop);
    if (!connection && stop.load()) return failure(ErrorKind::Stopped, where, "stopped");
    if (!connection) return connection.error();
    Connection& c = **connection;
    auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
    parser->body_limit(boost::none);
    beast::get_lowest_layer(c.stream).expires_at(deadline);
    auto ec =
        c.await([&](auto handler) { http::async_read_header(c.stream, c.buffer, *parser, handler); }, &stop);
    if (stop.load()) return failure(ErrorKind::Stopped, where, "stopped");
    if (ec) return failure(kindOf(ec), where, "reading the response: " + describe(ec));
    const int status = static_cast<int>(parser->get().result_int());
    auto stream = std::make_unique<BeastBodyStream>(std::move(*connection), std::move(parser), where);
    if (status == 200) return std::unique_ptr<BodyStream>(std::move(stream));
    // A refused watch: its body is the Status that says why.
    std::string body;
    while (body.size() < size_t{64} * 1024) {
      auto some = stream->read(timeout, stop);
      if (!some || !*some) break;
      body += **some;
    }
    return errorFromStatus(status, body, where);
  }

 private:
  KubeResult<std::unique_ptr<Connection>> connect(const HttpRequest& request, const std::string& where,
                                                  std::chrono::steady_clock::time_point deadline,
                                                  const std::atomic<bool>* stop) {
    auto c = dial(where, deadline, stop);
    if (!c) return c.error();
    if (auto error = send(**c, request, where, deadline, stop)) return *error;
    return c;
  }

  // A new connection, TLS established.
  KubeResult<std::unique_ptr<Connection>> dial(const std::string& where,
                                               std::chrono::steady_clock::time_point deadline,
                                               const std::atomic<bool>* stop) {
    auto c = std::make_unique<Connection>(*context_);
    beast::error_code ec;
    tcp::resolver resolver(c->ioc);
    auto endpoints = resolver.resolve(target_.host, target_.port, ec);
    if (ec) return failure(ErrorKind::Transport, where, "resolving " + target_.host + ": " + ec.message());
    SSL* ssl = c->stream.native_handle();
    if (!target_.isIp) SSL_set_tlsext_host_name(ssl, target_.host.c_str());
    if (verify_) {
      // The server's certificate must name what we connected to: its IP or DNS SAN.
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      const int ok = target_.isIp ? X509_VERIFY_PARAM_set1_ip_asc(param, target_.host.c_str())
                                  : X509_VERIFY_PARAM_set1_host(param, target_.host.c_str(), 0);
      if (ok != 1) return failure(ErrorKind::Config, where, "cannot check the server name " + target_.host);
    }
    auto& lowest = beast::get_lowest_layer(c->stream);
    lowest.expires_at(deadline);
    ec = c->await([&](auto handler) { lowest.async_connect(endpoints, handler); }, stop);
    if (ec) return failure(kindOf(ec), where, "connecting to " + target_.hostHeader + ": " + describe(ec));
    ec = c->await([&](auto handler) { c->stream.async_handshake(ssl::stream_base::client, handler); }, stop);
    if (ec)
      return failure(kindOf(ec), where, "TLS handshake with " + target_.hostHeader + ": " + describe(ec));
    return c;
  }

  // Writes the request on `c`.
  std::optional<KubeError> send(Connection& c, const HttpRequest& request, const std::string& where,
                                std::chrono::steady_clock::time_point deadline,
                                const std::atomic<bool>* stop) {
    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(request.target);
    req.version(11);
    req.set(http::field::host, target_.hostHeader);
    req.set(http::field::user_agent, "tartan/0.1");
    req.set(http::field::accept, "application/json");
    if (!request.token.empty()) req.set(http::field::authorization, "Bearer " + request.token);
    if (!request.contentType.empty()) req.set(http::field::content_type, request.contentType);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH") {
      req.body() = request.body;
      req.prepare_payload();
    }
    beast::get_lowest_layer(c.stream).expires_at(deadline);
    auto ec = c.await([&](auto handler) { http::async_write(c.stream, req, handler); }, stop);
    if (ec) return failure(kindOf(ec), where, "sending the request: " + describe(ec));
    return std::nullopt;
  }

  // Idle kept-alive connections, reused by GETs only: a GET that fails on a reused connection (the
  // server closed it while idle) is sent again on a new one, which is safe for a GET alone.
  std::unique_ptr<Connection> takeIdle() {
    std::lock_guard lock(poolMutex_);
    if (idle_.empty()) return nullptr;
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  void putIdle(std::unique_ptr<Connection> c) {
    std::lock_guard lock(poolMutex_);
    if (idle_.size() < kIdleLimit) idle_.push_back(std::move(c));
  }
  static constexpr size_t kIdleLimit = 4;
  std::mutex poolMutex_;
  std::vector<std::unique_ptr<Connection>> idle_;

  Target target_;
  std::unique_ptr<ssl::context> context_;
  bool verify_;
};

}  // namespace

KubeResult<std::unique_ptr<Transport>> Transport::create(const Config& config) {
  auto target = parseServer(config.server);
  if (!target) return target.error();
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  const bool verify = !config.insecureSkipTlsVerify;
  context->set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none);
  if (!config.caPem.empty()) {
    context->add_certificate_authority(net::buffer(config.caPem), ec);
    if (ec) return failure(ErrorKind::Config, config.source, "certificate authority: " + describe(ec));
  } else if (verify) {
    context->set_default_verify_paths(ec);
    if (ec) return failure(ErrorKind::Config, config.source, "the system's CA roots: " + describe(ec));
  }
  if (!config.clientCertPem.empty()) {
    context->use_certificate_chain(net::buffer(config.clientCertPem), ec);
    if (ec) return failure(ErrorKind::Config, config.source, "client certificate: " + describe(ec));
    context->use_private_key(net::buffer(config.clientKeyPem), ssl::context::pem, ec);
    if (ec) return failure(ErrorKind::Config, config.source, "client key: " + describe(ec));
  }
  return std::unique_ptr<Transport>(
      std::make_unique<BeastTransport>(std::move(*target), std::move(context), verify));
}

}  // namespace tartan::kube::detail
