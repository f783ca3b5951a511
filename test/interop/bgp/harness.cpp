// Helpers of the BGP interop tests (see harness.hpp).
#include "harness.hpp"

#include <tartan/bgp/status_client.hpp>
#include <tartan/datastore/datastore.hpp>
#include <tartan/syncer/syncer.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace tartan::test::bgp {

TempDir::TempDir() {
  std::random_device rd;
  path_ =
      fs::temp_directory_path() / ("tartan-bgp-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Process::Process(const NetNamespace& ns, std::vector<std::string> argv, std::string logFile)
    : logFile_(std::move(logFile)) {
  std::vector<std::string> full{"ip", "netns", "exec", ns.name()};
  full.insert(full.end(), argv.begin(), argv.end());
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int fd = ::open(logFile_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() { stop(SIGKILL); }

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Process::stop(int signal) {
  if (!running()) return;
  ::kill(pid_, signal);
  if (!eventually([&] { return !running(); }, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

std::string Process::log() const {
  std::ifstream in(logFile_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool holdsThroughout(const std::function<bool()>& predicate, std::chrono::milliseconds window) {
  const auto deadline = std::chrono::steady_clock::now() + window;
  for (;;) {
    if (!predicate()) return false;
    if (std::chrono::steady_clock::now() >= deadline) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Watch::Watch(std::function<bool()> predicate, std::function<std::string()> describe)
    : predicate_(std::move(predicate)),
      describe_(std::move(describe)),
      start_(std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      const bool held = predicate_();
      bool first = false;
      {
        std::lock_guard lock(mutex_);
        ++polls_;
        if (!held && !firstFailure_) {
          firstFailure_ = elapsed();
          first = true;
        }
      }
      if (first && describe_) {
        auto state = describe_();
        std::lock_guard lock(mutex_);
        firstFailureState_ = std::move(state);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

Watch::~Watch() { stop(); }

bool Watch::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  return polls_ > 0 && !firstFailure_;
}

std::string Watch::summary() const {
  std::lock_guard lock(mutex_);
  std::string out = std::to_string(polls_) + " polls";
  if (firstFailure_) out += ", first failure after " + std::to_string(firstFailure_->count()) + " ms";
  if (!firstFailureState_.empty()) out += ", when it read:\n" + firstFailureState_;
  return out;
}

bool Watch::failed() const {
  std::lock_guard lock(mutex_);
  return firstFailure_.has_value();
}

std::chrono::milliseconds Watch::elapsed() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_);
}

std::size_t countOf(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
  return n;
}

void writeResources(const std::string& dir, const std::vector<model::Resource>& resources) {
  auto store = datastore::open("file:" + dir);
  if (!store) throw std::runtime_error("datastore: " + store.error().toString());
  for (const auto& r : resources) {
    auto res = (*store)->apply(syncer::keyOf(r), model::encodeYaml(r));
    if (!res) throw std::runtime_error("apply: " + res.error().toString());
  }
}

void removeResource(const std::string& dir, const model::Resource& resource) {
  auto store = datastore::open("file:" + dir);
  if (!store) throw std::runtime_error("datastore: " + store.error().toString());
  (void)(*store)->remove(syncer::keyOf(resource));
}

model::Resource bgpConfiguration(std::uint32_t as, bool mesh) {
  model::BGPConfiguration c;
  c.metadata.name = "default";
  c.spec.asNumber = model::ASNumber{as};
  c.spec.nodeToNodeMeshEnabled = mesh;
  return c;
}

model::Resource node(const std::string& name, const std::string& v4Cidr, const std::string& v6Cidr,
                     const std::string& clusterId, std::optional<std::uint32_t> as) {
  model::Node n;
  n.metadata.name = name;
  model::NodeBGPSpec bgp;
  bgp.ipv4Address = v4Cidr;
  bgp.ipv6Address = v6Cidr;
  bgp.routeReflectorClusterID = clusterId;
  if (as) bgp.asNumber = model::ASNumber{*as};
  n.spec.bgp = bgp;
  return n;
}

model::Resource ipPool(const std::string& name, const std::string& cidr) {
  model::IPPool p;
  p.metadata.name = name;
  p.spec.cidr = cidr;
  model::Resource r = p;
  model::applyDefaults(r);
  return r;
}

model::Resource ipamBlock(const std::string& cidr, const std::string& node) {
  model::IPAMBlock b;
  std::string name = cidr;
  for (auto& ch : name)
    if (ch == '/' || ch == ':' || ch == '.') ch = '-';
  b.metadata.name = name;
  b.spec.cidr = cidr;
  b.spec.affinity = "host:" + node;
  // Calico's validation: one allocation slot per address of the block, all free.
  const auto slash = cidr.find('/');
  const int bits = cidr.find(':') != std::string::npos ? 128 : 32;
  const int size = 1 << (bits - std::stoi(cidr.substr(slash + 1)));
  b.spec.allocations.assign(static_cast<std::size_t>(size), std::nullopt);
  for (int i = 0; i < size; ++i) b.spec.unallocated.push_back(i);
  return b;
}

model::Resource bgpPeer(const std::string& name, const std::string& peerIp, std::uint32_t as,
                        const std::string& secret, std::optional<int> ttlSecurity,
                        std::optional<std::string> maxRestartTime) {
  model::BGPPeer p;
  p.metadata.name = name;
  p.spec.peerIP = peerIp;
  p.spec.asNumber = model::ASNumber{as};
  p.spec.ttlSecurity = ttlSecurity;
  p.spec.maxRestartTime = std::move(maxRestartTime);
  if (!secret.empty()) p.spec.password = model::BGPPassword{model::SecretKeySelector{secret, "password", {}}};
  return p;
}

void writeSecret(const std::string& secretsDir, const std::string& secret, const std::string& password) {
  fs::create_directories(fs::path(secretsDir) / secret);
  std::ofstream((fs::path(secretsDir) / secret / "password").string()) << password;
}

std::vector<std::string> bgpdCommand(const TempDir& dir) {
  return {bgpdBinary(),
          "--datastore",
          "file:" + (dir / "store"),
          "--node",
          "node1",
          "--status-socket",
          dir / "bgpd.sock",
          "--secrets-dir",
          dir / "secrets",
          "--hold-time",
          "9",
          "--connect-retry",
          "2",
          "--gr-deferral",
          "20",
          "--log-level",
          "debug"};
}

bool tartanEstablished(const std::string& statusSocket, std::size_t peers) {
  auto status = tartan::bgp::status::getNodeStatus(statusSocket);
  if (!status) return false;
  std::size_t up = 0;
  for (const auto& p : status->peers) up += p.state == "Established";
  return up == peers;
}

std::string runGracefulRestart(const GracefulRestartScenario& s) {
  using namespace std::chrono_literals;
  if (!s.forwarding()) return "not forwarding before the restart";
  Watch watch(s.forwarding, s.state);
  // When each step was done, on the watch's clock: a failure says where in the restart it fell.
  std::string timeline;
  auto mark = [&](const char* what) {
    timeline += std::string(what) + " +" + std::to_string(watch.elapsed().count()) + " ms; ";
  };
  s.stop();
  mark("stopped");
  if (!eventually(s.helperSawItDown, 20s))
    return "the helper never saw the session go down (" + timeline + ")";
  mark("helper saw it down");
  s.start();
  mark("started");
  if (!eventually(s.established, 40s)) return "the sessions did not come back (" + timeline + ")";
  mark("established");
  if (!eventually(s.endOfRibDone, 30s)) return "no End-of-RIB after the restart (" + timeline + ")";
  mark("End-of-RIB");
  // Stale routes are swept at End-of-RIB: what was announced again must still be there after.
  // Not a sleep for something to happen, but the window in which nothing may go wrong.
  holdsThroughout([&] { return !watch.failed(); }, s.settle);
  if (!watch.stop()) return "forwarding stopped during the restart (" + timeline + watch.summary() + ")";
  return "";
}

std::string bgpdBinary() {
  const char* dir = std::getenv("TARTAN_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/bgp/speaker/tartan-bgpd";
}

std::string linkTartanToPeer(const NetNamespace& tartanNs, const NetNamespace& peerNs,
                             const std::string& peerPrefix) {
  const std::string s = uniqueSuffix();
  vethPair(tartanNs, "t" + s, peerNs, peerPrefix + s);
  tartanNs.execOrThrow("ip link set lo up && ip link set t" + s + " up && ip addr add 10.99.0.1/24 dev t" +
                       s + " && ip addr add fd99::1/64 dev t" + s + " nodad");
  peerNs.execOrThrow("ip link set lo up && ip link set " + peerPrefix + s +
                     " up && ip addr add 10.99.0.2/24 dev " + peerPrefix + s +
                     " && ip addr add fd99::2/64 dev " + peerPrefix + s + " nodad");
  return s;
}

std::string routeIn(const NetNamespace& ns, const std::string& prefix, bool v6) {
  auto r = ns.exec(std::string("ip ") + (v6 ? "-6 " : "") + "route show " + prefix);
  std::string out = r.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

TartanAndBird::TartanAndBird(const std::string& tag) : tartanNs_("bgp" + tag), birdNs_("bird" + tag) {
  linkTartanToPeer(tartanNs_, birdNs_, tag);
  std::filesystem::create_directories(dir_.path() / "store");
}

void TartanAndBird::startBird(const std::string& config) {
  std::ofstream(dir_ / "bird.conf") << config;
  bird_ = std::make_unique<Process>(
      birdNs_, std::vector<std::string>{"bird", "-c", dir_ / "bird.conf", "-s", dir_ / "bird.ctl", "-f"},
      dir_ / "bird.log");
}

void TartanAndBird::startTartan(const std::vector<std::string>& extraArgs) {
  auto command = bgpdCommand(dir_);
  command.insert(command.end(), extraArgs.begin(), extraArgs.end());
  tartan_ = std::make_unique<Process>(tartanNs_, command, dir_ / "bgpd.log");
}

std::string TartanAndBird::birdc(const std::string& command) {
  return birdNs_.exec("birdc -s " + (dir_ / "bird.ctl") + " " + command).output;
}

bool TartanAndBird::birdEstablished(const std::string& protocol) {
  return contains(birdc("show protocols " + protocol), "Established");
}

std::string TartanAndBird::diagnostics() {
  return "--- bgpd log ---\n" + (tartan_ ? tartan_->log() : "") + "\n--- bird log ---\n" +
         (bird_ ? bird_->log() : "") + "\n--- bird routes ---\n" + birdc("show route all") +
         "\n--- tartan routes ---\n" + tartanNs_.exec("ip route; ip -6 route").output;
}

}  // namespace tartan::test::bgp
