// The test API server's state: see kube_test_store.hpp. Written from the API conventions
// (metadata, resourceVersion, Status objects, list and watch semantics), not from the API server.
#include "support/kube_test_store.hpp"

#include "support/openapi_schema.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>
#include <sstream>

namespace tartan::test {
namespace {

std::string now() {
  std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

std::string meta(const Json& object, const char* field) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return {};
  auto v = object["metadata"].find(field);
  return v != object["metadata"].end() && v->is_string() ? v->get<std::string>() : std::string();
}

ApiOutcome fail(int code, const std::string& reason, const std::string& message) {
  return {code, statusBody(code, reason, message)};
}

std::string trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// Splits at commas outside parentheses.
std::vector<std::string> splitTop(const std::string& text) {
  std::vector<std::string> out;
  std::string part;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(part));
      part.clear();
    } else {
      part += c;
    }
  }
  if (!trim(part).empty() || !out.empty()) out.push_back(trim(part));
  return out;
}

struct Requirement {
  std::string key;
  std::string op;  // = != in notin exists !exists
  std::set<std::string> values;
};

std::optional<std::vector<Requirement>> parseLabels(const std::string& text) {
  std::vector<Requirement> out;
  for (const std::string& part : splitTop(text)) {
    if (part.empty()) return std::nullopt;
    Requirement r;
    if (part[0] == '!') {
      r.key = trim(part.substr(1));
      r.op = "!exists";
    } else if (auto p = part.find("!="); p != std::string::npos) {
      r = {trim(part.substr(0, p)), "!=", {trim(part.substr(p + 2))}};
    } else if (auto q = part.find("=="); q != std::string::npos) {
      r = {trim(part.substr(0, q)), "=", {trim(part.substr(q + 2))}};
    } else if (auto e = part.find('='); e != std::string::npos) {
      r = {trim(part.substr(0, e)), "=", {trim(part.substr(e + 1))}};
    } else if (auto open = part.find('('); open != std::string::npos) {
      if (part.back() != ')') return std::nullopt;
      std::istringstream head(part.substr(0, open));
      std::string op;
      head >> r.key >> op;
      if (op != "in" && op != "notin") return std::nullopt;
      r.op = op;
      std::stringstream values(part.substr(open + 1, part.size() - open - 2));
      for (std::string v; std::getline(values, v, ',');) r.values.insert(trim(v));
    } else {
      r.key = part;
      r.op = "exists";
    }
    if (r.key.empty() || r.key.find(' ') != std::string::npos) return std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

std::string hexEncode(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::optional<std::string> hexDecode(const std::string& text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto v = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    const int hi = v(text[i]);
    const int lo = v(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// A custom resource against its CRD's schema, pruned of unknown fields; the API server's message
// when it is invalid.
std::optional<std::string> schemaProblem(const ApiResource& r, Json& object) {
  if (!r.schema.is_object()) return std::nullopt;
  const SchemaCheck check = checkAgainstSchema(r.schema, object);
  if (check.errors.empty()) return std::nullopt;
  std::string errors;
  for (const std::string& e : check.errors) errors += (errors.empty() ? "" : ", ") + e;
  const Json m = object.value("metadata", Json::object());
  return r.kind + "." + r.group + " \"" + m.value("name", "") +
         "\" is invalid: " + (check.errors.size() > 1 ? "[" + errors + "]" : errors);
}

}  // namespace

Json statusBody(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

std::optional<std::string> Selector::check() const {
  if (!labels.empty() && !parseLabels(labels)) return "unable to parse requirement: \"" + labels + "\"";
  for (const std::string& part : splitTop(fields)) {
    if (fields.empty()) break;
    const auto eq = part.find('=');
    if (eq == std::string::npos) return "invalid field selector: \"" + part + "\"";
    const bool negated = eq > 0 && part[eq - 1] == '!';
    const std::string key = trim(part.substr(0, negated ? eq - 1 : eq));
    if (key != "metadata.name" && key != "metadata.namespace") {
      return "field label not supported: " + key;
    }
  }
  return std::nullopt;
}

bool Selector::matches(const Json& object) const {
  if (!labels.empty()) {
    const Json labelMap =
        object.contains("metadata") ? object["metadata"].value("labels", Json::object()) : Json::object();
    const auto requirements = parseLabels(labels);
    for (const Requirement& r : *requirements) {
      const bool has = labelMap.contains(r.key) && labelMap[r.key].is_string();
      const std::string value = has ? labelMap[r.key].get<std::string>() : std::string();
      bool ok = true;
      if (r.op == "exists") ok = has;
      if (r.op == "!exists") ok = !has;
      if (r.op == "=" || r.op == "in") ok = has && r.values.count(value);
      if (r.op == "!=" || r.op == "notin") ok = !has || !r.values.count(value);
      if (!ok) return false;
    }
  }
  if (!fields.empty()) {
    for (const std::string& part : splitTop(fields)) {
      const auto eq = part.find('=');
      const bool negated = eq > 0 && part[eq - 1] == '!';
      const std::string key = trim(part.substr(0, negated ? eq - 1 : eq));
      std::string value = trim(part.substr(eq + 1));
      if (!value.empty() && value[0] == '=') value = trim(value.substr(1));
      const std::string actual = meta(object, key == "metadata.name" ? "name" : "namespace");
      if ((actual == value) == negated) return false;
    }
  }
  return true;
}

KubeTestStore::KubeTestStore() {
  resources_ = {
      {"", "v1", "namespaces", "namespace", "Namespace", false, true, {"ns"}},
      {"", "v1", "pods", "pod", "Pod", true, true, {"po"}},
      {"", "v1", "services", "service", "Service", true, true, {"svc"}},
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, {"sa"}},
      {"", "v1", "nodes", "node", "Node", false, true, {"no"}},
      {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, false, {}},
      {"networking.k8s.io",
       "v1",
       "networkpolicies",
       "networkpolicy",
       "NetworkPolicy",
       true,
       false,
       {"netpol"}},
      {"apiextensions.k8s.io",
       "v1",
       "customresourcedefinitions",
       "customresourcedefinition",
       "CustomResourceDefinition",
       false,
       true,
       {"crd", "crds"}},
  };
}

std::vector<ApiResource> KubeTestStore::resources() const {
  std::lock_guard lock(mutex_);
  return resources_;
}

std::optional<ApiResource> KubeTestStore::find(const std::string& group, const std::string& version,
                                               const std::string& plural) const {
  std::lock_guard lock(mutex_);
  for (const ApiResource& r : resources_) {
    if (r.group == group && r.version == version && r.plural == plural) return r;
  }
  return std::nullopt;
}

int64_t KubeTestStore::revision() const {
  std::lock_guard lock(mutex_);
  return revision_;
}

void KubeTestStore::compact() {
  std::lock_guard lock(mutex_);
  history_.clear();
  compacted_ = revision_;
}

std::string KubeTestStore::objectPath(const ApiResource& r, const std::string& ns,
                                      const std::string& name) const {
  return r.namespaced ? r.plural + " \"" + name + "\" in namespace \"" + ns + "\""
                      : r.plural + " \"" + name + "\"";
}

void KubeTestStore::record(const ApiResource& r, const std::string& type, const Json& object,
                           const Json& previous) {
  history_.push_back({revision_, r.id(), type, object, previous});
  changed_.notify_all();
}

ApiOutcome KubeTestStore::get(const ApiResource& r, const std::string& ns, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& objects = objects_[r.id()];
  auto it = objects.find({r.namespaced ? ns : "", name});
  if (it == objects.end()) return fail(404, "NotFound", objectPath(r, ns, name) + " not found");
  return {200, it->second};
}

ApiOutcome KubeTestStore::list(const ApiResource& r, const std::string& ns, const Selector& selector,
                               int64_t limit, const std::string& continueToken) {
  std::lock_guard lock(mutex_);
  int64_t at = revision_;
  ObjectKey after;
  if (!continueToken.empty()) {
    // The token names the snapshot's revision and the last key served.
    auto decoded = hexDecode(continueToken);
    Json token = decoded ? Json::parse(*decoded, nullptr, false) : Json();
    if (!token.is_object() || !token.contains("rv") || !token["rv"].is_number_integer() ||
        !token.contains("ns") || !token.contains("name")) {
      return fail(400, "BadRequest", "continue key is not valid");
    }
    at = token["rv"].get<int64_t>();
    after = {token["ns"].get<std::string>(), token["name"].get<std::string>()};
    if (at < compacted_) {
      return fail(
          410, "Expired",
          "The provided continue parameter is too old to display a consistent list result. You can start "
          "a new list without the continue parameter.");
    }
  }
  // The snapshot at `at`: today's objects with every later change undone, newest first.
  std::map<ObjectKey, Json> snapshot = objects_[r.id()];
  for (auto e = history_.rbegin(); e != history_.rend() && e->revision > at; ++e) {
    if (e->resource != r.id()) continue;
    const ObjectKey key{meta(e->object, "namespace"), meta(e->object, "name")};
    if (e->type == "ADDED") {
      snapshot.erase(key);
    } else {
      snapshot[key] = e->previous;
    }
  }
  Json items = Json::array();
  std::string next;
  for (auto it = continueToken.empty() ? snapshot.begin() : snapshot.upper_bound(after); it != snapshot.end();
       ++it) {
    if (r.namespaced && !ns.empty() && it->first.first != ns) continue;
    if (!selector.matches(it->second)) continue;
    if (limit > 0 && static_cast<int64_t>(items.size()) == limit) {
      Json token = {{"rv", at},
                    {"ns", items.back()["metadata"].value("namespace", "")},
                    {"name", items.back()["metadata"]["name"]}};
      next = hexEncode(token.dump());
      break;
    }
    items.push_back(it->second);
  }
  Json metadata = {{"resourceVersion", std::to_string(at)}};
  if (!next.empty()) metadata["continue"] = next;
  return {
      200,
      {{"kind", r.kind + "List"}, {"apiVersion", r.apiVersion()}, {"metadata", metadata}, {"items", items}}};
}

ApiOutcome KubeTestStore::create(const ApiResource& r, const std::string& ns, Json object) {
  std::lock_guard lock(mutex_);
  return createLocked(r, ns, std::move(object));
}

ApiOutcome KubeTestStore::createLocked(const ApiResource& r, const std::string& ns, Json object) {
  if (!object.is_object()) return fail(400, "BadRequest", "the body is not a JSON object");
  if (object.value("kind", r.kind) != r.kind ||
      object.value("apiVersion", r.apiVersion()) != r.apiVersion()) {
    return fail(400, "BadRequest", "the body is not a " + r.kind + " of " + r.apiVersion());
  }
  object["kind"] = r.kind;
  object["apiVersion"] = r.apiVersion();
  if (!object.contains("metadata") || !object["metadata"].is_object()) object["metadata"] = Json::object();
  Json& m = object["metadata"];
  std::string name = meta(object, "name");
  if (name.empty() && !meta(object, "generateName").empty()) {
    name = meta(object, "generateName") + std::to_string(10000 + uid_);
  }
  if (name.empty())
    return fail(422, "Invalid", r.kind + " is invalid: metadata.name: Required value: name is required");
  if (r.namespaced) {
    if (!meta(object, "namespace").empty() && meta(object, "namespace") != ns) {
      return fail(400, "BadRequest",
                  "the namespace of the provided object does not match the namespace sent on the request");
    }
    if (!objects_["/namespaces"].count({"", ns}))
      return fail(404, "NotFound", "namespaces \"" + ns + "\" not found");
  }
  const ObjectKey key{r.namespaced ? ns : "", name};
  auto& objects = objects_[r.id()];
  if (objects.count(key)) return fail(409, "AlreadyExists", objectPath(r, ns, name) + " already exists");
  if (r.id() == "apiextensions.k8s.io/customresourcedefinitions") {
    if (auto problem = registerCrd(object)) return fail(422, "Invalid", *problem);
  }
  if (r.statusSubresource && r.kind != "CustomResourceDefinition") object.erase("status");
  if (auto invalid = schemaProblem(r, object)) return fail(422, "Invalid", *invalid);
  m["name"] = name;
  if (r.namespaced) m["namespace"] = ns;
  m["uid"] = "00000000-0000-4000-8000-" + std::to_string(100000000000 + ++uid_);
  m["creationTimestamp"] = now();
  m["generation"] = 1;
  m["resourceVersion"] = std::to_string(++revision_);
  if (r.kind == "CustomResourceDefinition") {
    object["status"] = {
        {"acceptedNames", object["spec"]["names"]},
        {"conditions",
         {{{"type", "NamesAccepted"}, {"status", "True"}, {"reason", "NoConflicts"}},
          {{"type", "Established"}, {"status", "True"}, {"reason", "InitialNamesAccepted"}}}}};
  }
  objects[key] = object;
  record(r, "ADDED", object, nullptr);
  return {201, object};
}

ApiOutcome KubeTestStore::update(const ApiResource& r, const std::string& ns, const std::string& name,
                                 Json object, bool statusOnly) {
  std::lock_guard lock(mutex_);
  return writeLocked(r, ns, name, std::move(object), statusOnly);
}

ApiOutcome KubeTestStore::writeLocked(const ApiResource& r, const std::string& ns, const std::string& name,
                                      Json object, bool statusOnly) {
  if (!object.is_object()) return fail(400, "BadRequest", "the body is not a JSON object");
  auto& objects = objects_[r.id()];
  auto it = objects.find({r.namespaced ? ns : "", name});
  if (it == objects.end()) return fail(404, "NotFound", objectPath(r, ns, name) + " not found");
  const Json& stored = it->second;
  if (!meta(object, "name").empty() && meta(object, "name") != name) {
    return fail(400, "BadRequest",
                "the name of the object (" + meta(object, "name") + ") does not match the name on the URL (" +
                    name + ")");
  }
  const std::string expected = meta(object, "resourceVersion");
  if (!expected.empty() && expected != meta(stored, "resourceVersion")) {
    return fail(409, "Conflict",
                "Operation cannot be fulfilled on " + objectPath(r, ns, name) +
                    ": the object has been modified; please apply your changes to the latest "
                    "version and try again");
  }
  Json next;
  if (statusOnly) {
    next = stored;
    if (object.contains("status")) {
      next["status"] = object["status"];
    } else {
      next.erase("status");
    }
  } else {
    next = object;
    next["kind"] = r.kind;
    next["apiVersion"] = r.apiVersion();
    if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = Json::object();
    for (const char* kept : {"name", "namespace", "uid", "creationTimestamp"}) {
      if (stored["metadata"].contains(kept)) next["metadata"][kept] = stored["metadata"][kept];
    }
    next["metadata"]["generation"] = stored["metadata"].value("generation", 1);
    if (r.statusSubresource) {
      if (stored.contains("status")) {
        next["status"] = stored["status"];
      } else {
        next.erase("status");
      }
    }
    if (auto invalid = schemaProblem(r, next)) return fail(422, "Invalid", *invalid);
    if (next.value("spec", Json()) != stored.value("spec", Json())) {
      next["metadata"]["generation"] = stored["metadata"].value("generation", 1) + 1;
    }
  }
  next["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"];
  if (next == stored) return {200, stored};  // a no-op update writes nothing
  next["metadata"]["resourceVersion"] = std::to_string(++revision_);
  Json previous = stored;
  it->second = next;
  record(r, "MODIFIED", next, previous);
  return {200, next};
}

ApiOutcome KubeTestStore::patch(const ApiResource& r, const std::string& ns, const std::string& name,
                                const std::string& contentType, const std::string& body, bool statusOnly) {
  std::lock_guard lock(mutex_);
  auto& objects = objects_[r.id()];
  auto it = objects.find({r.namespaced ? ns : "", name});
  if (it == objects.end()) return fail(404, "NotFound", objectPath(r, ns, name) + " not found");
  Json patch = Json::parse(body, nullptr, false);
  if (patch.is_discarded()) return fail(400, "BadRequest", "the patch is not JSON");
  Json patched = it->second;
  const std::string type = contentType.substr(0, contentType.find(';'));
  if (type == "application/merge-patch+json") {
    if (!patch.is_object()) return fail(400, "BadRequest", "a merge patch must be a JSON object");
    patched.merge_patch(patch);
  } else if (type == "application/json-patch+json") {
    try {
      patched = patched.patch(patch);
    } catch (const Json::exception& e) {
      return fail(422, "Invalid", std::string("the JSON patch cannot be applied: ") + e.what());
    }
  } else {
    return fail(415, "UnsupportedMediaType", "the patch type " + type + " is not supported here");
  }
  return writeLocked(r, ns, name, std::move(patched), statusOnly);
}

ApiOutcome KubeTestStore::remove(const ApiResource& r, const std::string& ns, const std::string& name,
                                 const Json& options) {
  std::lock_guard lock(mutex_);
  auto& objects = objects_[r.id()];
  auto it = objects.find({r.namespaced ? ns : "", name});
  if (it == objects.end()) return fail(404, "NotFound", objectPath(r, ns, name) + " not found");
  if (options.is_object() && options.contains("preconditions") && options["preconditions"].is_object()) {
    const Json& pre = options["preconditions"];
    for (const char* field : {"uid", "resourceVersion"}) {
      if (pre.contains(field) && pre[field].is_string() &&
          pre[field].get<std::string>() != meta(it->second, field)) {
        return fail(409, "Conflict",
                    std::string("Precondition failed: ") +
                        (field == std::string("uid") ? "UID" : "ResourceVersion") +
                        " in precondition: " + pre[field].get<std::string>() + ", " +
                        (field == std::string("uid") ? "UID" : "ResourceVersion") +
                        " in object meta: " + meta(it->second, field));
      }
    }
  }
  return removeLocked(r, ns, name);
}

ApiOutcome KubeTestStore::removeLocked(const ApiResource& r, const std::string& ns, const std::string& name) {
  auto& objects = objects_[r.id()];
  auto it = objects.find({r.namespaced ? ns : "", name});
  Json last = it->second;
  if (r.kind == "Namespace") {
    // Its contents go first, as the namespace controller would take them.
    for (const ApiResource& other : resources_) {
      if (!other.namespaced) continue;
      std::vector<std::string> names;
      for (const auto& [key, object] : objects_[other.id()]) {
        if (key.first == name) names.push_back(key.second);
      }
      for (const std::string& n : names) removeLocked(other, name, n);
    }
  }
  if (r.kind == "CustomResourceDefinition") unregisterCrd(last);
  objects_[r.id()].erase({r.namespaced ? ns : "", name});
  ++revision_;
  Json deleted = last;
  deleted["metadata"]["resourceVersion"] = std::to_string(revision_);
  record(r, "DELETED", deleted, last);
  return {200, deleted};
}

std::optional<std::string> KubeTestStore::registerCrd(const Json& crd) {
  const Json spec = crd.value("spec", Json::object());
  const Json names = spec.value("names", Json::object());
  const std::string group = spec.value("group", "");
  const std::string plural = names.value("plural", "");
  const std::string kind = names.value("kind", "");
  const std::string scope = spec.value("scope", "");
  if (group.empty() || plural.empty() || kind.empty())
    return "spec.group, spec.names.plural and spec.names.kind are required";
  if (scope != "Namespaced" && scope != "Cluster") return "spec.scope: must be Namespaced or Cluster";
  if (meta(crd, "name") != plural + "." + group)
    return "metadata.name: must be spec.names.plural+\".\"+spec.group";
  if (!spec.contains("versions") || !spec["versions"].is_array() || spec["versions"].empty()) {
    return "spec.versions: must have at least one version";
  }
  for (const Json& v : spec["versions"]) {
    if (!v.value("served", false)) continue;
    ApiResource r{group,
                  v.value("name", ""),
                  plural,
                  names.value("singular", ""),
                  kind,
                  scope == "Namespaced",
                  v.contains("subresources") && v["subresources"].contains("status"),
                  {},
                  v.contains("schema") ? v["schema"].value("openAPIV3Schema", Json()) : Json(),
                  v.value("additionalPrinterColumns", Json())};
    if (names.contains("shortNames")) r.shortNames = names["shortNames"].get<std::vector<std::string>>();
    resources_.push_back(std::move(r));
  }
  return std::nullopt;
}

void KubeTestStore::unregisterCrd(const Json& crd) {
  const std::string group = crd["spec"].value("group", "");
  const std::string plural = crd["spec"]["names"].value("plural", "");
  ApiResource r;
  for (const ApiResource& candidate : resources_) {
    if (candidate.group == group && candidate.plural == plural) r = candidate;
  }
  std::vector<ObjectKey> keys;
  for (const auto& [key, object] : objects_[r.id()]) keys.push_back(key);
  for (const auto& key : keys) removeLocked(r, key.first, key.second);
  std::erase_if(resources_, [&](const ApiResource& x) { return x.group == group && x.plural == plural; });
}

std::optional<KubeTestStore::Changes> KubeTestStore::changesAfter(const std::string& resource,
                                                                  int64_t revision,
                                                                  std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (revision < compacted_) return std::nullopt;
  if (revision_ <= revision) changed_.wait_for(lock, wait, [&] { return revision_ > revision; });
  if (revision < compacted_) return std::nullopt;
  Changes out;
  auto first = std::upper_bound(history_.begin(), history_.end(), revision,
                                [](int64_t rv, const StoredEvent& e) { return rv < e.revision; });
  for (auto e = first; e != history_.end(); ++e) {
    if (e->resource == resource) out.events.push_back(*e);
  }
  out.revision = std::max(revision, revision_);
  return out;
}

std::pair<std::vector<Json>, int64_t> KubeTestStore::snapshot(const ApiResource& r, const std::string& ns) {
  std::lock_guard lock(mutex_);
  std::vector<Json> out;
  for (const auto& [key, object] : objects_[r.id()]) {
    if (!r.namespaced || ns.empty() || key.first == ns) out.push_back(object);
  }
  return {out, revision_};
}

}  // namespace tartan::test
