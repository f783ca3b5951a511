// The lab's state file.
#include "state.hpp"

#include "process.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace tartan::lab {
namespace fs = std::filesystem;
using json = nlohmann::json;

State::~State() {
  if (lockFd_ >= 0) ::close(lockFd_);  // releases the flock
}

Result<void> State::lock() {
  if (lockFd_ >= 0) return {};
  const std::string path = dir_ + "/state.lock";
  lockFd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lockFd_ < 0) return makeError(path, "", std::strerror(errno));
  while (::flock(lockFd_, LOCK_EX) != 0) {
    if (errno != EINTR) return makeError(path, "flock", std::strerror(errno));
  }
  return {};
}

Result<void> State::load() {
  if (!std::filesystem::exists(file())) return makeError(file(), "", "no such lab state: is the lab up?");
  TARTAN_LAB_TRY(lock());
  std::ifstream in(file());
  if (!in) return makeError(file(), "", "no such lab state: is the lab up?");
  try {
    data_ = json::parse(in);
  } catch (const json::exception& e) {
    return makeError(file(), "", e.what());
  }
  return {};
}

Result<void> State::save() const {
  const std::string tmp = file() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << data_.dump(2) << "\n";
    if (!out) return makeError(tmp, "", "cannot write the lab state");
  }
  std::error_code ec;
  fs::rename(tmp, file(), ec);
  if (ec) return makeError(file(), "", ec.message());
  return {};
}

Result<void> State::addNamespace(const std::string& name) {
  data_["namespaces"].push_back(name);
  return save();
}

Result<void> State::addProcess(const std::string& role, pid_t pid) {
  data_["processes"].push_back({{"role", role}, {"pid", pid}, {"start", startTime(pid)}});
  return save();
}

Result<void> State::stopRole(const std::string& role, int graceMs) {
  auto& procs = data_["processes"];
  for (auto it = procs.begin(); it != procs.end();) {
    if ((*it)["role"] != role) {
      ++it;
      continue;
    }
    stopProcess((*it)["pid"].get<pid_t>(), (*it)["start"].get<uint64_t>(), graceMs);
    it = procs.erase(it);
  }
  return save();
}

json* State::findPod(const std::string& ns, const std::string& name) {
  for (auto& pod : data_["pods"])
    if (pod["namespace"] == ns && pod["name"] == name) return &pod;
  return nullptr;
}

json* State::findNode(const std::string& name) {
  for (auto& node : data_["nodes"])
    if (node["name"] == name) return &node;
  return nullptr;
}

Result<void> makeNamespace(State& state, const std::string& name) {
  TARTAN_LAB_TRY(state.addNamespace(name));
  TARTAN_LAB_TRY(run({"ip", "netns", "add", name}));
  // Interfaces made here from now on skip duplicate address detection: the lab's addresses are
  // unique by construction, and a tentative address would make the first IPv6 packets wait.
  TARTAN_LAB_TRY(run({"ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"}));
  TARTAN_LAB_TRY(run({"ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"}));
  TARTAN_LAB_TRY(run({"ip", "-n", name, "link", "set", "lo", "up"}));
  return {};
}

std::string tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "  " + all[i] + "\n";
  return out;
}

}  // namespace tartan::lab
