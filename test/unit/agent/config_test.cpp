// The agent's configuration merge: defaults < global < node < environment, as Felix.
#include "config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>

using namespace tartan::agent;
using tartan::model::AgentConfigurationSpec;
using tartan::model::ProtoPort;

TEST_CASE("with nothing configured the agent runs on Felix's defaults, workload prefix cali included") {
  const MergeResult r = mergeConfig({});
  CHECK(r.warnings.empty());
  CHECK(r.config.interfacePrefix == "cali");
  CHECK(r.config.iptablesRefreshInterval == std::chrono::seconds(90));
  CHECK(r.config.rpFilter() == "1");
  const auto dp = r.config.dataplaneConfig();
  CHECK(dp.at("interfacePrefix") == "cali");
  CHECK(dp.at("failsafeInboundHostPorts").rfind("tcp:22,udp:68,", 0) == 0);
  CHECK(dp.at("iptablesBackend") == "Auto");
}

TEST_CASE("the node's AgentConfiguration overrides the global one, field by field") {
  AgentConfigurationSpec global, node;
  global.interfacePrefix = "cali";
  global.iptablesRefreshInterval = "30s";
  global.iptablesBackend = "Legacy";
  node.iptablesRefreshInterval = "1m30s";
  const MergeResult r = mergeConfig({&global, &node, {}});
  CHECK(r.warnings.empty());
  CHECK(r.config.interfacePrefix == "cali");                            // from global
  CHECK(r.config.iptablesRefreshInterval == std::chrono::seconds(90));  // node wins
  CHECK(r.config.iptablesBackend == "Legacy");
  CHECK(r.config.dataplaneConfig().at("iptablesRefreshInterval") == "90");
}

TEST_CASE("TARTAN_ environment variables override the datastore, names case-insensitive") {
  AgentConfigurationSpec global, node;
  global.interfacePrefix = "cali";
  node.interfacePrefix = "veth";
  const MergeResult r = mergeConfig(
      {&global,
       &node,
       {{"TARTAN_INTERFACEPREFIX", "tap"}, {"TARTAN_IptablesBackend", "nft"}, {"TARTAN_DATASTORE", "x"}}});
  CHECK(r.warnings.empty());
  CHECK(r.config.interfacePrefix == "tap");
  CHECK(r.config.iptablesBackend == "NFT");
}

TEST_CASE("a bad value is a warning and the lower level's value stays") {
  AgentConfigurationSpec global;
  global.iptablesRefreshInterval = "10s";
  const MergeResult r = mergeConfig(
      {&global,
       nullptr,
       {{"TARTAN_IPTABLESREFRESHINTERVAL", "soon"}, {"TARTAN_DEFAULTENDPOINTTOHOSTACTION", "Maybe"}}});
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0].where == "environment");
  CHECK(r.config.iptablesRefreshInterval == std::chrono::seconds(10));
  CHECK(r.config.defaultEndpointToHostAction == "Drop");
}

TEST_CASE("failsafe ports become the driver's protocol:port list; nets are reported and left out") {
  AgentConfigurationSpec global;
  global.failsafeInboundHostPorts =
      std::vector<ProtoPort>{{"TCP", 22, ""}, {"UDP", 68, ""}, {"TCP", 179, "10.0.0.0/8"}};
  const MergeResult r = mergeConfig({&global, nullptr, {}});
  CHECK(r.config.failsafeInboundHostPorts == "tcp:22,udp:68");
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].what.find("10.0.0.0/8") != std::string::npos);
}

TEST_CASE("workloadSourceSpoofing Any turns strict reverse-path filtering off") {
  AgentConfigurationSpec global;
  global.workloadSourceSpoofing = "Any";
  CHECK(mergeConfig({&global, nullptr, {}}).config.rpFilter() == "0");
}

TEST_CASE("ipForwarding: Enabled by default, Disabled from the node's configuration or the environment") {
  CHECK(mergeConfig({}).config.ipForwarding);
  AgentConfigurationSpec node;
  node.ipForwarding = "Disabled";
  CHECK_FALSE(mergeConfig({nullptr, &node, {}}).config.ipForwarding);
  CHECK(mergeConfig({nullptr, &node, {{"TARTAN_IPFORWARDING", "Enabled"}}}).config.ipForwarding);
  const auto bad = mergeConfig({nullptr, nullptr, {{"TARTAN_IPFORWARDING", "yes"}}});
  CHECK(bad.config.ipForwarding);
  REQUIRE(bad.warnings.size() == 1);
  CHECK(bad.warnings[0].what.find("Enabled or Disabled") != std::string::npos);
}

