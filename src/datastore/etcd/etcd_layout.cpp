// etcd_layout.cpp — Calico's etcd v3 keys and values for every kind (see etcd_layout.hpp).
#include "etcd_layout.hpp"

#include "tartan/datastore/calico_layout.hpp"
#include "tartan/model/model.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace tartan::datastore::etcd {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;
using model::Kind;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool isIpamKind(Kind kind) {
  return kind == Kind::kIPAMBlock || kind == Kind::kBlockAffinity || kind == Kind::kIPAMHandle ||
         kind == Kind::kIPAMConfiguration;
}

bool validSegment(std::string_view text) {
  return !text.empty() && text.find('/') == std::string_view::npos && text != "." && text != "..";
}

// "10.65.0.0/26" -> "10.65.0.0-26", the form Calico's IPAM keys use.
std::string cidrPathPart(std::string_view cidr) {
  std::string out(cidr);
  if (size_t slash = out.find('/'); slash != std::string::npos) out[slash] = '-';
  return out;
}

int familyOf(std::string_view cidr) { return cidr.find(':') == std::string_view::npos ? 4 : 6; }

std::string blockPath(std::string_view cidr) {
  return std::string(kIpamPrefix) + "assignment/ipv" + std::to_string(familyOf(cidr)) + "/block/" +
         cidrPathPart(cidr);
}

std::string affinityPath(std::string_view node, std::string_view cidr) {
  return std::string(kIpamPrefix) + "host/" + std::string(node) + "/ipv" + std::to_string(familyOf(cidr)) +
         "/block/" + cidrPathPart(cidr);
}

// "10.65.0.0-26" (a path's last segment) -> "10.65.0.0/26", checked.
std::optional<std::string> cidrFromPathPart(std::string_view part) {
  size_t dash = part.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string address(part.substr(0, dash));
  // inet_pton reads up to a NUL: whatever follows one would ride along unchecked.
  if (address.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos) return std::nullopt;
  std::string_view prefix = part.substr(dash + 1);
  std::array<unsigned char, 16> bytes{};
  bool v6 = address.find(':') != std::string::npos;
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), bytes.data()) != 1) return std::nullopt;
  if (prefix.empty() || prefix.size() > 3) return std::nullopt;
  int length = 0;
  for (char c : prefix) {
    if (c < '0' || c > '9') return std::nullopt;
    length = length * 10 + (c - '0');
  }
  if (length > (v6 ? 128 : 32)) return std::nullopt;
  return address + "/" + std::string(prefix);
}

// "10-65-0-0-26" -> "10.65.0.0-26"; "fd00-1---122" -> "fd00:1::-122".
std::string pathPartFromName(std::string_view name) {
  size_t dash = name.rfind('-');
  if (dash == std::string_view::npos) return std::string(name);
  std::string address(name.substr(0, dash));
  bool v4 = std::count(address.begin(), address.end(), '-') == 3 &&
            address.find_first_not_of("0123456789-") == std::string::npos;
  for (char& c : address) {
    if (c == '-') c = v4 ? '.' : ':';
  }
  return address + std::string(name.substr(dash));
}

const calico::KindLayout* layoutFor(std::string_view kind) { return calico::layoutByStorageKind(kind); }

Result<std::string> ok(std::string text) {
  return Result<std::string>(boost::system::in_place_value, std::move(text));
}

Result<model::Resource> decodeOne(std::string_view document, const std::string& where) {
  auto decoded = model::decode(document, where);
  if (!decoded.ok()) return decoded.errors.front();
  if (decoded.resources.size() != 1) return makeError(where, "", "expected one resource");
  return std::move(decoded.resources.front());
}

