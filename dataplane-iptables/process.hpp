// Running a helper binary with input and captured output (private to dataplane-iptables).
#pragma once

#include "tartan/common/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tartan::dataplane::iptables {

struct ProcessOutput {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// fork/exec of argv[0] (looked up in /usr/sbin, /sbin, then PATH) with `input` on stdin. The
// child runs in the network namespace of the calling thread. Errors only if it cannot be started.
Result<ProcessOutput> runProcess(const std::vector<std::string>& argv, std::string_view input);

}  // namespace tartan::dataplane::iptables
