// Kinds as typed on a command line, and resources written in the API group a person asked for.
#include "cli.hpp"

#include <nlohmann/json.hpp>

#include <cassert>

namespace tartan::cli {

namespace {

constexpr std::string_view kCalicoApiVersion = "projectcalico.org/v3";
constexpr std::string_view kCalicoCrdApiVersion = "crd.projectcalico.org/v1";
constexpr std::string_view kTartanApiVersion = "tartan.dev/v1";

bool isTartanKind(model::Kind kind) { return model::apiVersion(kind) == kTartanApiVersion; }

void strip(model::Resource& resource, bool exported) {
  if (!exported) return;
  auto& meta = model::metadata(resource);
  meta.uid.clear();
  meta.resourceVersion.clear();
  meta.creationTimestamp.clear();
}

}  // namespace

Result<KindArg> parseKindArg(const std::string& text) {
  KindArg arg;
  std::string kind = text;
  if (auto slash = kind.find('/'); slash != std::string::npos) {
    arg.name = kind.substr(slash + 1);
    kind.resize(slash);
    if (arg.name->empty()) return makeError("\"" + text + "\": no name after \"/\"");
  }
  // A Kubernetes-style resource.group suffix; anything else is looked up whole
  // ("networkpolicies.networking.k8s.io" is an alias of its own).
  for (auto [suffix, group] : {std::pair{std::string_view(".crd.projectcalico.org"), Group::kCalico},
                               std::pair{std::string_view(".projectcalico.org"), Group::kCalico},
                               std::pair{std::string_view(".tartan.dev"), Group::kTartan}}) {
    if (kind.size() > suffix.size() && kind.ends_with(suffix)) {
      kind.resize(kind.size() - suffix.size());
      arg.group = group;
      break;
    }
  }
  auto found = model::lookupKind(kind);
  if (!found) return makeError("unknown resource kind \"" + kind + "\"");
  if (arg.group && !isTartanKind(*found))
    return makeError("\"" + text + "\": " + std::string(model::kindName(*found)) +
                     " is a Kubernetes kind, served as " + std::string(model::apiVersion(*found)) + " only");
  arg.kind = *found;
  return arg;
}

Result<Group> parseApiVersion(const std::string& text) {
  if (text == kCalicoApiVersion || text == kCalicoCrdApiVersion) return Group::kCalico;
  if (text == kTartanApiVersion) return Group::kTartan;
  return makeError("--api-version \"" + text + "\": not projectcalico.org/v3 or tartan.dev/v1");
}

std::string groupApiVersion(model::Kind kind, Group group) {
  if (group == Group::kTartan || !isTartanKind(kind)) return std::string(model::apiVersion(kind));
  switch (kind) {
    case model::Kind::kIPAMBlock:
    case model::Kind::kBlockAffinity:
    case model::Kind::kIPAMHandle:
      return std::string(kCalicoCrdApiVersion);
    default:
      return std::string(kCalicoApiVersion);
  }
}

std::string groupKindName(model::Kind kind, Group group) {
  if (group == Group::kCalico && kind == model::Kind::kAgentConfiguration) return "FelixConfiguration";
  return std::string(model::kindName(kind));
}

std::string encodeYamlIn(model::Resource resource, Group group, bool exported) {
  strip(resource, exported);
  std::string text = model::encodeYaml(resource);
  if (group == Group::kTartan) return text;
  // The encoder writes apiVersion and kind first, as the two opening lines.
  const auto kind = model::kindOf(resource);
  const std::string opening = "apiVersion: " + std::string(model::apiVersion(kind)) +
                              "\nkind: " + std::string(model::kindName(kind)) + "\n";
  assert(text.starts_with(opening));
  return "apiVersion: " + groupApiVersion(kind, group) + "\nkind: " + groupKindName(kind, group) + "\n" +
         text.substr(opening.size());
}

std::string encodeJsonIn(model::Resource resource, Group group, bool exported) {
  strip(resource, exported);
  std::string text = model::encodeJson(resource);
  if (group == Group::kTartan) return text;
  const auto kind = model::kindOf(resource);
  auto document = nlohmann::ordered_json::parse(text);
  document["apiVersion"] = groupApiVersion(kind, group);
  document["kind"] = groupKindName(kind, group);
  return document.dump(2) + "\n";
}

}  // namespace tartan::cli
