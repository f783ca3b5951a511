// src/agent/health.hpp — what /liveness and /readiness report.
//
// Each loop beats its heart at least once a second (its queue wait times out); liveness is every
// loop having beaten within kStale. Readiness is set once by the dataplane loop when the first
// full sync is programmed. Threading: atomics; any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tartan::agent {

class Health {
 public:
  enum class Loop { kCalc, kDataplane };
  static constexpr std::chrono::seconds kStale{30};

  void beat(Loop loop, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    slot(loop).store(now.time_since_epoch().count());
  }
  bool live(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) const {
    for (Loop loop : {Loop::kCalc, Loop::kDataplane}) {
      const auto last =
          std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(slot(loop).load()));
      if (slot(loop).load() == 0 || now - last > kStale) return false;
    }
    return true;
  }
  void setReady() { ready_ = true; }
  bool ready() const { return ready_; }

 private:
  std::atomic<int64_t>& slot(Loop loop) { return loop == Loop::kCalc ? calc_ : dataplane_; }
  const std::atomic<int64_t>& slot(Loop loop) const { return loop == Loop::kCalc ? calc_ : dataplane_; }
  std::atomic<int64_t> calc_{0};
  std::atomic<int64_t> dataplane_{0};
  std::atomic<bool> ready_{false};
};

}  // namespace tartan::agent
