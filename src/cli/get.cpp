// get: list or fetch resources, keep those a label selector matches, and print them as a table,
// a wide table, YAML, JSON, custom columns or a JSONPath template, in the API group asked for.
#include "cli.hpp"
#include "jsonpath.hpp"

#include "tartan/selector/selector.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>

namespace tartan::cli {

namespace {

using Json = nlohmann::ordered_json;

bool isKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-' || c == '/';
}
bool isValueChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}
bool allOf(std::string_view text, bool (*ok)(char)) { return std::all_of(text.begin(), text.end(), ok); }

std::string trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return std::string(text);
}

// Kubernetes' selector form ("app=web,tier!=db,env in (a,b),!legacy,canary") as a Calico
// selector, or why it is not one.
Result<std::string> fromKubernetesSelector(std::string_view text) {
  std::vector<std::string> terms;
  int depth = 0;
  std::string current;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.push_back(trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  terms.push_back(trim(current));
  std::string out;
  auto quoted = [](const std::string& value) { return "\"" + value + "\""; };
  for (const auto& term : terms) {
    std::string calico;
    auto set = [&](std::string_view key, bool negated, std::string_view list) -> bool {
      std::string items;
      for (size_t start = 0; start <= list.size();) {
        size_t comma = std::min(list.find(',', start), list.size());
        std::string item = trim(list.substr(start, comma - start));
        if (!allOf(item, isValueChar)) return false;
        items += (items.empty() ? "" : ", ") + quoted(item);
        start = comma + 1;
      }
      calico = std::string(key) + (negated ? " not in {" : " in {") + items + "}";
      return true;
    };
    size_t op;
    if (term.empty()) return makeError("an empty term");
    if (term[0] == '!' && allOf(std::string_view(term).substr(1), isKeyChar) && term.size() > 1) {
      calico = "!has(" + term.substr(1) + ")";
    } else if (allOf(term, isKeyChar)) {
      calico = "has(" + term + ")";
    } else if ((op = term.find(" notin ")) != std::string::npos ||
               (op = term.find(" in ")) != std::string::npos) {
      const bool negated = term.compare(op, 7, " notin ") == 0;
      std::string key = trim(std::string_view(term).substr(0, op));
      std::string rest = trim(std::string_view(term).substr(op + (negated ? 7 : 4)));
      if (!allOf(key, isKeyChar) || rest.size() < 2 || rest.front() != '(' || rest.back() != ')' ||
          !set(key, negated, std::string_view(rest).substr(1, rest.size() - 2)))
        return makeError("\"" + term + "\" is not KEY in (V1,V2)");
    } else if ((op = term.find("!=")) != std::string::npos || (op = term.find('=')) != std::string::npos) {
      const bool negated = term[op] == '!';
      size_t valueAt = op + (negated || term.compare(op, 2, "==") == 0 ? 2 : 1);
      std::string key = trim(std::string_view(term).substr(0, op));
      std::string value = trim(std::string_view(term).substr(valueAt));
      if (key.empty() || !allOf(key, isKeyChar) || !allOf(value, isValueChar))
        return makeError("\"" + term + "\" is not KEY=VALUE or KEY!=VALUE");
      calico = key + (negated ? " != " : " == ") + quoted(value);
    } else {
      return makeError("\"" + term + "\" is not a label requirement");
    }
    out += (out.empty() ? "" : " && ") + calico;
  }
  return Result<std::string>(boost::system::in_place_value, std::move(out));
}

// Text with what only Calico's language has: read as Calico's, or refused, never reinterpreted.
bool onlyCalico(const std::string& text) {
  for (const char* mark :
       {"\"", "'", "&&", "||", "{", "has(", "all(", "global(", " contains ", "starts with", "ends with"})
    if (text.find(mark) != std::string::npos) return true;
  return false;
}

// -l: Calico's selector language first; what is not Calico is tried as Kubernetes' form.
Result<selector::Selector> parseLabelSelector(const std::string& text) {
  auto calico = selector::parse(text);
  if (calico) return *calico;
  if (onlyCalico(text))
    return makeError("-l \"" + text + "\"", "", "not a selector: " + calico.error().toString());
  auto kubernetes = fromKubernetesSelector(text);
  if (kubernetes) {
    auto converted = selector::parse(*kubernetes);
    if (converted) return *converted;
  }
  return makeError("-l \"" + text + "\"", "",
                   "not a selector: " + calico.error().toString() +
                       (kubernetes ? "" : "; as k=v,k2!=v: " + kubernetes.error().toString()));
}

struct Column {
  std::string header;
  jsonpath::Path path;
};

// "NAME:.metadata.name,SELECTOR:{.spec.selector}", as kubectl takes it.
Result<std::vector<Column>> parseColumns(const std::string& spec) {
  std::vector<Column> columns;
  if (spec.empty()) return makeError("-o custom-columns", "", "no columns: give HEADER:PATH,...");
  size_t start = 0;
  for (size_t entry = 1; start <= spec.size(); ++entry) {
    size_t comma = std::min(spec.find(',', start), spec.size());
    std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    const std::string where = "-o custom-columns: column " + std::to_string(entry) + " \"" + item + "\"";
    size_t colon = item.find(':');
    if (colon == std::string::npos || colon == 0) return makeError(where, "", "is not HEADER:PATH");
    std::string path = item.substr(colon + 1);
    if (path.size() >= 2 && path.front() == '{' && path.back() == '}') path = path.substr(1, path.size() - 2);
    if (!path.empty() && path.front() != '.' && path.front() != '[') path = "." + path;
    auto parsed = jsonpath::Path::parse(path, where);
    if (!parsed) return parsed.error();
    columns.push_back({item.substr(0, colon), std::move(*parsed)});
  }
  return columns;
}

}  // namespace