std::string freshUid() {
  std::random_device random;
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t word = random();
    for (size_t j = 0; j < 4; ++j) bytes[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

std::string nowRfc3339() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// ---- IPAM values, libcalico-go's model types in Go's field order ---------------------------------

std::string encodeIpam(const model::Resource& resource) {
  OrderedJson out = OrderedJson::object();
  if (const auto* block = std::get_if<model::IPAMBlock>(&resource)) {
    const model::IPAMBlockSpec& s = block->spec;
    out["cidr"] = s.cidr;
    out["affinity"] = s.affinity ? OrderedJson(*s.affinity) : OrderedJson(nullptr);
    if (s.affinityClaimTime) out["affinityClaimTime"] = *s.affinityClaimTime;
    out["strictAffinity"] = s.strictAffinity;
    OrderedJson allocations = OrderedJson::array();
    for (const auto& a : s.allocations) allocations.push_back(a ? OrderedJson(*a) : OrderedJson(nullptr));
    out["allocations"] = std::move(allocations);
    out["unallocated"] = s.unallocated;
    OrderedJson attributes = OrderedJson::array();
    for (const model::AllocationAttribute& a : s.attributes) {
      OrderedJson attribute = OrderedJson::object();
      attribute["handle_id"] = a.handleID ? OrderedJson(*a.handleID) : OrderedJson(nullptr);
      OrderedJson secondary = a.secondary.empty() ? OrderedJson(nullptr) : OrderedJson::object();
      for (const auto& [k, v] : a.secondary) secondary[k] = v;
      attribute["secondary"] = std::move(secondary);
      attributes.push_back(std::move(attribute));
    }
    out["attributes"] = std::move(attributes);
    out["deleted"] = s.deleted;
    out["sequenceNumber"] = s.sequenceNumber;
    OrderedJson sequence = OrderedJson::object();
    for (const auto& [k, v] : s.sequenceNumberForAllocation) sequence[k] = v;
    out["sequenceNumberForAllocation"] = std::move(sequence);
  } else if (const auto* affinity = std::get_if<model::BlockAffinity>(&resource)) {
    out["state"] = affinity->spec.state;
    out["deleted"] = affinity->spec.deleted == "true";
  } else if (const auto* handle = std::get_if<model::IPAMHandle>(&resource)) {
    OrderedJson blocks = OrderedJson::object();
    for (const auto& [k, v] : handle->spec.block) blocks[k] = v;
    out["block"] = std::move(blocks);
    out["deleted"] = handle->spec.deleted;
  } else if (const auto* config = std::get_if<model::IPAMConfiguration>(&resource)) {
    // Go's omitempty: a false or zero field is left out, and read back as false or zero.
    if (config->spec.strictAffinity) out["strict_affinity"] = true;
    if (config->spec.autoAllocateBlocks) out["auto_allocate_blocks"] = true;
    if (config->spec.maxBlocksPerHost != 0) out["maxBlocksPerHost"] = config->spec.maxBlocksPerHost;
  }
  return out.dump();
}

template <class T>
T field(const Json& object, const char* name, T fallback) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  return it->get<T>();
}

model::Resource decodeIpam(Kind kind, const Key& key, std::string_view path, const Json& value) {
  if (!value.is_object()) throw std::invalid_argument("not a JSON object");
  std::vector<std::string_view> parts = split(path.substr(kIpamPrefix.size()), '/');
  if (kind == Kind::kIPAMBlock) {
    model::IPAMBlock block;
    block.metadata.name = key.name;
    model::IPAMBlockSpec& s = block.spec;
    s.cidr = value.at("cidr").get<std::string>();
    if (auto it = value.find("affinity"); it != value.end() && !it->is_null())
      s.affinity = it->get<std::string>();
    if (auto it = value.find("affinityClaimTime"); it != value.end() && !it->is_null()) {
      s.affinityClaimTime = it->get<std::string>();
    }
    s.strictAffinity = field(value, "strictAffinity", false);
    for (const Json& a : value.value("allocations", Json::array())) {
      s.allocations.push_back(a.is_null() ? std::nullopt : std::optional<int>(a.get<int>()));
    }
    s.unallocated = field(value, "unallocated", std::vector<int>{});
    for (const Json& a : value.value("attributes", Json::array())) {
      model::AllocationAttribute attribute;
      if (auto it = a.find("handle_id"); it != a.end() && !it->is_null())
        attribute.handleID = it->get<std::string>();
      if (auto it = a.find("secondary"); it != a.end() && !it->is_null()) {
        for (const auto& [k, v] : it->items()) attribute.secondary[k] = v.get<std::string>();
      }
      s.attributes.push_back(std::move(attribute));
    }
    s.deleted = field(value, "deleted", false);
    s.sequenceNumber = field(value, "sequenceNumber", uint64_t{0});
    if (auto it = value.find("sequenceNumberForAllocation"); it != value.end() && !it->is_null()) {
      for (const auto& [k, v] : it->items()) s.sequenceNumberForAllocation[k] = v.get<uint64_t>();
    }
    return block;
  }
  if (kind == Kind::kBlockAffinity) {
    // host/<node>/ipv4/block/<cidr>
    model::BlockAffinity affinity;
    affinity.metadata.name = key.name;
    affinity.spec.node = std::string(parts.at(1));
    affinity.spec.type = "host";
    affinity.spec.cidr = cidrFromPathPart(parts.at(4)).value();
    affinity.spec.state = value.at("state").get<std::string>();
    affinity.spec.deleted = field(value, "deleted", false) ? "true" : "false";
    return affinity;
  }
  if (kind == Kind::kIPAMHandle) {
    model::IPAMHandle handle;
    handle.metadata.name = key.name;
    handle.spec.handleID = key.name;
    if (auto it = value.find("block"); it != value.end() && !it->is_null()) {
      for (const auto& [k, v] : it->items()) handle.spec.block[k] = v.get<int>();
    }
    handle.spec.deleted = field(value, "deleted", false);
    return handle;
  }
  model::IPAMConfiguration config;
  config.metadata.name = key.name;
  config.spec.strictAffinity = field(value, "strict_affinity", false);
  config.spec.autoAllocateBlocks = field(value, "auto_allocate_blocks", false);
  config.spec.maxBlocksPerHost = field(value, "maxBlocksPerHost", 0);
  return config;
}

}  // namespace