TEST_CASE("Go durations") {
  CHECK(*parseGoDuration("90s") == std::chrono::seconds(90));
  CHECK(*parseGoDuration("1m30s") == std::chrono::seconds(90));
  CHECK(*parseGoDuration("1h") == std::chrono::seconds(3600));
  CHECK(*parseGoDuration("1500ms") == std::chrono::seconds(1));
  CHECK(*parseGoDuration("0") == std::chrono::seconds(0));
  CHECK(*parseGoDuration("45") == std::chrono::seconds(45));
  CHECK_FALSE(parseGoDuration(""));
  CHECK_FALSE(parseGoDuration("10x"));
  CHECK_FALSE(parseGoDuration("s"));
}

TEST_CASE("only TARTAN_ variables are taken from the environment") {
  std::string a = "TARTAN_INTERFACEPREFIX=tap", b = "PATH=/bin", c = "TARTAN_EMPTY=";
  char* envp[] = {a.data(), b.data(), c.data(), nullptr};
  const auto env = tartanEnvironment(envp);
  CHECK(env.size() == 2);
  CHECK(env.at("TARTAN_INTERFACEPREFIX") == "tap");
}

TEST_CASE("FELIX_ variables configure the agent as they configure Felix; TARTAN_ ones win over them") {
  const MergeResult r = mergeConfig({nullptr,
                                     nullptr,
                                     {{"FELIX_INTERFACEPREFIX", "cali"},
                                      {"FELIX_IPTABLESBACKEND", "Legacy"},
                                      {"TARTAN_IPTABLESBACKEND", "NFT"},
                                      {"FELIX_DEFAULTENDPOINTTOHOSTACTION", "Accept"}}});
  CHECK(r.warnings.empty());
  CHECK(r.config.interfacePrefix == "cali");
  CHECK(r.config.iptablesBackend == "NFT");
  CHECK(r.config.defaultEndpointToHostAction == "Accept");
}

TEST_CASE("a setting the agent does not act on is a warning naming it, never silence") {
  AgentConfigurationSpec global;
  global.logDebugFilenameRegex = ".*";
  global.bpfEnabled = true;  // refused by validation; said again if it reaches the agent
  const MergeResult r = mergeConfig({&global,
                                     nullptr,
                                     {{"FELIX_WIREGUARDENABLED", "true"},
                                      {"FELIX_BPFENABLED", "false"},  // the default: nothing to say
                                      {"FELIX_DEBUGPORT", "6060"},
                                      {"FELIX_NOSUCHSETTING", "1"},
                                      {"TARTAN_NODE", "n1"}}});
  std::vector<std::string> said;
  for (const auto& w : r.warnings) said.push_back(w.toString());
  INFO(said.size());
  for (const auto& s : said) INFO(s);
  REQUIRE(said.size() == 5);
  auto saidOf = [&](const std::string& what) {
    return std::count_if(said.begin(), said.end(),
                         [&](const std::string& s) { return s.find(what) != std::string::npos; });
  };
  CHECK(saidOf("logDebugFilenameRegex") == 1);
  CHECK(saidOf("bpfEnabled: 'true' is refused") == 1);
  CHECK(saidOf("FELIX_WIREGUARDENABLED: 'true' is refused") == 1);
  CHECK(saidOf("FELIX_DEBUGPORT: is set but not enforced") == 1);
  CHECK(saidOf("FELIX_NOSUCHSETTING: is not an AgentConfiguration field") == 1);
  CHECK(r.config == MergeResult{}.config);
}

TEST_CASE("defaultEndpointToHostAction in any case, as Felix reads it") {
  AgentConfigurationSpec global;
  global.defaultEndpointToHostAction = "accept";
  const MergeResult r = mergeConfig({&global, nullptr, {{"FELIX_DEFAULTENDPOINTTOHOSTACTION", "RETURN"}}});
  CHECK(r.warnings.empty());
  CHECK(r.config.defaultEndpointToHostAction == "Return");
  const MergeResult g = mergeConfig({&global, nullptr, {}});
  CHECK(g.config.defaultEndpointToHostAction == "Accept");
}