int runGet(const Context& ctx, const GetOptions& options) {
  auto kindArg = parseKindArg(options.kind);
  if (!kindArg) return ctx.fail(kindArg.error().toString());
  const auto kind = kindArg->kind;
  std::vector<std::string> names;
  if (kindArg->name) {
    names.push_back(*kindArg->name);
    for (const auto& other : options.names) {
      auto arg = parseKindArg(other);
      if (!arg || !arg->name || arg->kind != kind || arg->group != kindArg->group)
        return ctx.fail("\"" + other + "\": after " + options.kind + " give more KIND/NAME of the same kind");
      names.push_back(*arg->name);
    }
  } else {
    names = options.names;
  }

  Group group = kindArg->group.value_or(Group::kTartan);
  if (!options.apiVersion.empty()) {
    auto asked = parseApiVersion(options.apiVersion);
    if (!asked) return ctx.fail(asked.error().toString());
    if (kindArg->group && *kindArg->group != *asked)
      return ctx.fail("--api-version " + options.apiVersion + " contradicts the group of \"" + options.kind +
                      "\"");
    group = *asked;
  }

  std::optional<selector::Selector> labelSelector;
  if (!options.selector.empty()) {
    auto parsed = parseLabelSelector(options.selector);
    if (!parsed) return ctx.fail(parsed.error().toString());
    labelSelector = std::move(*parsed);
  }

  enum class Format { kTable, kWide, kYaml, kJson, kColumns, kJsonPath } format;
  std::vector<Column> columns;
  std::optional<jsonpath::Template> jsonpathTemplate;
  const std::string& output = options.output;
  if (output == "table") {
    format = Format::kTable;
  } else if (output == "wide") {
    format = Format::kWide;
  } else if (output == "yaml") {
    format = Format::kYaml;
  } else if (output == "json") {
    format = Format::kJson;
  } else if (output.starts_with("custom-columns=")) {
    auto parsed = parseColumns(output.substr(15));
    if (!parsed) return ctx.fail(parsed.error().toString());
    columns = std::move(*parsed);
    format = Format::kColumns;
  } else if (output.starts_with("jsonpath=")) {
    auto parsed = jsonpath::Template::parse(output.substr(9));
    if (!parsed) return ctx.fail(parsed.error().toString());
    jsonpathTemplate = std::move(*parsed);
    format = Format::kJsonPath;
  } else {
    return ctx.fail("unknown output format \"" + output +
                    "\" (table, wide, yaml, json, custom-columns=HEADER:PATH,..., jsonpath=TEMPLATE)");
  }
  if (options.exported && (format == Format::kTable || format == Format::kWide))
    return ctx.fail("--export needs -o yaml, json, custom-columns or jsonpath");

  auto store = ctx.openStore();
  if (!store) return 1;

  const std::string kindName(model::kindName(kind));
  const bool namespaced = model::isNamespaced(kind);
  std::vector<model::Resource> resources;
  int status = 0;

  auto keep = [&](const datastore::KVPair& kv) {
    auto resource = decodeStored(kv);
    if (!resource) {
      *ctx.err << "tartanctl: warning: skipped " << resource.error().toString() << "\n";
      return;
    }
    if (labelSelector && !labelSelector->matches(model::metadata(*resource).labels)) return;
    resources.push_back(std::move(*resource));
  };

  if (!names.empty()) {
    if (options.allNamespaces && namespaced) return ctx.fail("a name with -A is ambiguous: use -n NAMESPACE");
    for (const auto& name : names) {
      auto key = keyOf(kind, options.namespaceName, name);
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
    auto listed = store->list(syncer::storageKind(kind), ns);
    if (!listed) return ctx.fail(listed.error().toString());
    for (const auto& kv : listed->items) keep(kv);
  }

  // A damaged resource is shown at its last valid version, the one agents enforce, and the
  // command fails until its file is repaired.
  for (const auto& damage : store->damaged()) {
    if (!damage.key || damage.key->kind != syncer::storageKind(kind)) continue;
    if (namespaced && !options.allNamespaces && damage.key->namespace_ != options.namespaceName) continue;
    if (!names.empty() && std::find(names.begin(), names.end(), damage.key->name) == names.end()) continue;
    status = ctx.fail("damaged: " + damage.toString());
  }

  // One named resource is shown as itself; anything else as a list, as kubectl does.
  const bool single = resources.size() == 1 && names.size() == 1;
  auto asJson = [&](const model::Resource& resource) {
    return Json::parse(encodeJsonIn(resource, group, options.exported));
  };
  auto listJson = [&] {
    Json list;
    list["apiVersion"] = groupApiVersion(kind, group);
    list["kind"] = groupKindName(kind, group) + "List";
    list["items"] = Json::array();
    for (const auto& resource : resources) list["items"].push_back(asJson(resource));
    return list;
  };

  switch (format) {
    case Format::kTable:
    case Format::kWide:
      printTable(*ctx.out, kind, resources, format == Format::kWide);
      break;
    case Format::kYaml:
      for (size_t i = 0; i < resources.size(); ++i)
        *ctx.out << (i > 0 ? "---\n" : "") << encodeYamlIn(resources[i], group, options.exported);
      break;
    case Format::kJson:
      if (single) {
        *ctx.out << encodeJsonIn(resources.front(), group, options.exported);
      } else {
        *ctx.out << listJson().dump(2) << "\n";
      }
      break;
    case Format::kColumns: {
      std::vector<std::vector<std::string>> rows(1);
      for (const auto& column : columns) rows[0].push_back(column.header);
      for (const auto& resource : resources) {
        auto document = asJson(resource);
        auto& row = rows.emplace_back();
        for (const auto& column : columns) {
          std::string cell;
          for (const auto* value : column.path.evaluate(document, document))
            cell += (cell.empty() ? "" : ",") + jsonpath::format(*value);
          row.push_back(cell.empty() ? "<none>" : cell);
        }
      }
      printRows(*ctx.out, rows);
      break;
    }
    case Format::kJsonPath:
      *ctx.out << jsonpathTemplate->render(single ? asJson(resources.front()) : listJson());
      break;
  }
  return status;
}

}  // namespace tartan::cli
