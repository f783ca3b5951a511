// generate.cpp — one CustomResourceDefinition per Calico kind, from the model's schema, written
// as YAML the way kubectl writes it.
#include "tartan/crds/crds.hpp"
#include "tartan/datastore/calico_layout.hpp"
#include "tartan/model/model.hpp"
#include "tartan/model/schema.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace tartan::crds {

namespace {

using Json = nlohmann::ordered_json;

// ---- YAML ----

bool isPlainSafe(const std::string& s) {
  // YAML 1.1 (kubectl's go-yaml) reads y/n/yes/no/on/off as booleans, so those are quoted too.
  static const std::set<std::string> kReserved = {"y",   "n",    "yes",   "no",   "on",
                                                  "off", "true", "false", "null", "~"};
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  std::string folded;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '/')
      return false;
    folded += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return !kReserved.count(folded);
}

std::string scalar(const Json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    return isPlainSafe(s) ? s : Json(s).dump();  // JSON's escapes are YAML's double-quoted ones
  }
  if (value.is_array()) return "[]";
  if (value.is_object()) return "{}";
  return value.dump();
}

bool isBlock(const Json& value) { return (value.is_object() || value.is_array()) && !value.empty(); }

void writeNode(const Json& value, int indent, std::string& out);

void writeMap(const Json& value, int indent, bool firstInline, std::string& out) {
  bool first = true;
  for (const auto& [key, item] : value.items()) {
    if (!(first && firstInline)) out.append(static_cast<size_t>(indent), ' ');
    first = false;
    out += scalar(Json(key)) + ":";
    if (isBlock(item)) {
      out += '\n';
      writeNode(item, item.is_array() ? indent : indent + 2, out);  // lists at their key's indent
    } else {
      out += " " + scalar(item) + "\n";
    }
  }
}

void writeNode(const Json& value, int indent, std::string& out) {
  if (value.is_object()) {
    writeMap(value, indent, false, out);
    return;
  }
  for (const Json& item : value) {
    out.append(static_cast<size_t>(indent), ' ');
    out += "- ";
    if (item.is_object() && !item.empty()) {
      writeMap(item, indent + 2, true, out);
    } else if (item.is_array() && !item.empty()) {
      out += '\n';
      writeNode(item, indent + 2, out);
    } else {
      out += scalar(item) + "\n";
    }
  }
}

// ---- CRDs ----

// The schema of the field a printer column names (".spec.order"), or null.
const Json* fieldSchema(const Json& schema, std::string_view jsonPath) {
  const Json* at = &schema;
  size_t start = 1;
  while (start <= jsonPath.size()) {
    size_t end = jsonPath.find('.', start);
    if (end == std::string_view::npos) end = jsonPath.size();
    const std::string name(jsonPath.substr(start, end - start));
    if (!at->contains("properties") || !(*at)["properties"].contains(name)) return nullptr;
    at = &(*at)["properties"][name];
    start = end + 1;
  }
  return at;
}

Result<Json> printerColumns(std::string_view kindName, std::span<const PrinterColumn> printed,
                            const Json& schema) {
  Json columns = Json::array();
  for (const PrinterColumn& c : printed) {
    const Json* field = c.jsonPath.starts_with(".") ? fieldSchema(schema, c.jsonPath) : nullptr;
    if (field == nullptr) {
      return Result<Json>(boost::system::in_place_error,
                          makeError(std::string(kindName), "additionalPrinterColumns",
                                    "column \"" + std::string(c.name) + "\" names " +
                                        std::string(c.jsonPath) + ", which is not a field of the kind"));
    }
    // A printer column's type is one of integer, number, boolean, string (an int-or-string or a
    // list is shown as its text).
    std::string type = field->value("type", "string");
    if (type != "integer" && type != "number" && type != "boolean") type = "string";
    Json column = {{"name", c.name}, {"type", type}, {"jsonPath", c.jsonPath}};
    if (c.priority != 0) column["priority"] = c.priority;
    columns.push_back(std::move(column));
  }
  columns.push_back({{"name", "Age"}, {"type", "date"}, {"jsonPath", ".metadata.creationTimestamp"}});
  // (Json converts from anything, so the value alternative is named.)
  return Result<Json>(boost::system::in_place_value, std::move(columns));
}

Result<CrdFile> generate(const datastore::calico::KindLayout& layout) {
  Json schema = Json::parse(model::openApiSchemaJson(layout.kind));
  const std::string plural(layout.plural);
  std::string singular(layout.crdKind);
  for (char& c : singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Json names = {{"kind", layout.crdKind},
                {"listKind", std::string(layout.crdKind) + "List"},
                {"plural", plural},
                {"singular", singular}};
  const Presentation* presentation = findPresentation(layout.kind);
  if (presentation != nullptr && !presentation->shortNames.empty()) {
    names["shortNames"] =
        Json(std::vector<std::string>(presentation->shortNames.begin(), presentation->shortNames.end()));
  }
  Json version = {{"name", kVersion}, {"served", true}, {"storage", true}};
  if (presentation != nullptr && !presentation->columns.empty()) {
    auto columns = printerColumns(layout.crdKind, presentation->columns, schema);
    if (!columns) return columns.error();
    version["additionalPrinterColumns"] = std::move(*columns);
  }
  version["schema"] = {{"openAPIV3Schema", std::move(schema)}};
  Json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", plural + "." + std::string(layout.group)}}},
              {"spec",
               {{"group", layout.group},
                {"names", std::move(names)},
                {"scope", layout.namespaced ? "Namespaced" : "Cluster"},
                {"versions", Json::array({std::move(version)})}}}};
  std::string text =
      "# Generated by tartan-crdgen from the field descriptions of Tartan's model; do not edit.\n"
      "# Regenerate with `tartan-crdgen crds` from the repository root.\n";
  writeNode(crd, 0, text);
  return CrdFile{std::string(layout.group) + "_" + plural + ".yaml", std::move(text)};
}

}  // namespace

Result<std::vector<CrdFile>> generateCrds() {
  std::vector<CrdFile> files;
  for (const datastore::calico::KindLayout& layout : datastore::calico::kinds()) {
    if (layout.storage != datastore::calico::KubernetesStorage::kCustomResource) continue;
    auto file = generate(layout);
    if (!file) return file.error();
    files.push_back(std::move(*file));
  }
  return files;
}

}  // namespace tartan::crds
