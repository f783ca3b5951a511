// openapi_schema.cpp — see openapi_schema.hpp.
#include "support/openapi_schema.hpp"

#include <regex>

namespace tartan::test {

namespace {

using Json = nlohmann::json;

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

const char* typeOf(const Json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number()) return "number";
  if (value.is_string()) return "string";
  if (value.is_boolean()) return "boolean";
  if (value.is_object()) return "object";
  if (value.is_array()) return "array";
  return "null";
}

bool hasType(const Json& value, const std::string& type) {
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return false;
}

void check(const Json& schema, Json& value, const std::string& path, SchemaCheck& out) {
  if (value.is_null()) {
    if (!schema.value("nullable", false))
      out.errors.push_back(path + ": Invalid value: \"null\": " + path + " in body must not be null");
    return;
  }
  if (schema.value("x-kubernetes-int-or-string", false)) {
    if (!value.is_number_integer() && !value.is_string()) {
      out.errors.push_back(path + ": Invalid value: \"" + typeOf(value) + "\": " + path +
                           " in body must be of type integer-or-string: " + value.dump());
    }
    return;
  }
  const std::string type = schema.value("type", "");
  if (!type.empty() && !hasType(value, type)) {
    out.errors.push_back(path + ": Invalid value: \"" + typeOf(value) + "\": " + path +
                         " in body must be of type " + type + ": " + value.dump());
    return;
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    std::string supported;
    for (const Json& allowed : schema["enum"]) supported += (supported.empty() ? "" : ", ") + allowed.dump();
    out.errors.push_back(path + ": Unsupported value: " + value.dump() + ": supported values: " + supported);
  }
  if (schema.contains("pattern") && value.is_string()) {
    std::string pattern = schema["pattern"];
    auto flags = std::regex::ECMAScript;
    if (const auto at = pattern.find("(?i)"); at != std::string::npos) {
      pattern.erase(at, 4);
      flags |= std::regex::icase;
    }
    if (!std::regex_search(value.get<std::string>(), std::regex(pattern, flags))) {
      out.errors.push_back(path + ": Invalid value: " + value.dump() + ": " + path +
                           " in body should match '" + schema["pattern"].get<std::string>() + "'");
    }
  }
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
      out.errors.push_back(path + ": Invalid value: " + value.dump() + ": " + path +
                           " in body should be greater than or equal to " + schema["minimum"].dump());
    }
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
      out.errors.push_back(path + ": Invalid value: " + value.dump() + ": " + path +
                           " in body should be less than or equal to " + schema["maximum"].dump());
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      check(schema["items"], value[i], path + "[" + std::to_string(i) + "]", out);
    }
  }
  if (!value.is_object()) return;
  for (const Json& name : schema.value("required", Json::array())) {
    if (!value.contains(name.get<std::string>()) || value[name.get<std::string>()].is_null()) {
      out.errors.push_back(join(path, name.get<std::string>()) + ": Required value");
    }
  }
  const bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
  const Json properties = schema.value("properties", Json::object());
  std::vector<std::string> unknown;
  for (auto& [key, item] : value.items()) {
    const std::string at = join(path, key);
    if (path.empty() && key == "metadata") continue;  // the API server's own
    if (properties.contains(key)) {
      check(properties[key], item, at, out);
    } else if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
      check(schema["additionalProperties"], item, at, out);
    } else if (!preserve) {
      unknown.push_back(key);
      out.unknownFields.push_back(at);
    }
  }
  for (const std::string& key : unknown) value.erase(key);
}

}  // namespace

SchemaCheck checkAgainstSchema(const Json& schema, Json& object) {
  SchemaCheck out;
  check(schema, object, "", out);
  return out;
}

}  // namespace tartan::test
