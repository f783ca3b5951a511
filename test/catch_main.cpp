// The Catch2 main of every test binary: a run in which a test found it could not run here (no
// root, no network namespaces) and nothing failed exits with CTest's skip code, so it is reported
// as skipped, never as passed (see support/skip.hpp).
#define CATCH_CONFIG_RUNNER
#include "support/skip.hpp"

#include <catch2/catch.hpp>

#include <iostream>

int main(int argc, char** argv) {
  const int failures = Catch::Session().run(argc, argv);
  if (failures == 0 && tartan::test::skipped()) {
    std::cout << "SKIPPED: this test needs root and network namespaces; nothing was tested\n";
    return tartan::test::kSkipReturnCode;
  }
  return failures;
}
