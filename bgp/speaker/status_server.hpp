// bgp/speaker/status_server.hpp — the status API (proto/bgp_status.proto) on a unix socket.
//
// The gRPC service lives behind this small interface so that no gRPC header reaches the rest
// of the speaker. Threading: gRPC's own threads call Speaker::report()/routes(), which are
// thread-safe. Failure: start() returns an error if the socket cannot be served.
#pragma once

#include "speaker.hpp"

#include <tartan/common/result.hpp>

#include <memory>
#include <string>

namespace tartan::bgp::speaker {

class StatusServer {
 public:
  virtual ~StatusServer() = default;
  static Result<std::unique_ptr<StatusServer>> start(Speaker& speaker, const std::string& socketPath);
};

}  // namespace tartan::bgp::speaker