TEST_CASE("the operational settings default to Felix's, except that no file and no syslog get lines") {
  const OperationsConfig o = mergeConfig({}).config.operations;
  CHECK(o.logSeverityScreen == "Info");
  CHECK(o.logFilePath.empty());
  CHECK(o.logSeverityFile == "Info");
  CHECK(o.logSeveritySys == "None");
  CHECK(o.healthEnabled);
  CHECK(o.healthHost == "localhost");
  CHECK(o.healthPort == 9099);
  CHECK_FALSE(o.prometheusMetricsEnabled);
  CHECK(o.prometheusMetricsHost.empty());
  CHECK(o.prometheusMetricsPort == 9091);
  CHECK(o.prometheusProcessMetricsEnabled);
}

TEST_CASE("logs, health and Prometheus from resources, environment and flags; a given flag beats them all") {
  struct Case {
    const char* rule;
    std::function<void(AgentConfigurationSpec&)> global;
    std::map<std::string, std::string> environment;
    std::map<std::string, std::string> commandLine;
    std::function<bool(const OperationsConfig&)> expect;
  };
  const Case cases[] = {
      {"Felix's severity names in any case",
       [](auto& s) { s.logSeverityScreen = "warning"; },
       {},
       {},
       [](const auto& o) { return o.logSeverityScreen == "Warning"; }},
      {"the file and its severity from the resource",
       [](auto& s) {
         s.logFilePath = "/var/log/tartan/agent.log";
         s.logSeverityFile = "debug";
       },
       {},
       {},
       [](const auto& o) {
         return o.logFilePath == "/var/log/tartan/agent.log" && o.logSeverityFile == "Debug";
       }},
      {"none turns the file off, as in Felix",
       [](auto& s) { s.logFilePath = "/var/log/a.log"; },
       {{"FELIX_LOGFILEPATH", "None"}},
       {},
       [](const auto& o) { return o.logFilePath.empty(); }},
      {"syslog gets lines once a severity is set",
       [](auto& s) { s.logSeveritySys = "Error"; },
       {},
       {},
       [](const auto& o) { return o.logSeveritySys == "Error"; }},
      {"health from the resource",
       [](auto& s) {
         s.healthHost = "0.0.0.0";
         s.healthPort = 9199;
       },
       {},
       {},
       [](const auto& o) { return o.healthHost == "0.0.0.0" && o.healthPort == 9199; }},
      {"healthEnabled false stops the endpoint",
       [](auto& s) { s.healthEnabled = false; },
       {},
       {},
       [](const auto& o) { return !o.healthEnabled; }},
      {"the environment beats the resource",
       [](auto& s) { s.healthPort = 9199; },
       {{"FELIX_HEALTHPORT", "9299"}},
       {},
       [](const auto& o) { return o.healthPort == 9299; }},
      {"a flag beats the environment and the resource",
       [](auto& s) { s.healthPort = 9199; },
       {{"TARTAN_HEALTHPORT", "9299"}},
       {{"healthPort", "0"}},
       [](const auto& o) { return o.healthPort == 0; }},
      {"--log-level's names stand for Felix's",
       [](auto& s) { s.logSeverityScreen = "Debug"; },
       {},
       {{"logSeverityScreen", "warn"}},
       [](const auto& o) { return o.logSeverityScreen == "Warning"; }},
      {"--log-level off is None",
       [](auto&) {},
       {},
       {{"logSeverityScreen", "off"}},
       [](const auto& o) { return o.logSeverityScreen == "None"; }},
      {"Prometheus from the resource",
       [](auto& s) {
         s.prometheusMetricsEnabled = true;
         s.prometheusMetricsHost = "::1";
         s.prometheusMetricsPort = 9191;
         s.prometheusProcessMetricsEnabled = false;
       },
       {},
       {},
       [](const auto& o) {
         return o.prometheusMetricsEnabled && o.prometheusMetricsHost == "::1" &&
                o.prometheusMetricsPort == 9191 && !o.prometheusProcessMetricsEnabled;
       }},
      {"Prometheus from the environment",
       [](auto&) {},
       {{"FELIX_PROMETHEUSMETRICSENABLED", "true"}, {"FELIX_PROMETHEUSMETRICSPORT", "9092"}},
       {},
       [](const auto& o) { return o.prometheusMetricsEnabled && o.prometheusMetricsPort == 9092; }},
  };
  for (const Case& c : cases) {
    SECTION(c.rule) {
      AgentConfigurationSpec global;
      c.global(global);
      MergeInput input{&global, nullptr, c.environment};
      input.commandLine = c.commandLine;
      const MergeResult r = mergeConfig(input);
      for (const auto& w : r.warnings) INFO(w.toString());
      CHECK(r.warnings.empty());
      CHECK(c.expect(r.config.operations));
    }
  }
}

