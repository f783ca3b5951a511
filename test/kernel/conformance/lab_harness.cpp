// The conformance lab: tartan-lab and tartanctl through their command lines, the truth-table
// diff and the agent's restart.
#include "lab_harness.hpp"

#include "support/netns.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tartan::conformance {
namespace fs = std::filesystem;
namespace tt = tartan::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kNode = "node-1";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string tempFile(const std::string& stem, const std::string& text) {
  static int counter = 0;
  const fs::path path = fs::temp_directory_path() / ("tartan-conformance-" + std::to_string(::getpid()) +
                                                     "-" + std::to_string(++counter) + "-" + stem);
  std::ofstream(path) << text;
  return path.string();
}

// A run killed before its destructor leaves its lab up; the next run takes it down. The lab is
// "cf<pid mod 10^5>x<n>": only labs whose process is gone are touched.
void removeStaleLabs(const std::string& labBinary) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    const std::string dir = entry.path().filename().string();
    if (dir.rfind("tartan-lab-cf", 0) != 0 || !fs::exists(entry.path() / "state.json")) continue;
    const std::string digits = dir.substr(13, dir.find('x', 13) - 13);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    if (fs::exists("/proc/" + digits)) continue;
    tt::shell(labBinary + " --state-dir " + entry.path().string() + " down " + dir.substr(11) +
              " >/dev/null 2>&1");
  }
}

std::string shortVerdict(const std::string& v) {
  if (v == "ok") return "ok";
  if (v == "denied") return "--";
  if (v == "refused") return "RF";
  return "ER";
}

}  // namespace

const std::vector<std::string>& modelNamespaces() {
  static const std::vector<std::string> v{"x", "y", "z"};
  return v;
}
const std::vector<std::string>& modelPods() {
  static const std::vector<std::string> v{"a", "b", "c"};
  return v;
}
const std::vector<uint16_t>& modelPorts() {
  static const std::vector<uint16_t> v{80, 81};
  return v;
}
const std::vector<std::string>& modelProtocols() {
  static const std::vector<std::string> v{"TCP", "UDP"};
  return v;
}

std::vector<PodRef> allPods() {
  std::vector<PodRef> out;
  for (const auto& ns : modelNamespaces())
    for (const auto& pod : modelPods()) out.push_back({ns, pod});
  return out;
}

std::string podIp(const PodRef& pod) {
  const int nsIndex = pod.ns[0] - 'x';
  const int podIndex = pod.pod[0] - 'a';
  return "10.65.0." + std::to_string(10 * (nsIndex + 1) + podIndex);
}

// The same host numbers as podIp, read as hex digits: x/a fd00:65::10 pairs with 10.65.0.10.
std::string podIp6(const PodRef& pod) {
  const int nsIndex = pod.ns[0] - 'x';
  const int podIndex = pod.pod[0] - 'a';
  return "fd00:65::" + std::to_string(10 * (nsIndex + 1) + podIndex);
}

std::string podIp(const PodRef& pod, int family) { return family == 6 ? podIp6(pod) : podIp(pod); }

std::string cellKey(const Cell& c) {
  return c.from.key() + " -> " + c.to.key() + " " + std::to_string(c.port) + "/" + c.protocol +
         (c.family == 6 ? " IPv6" : "");
}

Matrix expectedMatrix(const Expectation& expect, const Families& families) {
  Matrix m;
  for (int family : families)
    for (const auto& from : allPods())
      for (const auto& to : allPods()) {
        if (from == to) continue;  // the lab does not probe a pod from itself
        for (const auto& protocol : modelProtocols())
          for (uint16_t port : modelPorts()) {
            const Cell c{from, to, port, protocol, family};
            m[cellKey(c)] = expect(c) ? "ok" : "denied";
          }
      }
  return m;
}

std::string diff(const Matrix& expected, const Matrix& observed) {
  std::ostringstream out;
  std::vector<std::string> wrong;
  for (int family : {4, 6}) {
    for (const auto& protocol : modelProtocols()) {
      for (uint16_t port : modelPorts()) {
        bool any = false;
        std::ostringstream table;
        table << "  " << port << "/" << protocol << (family == 6 ? " IPv6" : " IPv4") << "  ";
        for (const auto& to : allPods()) table << " " << to.key();
        table << "\n";
        for (const auto& from : allPods()) {
          table << "    " << from.key() << " ";
          for (const auto& to : allPods()) {
            if (from == to) {
              table << "  - ";
              continue;
            }
            const std::string key = cellKey({from, to, port, protocol, family});
            if (!expected.contains(key) && !observed.contains(key)) continue;
            const auto e = expected.find(key);
            const auto o = observed.find(key);
            const std::string ev = e == expected.end() ? "(none)" : e->second;
            const std::string ov = o == observed.end() ? "(missing)" : o->second;
            const bool same = ev == ov;
            if (!same) {
              any = true;
              wrong.push_back(key + ": expected " + ev + ", observed " + ov);
            }
            table << " " << (same ? "." : "X") << (o == observed.end() ? "??" : shortVerdict(ov));
          }
          table << "\n";
        }
        if (any) out << table.str();
      }
    }
  }
  for (const auto& [key, verdict] : observed)
    if (!expected.contains(key)) wrong.push_back(key + ": not expected in the matrix, observed " + verdict);
  if (wrong.empty()) return {};
  out << "  (rows from, columns to; X: not as expected; ok, -- denied, RF refused, ER error)\n";
  out << "  " << wrong.size() << " cell(s) differ:\n";
  for (const auto& w : wrong) out << "    " << w << "\n";
  return out.str();
}

