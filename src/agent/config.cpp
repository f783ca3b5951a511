// The agent's configuration merge: defaults < global < node < environment, as Felix.
#include "config.hpp"

#include "tartan/common/duration.hpp"
#include "tartan/dataplane/iptables/render.hpp"
#include "tartan/model/agent_configuration_fields.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace tartan::agent {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// One level's values, as text, keyed by the lower-cased field name. Both the resources and the
// environment are reduced to this, so one function applies either.
using Level = std::map<std::string, std::string>;

void put(Level& level, std::string_view key, const std::optional<std::string>& value) {
  if (value) level[lower(key)] = *value;
}
void put(Level& level, std::string_view key, const std::string& value) {
  if (!value.empty()) level[lower(key)] = value;
}

Level fromSpec(const model::AgentConfigurationSpec& spec, std::vector<Error>& warnings, const char* where) {
  Level level;
  put(level, "interfacePrefix", spec.interfacePrefix);
  put(level, "defaultEndpointToHostAction", spec.defaultEndpointToHostAction);
  put(level, "iptablesFilterDenyAction", spec.iptablesFilterDenyAction);
  put(level, "chainInsertMode", spec.chainInsertMode);
  put(level, "interfaceExclude", spec.interfaceExclude);
  put(level, "iptablesFilterAllowAction", spec.iptablesFilterAllowAction);
  put(level, "iptablesMangleAllowAction", spec.iptablesMangleAllowAction);
  put(level, "iptablesBackend", spec.iptablesBackend);
  put(level, "iptablesRefreshInterval", spec.iptablesRefreshInterval);
  put(level, "iptablesLockTimeout", spec.iptablesLockTimeout);
  put(level, "routeRefreshInterval", spec.routeRefreshInterval);
  put(level, "logPrefix", spec.logPrefix);
  put(level, "workloadSourceSpoofing", spec.workloadSourceSpoofing);
  put(level, "ipForwarding", spec.ipForwarding);
  put(level, "logSeverityScreen", spec.logSeverityScreen);
  put(level, "logFilePath", spec.logFilePath);
  put(level, "logSeverityFile", spec.logSeverityFile);
  put(level, "logSeveritySys", spec.logSeveritySys);
  put(level, "healthHost", spec.healthHost);
  put(level, "prometheusMetricsHost", spec.prometheusMetricsHost);
  for (auto [key, flag] :
       {std::pair{"healthenabled", &spec.healthEnabled},
        std::pair{"prometheusmetricsenabled", &spec.prometheusMetricsEnabled},
        std::pair{"prometheusprocessmetricsenabled", &spec.prometheusProcessMetricsEnabled}})
    if (*flag) level[key] = **flag ? "true" : "false";
  if (spec.healthPort) level["healthport"] = std::to_string(*spec.healthPort);
  if (spec.prometheusMetricsPort)
    level["prometheusmetricsport"] = std::to_string(*spec.prometheusMetricsPort);
  put(level, "natOutgoingAddress", spec.natOutgoingAddress);
  put(level, "iptablesNATOutgoingInterfaceFilter", spec.iptablesNATOutgoingInterfaceFilter);
  if (spec.natPortRange) {
    if (spec.natPortRange->isNamed())
      warnings.push_back(
          makeError(where, "natPortRange",
                    "'" + spec.natPortRange->name + "' is not a port range like 32768:65535; ignored"));
    else
      level["natportrange"] = spec.natPortRange->toString();
  }
  if (spec.ipv6Support) level["ipv6support"] = *spec.ipv6Support ? "true" : "false";
  for (auto [key, flag] : {std::pair{"allowvxlanpacketsfromworkloads", &spec.allowVXLANPacketsFromWorkloads},
                           std::pair{"allowipippacketsfromworkloads", &spec.allowIPIPPacketsFromWorkloads},
                           std::pair{"disableconntrackinvalidcheck", &spec.disableConntrackInvalidCheck}})
    if (*flag) level[key] = **flag ? "true" : "false";
  if (spec.vxlanPort) level["vxlanport"] = std::to_string(*spec.vxlanPort);
  if (spec.deviceRouteProtocol) level["devicerouteprotocol"] = std::to_string(*spec.deviceRouteProtocol);
  put(level, "serviceLoopPrevention", spec.serviceLoopPrevention);
  put(level, "deviceRouteSourceAddress", spec.deviceRouteSourceAddress);
  put(level, "deviceRouteSourceAddressIPv6", spec.deviceRouteSourceAddressIPv6);
  if (spec.removeExternalRoutes)
    level["removeexternalroutes"] = *spec.removeExternalRoutes ? "true" : "false";
  if (spec.maxIpsetSize) level["maxipsetsize"] = std::to_string(*spec.maxIpsetSize);
  // What the agent takes but does not act on, and what validation should have refused (a store
  // written by an older version, or by hand): said, never dropped in silence.
  for (const auto& field : model::reportedAgentConfigurationFields(spec))
    warnings.push_back(
        makeError(where, field, "is set but not enforced by Tartan yet; see tartanctl config fields"));
  for (const auto& [field, reason] : model::refusedAgentConfigurationFields(spec))
    warnings.push_back(makeError(where, field, reason + "; ignored"));
  for (auto [key, ports] : {std::pair{"failsafeinboundhostports", &spec.failsafeInboundHostPorts},
                            std::pair{"failsafeoutboundhostports", &spec.failsafeOutboundHostPorts}}) {
    if (!*ports) continue;
    std::vector<std::string> dropped;
    level[key] = formatFailsafePorts(**ports, &dropped);
    for (const auto& d : dropped)
      warnings.push_back(makeError(
          where, key, "failsafe port " + d + " is limited to a net, which is not supported; left out"));
  }
  return level;
}