TEST_CASE("a bad operational value is a warning naming it, and the lower level's value stays") {
  struct Case {
    const char* variable;
    const char* value;
    const char* says;
  };
  const Case cases[] = {
      {"FELIX_LOGSEVERITYSCREEN", "Loud", "is not Trace, Debug, Info, Warning, Error, Fatal, Panic or None"},
      {"FELIX_LOGFILEPATH", "relative.log", "is not an absolute path or none"},
      {"FELIX_HEALTHHOST", "example.com", "is not an IP address or localhost"},
      {"FELIX_HEALTHPORT", "70000", "is not a port number"},
      {"FELIX_HEALTHENABLED", "maybe", "is not true or false"},
  };
  for (const Case& c : cases) {
    SECTION(c.variable) {
      const MergeResult r = mergeConfig({nullptr, nullptr, {{c.variable, c.value}}});
      REQUIRE(r.warnings.size() == 1);
      CHECK_THAT(r.warnings[0].toString(), Catch::Contains(c.says));
      CHECK(r.config.operations == OperationsConfig{});
    }
  }
  const MergeResult flag = mergeConfig({nullptr, nullptr, {}, {{"healthHost", "nowhere"}}});
  REQUIRE(flag.warnings.size() == 1);
  CHECK(flag.warnings[0].where == "command line");
}

TEST_CASE("outgoing NAT's settings reach the driver from the resources and the environment") {
  AgentConfigurationSpec global, node;
  global.natOutgoingAddress = "192.0.2.10";
  global.natPortRange = tartan::model::Port::range(32768, 65535);
  node.iptablesNATOutgoingInterfaceFilter = "eth+";
  const MergeResult r = mergeConfig({&global, &node, {}});
  CHECK(r.warnings.empty());
  const auto dp = r.config.dataplaneConfig();
  CHECK(dp.at("natOutgoingAddress") == "192.0.2.10");
  CHECK(dp.at("natPortRange") == "32768:65535");
  CHECK(dp.at("iptablesNATOutgoingInterfaceFilter") == "eth+");
  CHECK(mergeConfig({}).config.dataplaneConfig().at("natOutgoingAddress").empty());

  struct Case {
    const char* variable;
    const char* value;
    const char* address;  // the result, over global's 192.0.2.10
    const char* ports;
    bool warned;
  };
  const std::vector<Case> cases{
      {"FELIX_NATOUTGOINGADDRESS", "198.51.100.7", "198.51.100.7", "32768:65535", false},
      {"FELIX_NATOUTGOINGADDRESS", "fd00::7", "192.0.2.10", "32768:65535", true},
      {"FELIX_NATOUTGOINGADDRESS", "198.51.100.0/24", "192.0.2.10", "32768:65535", true},
      {"FELIX_NATPORTRANGE", "40000:40100", "192.0.2.10", "40000:40100", false},
      {"TARTAN_NATPORTRANGE", "5000", "192.0.2.10", "5000:5000", false},
      {"FELIX_NATPORTRANGE", "65535:1", "192.0.2.10", "32768:65535", true},
      {"FELIX_NATPORTRANGE", "http", "192.0.2.10", "32768:65535", true},
  };
  for (const auto& c : cases) {
    INFO(c.variable << "=" << c.value);
    const MergeResult e = mergeConfig({&global, nullptr, {{c.variable, c.value}}});
    CHECK(e.config.natOutgoingAddress == c.address);
    CHECK(e.config.natPortRange == c.ports);
    CHECK(e.warnings.empty() != c.warned);
  }
  AgentConfigurationSpec named;
  named.natPortRange = tartan::model::Port::named("http");
  const MergeResult n = mergeConfig({&named, nullptr, {}});
  REQUIRE(n.warnings.size() == 1);
  CHECK(n.warnings[0].toString().find("natPortRange") != std::string::npos);
  CHECK(n.config.natPortRange.empty());
}

