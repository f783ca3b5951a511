// patch and label: read one resource, change its JSON document, decode the result as strictly as
// apply decodes a manifest, and write it back guarded by the revision that was read. A conflict
// (someone wrote in between) reads again and changes the new version, up to kMaxAttempts times;
// a resourceVersion the patch itself sets is a lock of the caller's, never retried.
#include "cli.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <ostream>
#include <set>

namespace tartan::cli {

namespace {

using Json = nlohmann::json;

constexpr int kMaxAttempts = 10;

// nlohmann's messages without their "[json.exception.type.N] " prefix.
std::string plain(const std::exception& e) {
  std::string what = e.what();
  if (what.starts_with("[json.exception.")) {
    if (auto end = what.find("] "); end != std::string::npos) what = what.substr(end + 2);
  }
  return what;
}

// Changes the document in place; returns what is wrong with the change, if anything.
using Change = std::function<std::optional<std::string>(Json& document)>;

int mutate(const Context& ctx, const KindArg& target, const std::string& namespaceName,
           const std::string& verb, const std::string& done, const Change& change) {
  auto store = ctx.openStore();
  if (!store) return 1;
  const auto key = keyOf(target.kind, namespaceName, *target.name);
  const std::string what =
      std::string(model::kindName(target.kind)) + " \"" + *target.name + "\"" +
      (model::isNamespaced(target.kind) ? " in namespace \"" + namespaceName + "\"" : "");
  for (int attempt = 1;; ++attempt) {
    auto stored = store->get(key);
    if (!stored) {
      if (stored.error().kind == datastore::ErrorKind::NotFound) return ctx.fail(what + " not found");
      return ctx.fail(stored.error().toString());
    }
    auto current = decodeStored(*stored);
    if (!current) return ctx.fail(current.error().toString());
    const std::string readVersion = std::to_string(stored->revision);

    Json document = Json::parse(model::encodeJson(*current));
    if (auto problem = change(document)) return ctx.fail(*problem + "; nothing was written");
    if (!document.is_object())
      return ctx.fail(verb + " of " + what + ": the result is not an object; nothing was written");

    // What a resource is, is not the patch's to change.
    const Json before = Json::parse(model::encodeJson(*current));
    for (const char* field : {"kind", "metadata.name", "metadata.namespace"}) {
      std::string pointerText = std::string("/") + field;
      std::replace(pointerText.begin(), pointerText.end(), '.', '/');
      const Json::json_pointer pointer(pointerText);
      const Json was = before.contains(pointer) ? before.at(pointer) : Json();
      const Json is = document.contains(pointer) ? document.at(pointer) : Json();
      if (was != is)
        return ctx.fail(verb + " of " + what + " changes " + field + " from " + was.dump() + " to " +
                        is.dump() + ": delete and create to rename or move; nothing was written");
    }

    // A resourceVersion the patch sets is the revision the write must find.
    int64_t expected = stored->revision;
    bool locked = false;
    const Json::json_pointer versionPointer("/metadata/resourceVersion");
    if (document.contains(versionPointer) && document.at(versionPointer) != Json(readVersion)) {
      const Json& version = document.at(versionPointer);
      try {
        expected = std::stoll(version.get<std::string>());
        locked = true;
      } catch (...) {
        return ctx.fail(verb + " of " + what + ": metadata.resourceVersion " + version.dump() +
                        " is not a revision; nothing was written");
      }
    }

    const std::string source = done + " " + key.toString();
    auto decoded = model::decode(document.dump(2), source);
    if (!decoded.ok()) {
      for (const auto& error : decoded.errors) *ctx.err << "tartanctl: " << error.toString() << "\n";
      return ctx.fail("the " + verb + " makes " + what + " invalid; nothing was written");
    }
    if (decoded.resources.size() != 1 || model::kindOf(decoded.resources.front()) != target.kind)
      return ctx.fail(verb + " of " + what + " changes its apiVersion to another kind; nothing was written");
    auto& updated = decoded.resources.front();

    if (storedDocument(updated, *current) == storedDocument(*current, *current)) {
      if (locked && expected != stored->revision)
        return ctx.fail("conflict: " + key.toString() + " is at revision " + readVersion + ", not " +
                        std::to_string(expected) + "; nothing was written");
      *ctx.out << "Successfully " << done << " " << what << " (no change)\n";
      return 0;
    }
    auto written = store->update(key, storedDocument(updated, *current), expected);
    if (written) {
      *ctx.out << "Successfully " << done << " " << what << "\n";
      return 0;
    }
    const auto& error = written.error();
    if (error.kind == datastore::ErrorKind::Conflict && !locked && attempt < kMaxAttempts) continue;
    if (error.kind == datastore::ErrorKind::Conflict)
      return ctx.fail("conflict: " + error.toString() +
                      (locked ? " (metadata.resourceVersion given)"
                              : " (changed by another writer " + std::to_string(attempt) + " times)") +
                      "; nothing was written");
    return ctx.fail(error.toString() + "; nothing was written");
  }
}

// RFC 6902: add, remove, replace, move, copy and test, applied in order; the first that fails
// stops the patch.
std::optional<std::string> applyJsonPatch(Json& document, const Json& patch) {
  if (!patch.is_array()) return "-p: a JSON patch (--type json) is a list of operations";
  static const std::set<std::string> kOps = {"add", "remove", "replace", "move", "copy", "test"};
  for (size_t i = 0; i < patch.size(); ++i) {
    const Json& op = patch[i];
    const std::string where = "-p: operation " + std::to_string(i);
    if (!op.is_object()) return where + ": not an object";
    if (!op.contains("op") || !op["op"].is_string() || !kOps.count(op["op"].get<std::string>()))
      return where + ": \"op\" must be add, remove, replace, move, copy or test";
    const std::string name = op["op"].get<std::string>();
    if (!op.contains("path") || !op["path"].is_string())
      return where + " (" + name + "): \"path\" is missing";
    const std::string path = op["path"].get<std::string>();
    const std::string named = where + " (" + name + " " + path + ")";
    if ((name == "add" || name == "replace" || name == "test") && !op.contains("value"))
      return named + ": \"value\" is missing";
    if ((name == "move" || name == "copy") && (!op.contains("from") || !op["from"].is_string()))
      return named + ": \"from\" is missing";
    try {
      if (name == "test") {
        const Json::json_pointer pointer(path);
        if (!document.contains(pointer)) return named + ": failed: nothing is there";
        if (document.at(pointer) != op["value"])
          return named + ": failed: it is " + document.at(pointer).dump() + ", not " + op["value"].dump();
        continue;
      }
      document = document.patch(Json::array({op}));
    } catch (const Json::exception& e) {
      return named + ": " + plain(e);
    }
  }
  return std::nullopt;
}

}  // namespace

int runPatch(const Context& ctx, const KindArg& target, const std::string& namespaceName,
             const std::string& patchText, PatchType type) {
  Json patch;
  try {
    patch = Json::parse(patchText);
  } catch (const Json::exception& e) {
    return ctx.fail("-p: not JSON: " + plain(e));
  }
  if (type == PatchType::kMerge && !patch.is_object())
    return ctx.fail("-p: a merge patch (RFC 7386) is a JSON object; a list of operations needs --type json");
  return mutate(ctx, target, namespaceName, "patch", "patched",
                [&](Json& document) -> std::optional<std::string> {
                  if (type == PatchType::kMerge) {
                    document.merge_patch(patch);
                    return std::nullopt;
                  }
                  return applyJsonPatch(document, patch);
                });
}

int runLabel(const Context& ctx, const KindArg& target, const std::string& namespaceName,
             const std::vector<std::string>& changes, bool overwrite) {
  std::map<std::string, std::optional<std::string>> wanted;  // key -> value, or nothing to remove
  for (const auto& change : changes) {
    std::string key;
    std::optional<std::string> value;
    if (auto equals = change.find('='); equals != std::string::npos) {
      key = change.substr(0, equals);
      value = change.substr(equals + 1);
    } else if (change.size() > 1 && change.back() == '-') {
      key = change.substr(0, change.size() - 1);
    } else {
      return ctx.fail("label \"" + change + "\": not KEY=VALUE or KEY- (to remove KEY)");
    }
    if (key.empty()) return ctx.fail("label \"" + change + "\": the key is empty");
    if (!wanted.emplace(key, value).second) return ctx.fail("label \"" + key + "\" is given twice");
  }
  if (wanted.empty()) return ctx.fail("label needs KEY=VALUE or KEY- after KIND NAME");
  std::set<std::string> warned;
  return mutate(
      ctx, target, namespaceName, "label", "labelled", [&](Json& document) -> std::optional<std::string> {
        Json& labels = document["metadata"]["labels"];
        if (labels.is_null()) labels = Json::object();
        for (const auto& [key, value] : wanted) {
          auto it = labels.find(key);
          if (!value) {
            if (it == labels.end()) {
              // Once, though a conflict runs this again.
              if (warned.insert(key).second)
                *ctx.err << "tartanctl: warning: label \"" << key << "\" is not set\n";
            } else {
              labels.erase(it);
            }
            continue;
          }
          if (it != labels.end() && *it != Json(*value) && !overwrite)
            return "label \"" + key + "\" is already " + it->dump() + "; give --overwrite to change it";
          labels[key] = *value;
        }
        if (labels.empty()) document["metadata"].erase("labels");
        return std::nullopt;
      });
}

}  // namespace tartan::cli