std::optional<std::string> cidrFromName(std::string_view name) {
  return cidrFromPathPart(pathPartFromName(name));
}

std::string nameFromCidr(std::string_view cidr) {
  std::string name(cidr);
  for (char& c : name) {
    if (c == '.' || c == ':' || c == '/') c = '-';
  }
  return name;
}

Result<std::vector<std::string>> pathsOf(const Key& key) {
  const calico::KindLayout* layout = layoutFor(key.kind);
  std::string where = "etcd key for " + key.toString();
  if (!layout) return makeError(where, "kind", "'" + key.kind + "' is not a kind Tartan stores");
  if (!validSegment(key.name)) return makeError(where, "name", "must be non-empty and hold no '/'");
  if (layout->namespaced != !key.namespace_.empty() ||
      (layout->namespaced && !validSegment(key.namespace_))) {
    return makeError(where, "namespace",
                     layout->namespaced ? "the kind is namespaced: a namespace is required"
                                        : "the kind is cluster-wide: no namespace");
  }
  switch (layout->kind) {
    case Kind::kIPAMBlock: {
      auto cidr = cidrFromName(key.name);
      if (!cidr) return makeError(where, "name", "is not a block name such as 10-65-0-0-26");
      return std::vector<std::string>{blockPath(*cidr)};
    }
    case Kind::kBlockAffinity: {
      // <node>-a-b-c-d-len: an IPv4 block is the last five parts; an IPv6 one needs a search.
      std::vector<std::string_view> parts = split(key.name, '-');
      if (parts.size() >= 6) {
        size_t cut = key.name.size();
        for (int i = 0; i < 5; ++i) cut = key.name.rfind('-', cut - 1);
        std::string_view node = std::string_view(key.name).substr(0, cut);
        std::string_view tail = std::string_view(key.name).substr(cut + 1);
        if (auto cidr = cidrFromName(tail); cidr && familyOf(*cidr) == 4) {
          return std::vector<std::string>{affinityPath(node, *cidr)};
        }
      }
      return std::vector<std::string>{};
    }
    case Kind::kIPAMHandle:
      return std::vector<std::string>{std::string(kIpamPrefix) + "handle/" + key.name};
    case Kind::kIPAMConfiguration:
      if (key.name != "default")
        return makeError(where, "name", "Calico keeps one IPAM configuration, 'default'");
      return std::vector<std::string>{std::string(kIpamPrefix) + "config"};
    default:
      break;
  }
  auto base =
      prefixOf(key.kind, layout->namespaced ? std::optional<std::string_view>(key.namespace_) : std::nullopt);
  if (!base) return base.error();
  std::vector<std::string> paths;
  if (layout->tiered) {
    for (const std::string& name : calico::storedPolicyNames(key.name)) paths.push_back(*base + name);
  } else {
    paths.push_back(*base + key.name);
  }
  return paths;
}

