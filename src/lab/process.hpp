// src/lab/process.hpp — the few process and namespace operations tartan-lab needs.
// Commands run by argv (no shell), so names never need quoting.
#pragma once

#include "tartan/common/result.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tartan::lab {

// Runs argv to completion; its stdout+stderr. A non-zero exit is an error carrying the output.
Result<std::string> run(const std::vector<std::string>& argv);

// Runs argv to completion with `input` on its stdin and its stderr appended to `stderrLog`, as a
// container runtime runs a CNI plugin; the exit code and stdout.
struct RunOutput {
  int exitCode = -1;
  std::string out;
};
Result<RunOutput> runWithInput(const std::vector<std::string>& argv, const std::string& input,
                               const std::string& stderrLog);

// Starts argv detached (own session, stdin /dev/null, stdout+stderr appended to `logPath`).
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& logPath);

// The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or 0 if there
// is no such process. With the PID, it identifies one process for good.
uint64_t startTime(pid_t pid);
// Alive and not a zombie, and still the process that started at `start`.
bool isSameProcess(pid_t pid, uint64_t start);
// SIGTERM, wait up to `graceMs`, then SIGKILL; only if it is still the recorded process.
void stopProcess(pid_t pid, uint64_t start, int graceMs);

// Moves the calling thread into the named network namespace (/run/netns/<name>).
Result<void> enterNetns(const std::string& name);

}  // namespace tartan::lab
