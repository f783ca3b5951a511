// RestoreRunner over the iptables 1.8 binaries; see tartan/dataplane/iptables/kernel.hpp.
#include "process.hpp"
#include "tartan/dataplane/iptables/kernel.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace tartan::dataplane::iptables {

namespace {

// "iptables-nft", "ip6tables-legacy"; with a verb, "iptables-nft-save".
std::string binary(Backend backend, IpFamily family, std::string_view verb = {}) {
  std::string name = family == IpFamily::kV4 ? "iptables-" : "ip6tables-";
  name += backend == Backend::kLegacy ? "legacy" : "nft";
  if (!verb.empty()) name += "-" + std::string(verb);
  return name;
}

std::size_t countRules(Backend backend) {
  auto out = runProcess({binary(backend, IpFamily::kV4, "save")}, "");
  if (!out || out->exitCode != 0) return 0;
  std::size_t count = 0;
  std::string_view text = out->out;
  for (std::size_t pos = 0; (pos = text.find("\n-A ", pos)) != std::string_view::npos; ++pos) ++count;
  return count;
}

class ExecRestoreRunner final : public RestoreRunner {
 public:
  ExecRestoreRunner(Backend backend, int lockTimeoutSeconds)
      : backend_(backend), lockTimeout_(std::max(1, lockTimeoutSeconds)) {}

  Result<std::string> save(IpFamily family, std::string_view table) override {
    const std::string bin = binary(resolved(), family, "save");
    auto out = runProcess({bin, "-t", std::string(table)}, "");
    if (!out) return out.error();
    if (out->exitCode != 0) return makeError(bin, std::string(table), trim(out->err));
    return Result<std::string>(boost::system::in_place_value, std::move(out->out));
  }

  Result<void> restore(IpFamily family, std::string_view input) override {
    return std::move(restoreEach({{family, input}}).front());
  }

  std::vector<Result<void>> restoreEach(const std::vector<Input>& inputs) override {
    std::vector<Command> commands;
    for (const auto& input : inputs) {
      // --wait: honour the xtables lock that other writers (kube-proxy, firewalld) take. The two
      // legacy binaries share that lock and so take turns; nft transactions need no lock.
      commands.push_back(Command{
          {binary(resolved(), input.family, "restore"), "--noflush", "--wait", std::to_string(lockTimeout_)},
          input.text});
    }
    auto outputs = runProcesses(commands);
    std::vector<Result<void>> results;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::string& bin = commands[i].argv.front();
      if (outputs[i]) recent_[next_++ % recent_.size()] = outputs[i]->pid;
      if (!outputs[i])
        results.emplace_back(outputs[i].error());
      else if (outputs[i]->exitCode != 0)
        results.emplace_back(makeError(bin, "", trim(outputs[i]->err)));
      else
        results.emplace_back();
    }
    return results;
  }

  bool supportsRandomFully() override {
    // "iptables v1.8.9 (nf_tables)"; the kernel's release "6.1.0-13-amd64".
    auto out = runProcess({binary(resolved(), IpFamily::kV4), "--version"}, "");
    if (!out || out->exitCode != 0) return false;
    const auto v = out->out.find(" v");
    if (v == std::string::npos) return false;
    struct utsname uts {};
    if (uname(&uts) != 0) return false;
    return atLeast(out->out.substr(v + 2), {1, 6, 2}) && atLeast(uts.release, {3, 14, 0});
  }

  bool ranRestore(int pid) const override {
    return pid > 0 && std::find(recent_.begin(), recent_.end(), pid) != recent_.end();
  }

 private:
  Backend resolved() {
    if (backend_ == Backend::kAuto) backend_ = detectBackend();
    return backend_;
  }
  // Whether the version at the start of `text` ("1.8.9 (nf_tables)") is `least` or later.
  static bool atLeast(std::string_view text, std::array<int, 3> least) {
    std::array<int, 3> version{};
    for (int& part : version) {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), part);
      if (ec != std::errc()) break;
      text.remove_prefix(static_cast<std::size_t>(end - text.data()));
      if (text.empty() || text.front() != '.') break;
      text.remove_prefix(1);
    }
    return version >= least;
  }
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  Backend backend_;
  int lockTimeout_;
  // The pids of the last restores: their notifications come in after they exit, and pids are
  // only reused after the kernel has gone round its whole pid space.
  std::array<int, 16> recent_{};
  std::size_t next_ = 0;
};

}  // namespace

Backend detectBackend() {
  return countRules(Backend::kLegacy) > countRules(Backend::kNft) ? Backend::kLegacy : Backend::kNft;
}

std::unique_ptr<RestoreRunner> makeExecRestoreRunner(Backend backend, int lockTimeoutSeconds) {
  return std::make_unique<ExecRestoreRunner>(backend, lockTimeoutSeconds);
}

}  // namespace tartan::dataplane::iptables
