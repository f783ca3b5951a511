// tartan-lab end to end, through its command line: examples/lab/cluster.yaml (three nodes, each
// running tartan-agent and tartan-bgpd; pods made by tartan-cni and portmap; BIRD as the
// top-of-rack router; an outside network with no route to the pods) comes up with every BGP
// session Established and the ToR holding every node's block; web's hostPort (portmap, chained
// after tartan-cni) reaches it through its node's address; every cell of the matrix (every one
// crosses nodes) is open over IPv4 and IPv6; each pod reaches the outside, which sees the node's
// address (natOutgoing), not the pod's, and with natOutgoing off gets no answer; the example
// policies close exactly the cells they should; a pod deleted leaves nothing behind (veth,
// endpoint, addresses, portmap's rules) and, added again, works again; a bgpd restarted comes
// back Established; down leaves nothing. The lab gets a name of its own per run (with the PID),
// so it never meets a lab someone else has up.
#include "support/eventually.hpp"
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
#include <sstream>

namespace tt = tartan::test;
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

size_t countOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// "from -> to:port/protocol IPv4|IPv6" -> verdict; for outside probes "from -> outside IPv4" ->
// "verdict seen-from".
using Matrix = std::map<std::string, std::string>;

struct Lab {
  std::string name = "e2e" + tt::uniqueSuffix();
  std::string stateDir = (fs::temp_directory_path() / ("tartan-lab-" + name)).string();
  std::string lab = env("TARTAN_BINARY_DIR") + "/src/lab/tartan-lab";
  std::string source = env("TARTAN_SOURCE_DIR");

  std::string cmd(const std::string& args) const { return lab + " --state-dir " + stateDir + " " + args; }

  json state() const {
    std::ifstream in(stateDir + "/state.json");
    return json::parse(in);
  }

  Matrix probe(const std::string& extra = "") const {
    const auto r = tt::shell(cmd("probe --json --timeout-ms 800 " + extra + " 2>&1"));
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    Matrix m;
    for (const auto& c : json::parse(r.output)) {
      const std::string family = c["family"].get<int>() == 6 ? " IPv6" : " IPv4";
      if (c["to"] == "outside")
        m[c["from"].get<std::string>() + " -> outside" + family] =
            c["result"].get<std::string>() + " " + c["seenFrom"].get<std::string>();
      else
        m[c["from"].get<std::string>() + " -> " + c["to"].get<std::string>() + ":" +
          std::to_string(c["port"].get<int>()) + "/" + c["protocol"].get<std::string>() + family] =
            c["result"].get<std::string>();
    }
    return m;
  }

  // Probes until the matrix is `expected` or `within` passes; the last matrix.
  Matrix awaitMatrix(const Matrix& expected, const std::string& extra = "",
                     std::chrono::seconds within = 60s) const {
    Matrix m;
    const auto deadline = std::chrono::steady_clock::now() + within;
    do {
      m = probe(extra);
    } while (m != expected && std::chrono::steady_clock::now() < deadline);
    return m;
  }

  // Every pod reaches the outside, which sees the pod's node's fabric address of that family.
  Matrix expectedOutside() const {
    const json s = state();
    std::map<std::string, json> nodes;
    for (const auto& n : s["nodes"]) nodes[n["name"]] = n;
    Matrix m;
    for (const auto& p : s["pods"]) {
      const std::string pod = p["namespace"].get<std::string>() + "/" + p["name"].get<std::string>();
      m[pod + " -> outside IPv4"] = "ok " + nodes[p["node"]]["ipv4"].get<std::string>();
      m[pod + " -> outside IPv6"] = "ok " + nodes[p["node"]]["ipv6"].get<std::string>();
    }
    return m;
  }

  std::string logs(const std::string& pattern) const {
    return tt::shell("grep -HE 'error|warn' " + stateDir + "/logs/" + pattern + " | tail -8").output;
  }

  ~Lab() { tt::shell(cmd("down " + name + " >/dev/null 2>&1")); }
};

// A TCP echo through `host`:`port` from inside a pod's namespace.
bool echoesFrom(const std::string& podNetns, const std::string& host, int port) {
  const auto r = tt::shell("ip netns exec " + podNetns + " timeout 3 bash -c 'exec 3<>/dev/tcp/" + host +
                           "/" + std::to_string(port) + " && echo hostport >&3 && head -c 8 <&3' 2>&1");
  return r.exitCode == 0 && r.output == "hostport";
}

std::string describe(const Matrix& m) {
  std::string out;
  for (const auto& [cell, verdict] : m) out.append(cell).append(" = ").append(verdict).append("\n");
  return out;
}

// Both families of each cell.
Matrix bothFamilies(const std::map<std::string, std::string>& perFamily) {
  Matrix m;
  for (const auto& [cell, verdict] : perFamily) {
    m[cell + " IPv4"] = verdict;
    m[cell + " IPv6"] = verdict;  // the policies select pods, not addresses: same verdicts
  }
  return m;
}

}  // namespace

