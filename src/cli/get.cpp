// get: list or fetch resources and print them as a table, a wide table, YAML or JSON.
#include "cli.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>

namespace tartan::cli {

int runGet(const Context& ctx, const GetOptions& options) {
  auto kind = model::lookupKind(options.kind);
  if (!kind) return ctx.fail("unknown resource kind \"" + options.kind + "\"");
  if (options.output != "table" && options.output != "wide" && options.output != "yaml" &&
      options.output != "json")
    return ctx.fail("unknown output format \"" + options.output + "\" (table, wide, yaml, json)");
  auto store = ctx.openStore();
  if (!store) return 1;

  const std::string kindName(model::kindName(*kind));
  const bool namespaced = model::isNamespaced(*kind);
  std::vector<model::Resource> resources;
  int status = 0;

  auto keep = [&](const datastore::KVPair& kv) {
    auto resource = decodeStored(kv);
    if (!resource) {
      *ctx.err << "tartanctl: warning: skipped " << resource.error().toString() << "\n";
      return;
    }
    resources.push_back(std::move(*resource));
  };

  if (!options.names.empty()) {
    if (options.allNamespaces && namespaced) return ctx.fail("a name with -A is ambiguous: use -n NAMESPACE");
    for (const auto& name : options.names) {
      auto key = keyOf(*kind, options.namespaceName, name);
      auto kv = store->get(key);
      if (!kv) {
        if (kv.error().kind == datastore::ErrorKind::NotFound) {
          status = ctx.fail(kindName + " \"" + name + "\" not found" +
                            (namespaced ? " in namespace \"" + options.namespaceName + "\"" : ""));
        } else {
          status = ctx.fail(kv.error().toString());
        }
        continue;
      }
      keep(*kv);
    }
  } else {
    std::optional<std::string_view> ns;
    if (namespaced && !options.allNamespaces) ns = options.namespaceName;
    auto listed = store->list(syncer::storageKind(*kind), ns);
    if (!listed) return ctx.fail(listed.error().toString());
    for (const auto& kv : listed->items) keep(kv);
  }

  // A damaged resource is shown at its last valid version, the one agents enforce, and the
  // command fails until its file is repaired.
  for (const auto& damage : store->damaged()) {
    if (!damage.key || damage.key->kind != syncer::storageKind(*kind)) continue;
    if (namespaced && !options.allNamespaces && damage.key->namespace_ != options.namespaceName) continue;
    if (!options.names.empty() &&
        std::find(options.names.begin(), options.names.end(), damage.key->name) == options.names.end())
      continue;
    status = ctx.fail("damaged: " + damage.toString());
  }

  if (options.output == "table" || options.output == "wide") {
    printTable(*ctx.out, *kind, resources, options.output == "wide");
  } else if (options.output == "yaml") {
    if (!resources.empty()) *ctx.out << model::encodeYaml(resources);
  } else if (resources.size() == 1 && !options.names.empty()) {
    *ctx.out << model::encodeJson(resources.front());
  } else {
    nlohmann::ordered_json list;
    list["apiVersion"] = std::string(model::apiVersion(*kind));
    list["kind"] = kindName + "List";
    list["items"] = nlohmann::ordered_json::array();
    for (const auto& resource : resources)
      list["items"].push_back(nlohmann::ordered_json::parse(model::encodeJson(resource)));
    *ctx.out << list.dump(2) << "\n";
  }
  return status;
}

}  // namespace tartan::cli