// ---- the lab ----

std::string Lab::cmd(const std::string& args) const {
  return labBinary_ + " --state-dir " + stateDir_ + " --agent " + agentBinary_ + " --tartanctl " +
         ctlBinary_ + " " + args;
}

Lab::Lab() {
  const std::string bin = env("TARTAN_BINARY_DIR");
  if (bin.empty()) throw std::runtime_error("TARTAN_BINARY_DIR is not set (run the test through ctest)");
  labBinary_ = bin + "/src/lab/tartan-lab";
  ctlBinary_ = bin + "/src/cli/tartanctl";
  agentBinary_ = bin + "/src/agent/tartan-agent";
  for (const auto& b : {labBinary_, ctlBinary_, agentBinary_})
    if (::access(b.c_str(), X_OK) != 0) throw std::runtime_error(b + " is not built");
  removeStaleLabs(labBinary_);
  name_ = "cf" + tt::uniqueSuffix();
  stateDir_ = (fs::temp_directory_path() / ("tartan-lab-" + name_)).string();

  std::ostringstream lab;
  // One node; the pods' addresses are asked of IPAM, so the truth tables' ipBlocks name them.
  lab << "name: " << name_ << "\nnodes:\n  - name: " << kNode
      << "\npools:\n  - {name: pods-v4, cidr: 10.65.0.0/24, natOutgoing: true}"
         "\n  - {name: pods-v6, cidr: \"fd00:65::/64\", natOutgoing: true}"
         "\ntor:\n  asNumber: 65000\n  addresses: [10.64.0.1/24, \"fd00:64::1/64\"]"
         "\noutside:\n  addresses: [198.51.100.10/24, \"2001:db8:ff::10/64\"]\nnamespaces:\n";
  for (const auto& ns : modelNamespaces()) lab << "  - name: " << ns << "\n    labels: {ns: " << ns << "}\n";
  lab << "pods:\n";
  for (const auto& pod : allPods()) {
    lab << "  - name: " << pod.pod << "\n    namespace: " << pod.ns << "\n    labels: {pod: " << pod.pod
        << "}\n    ip: " << podIp(pod) << "\n    ip6: \"" << podIp6(pod) << "\"\n    ports:\n";
    // Upstream's model names every server port serve-<port>-<protocol>.
    for (const auto& protocol : modelProtocols())
      for (uint16_t port : modelPorts())
        lab << "      - {name: serve-" << port << "-" << (protocol == "TCP" ? "tcp" : "udp")
            << ", port: " << port << ", protocol: " << protocol << "}\n";
  }
  const std::string labFile = tempFile(name_ + ".yaml", lab.str());
  up_ = true;  // from here on the destructor runs down, whatever state up leaves
  const auto result = tt::shell(cmd("up " + labFile + " 2>&1"));
  fs::remove(labFile);
  if (result.exitCode != 0) throw std::runtime_error("tartan-lab up failed:\n" + result.output);
}

Lab::~Lab() {
  if (!up_) return;
  const auto result = tt::shell(cmd("down " + name_ + " 2>&1"));
  if (result.exitCode != 0) std::fprintf(stderr, "tartan-lab down failed:\n%s\n", result.output.c_str());
}

std::string Lab::nodeNetns() const { return "tl-" + name_ + "-" + kNode; }
std::string Lab::podNetns(const PodRef& pod) const { return "tl-" + name_ + "-" + pod.ns + "." + pod.pod; }

void Lab::apply(const std::string& yaml) {
  const std::string file = tempFile("apply.yaml", yaml);
  const auto r =
      tt::shell(ctlBinary_ + " --datastore file:" + stateDir_ + "/datastore apply -f " + file + " 2>&1");
  fs::remove(file);
  if (r.exitCode != 0)
    throw std::runtime_error("tartanctl apply failed:\n" + r.output + "\nmanifest:\n" + yaml);
}

void Lab::remove(const std::string& yaml) {
  const std::string file = tempFile("delete.yaml", yaml);
  const auto r = tt::shell(ctlBinary_ + " --datastore file:" + stateDir_ +
                           "/datastore delete --skip-not-exists -f " + file + " 2>&1");
  fs::remove(file);
  if (r.exitCode != 0)
    throw std::runtime_error("tartanctl delete failed:\n" + r.output + "\nmanifest:\n" + yaml);
}

