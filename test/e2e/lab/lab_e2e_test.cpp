// tartan-lab end to end, through its command line: the example shop lab comes up dual stack with
// every cell open over IPv4 and IPv6, the example policies close exactly the cells they should in
// both families, `restart-agent` keeps them closed, and down leaves nothing.
// The lab gets a name of its own per run, so it never meets a lab someone else has up.
#include "support/netns.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

namespace tt = tartan::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// "from -> to:port/protocol IPv4|IPv6" -> verdict.
using Matrix = std::map<std::string, std::string>;

struct Lab {
  std::string name = "e2e" + tt::uniqueSuffix();
  std::string stateDir = (fs::temp_directory_path() / ("tartan-lab-" + name)).string();
  std::string lab = env("TARTAN_BINARY_DIR") + "/src/lab/tartan-lab";
  std::string source = env("TARTAN_SOURCE_DIR");

  std::string cmd(const std::string& args) const { return lab + " --state-dir " + stateDir + " " + args; }

  Matrix probe() const {  // both families: the default
    const auto r = tt::shell(cmd("probe --json --timeout-ms 800 2>&1"));
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    Matrix m;
    for (const auto& c : nlohmann::json::parse(r.output)) {
      m[c["from"].get<std::string>() + " -> " + c["to"].get<std::string>() + ":" +
        std::to_string(c["port"].get<int>()) + "/" + c["protocol"].get<std::string>() +
        (c["family"].get<int>() == 6 ? " IPv6" : " IPv4")] = c["result"].get<std::string>();
    }
    return m;
  }

  // Probes until the matrix is `expected` or a minute passes; the last matrix.
  Matrix awaitMatrix(const Matrix& expected) const {
    Matrix m;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    do {
      m = probe();
    } while (m != expected && std::chrono::steady_clock::now() < deadline);
    return m;
  }

  ~Lab() { tt::shell(cmd("down " + name + " >/dev/null 2>&1")); }
};

std::string describe(const Matrix& m) {
  std::string out;
  for (const auto& [cell, verdict] : m) out += cell + " = " + verdict + "\n";
  return out;
}

}  // namespace

TEST_CASE("tartan-lab: the shop lab, its matrix before and after the example policies, and down") {
  if (!tt::haveNetAdmin()) {
    WARN("e2e_lab needs root and network namespaces: SKIPPED, nothing was tested");
    SUCCEED("skipped: not root");
    return;
  }
  Lab lab;
  // The example lab under a name of this run's own.
  std::ifstream in(lab.source + "/examples/lab/shop.yaml");
  std::string text{std::istreambuf_iterator<char>(in), {}};
  text = std::regex_replace(text, std::regex("\nname: shop\n"), "\nname: " + lab.name + "\n");
  const std::string labFile = (fs::temp_directory_path() / (lab.name + ".yaml")).string();
  std::ofstream(labFile) << text;

  const auto up = tt::shell(lab.cmd("up " + labFile + " 2>&1"));
  INFO(up.output);
  REQUIRE(up.exitCode == 0);
  CHECK(tt::shell("ip netns list | grep -c '^tl-" + lab.name + "-'").output == "4\n");

  // Dual stack: every pod has its IPv4 address and the IPv6 one mirroring it.
  const auto addresses = tt::shell("ip -n tl-" + lab.name + "-shop.backend addr show dev eth0");
  INFO(addresses.output);
  CHECK(addresses.output.find("inet 10.65.0.2/32") != std::string::npos);
  CHECK(addresses.output.find("inet6 fd00:65::2/128") != std::string::npos);

  // No policy: every cell is open, in both families.
  Matrix before = lab.probe();
  INFO(describe(before));
  REQUIRE(before.size() == 20);  // web:1 port, backend:3, db:1; each from the two other pods; x2
  for (const auto& [cell, verdict] : before) CHECK(verdict == "ok");

  const auto applied =
      tt::shell(lab.cmd("apply " + lab.name + " -f " + lab.source + "/examples/policy/ 2>&1"));
  INFO(applied.output);
  REQUIRE(applied.exitCode == 0);

  // shop is default-deny for ingress; backend takes 8080 from the frontend namespace and its
  // named port https (443) from the service account web; db takes its named port postgres (5432)
  // from backend; frontend has no ingress policy.
  const std::map<std::string, std::string> perFamily{
      {"frontend/web -> shop/backend:8080/TCP", "ok"},     {"frontend/web -> shop/backend:443/TCP", "ok"},
      {"frontend/web -> shop/backend:8125/UDP", "denied"}, {"frontend/web -> shop/db:5432/TCP", "denied"},
      {"shop/backend -> frontend/web:8080/TCP", "ok"},     {"shop/backend -> shop/db:5432/TCP", "ok"},
      {"shop/db -> frontend/web:8080/TCP", "ok"},          {"shop/db -> shop/backend:8080/TCP", "denied"},
      {"shop/db -> shop/backend:443/TCP", "denied"},       {"shop/db -> shop/backend:8125/UDP", "denied"},
  };
  Matrix expected;
  for (const auto& [cell, verdict] : perFamily) {
    expected[cell + " IPv4"] = verdict;
    expected[cell + " IPv6"] = verdict;  // the policies select pods, not addresses: same verdicts
  }
  const Matrix after = lab.awaitMatrix(expected);
  INFO("after the policies:\n" << describe(after));
  INFO("agent errors:\n"
       << tt::shell("grep -E 'error|warn' " + lab.stateDir + "/logs/agent.log | tail -5").output);
  CHECK(after == expected);

  // The agent restarts in place: its rules stay, the new one takes them over.
  const auto restarted = tt::shell(lab.cmd("restart-agent " + lab.name + " 2>&1"));
  INFO(restarted.output);
  CHECK(restarted.exitCode == 0);
  const Matrix afterRestart = lab.awaitMatrix(expected);
  INFO("after restart-agent:\n" << describe(afterRestart));
  CHECK(afterRestart == expected);

  // The table form names every pod, one table per family; --family picks one.
  const auto table = tt::shell(lab.cmd("probe 2>&1"));
  CHECK(table.output.find("FROM \\ TO") != std::string::npos);
  CHECK(table.output.find("shop/db:5432/TCP") != std::string::npos);
  CHECK(table.output.find("IPv4\n") != std::string::npos);
  CHECK(table.output.find("IPv6\n") != std::string::npos);
  const auto only6 = tt::shell(lab.cmd("probe --family 6 --json 2>&1"));
  REQUIRE(only6.exitCode == 0);
  const auto cells6 = nlohmann::json::parse(only6.output);
  CHECK(cells6.size() == 10);
  for (const auto& c : cells6) CHECK(c["family"].get<int>() == 6);

  const auto down = tt::shell(lab.cmd("down " + lab.name + " 2>&1"));
  INFO(down.output);
  CHECK(down.exitCode == 0);
  CHECK(tt::shell("ip netns list | grep -c '^tl-" + lab.name + "-'").output == "0\n");
  CHECK_FALSE(fs::exists(lab.stateDir + "/state.json"));
  // Idempotent: a second down finds nothing and succeeds.
  CHECK(tt::shell(lab.cmd("down " + lab.name + " 2>&1")).exitCode == 0);
  fs::remove(labFile);
}
