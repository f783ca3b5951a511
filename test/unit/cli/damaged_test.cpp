// tartanctl get and a resource damaged by hand: the last valid version is shown, the damage is
// named, and the exit status is 1 until the file is repaired.
#include "ctl.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace tartan::test::cli;

namespace {

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

TEST_CASE(
    "get shows a damaged resource at its last valid version, names the damage and exits 1 until repaired") {
  Ctl tartanctl("tartanctl-damaged");
  const fs::path policy = tartanctl.file("policy.yaml", kPolicy);
  REQUIRE(tartanctl("apply -f " + policy.string()).status == 0);
  const fs::path file = tartanctl.store() / "networkpolicy" / "shop" / "deny.yaml";
  const std::string original = slurp(file);

  std::ofstream(file, std::ios::trunc)
      << "apiVersion: tartan.dev/v1\nkind: NetworkPolicy\n"
         "metadata: {name: deny, namespace: shop}\nspec: {selector: app == }\n";
  for (const std::string args :
       {"get networkpolicy -n shop -o yaml", "get networkpolicy deny -n shop -o yaml"}) {
    auto got = tartanctl(args);
    CHECK(got.status == 1);
    CHECK(got.out.find(R"(selector: "app == \"db\"")") != std::string::npos);
    CHECK(got.out.find(R"(resourceVersion: "1")") != std::string::npos);
    CHECK(got.err.find("tartanctl: damaged: " + file.string()) != std::string::npos);
    CHECK(got.err.find("serving its last valid version (revision 1)") != std::string::npos);
  }
  // Another kind, or another name, is not this damage's business.
  CHECK(tartanctl("get globalnetworkpolicy").status == 0);

  std::ofstream(file, std::ios::trunc) << original;  // exactly the bytes it had
  auto repaired = tartanctl("get networkpolicy -n shop -o yaml");
  CHECK(repaired.status == 0);
  CHECK(repaired.err.empty());
}