TEST_CASE("iptablesFilterDenyAction and chainInsertMode reach the driver, any case, as Felix reads them") {
  CHECK(mergeConfig({}).config.dataplaneConfig().at("iptablesFilterDenyAction") == "Drop");
  CHECK(mergeConfig({}).config.dataplaneConfig().at("chainInsertMode") == "Insert");
  CHECK(mergeConfig({}).config.dataplaneConfig().at("iptablesFilterAllowAction") == "Accept");
  CHECK(mergeConfig({}).config.dataplaneConfig().at("iptablesMangleAllowAction") == "Accept");
  AgentConfigurationSpec global, node;
  global.iptablesFilterDenyAction = "reject";
  node.chainInsertMode = "Append";
  const MergeResult r = mergeConfig({&global, &node, {}});
  CHECK(r.warnings.empty());
  CHECK(r.config.dataplaneConfig().at("iptablesFilterDenyAction") == "Reject");
  CHECK(r.config.dataplaneConfig().at("chainInsertMode") == "Append");

  struct Case {
    const char* variable;
    const char* value;
    const char* deny;  // the result, over global's reject and node's Append
    const char* mode;
    bool warned;
  };
  const std::vector<Case> cases{
      {"FELIX_IPTABLESFILTERDENYACTION", "DROP", "Drop", "Append", false},
      {"TARTAN_IptablesFilterDenyAction", "Reject", "Reject", "Append", false},
      {"FELIX_IPTABLESFILTERDENYACTION", "Refuse", "Reject", "Append", true},
      {"FELIX_CHAININSERTMODE", "insert", "Reject", "Insert", false},
      {"FELIX_CHAININSERTMODE", "Prepend", "Reject", "Append", true},
  };
  for (const auto& c : cases) {
    INFO(c.variable << "=" << c.value);
    const MergeResult e = mergeConfig({&global, &node, {{c.variable, c.value}}});
    CHECK(e.config.iptablesFilterDenyAction == c.deny);
    CHECK(e.config.chainInsertMode == c.mode);
    CHECK(e.warnings.empty() != c.warned);
  }
}

TEST_CASE("iptablesFilterAllowAction and iptablesMangleAllowAction reach the driver, any case") {
  AgentConfigurationSpec global;
  global.iptablesFilterAllowAction = "return";
  MergeResult r = mergeConfig({&global, nullptr, {{"FELIX_IPTABLESMANGLEALLOWACTION", "RETURN"}}});
  CHECK(r.warnings.empty());
  CHECK(r.config.dataplaneConfig().at("iptablesFilterAllowAction") == "Return");
  CHECK(r.config.dataplaneConfig().at("iptablesMangleAllowAction") == "Return");
  r = mergeConfig({&global, nullptr, {{"TARTAN_IPTABLESFILTERALLOWACTION", "Pass"}}});
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].where == "environment");
  CHECK(r.config.iptablesFilterAllowAction == "Return");  // the lower level's value stays
  r = mergeConfig({&global, nullptr, {{"TARTAN_IPTABLESFILTERALLOWACTION", "Accept"}}});
  CHECK(r.config.iptablesFilterAllowAction == "Accept");
}

TEST_CASE("interfaceExclude reaches the driver; kube-ipvs0 by default, a bad entry is a warning") {
  CHECK(mergeConfig({}).config.dataplaneConfig().at("interfaceExclude") == "kube-ipvs0");
  AgentConfigurationSpec global;
  global.interfaceExclude = "kube-ipvs0,/^docker/";
  MergeResult r = mergeConfig({&global, nullptr, {}});
  CHECK(r.warnings.empty());
  CHECK(r.config.dataplaneConfig().at("interfaceExclude") == "kube-ipvs0,/^docker/");
  r = mergeConfig({&global, nullptr, {{"FELIX_INTERFACEEXCLUDE", "/([/"}}});
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.config.interfaceExclude == "kube-ipvs0,/^docker/");
  r = mergeConfig({&global, nullptr, {{"FELIX_INTERFACEEXCLUDE", "eth9"}}});
  CHECK(r.config.interfaceExclude == "eth9");
}

