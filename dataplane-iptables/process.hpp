// Running helper binaries with input and captured output (private to dataplane-iptables).
//
// Children are started with posix_spawn, which glibc implements with clone(CLONE_VM|CLONE_VFORK):
// no copy of the agent's page tables, so the cost of starting iptables-restore does not grow with
// the agent's own memory (fork() of a 100 MB agent cost more than the restore itself). A child runs
// in the network namespace of the calling thread.
#pragma once

#include "tartan/common/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tartan::dataplane::iptables {

struct ProcessOutput {
  int pid = -1;  // the child's, reaped by now (nf_tables names the committing pid in its notifications)
  int exitCode = -1;
  std::string out;
  std::string err;
};

struct Command {
  std::vector<std::string> argv;  // argv[0] is looked up in /usr/sbin, /sbin, then PATH
  std::string_view input;         // fed on stdin
};

// Runs `argv` with `input` on stdin until it exits. Errors only if it cannot be started.
Result<ProcessOutput> runProcess(const std::vector<std::string>& argv, std::string_view input);

// Runs every command at once and waits for all of them; one result per command, in order.
std::vector<Result<ProcessOutput>> runProcesses(const std::vector<Command>& commands);

}  // namespace tartan::dataplane::iptables
