// crds/: what is checked in is what the model describes; the table of Calico's kinds agrees with
// the model's; the schemas say what the decoder reads.
#include "tartan/crds/crds.hpp"
#include "support/openapi_schema.hpp"
#include "tartan/datastore/calico_layout.hpp"
#include "tartan/model/model.hpp"
#include "tartan/model/schema.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace tartan::crds {
namespace {

using Json = nlohmann::json;
using model::Kind;

const std::string kCrdDir = std::string(TARTAN_SOURCE_DIR) + "/crds";

TEST_CASE("crds/ is what the model's field descriptions generate", "[crds]") {
  auto files = generateCrds();
  REQUIRE(files.has_value());
  const auto problems = compareWithDirectory(*files, kCrdDir);
  for (const std::string& problem : problems) {
    FAIL_CHECK(problem << "\n  regenerate with `tartan-crdgen crds` from the repository root "
                          "(build/<dir>/src/crds/tartan-crdgen)");
  }
}

TEST_CASE("the drift check names a file that differs, is missing or is stale", "[crds]") {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tartan-crds-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  std::vector<CrdFile> files = {{"crd.projectcalico.org_a.yaml", "a\n"},
                                {"crd.projectcalico.org_b.yaml", "b\n"}};
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
  };
  write("crd.projectcalico.org_a.yaml", "a changed by hand\n");
  write("crd.projectcalico.org_gone.yaml", "old\n");
  write("README.md", "not a CRD\n");
  const auto problems = compareWithDirectory(files, dir);
  std::filesystem::remove_all(dir);
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0], Catch::Contains("crd.projectcalico.org_a.yaml: differs"));
  CHECK_THAT(problems[1], Catch::Contains("crd.projectcalico.org_b.yaml: missing"));
  CHECK_THAT(problems[2], Catch::Contains("crd.projectcalico.org_gone.yaml: a CRD of no kind"));
}

std::vector<const datastore::calico::KindLayout*> customResourceKinds() {
  std::vector<const datastore::calico::KindLayout*> out;
  for (const auto& layout : datastore::calico::kinds()) {
    if (layout.storage == datastore::calico::KubernetesStorage::kCustomResource) out.push_back(&layout);
  }
  return out;
}

TEST_CASE("a CRD for every kind stored as a custom resource, named as Calico names it", "[crds]") {
  auto files = generateCrds();
  REQUIRE(files.has_value());
  const auto kinds = customResourceKinds();
  REQUIRE(files->size() == kinds.size());
  // Node and WorkloadEndpoint are the Kubernetes Node and Pods; every other Calico kind is a CR.
  CHECK(kinds.size() == 20);
  for (size_t i = 0; i < kinds.size(); ++i) {
    INFO(kinds[i]->plural);
    CHECK((*files)[i].name == "crd.projectcalico.org_" + std::string(kinds[i]->plural) + ".yaml");
    CHECK_THAT((*files)[i].text, Catch::Contains("\n    kind: " + std::string(kinds[i]->crdKind) + "\n"));
    CHECK_THAT((*files)[i].text,
               Catch::Contains(kinds[i]->namespaced ? "scope: Namespaced" : "scope: Cluster"));
  }
  CHECK_THAT((*files)[10].text,
             Catch::Contains("kind: FelixConfiguration\n    listKind: FelixConfigurationList\n    "
                             "plural: felixconfigurations\n    singular: felixconfiguration\n"));
}

TEST_CASE("a short name means the same kind to kubectl and tartanctl, and none is kubectl's own", "[crds]") {
  std::set<std::string_view> seen;
  for (const Presentation& p : presentations()) {
    const auto* layout = datastore::calico::layoutOf(p.kind);
    REQUIRE(layout != nullptr);
    CHECK(layout->storage == datastore::calico::KubernetesStorage::kCustomResource);
    for (std::string_view shortName : p.shortNames) {
      INFO(shortName);
      CHECK(seen.insert(shortName).second);
      CHECK(model::lookupKind(shortName) == p.kind);
      CHECK(shortName != "netpol");
      CHECK(shortName != "np");
      CHECK(shortName != "no");
    }
  }
}

