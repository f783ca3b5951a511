// test/support/eventually.hpp — waiting for an outcome in a test, never with a fixed sleep.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace tartan::test {

// Polls `condition` every `interval` until it holds or `limit` passes: whether it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(30),
                       std::chrono::milliseconds interval = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace tartan::test