TEST_CASE(
    "tartan-lab: a three-node cluster with a BIRD ToR, policy across nodes, natOutgoing, pods re-added") {
  if (!tt::haveNetAdmin()) {
    WARN("e2e_lab needs root and network namespaces: SKIPPED, nothing was tested");
    SUCCEED("skipped: not root");
    return;
  }
  Lab lab;
  std::ifstream in(lab.source + "/examples/lab/cluster.yaml");
  std::string text{std::istreambuf_iterator<char>(in), {}};
  text = std::regex_replace(text, std::regex("\nname: cluster\n"), "\nname: " + lab.name + "\n");
  const std::string labFile = (fs::temp_directory_path() / (lab.name + ".yaml")).string();
  std::ofstream(labFile) << text;

  const auto up = tt::shell(lab.cmd("up " + labFile + " 2>&1"));
  INFO(up.output);
  REQUIRE(up.exitCode == 0);
  // The ToR, the outside, three nodes, three pods.
  CHECK(tt::shell("ip netns list | grep -c '^tl-" + lab.name + "-'").output == "8\n");

  SECTION("the cluster") {
    const json state = lab.state();
    std::map<std::string, std::string> nodeOfPod, nodeAddress;
    for (const auto& n : state["nodes"]) nodeAddress[n["name"]] = n["ipv4"];
    for (const auto& p : state["pods"]) nodeOfPod[p["name"]] = p["node"];
    CHECK(nodeOfPod ==
          std::map<std::string, std::string>{{"web", "node-1"}, {"backend", "node-2"}, {"db", "node-3"}});

    // status: every node's sessions (two mesh peers and the ToR, per family) and the ToR's six.
    const auto status = tt::shell(lab.cmd("status 2>&1"));
    INFO(status.output);
    CHECK(status.exitCode == 0);
    CHECK(countOf(status.output, "every BGP session Established") == 3);
    size_t established = 0;
    const std::regex row(R"(^\| [0-9a-f.:]+ +\| [a-z -]+ +\| Established +\|)");
    std::istringstream lines(status.output);
    for (std::string line; std::getline(lines, line);) established += std::regex_search(line, row);
    CHECK(established == 18);
    CHECK(std::regex_search(status.output, std::regex("n_node_3_v6 +BGP .* Established")));

    // The ToR holds each pod's blocks (IPv4 and IPv6) via the pod's node; the outside has no
    // route to any pod.
    std::map<std::string, std::string> nodeAddress6;
    for (const auto& n : state["nodes"]) nodeAddress6[n["name"]] = n["ipv6"];
    const std::string ctl = state["tor"]["control"];
    for (const auto& p : state["pods"]) {
      for (const auto& [ip, node] : {std::pair{p["ip"].get<std::string>(), nodeAddress[p["node"]]},
                                     std::pair{p["ip6"].get<std::string>(), nodeAddress6[p["node"]]}}) {
        const std::string via = "via " + node + " on fabric";
        const std::string showRoute =
            std::string("birdc -s ").append(ctl).append(" show route for ").append(ip).append(" all");
        CHECK(tt::eventually([&] { return has(tt::shell(showRoute).output, via); }, 20s));
        const auto route = tt::shell("ip -n tl-" + lab.name + "-outside route get " + ip + " 2>&1");
        CHECK(route.exitCode != 0);
      }
    }

    // web's hostPort: node-1's 30080 forwards to web's 8080 (portmap's DNAT), from db on node-3.
    const std::string dbNetns = "tl-" + lab.name + "-shop.db", node1 = "tl-" + lab.name + "-node-1";
    CHECK(tt::eventually([&] { return echoesFrom(dbNetns, nodeAddress["node-1"], 30080); }, 10s));
    CHECK(has(tt::shell("ip netns exec " + node1 + " iptables-save -t nat").output, "--dport 30080"));

    // No policy: every cell is open, in both families, every one across nodes.
    const Matrix before = lab.probe();
    INFO(describe(before));
    REQUIRE(before.size() == 20);  // web:1 port, backend:3, db:1; each from the two other pods; x2
    for (const auto& [cell, verdict] : before) CHECK(verdict == "ok");

    // natOutgoing: the outside answers only the node's address, and sees nothing else.
    const Matrix outside = lab.awaitMatrix(lab.expectedOutside(), "--outside", 20s);
    INFO("outside:\n" << describe(outside) << lab.logs("agent-node-1.log"));
    CHECK(outside == lab.expectedOutside());

    // Without natOutgoing the outside cannot answer: it has no route to the pods. The pools'
    // natOutgoing turned off and on again through tartanctl.
    const std::string ctlCmd = env("TARTAN_BINARY_DIR") +
                               "/src/cli/tartanctl --datastore file:" + lab.stateDir +
                               "/datastore patch ippool ";
    auto setNat = [&](const char* on) {
      for (const char* pool : {"default-ipv4-ippool", "default-ipv6-ippool"}) {
        const auto patched =
            tt::shell(ctlCmd + pool + " -p '{\"spec\":{\"natOutgoing\":" + std::string(on) + "}}' 2>&1");
        INFO(patched.output);
        REQUIRE(patched.exitCode == 0);
      }
    };
    setNat("false");
    Matrix unanswered = lab.expectedOutside();
    for (auto& [cell, verdict] : unanswered) verdict = "denied ";
    const Matrix withoutNat = lab.awaitMatrix(unanswered, "--outside", 20s);
    INFO("outside without natOutgoing:\n" << describe(withoutNat));
    CHECK(withoutNat == unanswered);
    setNat("true");
    CHECK(lab.awaitMatrix(lab.expectedOutside(), "--outside", 20s) == lab.expectedOutside());

    const auto applied =
        tt::shell(lab.cmd("apply " + lab.name + " -f " + lab.source + "/examples/policy/ 2>&1"));
    INFO(applied.output);
    REQUIRE(applied.exitCode == 0);

    // shop is default-deny for ingress; backend takes 8080 from the frontend namespace and its
    // named port https (443) from the service account web; db takes its named port postgres (5432)
    // from backend; frontend has no ingress policy.
    const Matrix expected = bothFamilies({
        {"frontend/web -> shop/backend:8080/TCP", "ok"},
        {"frontend/web -> shop/backend:443/TCP", "ok"},
        {"frontend/web -> shop/backend:8125/UDP", "denied"},
        {"frontend/web -> shop/db:5432/TCP", "denied"},
        {"shop/backend -> frontend/web:8080/TCP", "ok"},
        {"shop/backend -> shop/db:5432/TCP", "ok"},
        {"shop/db -> frontend/web:8080/TCP", "ok"},
        {"shop/db -> shop/backend:8080/TCP", "denied"},
        {"shop/db -> shop/backend:443/TCP", "denied"},
        {"shop/db -> shop/backend:8125/UDP", "denied"},
    });
    const Matrix after = lab.awaitMatrix(expected);
    INFO("after the policies:\n" << describe(after) << lab.logs("agent-*.log"));
    CHECK(after == expected);

    // web deleted: the CNI chain's DEL (portmap, then tartan-cni) leaves no veth, endpoint,
    // address, portmap rule or sandbox behind.
    const std::string containerId = [&] {
      const json now = lab.state();
      for (const auto& p : now["pods"])
        if (p["name"] == "web") return p["containerID"].get<std::string>();
      return std::string();
    }();
    REQUIRE(!containerId.empty());
    const auto deleted = tt::shell(lab.cmd("del-pod " + lab.name + " --namespace frontend web 2>&1"));
    INFO(deleted.output);
    REQUIRE(deleted.exitCode == 0);
    CHECK(tt::shell("ip -n " + node1 + " -o link show | grep -c cali").output == "0\n");
    CHECK(tt::shell("ip -n " + node1 + " route | grep -c ' dev cali'").output == "0\n");
    CHECK(tt::shell("ip netns list | grep -c '^tl-" + lab.name + "-frontend.web'").output == "0\n");
    CHECK(tt::shell("grep -rl " + containerId + " " + lab.stateDir + "/datastore/workloadendpoint " +
                    lab.stateDir + "/datastore/ipamhandle 2>/dev/null | wc -l")
              .output == "0\n");
    CHECK_FALSE(has(tt::shell("ip netns exec " + node1 + " iptables-save -t nat").output, "30080"));
    CHECK_FALSE(echoesFrom(dbNetns, nodeAddress["node-1"], 30080));

    // ... and added again on the same node with the same labels and ports: it works as before.
    const auto added =
        tt::shell(lab.cmd("add-pod " + lab.name +
                          " --node node-1 --namespace frontend web app=web --service-account web "
                          "--port http:8080@30080 2>&1"));
    INFO(added.output);
    REQUIRE(added.exitCode == 0);
    const Matrix readded = lab.awaitMatrix(expected);
    INFO("after web was added again:\n" << describe(readded));
    CHECK(readded == expected);
    CHECK(tt::eventually([&] { return echoesFrom(dbNetns, nodeAddress["node-1"], 30080); }, 10s));

    // bgpd restarted on node-2 (graceful restart): its sessions come back and forwarding stays.
    const auto restarted = tt::shell(lab.cmd("restart-bgpd " + lab.name + " --node node-2 2>&1"));
    INFO(restarted.output);
    CHECK(restarted.exitCode == 0);
    CHECK(tt::shell(lab.cmd("status 2>&1")).exitCode == 0);
    CHECK(lab.awaitMatrix(expected) == expected);
    const Matrix outsideAfter = lab.awaitMatrix(lab.expectedOutside(), "--outside", 20s);
    INFO("outside after the policies:\n" << describe(outsideAfter));
    CHECK(outsideAfter == lab.expectedOutside());
  }

  const auto down = tt::shell(lab.cmd("down " + lab.name + " 2>&1"));
  INFO(down.output);
  CHECK(down.exitCode == 0);
  CHECK(tt::shell("ip netns list | grep -c '^tl-" + lab.name + "-'").output == "0\n");
  CHECK_FALSE(fs::exists(lab.stateDir + "/state.json"));
  // Idempotent: a second down finds nothing and succeeds.
  CHECK(tt::shell(lab.cmd("down " + lab.name + " 2>&1")).exitCode == 0);
  fs::remove(labFile);
}
