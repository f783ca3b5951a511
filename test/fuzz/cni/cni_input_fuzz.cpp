// Fuzz target for every parser of tartan-cni's outside input. The first byte picks one, the rest
// is its input:
//   0  the network configuration on stdin (parseNetConf): its prevResult, runtimeConfig, GC
//      attachments; an accepted prevResult must round-trip through resultJson and parseResult;
//   1  a result (parseResult): accepted, it must round-trip;
//   2  the environment, its variables separated by '\n' (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
//      CNI_IFNAME, CNI_ARGS): accepted, what it promises must hold (an ADD names its pod, CNI_ARGS
//      keys are known unless IgnoreUnknown, an IP is an address);
//   3  Calico's pool annotation (parsePoolsAnnotation).
// Every refusal must print as JSON (errorJson), whatever bytes its message quotes.
#include "tartan/cni/cni.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using tartan::cni::CniError;

void require(bool condition, const char* what, std::string_view detail) {
  if (condition) return;
  std::fprintf(stderr, "cni fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void checkError(const CniError& error) {
  require(!error.msg.empty(), "an error without a message", error.details);
  auto printed = nlohmann::json::parse(tartan::cni::errorJson("1.0.0", error), nullptr, false);
  require(!printed.is_discarded() && printed["code"] == error.code, "an error does not print as JSON",
          error.msg);
}

void checkRoundTrip(const tartan::cni::AddResult& result) {
  const std::string text = tartan::cni::resultJson(result);
  auto again = tartan::cni::parseResult(text);
  require(again.has_value(), "a result does not read back", text);
  require(*again == result, "parseResult(resultJson(x)) != x", text);
}

void fuzzNetConf(std::string_view text) {
  auto conf = tartan::cni::parseNetConf(text);
  if (!conf) return checkError(conf.error());
  require(conf->assignIpv4 || conf->assignIpv6, "a configuration that assigns nothing", text);
  require(!conf->ipamLockFile.empty() && conf->ipamLockFile.front() == '/', "a relative ipam_lock_file",
          text);
  require(conf->runtimeIps.size() <= 2, "more runtimeConfig ips than families", text);
  if (conf->prevResult) checkRoundTrip(*conf->prevResult);
}

void fuzzResult(std::string_view text) {
  auto result = tartan::cni::parseResult(text);
  if (!result) return checkError(result.error());
  for (const auto& ip : result->ips)
    require(!ip.interface ||
                (*ip.interface >= 0 && static_cast<size_t>(*ip.interface) < result->interfaces.size()),
            "an ip names an interface the result lacks", text);
  checkRoundTrip(*result);
}

void fuzzEnvironment(std::string_view text) {
  static constexpr std::array<const char*, 5> kNames{"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
                                                     "CNI_IFNAME", "CNI_ARGS"};
  std::array<std::string, kNames.size()> values;
  std::array<bool, kNames.size()> set{};
  size_t field = 0;
  for (size_t start = 0; field < kNames.size() && start <= text.size(); ++field) {
    size_t end = std::min(text.find('\n', start), text.size());
    values[field] = std::string(text.substr(start, end - start));
    set[field] = values[field].find('\0') == std::string::npos;  // an environment holds no NUL
    start = end + 1;
  }
  auto env = tartan::cni::parseEnvironment([&](const char* name) -> const char* {
    for (size_t i = 0; i < kNames.size(); ++i)
      if (std::string_view(name) == kNames[i]) return set[i] ? values[i].c_str() : nullptr;
    return nullptr;
  });
  if (!env) return checkError(env.error());
  if (env->command == tartan::cni::Command::kAdd)
    require(!env->podNamespace.empty() && !env->podName.empty(), "an ADD without its pod", text);
  if (env->command == tartan::cni::Command::kAdd || env->command == tartan::cni::Command::kDel ||
      env->command == tartan::cni::Command::kCheck) {
    require(!env->containerID.empty() && !env->ifName.empty() && env->ifName.size() <= 15,
            "a container call without its container or interface", text);
    auto ignore = env->args.find("IgnoreUnknown");
    std::string flag = ignore == env->args.end() ? std::string() : ignore->second;
    std::transform(flag.begin(), flag.end(), flag.begin(), [](char c) { return c | 0x20; });
    const bool ignoring = flag == "1" || flag == "true";
    const auto& known = tartan::cni::knownArgs();
    for (const auto& [key, value] : env->args)
      require(ignoring || std::find(known.begin(), known.end(), key) != known.end(),
              "an unknown CNI_ARGS key", key);
  }
}

void fuzzAnnotation(std::string_view text) {
  auto pools = tartan::cni::parsePoolsAnnotation(tartan::cni::kIpv4PoolsAnnotation, text);
  if (!pools) return checkError(pools.error());
  require(!pools->empty(), "an empty list of pools accepted", text);
  for (const auto& pool : *pools) require(!pool.empty(), "an empty pool name accepted", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      fuzzNetConf(text);
      break;
    case 1:
      fuzzResult(text);
      break;
    case 2:
      fuzzEnvironment(text);
      break;
    default:
      fuzzAnnotation(text);
      break;
  }
  return 0;
}
