// tartanctl get and a resource damaged by hand: the last valid version is shown, the damage is
// named, and the exit status is 1 until the file is repaired.
#include "support/netns.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Run tartanctl(const fs::path& dir, const std::string& args) {
  const char* bin = std::getenv("TARTAN_BINARY_DIR");
  REQUIRE(bin != nullptr);
  auto out = dir / "out.txt", err = dir / "err.txt";
  auto result = tartan::test::shell("(" + std::string(bin) + "/src/cli/tartanctl --datastore file:" +
                                    (dir / "store").string() + " " + args + " >" + out.string() + " 2>" +
                                    err.string() + ")");
  return Run{result.exitCode, slurp(out), slurp(err)};
}

const char* kPolicy = R"(apiVersion: tartan.dev/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: shop
spec:
  selector: app == "db"
  types: [Ingress]
)";

}  // namespace

TEST_CASE("get shows a damaged resource at its last valid version, names the damage and exits 1 until repaired") {
  const fs::path dir = fs::temp_directory_path() / ("tartanctl-damaged-" + tartan::test::uniqueSuffix());
  fs::create_directories(dir);
  std::ofstream(dir / "policy.yaml") << kPolicy;
  REQUIRE(tartanctl(dir, "apply -f " + (dir / "policy.yaml").string()).status == 0);
  const fs::path file = dir / "store" / "networkpolicy" / "shop" / "deny.yaml";
  const std::string original = slurp(file);

  std::ofstream(file, std::ios::trunc) << "apiVersion: tartan.dev/v1\nkind: NetworkPolicy\n"
                                          "metadata: {name: deny, namespace: shop}\nspec: {selector: app == }\n";
  for (const std::string args : {"get networkpolicy -n shop -o yaml", "get networkpolicy deny -n shop -o yaml"}) {
    auto got = tartanctl(dir, args);
    CHECK(got.status == 1);
    CHECK(got.out.find(R"(selector: "app == \"db\"")") != std::string::npos);
    CHECK(got.out.find(R"(resourceVersion: "1")") != std::string::npos);
    CHECK(got.err.find("tartanctl: damaged: " + file.string()) != std::string::npos);
    CHECK(got.err.find("serving its last valid version (revision 1)") != std::string::npos);
  }
  // Another kind, or another name, is not this damage's business.
  CHECK(tartanctl(dir, "get globalnetworkpolicy").status == 0);

  std::ofstream(file, std::ios::trunc) << original;  // exactly the bytes it had
  auto repaired = tartanctl(dir, "get networkpolicy -n shop -o yaml");
  CHECK(repaired.status == 0);
  CHECK(repaired.err.empty());
  fs::remove_all(dir);
}
