// A node whose own interfaces are host endpoints; see host_node.hpp.
#include "host_node.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tartan::test::hep {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

UdpEchoServer::UdpEchoServer(const NetNamespace& ns, const std::string& ip, int port) {
  EnterNamespace in(ns);
  sockaddr_storage addr{};
  const socklen_t len = fillAddress(ip, port, addr);
  fd_ = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0)
    throw std::runtime_error("udp echo server bind: " + std::string(std::strerror(errno)));
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      char buf[512];
      sockaddr_storage from{};
      socklen_t fromLen = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n > 0) ::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fromLen);
    }
  });
}

UdpEchoServer::~UdpEchoServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

bool udpEchoes(const NetNamespace& ns, const std::string& ip, int port, int timeoutMs) {
  EnterNamespace in(ns);
  sockaddr_storage addr{};
  const socklen_t len = fillAddress(ip, port, addr);
  const int fd = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  bool ok = false;
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
      ::send(fd, "ping", 4, 0) == 4) {
    pollfd p{fd, POLLIN, 0};
    char buf[8];
    ok = ::poll(&p, 1, timeoutMs) == 1 && ::recv(fd, buf, sizeof buf, 0) == 4 &&
         std::memcmp(buf, "ping", 4) == 0;
  }
  if (fd >= 0) ::close(fd);
  return ok;
}

HostNode::HostNode() {
  dir_ = (fs::temp_directory_path() / ("tartan-hep-test-" + uniqueSuffix())).string();
  fs::create_directories(dir_ + "/datastore");
  // No duplicate address detection, for the veths' link-local addresses (here) as for the global
  // ones (`nodad`): a router whose link-local address is still tentative cannot resolve its
  // neighbours for a second or so, and a probe in that second would fail.
  for (const NetNamespace* ns : {&node_, &peer_, &far_})
    ns->execOrThrow("sysctl -qw net.ipv6.conf.default.accept_dad=0");
  vethPair(node_, "eth0", peer_, "eth0");
  vethPair(node_, "eth1", far_, "eth0");
  node_.execOrThrow(std::string("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1") +
                    " && ip addr add " + kNodeEth0 + "/24 dev eth0 && ip addr add " + kNodeEth1 +
                    "/24 dev eth1 && ip -6 addr add " + kNodeEth0V6 +
                    "/64 dev eth0 nodad && ip -6 addr add " + kNodeEth1V6 + "/64 dev eth1 nodad");
  peer_.execOrThrow(std::string("ip addr add ") + kPeer + "/24 dev eth0 && ip route add 10.78.0.0/24 via " +
                    kNodeEth0 + " && ip -6 addr add " + kPeerV6 +
                    "/64 dev eth0 nodad && ip -6 route add fd78::/64 via " + kNodeEth0V6);
  far_.execOrThrow(std::string("ip addr add ") + kFar + "/24 dev eth0 && ip route add 10.77.0.0/24 via " +
                   kNodeEth1 + " && ip -6 addr add " + kFarV6 +
                   "/64 dev eth0 nodad && ip -6 route add fd77::/64 via " + kNodeEth1V6);
}

HostNode::~HostNode() {
  agent_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void HostNode::apply(const std::string& name, const std::string& yaml) const {
  const std::string file = dir_ + "/" + name + ".yaml";
  std::ofstream(file) << yaml;
  shellOrThrow(builtBinary("src/cli/tartanctl") + " --datastore file:" + dir_ + "/datastore apply -f " +
               file);
}

void HostNode::remove(const std::string& name) const {
  shellOrThrow(builtBinary("src/cli/tartanctl") + " --datastore file:" + dir_ + "/datastore delete -f " +
               dir_ + "/" + name + ".yaml");
}

void HostNode::startAgent(std::vector<std::string> environment) {
  if (agent_) throw std::logic_error("agent already running");
  AgentProcess::Options options{"file:" + dir_ + "/datastore", dir_ + "/agent.log"};
  options.environment = std::move(environment);
  agent_ = std::make_unique<AgentProcess>(node_, std::move(options));
  if (!agent_->waitReady(90s))
    throw std::runtime_error("tartan-agent not ready within 90 s; its log:\n" + agentLog());
}

std::string HostNode::agentLog() const {
  std::ifstream in(dir_ + "/agent.log");
  return {std::istreambuf_iterator<char>(in), {}};
}

int HostNode::conntrackEntries(const std::string& protocol, int port, IpFamily family) const {
  // `conntrack -L` prints one line per entry on stdout and its summary on stderr; without `-f` it
  // lists IPv4 entries only.
  const auto out = node_.exec(std::string("conntrack -L -f ") + (family == IpFamily::kV6 ? "ipv6" : "ipv4") +
                              " -p " + protocol + " --dport " + std::to_string(port) + " 2>/dev/null");
  int lines = 0;
  std::istringstream in(out.output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++lines;
  return lines;
}

std::string hostEndpointYaml(const std::string& name, const std::string& labels,
                             const std::string& interfaceName, const std::string& expectedIPs) {
  std::string yaml = "apiVersion: tartan.dev/v1\nkind: HostEndpoint\nmetadata:\n  name: " + name +
                     "\n  labels: " + labels + "\nspec:\n  node: node-1\n";
  if (!interfaceName.empty()) yaml += "  interfaceName: " + interfaceName + "\n";
  if (!expectedIPs.empty()) yaml += "  expectedIPs: [" + expectedIPs + "]\n";
  return yaml;
}

}  // namespace tartan::test::hep
