// One HTTPS exchange or one streamed response body, each on its own connection and io_context,
// run on the calling thread under a deadline. Private to the module: Beast, Asio and OpenSSL are
// included by transport.cpp alone.
#pragma once

#include "tartan/kube/client.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace tartan::kube::detail {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::string body;
  std::string contentType;
  std::string token;
};

struct HttpReply {
  int status = 0;
  std::string body;
};

// A response body read as it arrives (a watch).
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Some bytes, nullopt once the body has ended cleanly, or the failure (Timeout when nothing came
  // for `idle`, Stopped when `stop` was set).
  virtual KubeResult<std::optional<std::string>> read(std::chrono::milliseconds idle,
                                                      const std::atomic<bool>& stop) = 0;
};

class Transport {
 public:
  static KubeResult<std::unique_ptr<Transport>> create(const Config& config);
  virtual ~Transport() = default;
  virtual KubeResult<HttpReply> exchange(const HttpRequest& request, std::chrono::milliseconds timeout) = 0;
  // Sends the request and reads the response header. A status other than 200 comes back as the
  // error the response body states.
  virtual KubeResult<std::unique_ptr<BodyStream>> open(const HttpRequest& request,
                                                       std::chrono::milliseconds timeout,
                                                       const std::atomic<bool>& stop) = 0;
};

}  // namespace tartan::kube::detail