TEST_CASE("workload hygiene: encapsulation from workloads and conntrack INVALID, as Felix's defaults") {
  struct Case {
    const char* name;
    std::map<std::string, std::string> environment;
    std::map<std::string, std::string> expected;  // dataplane keys
    size_t warnings = 0;
  };
  const Case cases[] = {
      {"defaults: VXLAN to 4789 and IP-in-IP dropped, INVALID dropped",
       {},
       {{"allowVXLANPacketsFromWorkloads", "false"},
        {"allowIPIPPacketsFromWorkloads", "false"},
        {"vxlanPort", "4789"},
        {"disableConntrackInvalidCheck", "false"}}},
      {"FELIX_ variables allow them and move the port",
       {{"FELIX_ALLOWVXLANPACKETSFROMWORKLOADS", "true"},
        {"FELIX_AllowIPIPPacketsFromWorkloads", "true"},
        {"FELIX_VXLANPORT", "8472"},
        {"FELIX_DISABLECONNTRACKINVALIDCHECK", "true"}},
       {{"allowVXLANPacketsFromWorkloads", "true"},
        {"allowIPIPPacketsFromWorkloads", "true"},
        {"vxlanPort", "8472"},
        {"disableConntrackInvalidCheck", "true"}}},
      {"bad values are said and the defaults kept",
       {{"FELIX_VXLANPORT", "0"}, {"FELIX_ALLOWIPIPPACKETSFROMWORKLOADS", "maybe"}},
       {{"vxlanPort", "4789"}, {"allowIPIPPacketsFromWorkloads", "false"}},
       2},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const MergeResult r = mergeConfig({nullptr, nullptr, c.environment});
      CHECK(r.warnings.size() == c.warnings);
      const auto dp = r.config.dataplaneConfig();
      for (const auto& [key, value] : c.expected) CHECK(dp.at(key) == value);
    }
  }
  SECTION("a resource's values are taken too") {
    AgentConfigurationSpec global;
    global.allowVXLANPacketsFromWorkloads = true;
    global.vxlanPort = 4790;
    global.disableConntrackInvalidCheck = true;
    const MergeResult r = mergeConfig({&global, nullptr, {}});
    CHECK(r.warnings.empty());
    CHECK(r.config.allowVXLANPacketsFromWorkloads);
    CHECK(!r.config.allowIPIPPacketsFromWorkloads);
    CHECK(r.config.vxlanPort == 4790);
    CHECK(r.config.disableConntrackInvalidCheck);
  }
}

TEST_CASE("workload route settings: Tartan's protocol unless set; the kernel's and bgpd's refused") {
  const MergeResult defaults = mergeConfig({});
  CHECK(defaults.config.deviceRouteProtocol == 116);
  CHECK(defaults.config.removeExternalRoutes);
  CHECK(defaults.config.deviceRouteSourceAddress.empty());
  struct Case {
    const char* name;
    std::map<std::string, std::string> environment;
    int protocol;
    bool removeExternal;
    const char* source;
    size_t warnings;
  };
  const Case cases[] = {
      {"Felix's boot, taken as asked", {{"FELIX_DEVICEROUTEPROTOCOL", "3"}}, 3, true, "", 0},
      {"another protocol and a source",
       {{"FELIX_DEVICEROUTEPROTOCOL", "80"}, {"FELIX_DEVICEROUTESOURCEADDRESS", "192.0.2.1"}},
       80,
       true,
       "192.0.2.1",
       0},
      {"the kernel's own numbers are refused", {{"FELIX_DEVICEROUTEPROTOCOL", "2"}}, 116, true, "", 1},
      {"tartan-bgpd's 117 is refused", {{"FELIX_DEVICEROUTEPROTOCOL", "117"}}, 116, true, "", 1},
      {"an IPv6 source for IPv4 routes is refused",
       {{"FELIX_DEVICEROUTESOURCEADDRESS", "fd00::1"}},
       116,
       true,
       "",
       1},
      {"removeExternalRoutes false", {{"FELIX_REMOVEEXTERNALROUTES", "false"}}, 116, false, "", 0},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      const MergeResult r = mergeConfig({nullptr, nullptr, c.environment});
      CHECK(r.warnings.size() == c.warnings);
      CHECK(r.config.deviceRouteProtocol == c.protocol);
      CHECK(r.config.removeExternalRoutes == c.removeExternal);
      CHECK(r.config.deviceRouteSourceAddress == c.source);
    }
  }
}

TEST_CASE("serviceLoopPrevention: Drop unless set; Reject and Disabled taken; the ranges passed on") {
  CHECK(mergeConfig({}).config.dataplaneConfig().at("serviceLoopPrevention") == "Drop");
  AgentConfigurationSpec global;
  global.serviceLoopPrevention = "Reject";
  MergeResult r = mergeConfig({&global, nullptr, {{"FELIX_SERVICELOOPPREVENTION", "Sometimes"}}});
  CHECK(r.warnings.size() == 1);
  CHECK(r.config.serviceLoopPrevention == "Reject");
  r.config.serviceLoopCidrs = {"10.96.0.0/12", "fd00:96::/108"};
  CHECK(r.config.dataplaneConfig().at("serviceLoopPreventionCIDRs") == "10.96.0.0/12,fd00:96::/108");
  r = mergeConfig({nullptr, nullptr, {{"FELIX_SERVICELOOPPREVENTION", "Disabled"}}});
  CHECK(r.warnings.empty());
  CHECK(r.config.serviceLoopPrevention == "Disabled");
}