Json schemaOf(Kind kind) { return Json::parse(model::openApiSchemaJson(kind)); }

// Every node says its type (or is an int-or-string), as a structural schema must.
void requireStructural(const Json& schema, const std::string& path) {
  INFO(path);
  if (schema.value("x-kubernetes-int-or-string", false)) {
    CHECK(!schema.contains("type"));
    CHECK(schema["anyOf"] == Json::parse(R"([{"type":"integer"},{"type":"string"}])"));
    return;
  }
  REQUIRE(schema.contains("type"));
  const Json properties = schema.value("properties", Json::object());
  for (const auto& [name, property] : properties.items()) {
    requireStructural(property, std::string(path).append(".").append(name));
  }
  if (schema.contains("items")) requireStructural(schema["items"], path + "[]");
  if (schema.contains("additionalProperties")) requireStructural(schema["additionalProperties"], path + "{}");
}

TEST_CASE("a printer column's type is its field's, and every listing shows the age", "[crds]") {
  auto files = generateCrds();
  REQUIRE(files.has_value());
  const auto ippools = std::find_if(files->begin(), files->end(), [](const CrdFile& f) {
    return f.name == "crd.projectcalico.org_ippools.yaml";
  });
  REQUIRE(ippools != files->end());
  CHECK_THAT(ippools->text, Catch::Contains("- name: \"Block Size\"\n      type: integer\n"));
  CHECK_THAT(ippools->text, Catch::Contains("- name: NAT\n      type: boolean\n"));
  CHECK_THAT(ippools->text, Catch::Contains("- name: Age\n      type: date\n"));
  const auto gnp = std::find_if(files->begin(), files->end(), [](const CrdFile& f) {
    return f.name == "crd.projectcalico.org_globalnetworkpolicies.yaml";
  });
  REQUIRE(gnp != files->end());
  CHECK_THAT(gnp->text, Catch::Contains("- name: Order\n      type: number\n"));
  CHECK_THAT(gnp->text, Catch::Contains("shortNames:\n    - gnp\n    - cgnp\n"));
}

TEST_CASE("every CRD's schema is structural", "[crds]") {
  for (const auto* layout : customResourceKinds())
    requireStructural(schemaOf(layout->kind), std::string(layout->crdKind));
}

struct SchemaCase {
  const char* rule;
  Kind kind;
  const char* pointer;  // a JSON pointer into the schema
  const char* expected;
};

