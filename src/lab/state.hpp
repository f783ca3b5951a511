// src/lab/state.hpp — the lab's state file and the helpers up, down and the pod commands share.
//
// The state file (<state dir>/state.json) lists everything the lab made: network namespaces
// (recorded before they are made), processes (by PID and start time, so a recycled PID is never
// signalled), nodes, pods (with their CNI container ID and result) and the binaries in use. It is
// rewritten atomically after every change, so `down` works after a crash at any point. A State
// that loads (or is locked by `up`) holds an exclusive flock on <state dir>/state.lock for its
// lifetime, so two commands that change one lab (add-pod and del-pod, say) take turns; readers
// (probe) need no lock, as every save is a rename. Single-threaded.
#pragma once

#include "tartan/common/result.hpp"

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace tartan::lab {

#define TARTAN_LAB_TRY(expr)                      \
  do {                                            \
    if (auto r_ = (expr); !r_) return r_.error(); \
  } while (0)

class State {
 public:
  explicit State(std::string dir) : dir_(std::move(dir)) {}
  ~State();
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // Waits for the lab's lock; load() takes it first.
  Result<void> lock();
  Result<void> load();
  Result<void> save() const;
  std::string file() const { return dir_ + "/state.json"; }
  const std::string& dir() const { return dir_; }
  nlohmann::json& data() { return data_; }

  Result<void> addNamespace(const std::string& name);
  Result<void> addProcess(const std::string& role, pid_t pid);
  // Stops (SIGTERM, then SIGKILL after `graceMs`) and forgets every process of `role`.
  Result<void> stopRole(const std::string& role, int graceMs);
  // The pod record "ns/name", or nullptr.
  nlohmann::json* findPod(const std::string& ns, const std::string& name);
  nlohmann::json* findNode(const std::string& name);

 private:
  std::string dir_;
  int lockFd_ = -1;
  nlohmann::json data_ = nlohmann::json::object();
};

// Makes a network namespace (recorded first), lo up, no duplicate address detection.
Result<void> makeNamespace(State& state, const std::string& name);

// The last `lines` lines of a log, indented, for error messages.
std::string tail(const std::string& path, size_t lines);

}  // namespace tartan::lab