bool parseBool(std::string_view text, bool& out) {
  const std::string t = lower(text);
  if (t == "true" || t == "1" || t == "yes") return out = true, true;
  if (t == "false" || t == "0" || t == "no") return out = false, true;
  return false;
}

// Applies one level over `config`; a bad value is a warning and leaves the lower level's value.
void applyLevel(const Level& level, const std::string& where, AgentConfig& config,
                std::vector<Error>& warnings) {
  auto bad = [&](const std::string& key, const std::string& value, std::string why) {
    warnings.push_back(makeError(where, key, "'" + value + "' " + why + "; keeping the previous value"));
  };
  for (const auto& [key, value] : level) {
    if (key == "interfaceprefix") {
      config.interfacePrefix = value;
    } else if (key == "failsafeinboundhostports") {
      config.failsafeInboundHostPorts = value;
    } else if (key == "failsafeoutboundhostports") {
      config.failsafeOutboundHostPorts = value;
    } else if (key == "defaultendpointtohostaction") {
      // Any case, as Felix reads it ("accept" is Accept).
      const std::string v = lower(value);
      if (v == "drop" || v == "return" || v == "accept")
        config.defaultEndpointToHostAction =
            std::string(1, static_cast<char>(std::toupper(v[0]))) + v.substr(1);
      else
        bad(key, value, "is not Drop, Return or Accept");
    } else if (key == "iptablesfilterdenyaction" || key == "chaininsertmode") {
      // Any case, as Felix reads them.
      const bool deny = key == "iptablesfilterdenyaction";
      const std::string v = lower(value);
      if (deny && (v == "drop" || v == "reject"))
        config.iptablesFilterDenyAction = v == "drop" ? "Drop" : "Reject";
      else if (!deny && (v == "insert" || v == "append"))
        config.chainInsertMode = v == "insert" ? "Insert" : "Append";
      else
        bad(key, value, deny ? "is not Drop or Reject" : "is not Insert or Append");
    } else if (key == "iptablesfilterallowaction" || key == "iptablesmangleallowaction") {
      const std::string v = lower(value);
      if (v == "accept" || v == "return")
        (key == "iptablesfilterallowaction" ? config.iptablesFilterAllowAction
                                            : config.iptablesMangleAllowAction) =
            v == "accept" ? "Accept" : "Return";
      else
        bad(key, value, "is not Accept or Return");
    } else if (key == "interfaceexclude") {
      // Checked as the driver reads it (validation refuses a bad one in a resource).
      if (dataplane::iptables::parseInterfaceExclude(value))
        config.interfaceExclude = value;
      else
        bad(key, value, "is not a list of interface names and /regular expressions/");
    } else if (key == "iptablesbackend") {
      const std::string v = lower(value);
      if (v == "auto")
        config.iptablesBackend = "Auto";
      else if (v == "nft")
        config.iptablesBackend = "NFT";
      else if (v == "legacy")
        config.iptablesBackend = "Legacy";
      else
        bad(key, value, "is not Auto, NFT or Legacy");
    } else if (key == "iptablesrefreshinterval" || key == "iptableslocktimeout" ||
               key == "routerefreshinterval") {
      auto d = parseGoDuration(value);
      if (!d) {
        bad(key, value, "is not a duration");
        continue;
      }
      (key == "iptablesrefreshinterval" ? config.iptablesRefreshInterval
       : key == "iptableslocktimeout"   ? config.iptablesLockTimeout
                                        : config.routeRefreshInterval) = *d;
    } else if (key == "ipv6support") {
      if (!parseBool(value, config.ipv6Support)) bad(key, value, "is not true or false");
    } else if (key == "logprefix") {
      config.logPrefix = value;
    } else if (key == "maxipsetsize") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n <= 0)
        bad(key, value, "is not a positive number");
      else
        config.maxIpsetSize = n;
    } else if (key == "ipforwarding") {
      if (value == "Enabled" || value == "Disabled")
        config.ipForwarding = value == "Enabled";
      else
        bad(key, value, "is not Enabled or Disabled");
    } else if (key == "logseverityscreen" || key == "logseverityfile" || key == "logseveritysys") {
      auto severity = canonicalSeverity(value);
      if (!severity) {
        bad(key, value, "is not Trace, Debug, Info, Warning, Error, Fatal, Panic or None");
        continue;
      }
      OperationsConfig& o = config.operations;
      (key == "logseverityscreen" ? o.logSeverityScreen
       : key == "logseverityfile" ? o.logSeverityFile
                                  : o.logSeveritySys) = *severity;
    } else if (key == "logfilepath") {
      // Felix's "none" turns the file off; anything else must be an absolute path.
      if (lower(value) == "none")
        config.operations.logFilePath.clear();
      else if (value.front() == '/')
        config.operations.logFilePath = value;
      else
        bad(key, value, "is not an absolute path or none");
    } else if (key == "healthenabled" || key == "prometheusmetricsenabled" ||
               key == "prometheusprocessmetricsenabled") {
      OperationsConfig& o = config.operations;
      bool& flag = key == "healthenabled"              ? o.healthEnabled
                   : key == "prometheusmetricsenabled" ? o.prometheusMetricsEnabled
                                                       : o.prometheusProcessMetricsEnabled;
      if (!parseBool(value, flag)) bad(key, value, "is not true or false");
    } else if (key == "healthhost" || key == "prometheusmetricshost") {
      // An address to listen on; the Prometheus host may also be empty (every address).
      const bool health = key == "healthhost";
      in6_addr address{};
      if (value == "localhost" || inet_pton(AF_INET, value.c_str(), &address) == 1 ||
          inet_pton(AF_INET6, value.c_str(), &address) == 1 || (!health && value.empty()))
        (health ? config.operations.healthHost : config.operations.prometheusMetricsHost) = value;
      else
        bad(key, value, "is not an IP address or localhost");
    } else if (key == "serviceloopprevention") {
      if (value == "Drop" || value == "Reject" || value == "Disabled")
        config.serviceLoopPrevention = value;
      else
        bad(key, value, "is not Drop, Reject or Disabled");
    } else if (key == "devicerouteprotocol") {
      // The kernel's own numbers (unspec, redirect, kernel) and tartan-bgpd's 117 would hand the
      // agent routes that are not workload routes.
      int protocol = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), protocol);
      if (ec != std::errc() || end != value.data() + value.size() || protocol < 3 || protocol > 255)
        bad(key, value, "is not a route protocol number from 3 to 255");
      else if (protocol == 117)
        bad(key, value, "is tartan-bgpd's route protocol");
      else
        config.deviceRouteProtocol = protocol;
    } else if (key == "deviceroutesourceaddress" || key == "deviceroutesourceaddressipv6") {
      const bool v4 = key == "deviceroutesourceaddress";
      in6_addr address{};
      if (value.empty() || inet_pton(v4 ? AF_INET : AF_INET6, value.c_str(), &address) == 1)
        (v4 ? config.deviceRouteSourceAddress : config.deviceRouteSourceAddressIPv6) = value;
      else
        bad(key, value, v4 ? "is not an IPv4 address" : "is not an IPv6 address");
    } else if (key == "allowvxlanpacketsfromworkloads" || key == "allowipippacketsfromworkloads" ||
               key == "disableconntrackinvalidcheck" || key == "removeexternalroutes") {
      bool& flag = key == "allowvxlanpacketsfromworkloads"  ? config.allowVXLANPacketsFromWorkloads
                   : key == "allowipippacketsfromworkloads" ? config.allowIPIPPacketsFromWorkloads
                   : key == "removeexternalroutes"          ? config.removeExternalRoutes
                                                            : config.disableConntrackInvalidCheck;
      if (!parseBool(value, flag)) bad(key, value, "is not true or false");
    } else if (key == "healthport" || key == "prometheusmetricsport" || key == "vxlanport") {
      int port = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (ec != std::errc() || end != value.data() + value.size() || port < 0 || port > 65535 ||
          (key == "vxlanport" && port == 0))
        bad(key, value, "is not a port number");
      else
        (key == "healthport"              ? config.operations.healthPort
         : key == "prometheusmetricsport" ? config.operations.prometheusMetricsPort
                                          : config.vxlanPort) = port;
    } else if (key == "natoutgoingaddress") {
      // An IPv4 address (validation refuses anything else in a resource; the environment is
      // checked here).
      in_addr address{};
      if (value.find('/') == std::string::npos && inet_pton(AF_INET, value.c_str(), &address) == 1)
        config.natOutgoingAddress = value;
      else
        bad(key, value, "is not an IPv4 address");
    } else if (key == "natportrange") {
      // Felix's "min:max", or one port.
      const auto colon = value.find(':');
      int min = 0, max = 0;
      auto port = [](std::string_view text, int& out) {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc() && end == text.data() + text.size() && out >= 1 && out <= 65535;
      };
      const std::string_view text = value;
      if (port(text.substr(0, colon), min) &&
          port(colon == std::string::npos ? text : text.substr(colon + 1), max) && min <= max)
        config.natPortRange = std::to_string(min) + ":" + std::to_string(max);
      else
        bad(key, value, "is not a port range like 32768:65535");
    } else if (key == "iptablesnatoutgoinginterfacefilter") {
      config.natOutgoingInterfaceFilter = value;
    } else if (key == "workloadsourcespoofing") {
      if (value == "Disabled" || value == "Any")
        config.workloadSourceSpoofing = value;
      else
        bad(key, value, "is not Disabled or Any");
    }
  }
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// The environment's own variables: the process's settings, not configuration fields.
bool isProcessVariable(std::string_view key) {
  return key == "datastore" || key == "node" || key == "datastoretype" || key == "bgp_announce_kernel_routes";
}