TEST_CASE("the schemas say what the decoder reads", "[crds]") {
  // clang-format off
  const SchemaCase cases[] = {
    {"a rule's protocol is a number or a name", Kind::kGlobalNetworkPolicy,
     "/properties/spec/properties/ingress/items/properties/protocol", R"({"anyOf":[{"type":"integer"},{"type":"string"}],"x-kubernetes-int-or-string":true})"},
    {"ports are numbers, ranges or names", Kind::kNetworkPolicy,
     "/properties/spec/properties/egress/items/properties/destination/properties/ports/items", R"({"anyOf":[{"type":"integer"},{"type":"string"}],"x-kubernetes-int-or-string":true})"},
    {"a rule must have an action", Kind::kGlobalNetworkPolicy,
     "/properties/spec/properties/ingress/items/required", R"(["action"])"},
    {"a policy's order is a number", Kind::kGlobalNetworkPolicy, "/properties/spec/properties/order", R"({"type":"number"})"},
    {"labels-like maps hold strings", Kind::kGlobalNetworkPolicy,
     "/properties/spec/properties/ingress/items/properties/metadata/properties/annotations", R"({"type":"object","additionalProperties":{"type":"string"}})"},
    {"an IP pool must have a CIDR", Kind::kIPPool, "/properties/spec/required", R"(["cidr"])"},
    {"an IPAM block's attributes use Calico's snake_case keys", Kind::kIPAMBlock,
     "/properties/spec/properties/attributes/items/properties/handle_id", R"({"type":"string"})"},
    {"a free address of a block is a null allocation", Kind::kIPAMBlock,
     "/properties/spec/properties/allocations/items", R"({"type":"integer","format":"int32","nullable":true})"},
    {"a block's sequence numbers are unsigned 64-bit", Kind::kIPAMBlock,
     "/properties/spec/properties/sequenceNumber", R"({"type":"integer","format":"int64","minimum":0})"},
    {"a handle counts addresses per block", Kind::kIPAMHandle,
     "/properties/spec/properties/block", R"({"type":"object","additionalProperties":{"type":"integer","format":"int32"}})"},
    {"an AS number is a number or an asdot string", Kind::kBGPPeer,
     "/properties/spec/properties/asNumber", R"({"anyOf":[{"type":"integer"},{"type":"string"}],"x-kubernetes-int-or-string":true})"},
    {"a staged policy's spec has the policy's fields beside stagedAction", Kind::kStagedGlobalNetworkPolicy,
     "/properties/spec/properties/selector", R"({"type":"string"})"},
    {"a staged Kubernetes policy has Kubernetes' int-or-string ports", Kind::kStagedKubernetesNetworkPolicy,
     "/properties/spec/properties/ingress/items/properties/ports/items/properties/port", R"({"anyOf":[{"type":"integer"},{"type":"string"}],"x-kubernetes-int-or-string":true})"},
    {"a rule's action is one the validator knows", Kind::kGlobalNetworkPolicy,
     "/properties/spec/properties/egress/items/properties/action", R"({"type":"string","enum":["Allow","Deny","Log","Pass"]})"},
    {"policy types are Ingress and Egress", Kind::kNetworkPolicy,
     "/properties/spec/properties/types/items", R"({"type":"string","enum":["Ingress","Egress"]})"},
    {"an optional plain string may be empty, which the decoder reads as unset", Kind::kIPPool,
     "/properties/spec/properties/vxlanMode", R"({"type":"string","enum":["Always","CrossSubnet","Never",""]})"},
    {"a value the validator reads in any case is Calico's (?i) pattern", Kind::kAgentConfiguration,
     "/properties/spec/properties/chainInsertMode", R"({"type":"string","pattern":"^(?i)(Insert|Append)?$"})"},
    {"a string the decoder requires may not be empty", Kind::kBGPFilter,
     "/properties/spec/properties/exportV4/items/properties/action", R"({"type":"string","enum":["Accept","Reject"]})"},
    {"a string written even when empty may be empty", Kind::kAgentConfiguration,
     "/properties/spec/properties/bpfLogLevel", R"({"type":"string","enum":["Debug","Info","Off",""]})"},
    {"metadata is the API server's", Kind::kTier, "/properties/metadata", R"({"type":"object"})"},
    {"a lenient kind keeps what it does not know", Kind::kKubernetesPod,
     "/properties/metadata", R"({"type":"object","x-kubernetes-preserve-unknown-fields":true})"},
  };
  // clang-format on
  for (const SchemaCase& c : cases) {
    INFO(c.rule);
    const Json schema = schemaOf(c.kind);
    const Json::json_pointer pointer(c.pointer);
    REQUIRE(schema.contains(pointer));
    CHECK(schema[pointer] == Json::parse(c.expected));
  }
}

struct EnumCase {
  const char* field;
  Kind kind;
  const char* pointer;   // the enum's schema
  const char* manifest;  // with {} where the value goes
};

