// report.cpp — calicoctl's IPAM check report: made from a check, written and read as its JSON,
// and several reports merged into what release --from-report frees.
#include "tartan/ipam/check.hpp"

#include "store.hpp"

#include <nlohmann/json.hpp>

namespace tartan::ipam {

namespace {

using Json = nlohmann::ordered_json;

Json allocationJson(const CheckedAllocation& a) {
  Json j;
  j["ip"] = a.ip;
  if (!a.handle.empty()) j["handle"] = a.handle;
  if (a.sequenceNumber) j["sequenceNumber"] = *a.sequenceNumber;
  const std::pair<const char*, const std::string*> optional[] = {{"pod", &a.pod},
                                                                 {"namespace", &a.namespaceName},
                                                                 {"node", &a.node},
                                                                 {"type", &a.type},
                                                                 {"creationTimestamp", &a.creationTimestamp}};
  for (const auto& [key, value] : optional) {
    if (!value->empty()) j[key] = *value;
  }
  j["inUse"] = a.inUse;
  if (a.borrowed) j["borrowed"] = true;
  j["owners"] = a.owners.empty() ? Json(nullptr) : Json(a.owners);
  return j;
}

// Reading: a field that is there must have its type; one that is missing is its zero value, as
// Go's encoding/json reads it.
class Reader {
 public:
  explicit Reader(const std::string& source) : source_(source) {}

  Error error(const std::string& field, const std::string& what) const {
    return makeError(source_, field, what);
  }

  template <class T>
  std::optional<Error> get(const Json& object, const char* key, const std::string& path, T& out) const {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return std::nullopt;
    const std::string field = path.empty() ? key : path + "." + key;
    if constexpr (std::is_same_v<T, std::string>) {
      if (!it->is_string()) return error(field, "not a string");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!it->is_boolean()) return error(field, "not true or false");
    } else {
      if (!it->is_number_unsigned()) return error(field, "not a whole number");
    }
    out = it->template get<T>();
    return std::nullopt;
  }

 private:
  std::string source_;
};

}  // namespace

ClusterMeta clusterMeta(const std::optional<Revisioned<model::ClusterInformation>>& info) {
  ClusterMeta meta;
  if (!info) return meta;
  meta.guid = info->value.spec.clusterGUID;
  meta.type = info->value.spec.clusterType;
  meta.revision = std::to_string(info->revision);
  meta.datastoreLocked = info->value.spec.datastoreReady == false;
  return meta;
}

IpamResult<ClusterMeta> readClusterMeta(datastore::Datastore& store) {
  auto info = read<model::ClusterInformation>(store, "default");
  if (!info) return info.error();
  if (!*info) return ClusterMeta{};
  return clusterMeta(Revisioned<model::ClusterInformation>{(*info)->value, (*info)->revision});
}

CheckReport makeReport(const ClusterMeta& cluster, const CheckResult& result, std::string version) {
  CheckReport report;
  report.version = std::move(version);
  report.clusterGUID = cluster.guid;
  report.datastoreLocked = cluster.datastoreLocked;
  report.clusterInformationRevision = cluster.revision;
  report.clusterType = cluster.type;
  report.allocations = result.allocations;
  report.leakedHandles = result.leakedHandles;
  return report;
}