// A FELIX_/TARTAN_ variable names a field case-insensitively. Returns whether it may apply;
// everything else is said in a warning.
bool checkEnvironmentField(const std::string& name, const std::string& key, const std::string& value,
                           std::vector<Error>& warnings) {
  if (isProcessVariable(key)) return false;
  const model::AgentConfigurationField* field = nullptr;
  for (const auto& f : model::agentConfigurationFields())
    if (lower(f.name) == key) field = &f;
  if (field == nullptr) {
    warnings.push_back(makeError("environment", name, "is not an AgentConfiguration field; ignored"));
    return false;
  }
  switch (field->support) {
    case model::FieldSupport::kHonoured:
      return true;
    case model::FieldSupport::kReported:
      warnings.push_back(makeError("environment", name,
                                   "is set but not enforced by Tartan yet; see tartanctl config fields"));
      return false;
    case model::FieldSupport::kRefused:
      if (model::acceptsValue(*field, value, true)) return false;  // the default: nothing to do
      warnings.push_back(makeError("environment", name,
                                   "'" + value + "' is refused: " + std::string(field->note) + "; ignored"));
      return false;
  }
  return false;
}

}  // namespace

std::optional<std::string> canonicalSeverity(std::string_view name) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"trace", "Trace"},  {"debug", "Debug"}, {"info", "Info"},   {"warning", "Warning"},
      {"warn", "Warning"}, {"error", "Error"}, {"fatal", "Fatal"}, {"critical", "Fatal"},
      {"panic", "Panic"},  {"none", "None"},   {"off", "None"}};
  const std::string n = lower(name);
  for (const auto& [from, to] : kNames)
    if (n == from) return std::string(to);
  return std::nullopt;
}

