// test/support/skip.hpp — how a test that cannot run here says so: SKIPPED, never passed.
//
// A kernel, interop or e2e test needs root and network namespaces. When it has neither, it marks
// the run skipped (haveNetAdmin() does, when it answers no) and returns; the Catch2 main of every
// test binary then exits with kSkipReturnCode, which tartan_test() registers as CTest's
// SKIP_RETURN_CODE, so `ctest` lists the test as "Skipped" rather than passed.
#pragma once

#include <atomic>

namespace tartan::test {

inline constexpr int kSkipReturnCode = 77;

// One flag per test binary (an inline function's static is shared by every translation unit).
inline std::atomic<bool>& skippedFlag() {
  static std::atomic<bool> flag{false};
  return flag;
}
inline void markSkipped() { skippedFlag().store(true); }
inline bool skipped() { return skippedFlag().load(); }

}  // namespace tartan::test