std::string Lab::podManifest(const PodRef& pod, const PodEdit* edit) {
  std::ostringstream y;
  y << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " << pod.pod << "\n  namespace: " << pod.ns
    << "\n  labels:\n";
  if (edit && !edit->labels.empty()) {
    for (const auto& [k, v] : edit->labels) y << "    " << k << ": \"" << v << "\"\n";
  } else {
    y << "    pod: " << pod.pod << "\n";
  }
  y << "spec:\n  nodeName: " << kNode << "\n";
  if (edit && !edit->serviceAccount.empty()) y << "  serviceAccountName: " << edit->serviceAccount << "\n";
  y << "  containers:\n    - name: server\n      ports:\n";
  if (edit && !edit->namedPorts.empty()) {
    for (const auto& [name, portProto] : edit->namedPorts) {
      const auto slash = portProto.find('/');
      y << "        - {name: " << name << ", containerPort: " << portProto.substr(0, slash)
        << ", protocol: " << portProto.substr(slash + 1) << "}\n";
    }
  } else {
    // Upstream's model names every server port serve-<port>-<protocol>.
    for (const auto& protocol : modelProtocols())
      for (uint16_t port : modelPorts()) {
        std::string lower = protocol == "TCP" ? "tcp" : "udp";
        y << "        - {name: serve-" << port << "-" << lower << ", containerPort: " << port
          << ", protocol: " << protocol << "}\n";
      }
  }
  y << "status:\n  phase: Running\n  podIP: " << podIp(pod) << "\n  podIPs:\n    - ip: " << podIp(pod)
    << "\n    - ip: " << podIp6(pod) << "\n";
  return y.str();
}

std::string Lab::namespaceManifest(const std::string& ns, const std::map<std::string, std::string>* labels) {
  std::ostringstream y;
  y << "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " << ns << "\n  labels:\n";
  if (labels) {
    for (const auto& [k, v] : *labels) y << "    " << k << ": \"" << v << "\"\n";
  } else {
    y << "    ns: " << ns << "\n";
  }
  return y.str();
}

void Lab::restoreModel() {
  std::string all;
  for (const auto& ns : modelNamespaces()) all += namespaceManifest(ns) + "---\n";
  for (const auto& pod : allPods()) all += podManifest(pod) + "---\n";
  apply(all);
}

Matrix Lab::probe(int timeoutMs, const Families& families) const {
  const std::string family = families.size() == 1 ? std::to_string(families.front()) : "both";
  const auto start = std::chrono::steady_clock::now();
  const auto r = tt::shell(
      cmd("probe --json --family " + family + " --timeout-ms " + std::to_string(timeoutMs) + " 2>&1"));
  lastProbe_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (r.exitCode != 0) throw std::runtime_error("tartan-lab probe failed:\n" + r.output);
  Matrix m;
  for (const auto& c : json::parse(r.output)) {
    const auto split = [](const std::string& s) {
      const auto slash = s.find('/');
      return PodRef{s.substr(0, slash), s.substr(slash + 1)};
    };
    const Cell cell{split(c["from"].get<std::string>()), split(c["to"].get<std::string>()),
                    c["port"].get<uint16_t>(), c["protocol"].get<std::string>(), c["family"].get<int>()};
    m[cellKey(cell)] = c["result"].get<std::string>();
  }
  return m;
}

std::string Lab::await(const Expectation& expect, std::chrono::milliseconds budget,
                       const Families& families) {
  const Matrix expected = expectedMatrix(expect, families);
  const auto deadline = std::chrono::steady_clock::now() + budget;
  int inARow = 0;
  std::string last;
  // Two matching rounds in a row: a case whose truth table equals the previous state (allow-all
  // after deny-all, say) must also hold once the agent has programmed the change.
  for (;;) {
    last = diff(expected, probe(400, families));
    inARow = last.empty() ? inARow + 1 : 0;
    if (inARow == 2) return {};
    if (std::chrono::steady_clock::now() > deadline && inARow == 0) return last;
  }
}

std::string Lab::iptablesSave() const {
  return tt::shell("ip netns exec " + nodeNetns() + " iptables-save -t filter 2>&1").output;
}

std::string Lab::agentLogTail(size_t lines) const {
  return tt::shell("tail -n " + std::to_string(lines) + " " + stateDir_ + "/logs/agent-" + kNode +
                   ".log 2>&1")
      .output;
}

int Lab::agentPid() const {
  std::ifstream in(stateDir_ + "/state.json");
  const json state = json::parse(in);
  for (const auto& p : state["processes"])
    if (p["role"] == std::string("agent ") + kNode) return p["pid"].get<int>();
  throw std::runtime_error("no agent in the lab's state file");
}

void Lab::restartAgent() {
  const auto r = tt::shell(cmd("restart-agent " + name_ + " 2>&1"));
  if (r.exitCode != 0) throw std::runtime_error("tartan-lab restart-agent failed:\n" + r.output);
}

}  // namespace tartan::conformance
