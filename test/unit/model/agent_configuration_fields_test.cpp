// Every AgentConfiguration field is honoured, refused or reported — never accepted in silence —
// and the table in docs/agent-configuration.md is the one the code holds.
#include "tartan/model/agent_configuration_fields.hpp"
#include "test_support.hpp"

#include <fstream>
#include <set>
#include <sstream>

using namespace tartan::model;
using namespace tartan::model::test;

namespace {
std::string felix(const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: default\nspec:\n" +
         spec;
}
}  // namespace

TEST_CASE("every field the spec describes has exactly one state, in Calico's order",
          "[model][config-fields]") {
  const auto described = agentConfigurationSpecFieldNames();
  std::vector<std::string_view> listed;
  for (const auto& f : agentConfigurationFields()) listed.push_back(f.name);
  CHECK(listed == described);
  CHECK(std::set<std::string_view>(listed.begin(), listed.end()).size() == listed.size());
  for (const auto& f : agentConfigurationFields()) {
    INFO(f.name);
    CHECK(!f.note.empty());
    if (f.support != FieldSupport::kRefused) CHECK(f.accepted.empty());
  }
}

TEST_CASE("a value Tartan cannot honour is refused with the field's line, column and reason",
          "[model][config-fields]") {
  struct Case {
    const char* spec;
    const char* where;
    const char* field;
    const char* what;
  };
  const Case cases[] = {
      {"  bpfEnabled: true\n", "in.yaml:6:15", "spec.bpfEnabled",
       "'true' is refused: Tartan has no eBPF dataplane"},
      {"  wireguardEnabled: true\n", "in.yaml:6:21", "spec.wireguardEnabled", "only false is accepted"},
      {"  ipipEnabled: true\n", "in.yaml:6:16", "spec.ipipEnabled", "no IPIP"},
      {"  vxlanEnabled: true\n", "in.yaml:6:17", "spec.vxlanEnabled", "no VXLAN"},
      {"  xdpEnabled: true\n", "in.yaml:6:15", "spec.xdpEnabled", "XDP"},
      {"  nftablesMode: Enabled\n", "in.yaml:6:17", "spec.nftablesMode", "only Disabled is accepted"},
      {"  useInternalDataplaneDriver: false\n", "in.yaml:6:31", "spec.useInternalDataplaneDriver",
       "in process"},
      {"  policySyncPathPrefix: /var/run/nodeagent\n", "in.yaml:6:25", "spec.policySyncPathPrefix",
       "it must be left unset"},
      {"  awsSrcDstCheck: Disable\n", "in.yaml:6:19", "spec.awsSrcDstCheck", "only DoNothing is accepted"},
      {"  routeSource: WorkloadIPs\n", "in.yaml:6:16", "spec.routeSource", "only CalicoIPAM"},
  };
  for (const Case& c : cases) {
    SECTION(c.field) {
      const tartan::Error e = onlyError(felix(c.spec));
      CHECK(e.where == c.where);
      CHECK(e.field == c.field);
      CHECK_THAT(e.what, Catch::Contains(c.what));
    }
  }
}

TEST_CASE("the accepted values of a refused field, and every reported field, are taken",
          "[model][config-fields]") {
  const DecodeResult result = decode(felix(R"(  bpfEnabled: false
  wireguardEnabled: false
  nftablesMode: Disabled
  useInternalDataplaneDriver: true
  routeSource: CalicoIPAM
  logSeverityScreen: Info
  healthPort: 9099
  chainInsertMode: Append
  iptablesMarkMask: 0xffff0000
)"),
                                     "in.yaml");
  INFO(errorsText(result));
  REQUIRE(result.ok());
  const auto& spec = std::get<AgentConfiguration>(result.resources[0]).spec;
  CHECK(refusedAgentConfigurationFields(spec).empty());
  CHECK(reportedAgentConfigurationFields(spec) == std::vector<std::string>{"iptablesMarkMask"});
  const auto set = setAgentConfigurationFields(spec);
  REQUIRE(set.size() == 9);
  CHECK(set[0] == std::pair<std::string, std::string>{"useInternalDataplaneDriver", "true"});
  CHECK(set.back() == std::pair<std::string, std::string>{"wireguardEnabled", "false"});
}

TEST_CASE("another error in the spec is reported alone; the refusal waits until it is fixed",
          "[model][config-fields]") {
  const tartan::Error e = onlyError(felix("  bpfEnabled: true\n  iptablesBackend: Fast\n"));
  CHECK(e.field == "spec.iptablesBackend");
}

TEST_CASE("docs/agent-configuration.md is the table the code holds", "[model][config-fields]") {
  std::ifstream in(std::string(TARTAN_SOURCE_DIR) + "/docs/agent-configuration.md");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  // On a mismatch: tartanctl config fields > docs/agent-configuration.md
  CHECK(text.str() == agentConfigurationFieldTable());
}

TEST_CASE("interfaceExclude takes interface names and /regular expressions/, and refuses the rest",
          "[model][config-fields]") {
  for (const char* good : {"kube-ipvs0", "kube-ipvs0,/^docker/", "/veth.*/,eth9"}) {
    INFO(good);
    const DecodeResult result =
        decode(felix(std::string("  interfaceExclude: \"") + good + "\"\n"), "in.yaml");
    CHECK(result.ok());
  }
  for (const char* bad : {"/([/", "kube-ipvs0,,eth0", "a name far too long"}) {
    INFO(bad);
    const tartan::Error e = onlyError(felix(std::string("  interfaceExclude: \"") + bad + "\"\n"));
    CHECK(e.field == "spec.interfaceExclude");
  }
}