Result<std::string> writePathOf(const Key& key, std::string_view document) {
  if (key.kind != "BlockAffinity") {
    auto paths = pathsOf(key);
    if (!paths) return paths.error();
    return ok(paths->front());
  }
  std::string where = "etcd key for " + key.toString();
  auto resource = decodeOne(document, where);
  if (!resource) return resource.error();
  const auto* affinity = std::get_if<model::BlockAffinity>(&*resource);
  if (!affinity) return makeError(where, "kind", "the document is not a BlockAffinity");
  if (!affinity->spec.type.empty() && affinity->spec.type != "host") {
    return makeError(where, "spec.type", "Calico's etcd layout keeps host affinities only");
  }
  if (!validSegment(affinity->spec.node))
    return makeError(where, "spec.node", "must be non-empty and hold no '/'");
  if (key.name != affinity->spec.node + "-" + nameFromCidr(affinity->spec.cidr)) {
    return makeError(where, "metadata.name", "must be <spec.node>-<spec.cidr with - for . : />");
  }
  return ok(affinityPath(affinity->spec.node, affinity->spec.cidr));
}

Result<std::string> prefixOf(std::string_view kind, std::optional<std::string_view> namespace_) {
  const calico::KindLayout* layout = layoutFor(kind);
  std::string where = "etcd prefix for " + std::string(kind);
  if (!layout) return makeError(where, "kind", "'" + std::string(kind) + "' is not a kind Tartan stores");
  if (namespace_ && !layout->namespaced) return makeError(where, "namespace", "the kind is cluster-wide");
  if (namespace_ && !validSegment(*namespace_)) return makeError(where, "namespace", "must hold no '/'");
  switch (layout->kind) {
    case Kind::kIPAMBlock:
      return ok(std::string(kIpamPrefix) + "assignment/");
    case Kind::kBlockAffinity:
      return ok(affinityPrefix());
    case Kind::kIPAMHandle:
      return ok(std::string(kIpamPrefix) + "handle/");
    case Kind::kIPAMConfiguration:
      return ok(std::string(kIpamPrefix) + "config");
    default:
      break;
  }
  std::string prefix = layout->storage == calico::KubernetesStorage::kKubernetesObject
                           ? std::string(kTartanPrefix) + "kubernetes/"
                           : std::string(kResourcePrefix);
  prefix += std::string(layout->plural) + "/";
  if (namespace_) prefix += std::string(*namespace_) + "/";
  return ok(prefix);
}

std::optional<Key> keyOf(std::string_view path) {
  if (path.starts_with(kIpamPrefix)) {
    std::vector<std::string_view> parts = split(path.substr(kIpamPrefix.size()), '/');
    if (parts.size() == 1 && parts[0] == "config") return Key{"IPAMConfiguration", "", "default"};
    if (parts.size() == 2 && parts[0] == "handle" && validSegment(parts[1])) {
      return Key{"IPAMHandle", "", std::string(parts[1])};
    }
    if (parts.size() == 4 && parts[0] == "assignment" && parts[2] == "block") {
      if (auto cidr = cidrFromPathPart(parts[3])) return Key{"IPAMBlock", "", nameFromCidr(*cidr)};
    }
    if (parts.size() == 5 && parts[0] == "host" && validSegment(parts[1]) && parts[3] == "block") {
      if (auto cidr = cidrFromPathPart(parts[4])) {
        return Key{"BlockAffinity", "", std::string(parts[1]) + "-" + nameFromCidr(*cidr)};
      }
    }
    return std::nullopt;
  }
  bool calicoKind = path.starts_with(kResourcePrefix);
  std::string kubernetesPrefix = std::string(kTartanPrefix) + "kubernetes/";
  if (!calicoKind && !path.starts_with(kubernetesPrefix)) return std::nullopt;
  std::vector<std::string_view> parts =
      split(path.substr(calicoKind ? kResourcePrefix.size() : kubernetesPrefix.size()), '/');
  for (const calico::KindLayout& layout : calico::kinds()) {
    bool kubernetes = layout.storage == calico::KubernetesStorage::kKubernetesObject;
    if (kubernetes == calicoKind || isIpamKind(layout.kind) || layout.plural != parts.front()) continue;
    if (parts.size() != (layout.namespaced ? 3u : 2u)) return std::nullopt;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (!validSegment(parts[i])) return std::nullopt;
    }
    std::string name = calico::keyName(layout, parts.back());
    return Key{std::string(layout.storageKind), layout.namespaced ? std::string(parts[1]) : "",
               std::move(name)};
  }
  return std::nullopt;
}