std::map<std::string, std::string> AgentConfig::dataplaneConfig() const {
  return {
      {"interfacePrefix", interfacePrefix},
      {"failsafeInboundHostPorts", failsafeInboundHostPorts},
      {"failsafeOutboundHostPorts", failsafeOutboundHostPorts},
      {"defaultEndpointToHostAction", defaultEndpointToHostAction},
      {"iptablesFilterDenyAction", iptablesFilterDenyAction},
      {"chainInsertMode", chainInsertMode},
      {"interfaceExclude", interfaceExclude},
      {"iptablesFilterAllowAction", iptablesFilterAllowAction},
      {"iptablesMangleAllowAction", iptablesMangleAllowAction},
      {"iptablesBackend", iptablesBackend},
      {"iptablesRefreshInterval", std::to_string(iptablesRefreshInterval.count())},
      {"iptablesLockTimeout", std::to_string(iptablesLockTimeout.count())},
      {"ipv6Support", ipv6Support ? "true" : "false"},
      {"logPrefix", logPrefix},
      {"maxIpSetSize", std::to_string(maxIpsetSize)},
      {"natOutgoingAddress", natOutgoingAddress},
      {"natPortRange", natPortRange},
      {"iptablesNATOutgoingInterfaceFilter", natOutgoingInterfaceFilter},
      {"allowVXLANPacketsFromWorkloads", allowVXLANPacketsFromWorkloads ? "true" : "false"},
      {"allowIPIPPacketsFromWorkloads", allowIPIPPacketsFromWorkloads ? "true" : "false"},
      {"vxlanPort", std::to_string(vxlanPort)},
      {"disableConntrackInvalidCheck", disableConntrackInvalidCheck ? "true" : "false"},
      {"serviceLoopPrevention", serviceLoopPrevention},
      {"serviceLoopPreventionCIDRs", joined(serviceLoopCidrs)},
  };
}

