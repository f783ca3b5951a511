// Golden files: test/unit/dataplane_iptables/golden/<name>. Set TARTAN_UPDATE_GOLDEN=1 to rewrite
// them after an intended change, then review the diff.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tartan::test {

inline void checkGolden(const std::string& name, const std::string& actual) {
  const char* root = std::getenv("TARTAN_SOURCE_DIR");
  REQUIRE(root != nullptr);
  const std::string path = std::string(root) + "/test/unit/dataplane_iptables/golden/" + name;
  if (std::getenv("TARTAN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  INFO("golden file " << path << " (TARTAN_UPDATE_GOLDEN=1 rewrites it)");
  REQUIRE(in.good());
  std::stringstream expected;
  expected << in.rdbuf();
  CHECK(actual == expected.str());
}

}  // namespace tartan::test
