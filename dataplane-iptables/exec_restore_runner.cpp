// RestoreRunner over the iptables 1.8 binaries; see tartan/dataplane/iptables/kernel.hpp.
#include "process.hpp"
#include "tartan/dataplane/iptables/kernel.hpp"

#include <algorithm>

namespace tartan::dataplane::iptables {

namespace {

std::string binary(Backend backend, IpFamily family, std::string_view verb) {
  std::string name = family == IpFamily::kV4 ? "iptables-" : "ip6tables-";
  name += backend == Backend::kLegacy ? "legacy-" : "nft-";
  name += verb;
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
    const std::string bin = binary(resolved(), family, "restore");
    // --wait: honour the xtables lock that other writers (kube-proxy, firewalld) take.
    auto out = runProcess({bin, "--noflush", "--wait", std::to_string(lockTimeout_)}, input);
    if (!out) return out.error();
    if (out->exitCode != 0) return makeError(bin, "", trim(out->err));
    return {};
  }

 private:
  Backend resolved() {
    if (backend_ == Backend::kAuto) backend_ = detectBackend();
    return backend_;
  }
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  Backend backend_;
  int lockTimeout_;
};

}  // namespace

Backend detectBackend() {
  return countRules(Backend::kLegacy) > countRules(Backend::kNft) ? Backend::kLegacy : Backend::kNft;
}

std::unique_ptr<RestoreRunner> makeExecRestoreRunner(Backend backend, int lockTimeoutSeconds) {
  return std::make_unique<ExecRestoreRunner>(backend, lockTimeoutSeconds);
}

}  // namespace tartan::dataplane::iptables