Result<std::string> encodeValue(const Key& key, std::string_view document, const std::string* stored) {
  const calico::KindLayout* layout = layoutFor(key.kind);
  std::string where = key.toString();
  if (!layout) return makeError(where, "kind", "'" + key.kind + "' is not a kind Tartan stores");
  if (layout->storage == calico::KubernetesStorage::kKubernetesObject) {
    auto resource = decodeOne(document, where);
    if (!resource) return resource.error();
    return ok(std::string(document));
  }
  if (isIpamKind(layout->kind)) {
    auto resource = decodeOne(document, where);
    if (!resource) return resource.error();
    if (model::kindOf(*resource) != layout->kind)
      return makeError(where, "kind", "the document is of another kind");
    return ok(encodeIpam(*resource));
  }
  auto object = calico::toV3Object(document, where);
  if (!object) return object.error();
  Json& metadata = (*object)["metadata"];
  if (metadata.value("name", std::string()) != key.name ||
      metadata.value("namespace", std::string()) != key.namespace_) {
    return makeError(where, "metadata", "the document's name and namespace differ from its key");
  }
  // Calico's client gives every resource a uid and a creation time when it is created, and keeps
  // them on every update.
  Json previous = stored ? Json::parse(*stored, nullptr, false) : Json();
  const Json* previousMeta =
      previous.is_object() && previous.contains("metadata") ? &previous["metadata"] : nullptr;
  for (const char* name : {"uid", "creationTimestamp"}) {
    if (metadata.contains(name) && !metadata[name].is_null() && metadata[name] != "") continue;
    if (previousMeta && previousMeta->contains(name) && (*previousMeta)[name].is_string()) {
      metadata[name] = (*previousMeta)[name];
    } else {
      metadata[name] = std::string_view(name) == "uid" ? freshUid() : nowRfc3339();
    }
  }
  metadata.erase("resourceVersion");
  return ok(object->dump());
}

Result<std::string> decodeValue(const Key& key, std::string_view path, std::string_view value) {
  const calico::KindLayout* layout = layoutFor(key.kind);
  std::string where(path);
  if (!layout) return makeError(where, "kind", "'" + key.kind + "' is not a kind Tartan stores");
  auto misplaced = [&] {
    return makeError(where, "metadata",
                     "the value's kind, name or namespace is not its key's (" + key.toString() + ")");
  };
  if (layout->storage == calico::KubernetesStorage::kKubernetesObject) {
    auto resource = decodeOne(value, where);
    if (!resource) return resource.error();
    const model::ObjectMeta& meta = model::metadata(*resource);
    if (model::kindOf(*resource) != layout->kind || meta.name != key.name ||
        meta.namespaceName != key.namespace_) {
      return misplaced();
    }
    return ok(std::string(value));
  }
  Json object = Json::parse(value, nullptr, false);
  if (object.is_discarded()) return makeError(where, "", "the value is not JSON");
  if (!isIpamKind(layout->kind)) {
    // A value under another resource's key would be served as that resource: refused.
    const Json* meta = object.is_object() && object.contains("metadata") ? &object["metadata"] : nullptr;
    auto text = [&](const char* name) {
      return meta && meta->is_object() && meta->contains(name) && (*meta)[name].is_string()
                 ? (*meta)[name].get<std::string>()
                 : std::string();
    };
    std::string kind = object.is_object() && object.contains("kind") && object["kind"].is_string()
                           ? object["kind"].get<std::string>()
                           : std::string();
    if ((kind != layout->v3Kind && kind != layout->storageKind) ||
        calico::keyName(*layout, text("name")) != key.name || text("namespace") != key.namespace_) {
      return misplaced();
    }
  }
  if (isIpamKind(layout->kind)) {
    try {
      model::Resource resource = decodeIpam(layout->kind, key, path, object);
      std::string document = model::encodeYaml(resource);
      // Through the strict decoder, as every other document: a value Calico would refuse is refused.
      auto checked = decodeOne(document, where);
      if (!checked) return checked.error();
      return ok(document);
    } catch (const std::exception& e) {
      return makeError(where, "",
                       std::string("not Calico's ") + std::string(key.kind) + " JSON: " + e.what());
    }
  }
  return calico::fromV3Object(object, where);
}

}  // namespace tartan::datastore::etcd