// The schema's set is the validator's: each value it lists is accepted, one it does not list is
// refused (and, for a (?i) pattern, any case of a listed value is accepted).
TEST_CASE("every value an enum lists passes the validator, and no other", "[crds]") {
  // clang-format off
  const EnumCase cases[] = {
    {"rule action", Kind::kGlobalNetworkPolicy, "/properties/spec/properties/ingress/items/properties/action",
     "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - action: {}\n"},
    {"tier default action", Kind::kTier, "/properties/spec/properties/defaultAction",
     "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec: {order: 10, defaultAction: {}}\n"},
    {"pool encapsulation", Kind::kIPPool, "/properties/spec/properties/vxlanMode",
     "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.1.0.0/16, vxlanMode: {}}\n"},
    {"peer next hop", Kind::kBGPPeer, "/properties/spec/properties/nextHopMode",
     "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: p}\nspec: {peerIP: 10.0.0.1, asNumber: 64512, nextHopMode: {}}\n"},
    {"felix chain insert mode", Kind::kAgentConfiguration, "/properties/spec/properties/chainInsertMode",
     "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec: {chainInsertMode: {}}\n"},
  };
  // clang-format on
  for (const EnumCase& c : cases) {
    INFO(c.field);
    const Json schema = schemaOf(c.kind)[Json::json_pointer(c.pointer)];
    std::vector<std::string> values;
    bool anyCase = false;
    if (schema.contains("enum")) {
      for (const Json& v : schema["enum"]) {
        if (v != "") values.push_back(v.get<std::string>());
      }
    } else {
      REQUIRE(schema.contains("pattern"));
      std::string pattern = schema["pattern"];  // ^(?i)(A|B)?$
      anyCase = true;
      const std::string inner = pattern.substr(6, pattern.find(')', 6) - 6);
      for (size_t start = 0; start <= inner.size();) {
        size_t bar = inner.find('|', start);
        if (bar == std::string::npos) bar = inner.size();
        values.push_back(inner.substr(start, bar - start));
        start = bar + 1;
      }
    }
    REQUIRE(!values.empty());
    const std::string manifest = c.manifest;
    auto decodeWith = [&](const std::string& value) {
      std::string text = manifest;
      text.replace(text.find("{}"), 2, value);
      return model::decode(text, "enum.yaml");
    };
    for (std::string value : values) {
      INFO(value);
      CHECK(decodeWith(value).ok());
      if (anyCase) {
        for (char& ch : value) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        CHECK(decodeWith(value).ok());
      }
    }
    CHECK_FALSE(decodeWith("NotOneOfThem").ok());
  }
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Everything Tartan writes to a Kubernetes datastore is a custom resource its CRD accepts, without
// pruning a field: each Calico resource of the model's test manifests and of examples/, as the
// storage layout converts it, checked against its CRD's schema as the API server checks it.
TEST_CASE("what Tartan writes as a custom resource passes its CRD unpruned", "[crds]") {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"test/unit/model/testdata/calico", "examples/policy"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(TARTAN_SOURCE_DIR) + "/" + dir)) {
      if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 8);
  std::set<Kind> seen;
  for (const auto& file : files) {
    const auto decoded = model::decode(readFile(file), file.filename().string());
    INFO(file.filename().string());
    REQUIRE(decoded.ok());
    for (const model::Resource& resource : decoded.resources) {
      const auto* layout = datastore::calico::layoutOf(model::kindOf(resource));
      if (layout == nullptr || layout->storage != datastore::calico::KubernetesStorage::kCustomResource)
        continue;
      INFO(model::encodeYaml(resource));
      auto cr = datastore::calico::toCustomResource(model::encodeYaml(resource), file.filename().string());
      REQUIRE(cr.has_value());
      const test::SchemaCheck check = test::checkAgainstSchema(schemaOf(layout->kind), *cr);
      for (const std::string& e : check.errors) FAIL_CHECK(e);
      for (const std::string& f : check.unknownFields) FAIL_CHECK("pruned: " << f);
      seen.insert(layout->kind);
    }
  }
  // Enough kinds that the schemas are exercised, not just parsed.
  CHECK(seen.size() >= 12);
}

TEST_CASE("no strict kind keeps unknown fields", "[crds]") {
  for (const auto* layout : customResourceKinds()) {
    INFO(layout->crdKind);
    CHECK(model::openApiSchemaJson(layout->kind).find("x-kubernetes-preserve-unknown-fields") ==
          std::string::npos);
  }
}

}  // namespace
}  // namespace tartan::crds
