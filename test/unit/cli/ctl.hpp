// test/unit/cli/ctl.hpp — tartanctl driven through its binary, against a file datastore in a
// fresh temporary folder that goes with the object. Shared by the CLI tests.
#pragma once

#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tartan::test::cli {

namespace fs = std::filesystem;

inline std::string env(const char* name) {
  const char* value = std::getenv(name);
  REQUIRE(value != nullptr);
  return value;
}

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A file of the source tree (TARTAN_SOURCE_DIR, which CTest sets).
inline std::string source(const std::string& relative) { return env("TARTAN_SOURCE_DIR") + "/" + relative; }

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

// A scratch datastore and a way to run tartanctl against it.
class Ctl {
 public:
  explicit Ctl(const std::string& tag = "tartanctl-test")
      : dir_(fs::temp_directory_path() / (tag + "-" + uniqueSuffix())) {
    fs::create_directories(dir_);
  }
  ~Ctl() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Ctl(const Ctl&) = delete;
  Ctl& operator=(const Ctl&) = delete;

  std::string binary() const { return env("TARTAN_BINARY_DIR") + "/src/cli/tartanctl"; }

  Run operator()(const std::string& args, const std::string& stdinText = "") const {
    auto outFile = dir_ / "out.txt", errFile = dir_ / "err.txt", inFile = dir_ / "in.txt";
    std::ofstream(inFile) << stdinText;
    // In a subshell, so that shell()'s own 2>&1 does not swallow the stderr file.
    auto result = shell("(" + binary() + " --datastore file:" + store().string() + " " + args + " <" +
                        inFile.string() + " >" + outFile.string() + " 2>" + errFile.string() + ")");
    return Run{result.exitCode, slurp(outFile), slurp(errFile)};
  }

  // Writes `text` to `name` inside the scratch folder; its path.
  fs::path file(const std::string& name, const std::string& text) const {
    auto path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir() const { return dir_; }
  fs::path store() const { return dir_ / "store"; }

 private:
  fs::path dir_;
};

}  // namespace tartan::test::cli