Result<std::chrono::seconds> parseGoDuration(std::string_view text) {
  // A bare number: seconds (the environment form Felix also accepts).
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    int64_t s = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
    if (ec == std::errc()) return std::chrono::seconds(s);
  }
  if (auto d = tartan::parseGoDurationSeconds(text)) return *d;
  return makeError("duration", "", "'" + std::string(text) + "' is not a duration like 90s or 1m30s");
}

std::string formatFailsafePorts(const std::vector<model::ProtoPort>& ports,
                                std::vector<std::string>* dropped) {
  std::string out;
  for (const auto& p : ports) {
    const std::string entry = lower(p.protocol.empty() ? "tcp" : p.protocol) + ":" + std::to_string(p.port);
    if (!p.net.empty()) {
      if (dropped) dropped->push_back(p.net + ":" + entry);
      continue;
    }
    if (!out.empty()) out += ',';
    out += entry;
  }
  return out;
}

MergeResult mergeConfig(const MergeInput& input) {
  MergeResult result;
  if (input.global)
    applyLevel(fromSpec(*input.global, result.warnings, "AgentConfiguration/default"),
               "AgentConfiguration/default", result.config, result.warnings);
  if (input.node)
    applyLevel(fromSpec(*input.node, result.warnings, "AgentConfiguration/node"), "AgentConfiguration/node",
               result.config, result.warnings);
  // FELIX_* as Felix reads it, then TARTAN_* over it.
  Level env;
  for (const char* prefix : {"FELIX_", "TARTAN_"}) {
    for (const auto& [name, value] : input.environment) {
      if (name.rfind(prefix, 0) != 0) continue;
      const std::string key = lower(name.substr(std::string_view(prefix).size()));
      if (!checkEnvironmentField(name, key, value, result.warnings)) continue;
      env[key] = value;
    }
  }
  applyLevel(env, "environment", result.config, result.warnings);
  // The flags that were given: checked as any level, so a bad one is said and ignored.
  Level flags;
  for (const auto& [name, value] : input.commandLine) flags[lower(name)] = value;
  applyLevel(flags, "command line", result.config, result.warnings);
  return result;
}

std::map<std::string, std::string> tartanEnvironment(char** envp) {
  std::map<std::string, std::string> out;
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || (entry.rfind("TARTAN_", 0) != 0 && entry.rfind("FELIX_", 0) != 0))
      continue;
    out.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

}  // namespace tartan::agent