std::string encodeReport(const CheckReport& report) {
  Json j;
  j["version"] = report.version;
  j["clusterGUID"] = report.clusterGUID;
  j["datastoreLocked"] = report.datastoreLocked;
  j["clusterInformationRevision"] = report.clusterInformationRevision;
  j["clusterType"] = report.clusterType;
  Json allocations = Json::object();
  for (const auto& [ip, list] : report.allocations) {
    Json items = Json::array();
    for (const auto& a : list) items.push_back(allocationJson(a));
    allocations[ip] = std::move(items);
  }
  j["allocations"] = std::move(allocations);
  if (!report.leakedHandles.empty()) {
    Json handles = Json::array();
    for (const auto& h : report.leakedHandles) {
      handles.push_back(
          Json{{"ID", h.id}, {"UID", h.uid ? Json(*h.uid) : Json(nullptr)}, {"Revision", h.revision}});
    }
    j["leakedHandles"] = std::move(handles);
  }
  // Bytes that are not UTF-8 (a hand-edited store) are replaced rather than refused.
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

Result<CheckReport> decodeReport(std::string_view text, const std::string& source) {
  Json j = Json::parse(text, nullptr, false);
  Reader r(source);
  if (j.is_discarded()) return r.error("", "not JSON");
  if (!j.is_object()) return r.error("", "not a JSON object");
  CheckReport report;
  for (auto e : {r.get(j, "version", "", report.version), r.get(j, "clusterGUID", "", report.clusterGUID),
                 r.get(j, "datastoreLocked", "", report.datastoreLocked),
                 r.get(j, "clusterInformationRevision", "", report.clusterInformationRevision),
                 r.get(j, "clusterType", "", report.clusterType)}) {
    if (e) return *e;
  }
  if (auto it = j.find("allocations"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return r.error("allocations", "not an object");
    for (const auto& [ip, list] : it->items()) {
      const std::string path = "allocations[" + ip + "]";
      if (!list.is_array()) return r.error(path, "not a list");
      for (size_t i = 0; i < list.size(); ++i) {
        const Json& item = list[i];
        const std::string at = path + "[" + std::to_string(i) + "]";
        if (!item.is_object()) return r.error(at, "not an object");
        CheckedAllocation a;
        uint64_t sequence = 0;
        for (auto e :
             {r.get(item, "ip", at, a.ip), r.get(item, "handle", at, a.handle), r.get(item, "pod", at, a.pod),
              r.get(item, "namespace", at, a.namespaceName), r.get(item, "node", at, a.node),
              r.get(item, "type", at, a.type), r.get(item, "creationTimestamp", at, a.creationTimestamp),
              r.get(item, "inUse", at, a.inUse), r.get(item, "borrowed", at, a.borrowed),
              r.get(item, "sequenceNumber", at, sequence)}) {
          if (e) return *e;
        }
        if (item.contains("sequenceNumber") && !item["sequenceNumber"].is_null()) a.sequenceNumber = sequence;
        if (a.ip.empty()) return r.error(at + ".ip", "missing");
        if (!parseAddress(a.ip)) return r.error(at + ".ip", "\"" + a.ip + "\" is not an IP address");
        if (auto owners = item.find("owners"); owners != item.end() && !owners->is_null()) {
          if (!owners->is_array()) return r.error(at + ".owners", "not a list");
          for (const auto& o : *owners) {
            if (!o.is_string()) return r.error(at + ".owners", "not a list of strings");
            a.owners.push_back(o.get<std::string>());
          }
        }
        report.allocations[ip].push_back(std::move(a));
      }
    }
  }
  if (auto it = j.find("leakedHandles"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return r.error("leakedHandles", "not a list");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      const std::string at = "leakedHandles[" + std::to_string(i) + "]";
      if (!item.is_object()) return r.error(at, "not an object");
      HandleInfo h;
      std::string uid;
      for (auto e : {r.get(item, "ID", at, h.id), r.get(item, "Revision", at, h.revision),
                     r.get(item, "UID", at, uid)}) {
        if (e) return *e;
      }
      if (h.id.empty()) return r.error(at + ".ID", "missing");
      if (item.contains("UID") && !item["UID"].is_null()) h.uid = uid;
      report.leakedHandles.push_back(std::move(h));
    }
  }
  return report;
}

ReleasePlan mergeReports(const std::vector<CheckReport>& reports) {
  std::optional<std::map<std::string, ReleaseOptions>> addresses;
  std::optional<std::map<std::string, HandleInfo>> handles;
  for (const CheckReport& report : reports) {
    std::map<std::string, ReleaseOptions> merged;
    for (const auto& [ip, list] : report.allocations) {
      for (const auto& a : list) {
        if (a.inUse) continue;
        if (addresses && !addresses->count(a.ip)) continue;
        ReleaseOptions options{a.ip, std::nullopt, a.sequenceNumber};
        if (!a.handle.empty()) options.handleID = a.handle;
        merged[a.ip] = std::move(options);
      }
    }
    addresses = std::move(merged);
    std::map<std::string, HandleInfo> kept;
    for (const auto& h : report.leakedHandles) {
      // The first report names the candidates; each later one keeps those unchanged in it.
      auto old = handles ? handles->find(h.id) : std::map<std::string, HandleInfo>::iterator{};
      if (!handles || (old != handles->end() && old->second.revision == h.revision)) kept[h.id] = h;
    }
    handles = std::move(kept);
  }
  ReleasePlan plan;
  if (addresses) {
    for (auto& [ip, options] : *addresses) plan.addresses.push_back(std::move(options));
  }
  if (handles) {
    for (auto& [id, h] : *handles) plan.handles.push_back(std::move(h));
  }
  return plan;
}

}  // namespace tartan::ipam
