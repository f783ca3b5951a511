// tartan/common/http_get.hpp — one HTTP GET to a local health or metrics port.
//
// For probes of our own daemons (readiness, /metrics) from the lab, tests and benchmarks: an
// HTTP/1.0 GET to 127.0.0.1:<port> in the calling thread's network namespace (a caller that wants
// another namespace enters it on a thread of its own first). Blocking, bounded by the timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tartan {

struct HttpResponse {
  int status = 0;  // 0: nothing answered, or no HTTP status line came back in time
  std::string body;
};

HttpResponse httpGetLocal(std::uint16_t port, const std::string& path,
                          std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace tartan
