// kube_test_table.cpp — see kube_test_table.hpp.
#include "support/kube_test_table.hpp"

#include <ctime>
#include <string>

namespace tartan::test {

namespace {

using Json = nlohmann::json;

Json atPath(const Json& object, const std::string& path) {
  const Json* at = &object;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('.', start);
    if (end == std::string::npos) end = path.size();
    const std::string key = path.substr(start, end - start);
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
    start = end + 1;
  }
  return *at;
}

std::string age(const Json& timestamp) {
  if (!timestamp.is_string()) return "<unknown>";
  std::tm tm{};
  if (::strptime(timestamp.get<std::string>().c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr)
    return "<invalid>";
  const long seconds = std::max(0L, static_cast<long>(std::time(nullptr) - ::timegm(&tm)));
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

}  // namespace

Json printerTable(const Json& columns, const Json& result) {
  Json definitions = Json::array(
      {{{"name", "Name"}, {"type", "string"}, {"format", "name"}, {"description", "Name"}, {"priority", 0}}});
  for (const Json& c : columns) {
    definitions.push_back({{"name", c.value("name", "")},
                           {"type", c.value("type", "string")},
                           {"format", c.value("format", "")},
                           {"description", c.value("description", "")},
                           {"priority", c.value("priority", 0)}});
  }
  Json rows = Json::array();
  const Json items = result.contains("items") ? result["items"] : Json::array({result});
  for (const Json& item : items) {
    Json cells = Json::array({item["metadata"].value("name", "")});
    for (const Json& c : columns) {
      const Json value = atPath(item, c.value("jsonPath", ""));
      cells.push_back(c.value("type", "") == "date" ? Json(age(value)) : value);
    }
    rows.push_back({{"cells", cells},
                    {"object",
                     {{"kind", "PartialObjectMetadata"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", item.value("metadata", Json::object())}}}});
  }
  Json metadata = Json::object();
  if (result.contains("metadata") && result["metadata"].contains("resourceVersion")) {
    metadata["resourceVersion"] = result["metadata"]["resourceVersion"];
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", metadata},
          {"columnDefinitions", definitions},
          {"rows", rows}};
}

}  // namespace tartan::test
