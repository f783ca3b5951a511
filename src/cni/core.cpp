// The pure core of tartan-cni: environment, network configuration, result and error JSON, names.
#include "tartan/cni/cni.hpp"

#include "tartan/calc/calc_graph.hpp"
#include "tartan/netlink/types.hpp"
#include "try.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace tartan::cni {

using nlohmann::json;

std::ostream& operator<<(std::ostream& os, const CniError& error) {
  os << "code " << error.code << ": " << error.msg;
  if (!error.details.empty()) os << " (" << error.details << ")";
  return os;
}

void throw_exception_from_error(const CniError& error, const boost::source_location&) {
  throw std::runtime_error("CNI error " + std::to_string(error.code) + ": " + error.msg);
}

const std::vector<std::string>& supportedVersions() {
  static const std::vector<std::string> versions{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return versions;
}

namespace {

CniError envError(std::string msg, std::string details = {}) {
  return CniError{kInvalidEnvironment, std::move(msg), std::move(details)};
}
CniError configError(std::string msg, std::string details = {}) {
  return CniError{kInvalidNetworkConfig, std::move(msg), std::move(details)};
}

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// CNI spec: a container ID is alphanumeric plus '_', '.' and '-', starting alphanumeric.
bool validContainerID(std::string_view id) {
  if (id.empty() || !isAlnum(id.front())) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return isAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

// An interface name the kernel takes: 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
bool validInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) != 0 || c == '\0';
  });
}

// A network name (CNI spec: alphanumeric plus '_', '.', '-', starting alphanumeric).
bool validNetworkName(std::string_view name) { return validContainerID(name); }

}  // namespace

const std::vector<std::string>& knownArgs() {
  static const std::vector<std::string> keys{"IgnoreUnknown", "K8S_POD_NAMESPACE",
                                             "K8S_POD_NAME",  "K8S_POD_INFRA_CONTAINER_ID",
                                             "K8S_POD_UID",   "IP"};
  return keys;
}

CniResult<void> parseArgs(std::string_view args, Environment& env) {
  // libcni's LoadArgs: ';'-separated pairs, each exactly one '='.
  std::map<std::string, std::string> pairs;
  size_t start = 0;
  while (start <= args.size()) {
    size_t end = args.find(';', start);
    if (end == std::string_view::npos) end = args.size();
    std::string_view pair = args.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0 || pair.find('=', eq + 1) != std::string_view::npos)
        return envError("CNI_ARGS: '" + std::string(pair) + "' is not KEY=VALUE");
      pairs[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  bool ignoreUnknown = false;
  if (auto it = pairs.find("IgnoreUnknown"); it != pairs.end()) {
    std::string value = it->second;
    std::transform(value.begin(), value.end(), value.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    if (value == "1" || value == "true")
      ignoreUnknown = true;
    else if (value != "0" && value != "false")
      return envError("CNI_ARGS: IgnoreUnknown '" + it->second + "' is not a boolean", "1, true, 0 or false");
  }
  const auto& known = knownArgs();
  for (const auto& [key, value] : pairs)
    if (!ignoreUnknown && std::find(known.begin(), known.end(), key) == known.end())
      return envError("CNI_ARGS: unknown key '" + key + "'",
                      "set IgnoreUnknown=1 to ignore keys this plugin does not read");
  auto arg = [&](const char* key) {
    auto it = pairs.find(key);
    return it == pairs.end() ? std::string() : it->second;
  };
  env.podNamespace = arg("K8S_POD_NAMESPACE");
  env.podName = arg("K8S_POD_NAME");
  env.infraContainerID = arg("K8S_POD_INFRA_CONTAINER_ID");
  env.podUid = arg("K8S_POD_UID");
  env.requestedIp = arg("IP");
  if (!env.requestedIp.empty()) {
    auto address = netlink::IpAddress::parse(env.requestedIp);
    if (!address) return envError("CNI_ARGS: IP '" + env.requestedIp + "' is not an IP address");
    env.requestedIp = address->toString();
  }
  env.args = std::move(pairs);
  return {};
}

CniResult<Environment> parseEnvironment(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    const char* value = getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  Environment env;
  auto command = get("CNI_COMMAND");
  if (!command || command->empty()) return envError("CNI_COMMAND is not set");
  if (*command == "ADD")
    env.command = Command::kAdd;
  else if (*command == "DEL")
    env.command = Command::kDel;
  else if (*command == "CHECK")
    env.command = Command::kCheck;
  else if (*command == "VERSION")
    env.command = Command::kVersion;
  else if (*command == "STATUS")
    env.command = Command::kStatus;
  else if (*command == "GC")
    env.command = Command::kGc;
  else
    return envError("unknown CNI_COMMAND '" + *command + "'",
                    "supported: ADD, DEL, CHECK, VERSION, STATUS, GC");
  // VERSION, STATUS and GC concern the plugin or the network, not one container.
  if (env.command == Command::kVersion || env.command == Command::kStatus || env.command == Command::kGc) {
    env.path = get("CNI_PATH").value_or("");
    return env;
  }

  env.containerID = get("CNI_CONTAINERID").value_or("");
  if (env.containerID.empty()) return envError("CNI_CONTAINERID is not set");
  if (!validContainerID(env.containerID))
    return envError("CNI_CONTAINERID '" + env.containerID + "' is not a valid container ID",
                    "letters, digits, '_', '.' and '-', starting with a letter or digit");
  env.netns = get("CNI_NETNS").value_or("");
  if (env.netns.empty() && env.command != Command::kDel) return envError("CNI_NETNS is not set");
  if (!env.netns.empty() && env.netns.front() != '/')
    return envError("CNI_NETNS '" + env.netns + "' is not an absolute path");
  env.ifName = get("CNI_IFNAME").value_or("");
  if (env.ifName.empty()) return envError("CNI_IFNAME is not set");
  if (!validInterfaceName(env.ifName))
    return envError("CNI_IFNAME '" + env.ifName + "' is not a valid interface name",
                    "1 to 15 characters, no '/', ':' or whitespace");
  env.path = get("CNI_PATH").value_or("");

  CNI_CHECK(parseArgs(get("CNI_ARGS").value_or(""), env));
  if (env.command == Command::kAdd && (env.podNamespace.empty() || env.podName.empty()))
    return envError("CNI_ARGS must name the pod", "K8S_POD_NAMESPACE and K8S_POD_NAME are required for ADD");
  return env;
}

namespace {

// A boolean as Calico writes it ("true"/"false") or as JSON.
CniResult<bool> readBool(const json& value, const std::string& field) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return configError(field + " must be true or false");
}

CniResult<std::string> readString(const json& object, const char* key, const std::string& field,
                                  bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return configError(field + " is required");
    return std::string();
  }
  if (!it->is_string()) return configError(field + " must be a string");
  return it->get<std::string>();
}

CniResult<std::vector<std::string>> readPools(const json& object, const char* key, const std::string& field,
                                              netlink::Family family) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) return configError(field + " must be a list of pool names or CIDRs");
  for (const json& item : *it) {
    if (!item.is_string() || item.get<std::string>().empty())
      return configError(field + " must be a list of pool names or CIDRs");
    std::string pool = item.get<std::string>();
    if (pool.find('/') != std::string::npos) {
      auto prefix = netlink::Prefix::parse(pool);
      std::string isNot = std::string(field).append(": '").append(pool).append("' is not ");
      if (!prefix) return configError(isNot.append("a CIDR"), prefix.error().what);
      if (prefix->family() != family)
        return configError(isNot.append(family == netlink::Family::V4 ? "an IPv4 CIDR" : "an IPv6 CIDR"));
    }
    out.push_back(std::move(pool));
  }
  return out;
}

// runtimeConfig.ips (the CNI convention for the "ips" capability): addresses, with or without a
// prefix length, at most one of each family.
CniResult<std::vector<std::string>> readRuntimeIps(const json& runtimeConfig) {
  if (!runtimeConfig.is_object()) return configError("runtimeConfig must be an object");
  std::vector<std::string> out;
  auto it = runtimeConfig.find("ips");
  if (it == runtimeConfig.end() || it->is_null()) return out;
  if (!it->is_array()) return configError("runtimeConfig.ips must be a list of addresses");
  bool seen[2] = {false, false};
  for (const json& item : *it) {
    if (!item.is_string()) return configError("runtimeConfig.ips must be a list of addresses");
    const std::string text = item.get<std::string>();
    auto address = netlink::IpAddress::parse(std::string_view(text).substr(0, text.find('/')));
    if (!address) return configError("runtimeConfig.ips: '" + text + "' is not an address");
    bool& family = seen[address->family == netlink::Family::V4 ? 0 : 1];
    if (family) return configError("runtimeConfig.ips: more than one address of a family", text);
    family = true;
    out.push_back(address->toString());
  }
  return out;
}

CniResult<AddResult> resultFromJson(const json& j) {
  auto bad = [](std::string what) { return configError("prevResult: " + std::move(what)); };
  if (!j.is_object()) return bad("not an object");
  AddResult result;
  if (auto v = j.find("cniVersion"); v != j.end() && v->is_string())
    result.cniVersion = v->get<std::string>();
  auto strField = [](const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto it = j.find("interfaces"); it != j.end()) {
    if (!it->is_array()) return bad("interfaces is not a list");
    for (const json& i : *it) {
      if (!i.is_object()) return bad("an interface is not an object");
      result.interfaces.push_back({strField(i, "name"), strField(i, "mac"), strField(i, "sandbox")});
    }
  }
  if (auto it = j.find("ips"); it != j.end()) {
    if (!it->is_array()) return bad("ips is not a list");
    for (const json& i : *it) {
      if (!i.is_object()) return bad("an ip is not an object");
      ResultIP ip{strField(i, "address"), strField(i, "gateway"), std::nullopt};
      if (!netlink::Prefix::parse(ip.address) && ip.address.find('/') == std::string::npos)
        return bad("ip address '" + ip.address + "' is not a CIDR");
      if (auto idx = i.find("interface"); idx != i.end()) {
        if (!idx->is_number_integer() || idx->get<int>() < 0 ||
            idx->get<size_t>() >= result.interfaces.size())
          return bad("ip '" + ip.address + "' names no interface of the result");
        ip.interface = idx->get<int>();
      }
      result.ips.push_back(std::move(ip));
    }
  }
  if (auto it = j.find("routes"); it != j.end()) {
    if (!it->is_array()) return bad("routes is not a list");
    for (const json& r : *it) {
      if (!r.is_object()) return bad("a route is not an object");
      result.routes.push_back({strField(r, "dst"), strField(r, "gw")});
    }
  }
  return result;
}

}  // namespace

CniResult<NetConf> parseNetConf(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return CniError{kDecodeFailure, "network configuration is not JSON"};
  if (!j.is_object()) return configError("network configuration is not a JSON object");
  NetConf conf;
  CNI_ASSIGN(conf.cniVersion, readString(j, "cniVersion", "cniVersion", true));
  const auto& versions = supportedVersions();
  if (std::find(versions.begin(), versions.end(), conf.cniVersion) == versions.end())
    return CniError{kIncompatibleVersion, "cniVersion " + conf.cniVersion + " is not supported",
                    "supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"};
  CNI_ASSIGN(conf.name, readString(j, "name", "name", true));
  if (!validNetworkName(conf.name))
    return configError("name '" + conf.name + "' is not a valid network name");
  CNI_ASSIGN(conf.type, readString(j, "type", "type", true));
  CNI_ASSIGN(conf.nodename, readString(j, "nodename", "nodename", false));
  CNI_ASSIGN(conf.datastore, readString(j, "datastore", "datastore", false));
  // Calico's form: "datastore_type": "kubernetes", with "kubernetes": {"kubeconfig": PATH}; or
  // "etcdv3" (Calico's default) with "etcd_endpoints" and the etcd_*_file fields.
  std::string datastoreType;
  CNI_ASSIGN(datastoreType, readString(j, "datastore_type", "datastore_type", false));
  std::string etcdEndpoints;
  CNI_ASSIGN(etcdEndpoints, readString(j, "etcd_endpoints", "etcd_endpoints", false));
  if (datastoreType == "etcdv3" || (datastoreType.empty() && !etcdEndpoints.empty())) {
    if (!conf.datastore.empty()) return configError("datastore and etcd_endpoints are both set");
    if (etcdEndpoints.empty()) return configError("datastore_type etcdv3 needs etcd_endpoints");
    conf.datastore = "etcdv3:" + etcdEndpoints;
    char separator = '?';
    for (const auto& [field, option] :
         {std::pair{"etcd_ca_cert_file", "ca"}, std::pair{"etcd_cert_file", "cert"},
          std::pair{"etcd_key_file", "key"}}) {
      std::string file;
      CNI_ASSIGN(file, readString(j, field, field, false));
      if (file.empty()) continue;
      if (file.find_first_of("&?") != std::string::npos)
        return configError(std::string(field) + " '" + file + "' may not hold '&' or '?'");
      conf.datastore += separator + std::string(option) + "=" + file;
      separator = '&';
    }
  } else if (!etcdEndpoints.empty()) {
    return configError("etcd_endpoints is for datastore_type etcdv3");
  } else if (!datastoreType.empty()) {
    if (datastoreType != "kubernetes")
      return configError("datastore_type '" + datastoreType + "' is not supported",
                         "use kubernetes, etcdv3, or datastore");
    if (!conf.datastore.empty()) return configError("datastore and datastore_type are both set");
    std::string kubeconfig;
    if (auto k = j.find("kubernetes"); k != j.end() && !k->is_null()) {
      if (!k->is_object()) return configError("kubernetes must be an object");
      CNI_ASSIGN(kubeconfig, readString(*k, "kubeconfig", "kubernetes.kubeconfig", false));
    }
    conf.datastore = kubeconfig.empty() ? "kubernetes" : "kubernetes:" + kubeconfig;
  }
  const bool kubernetes = conf.datastore == "kubernetes" || conf.datastore.rfind("kubernetes:", 0) == 0;
  const bool etcd = conf.datastore.rfind("etcdv3:", 0) == 0 || conf.datastore.rfind("etcd:", 0) == 0;
  if (!conf.datastore.empty() && conf.datastore.rfind("file:", 0) != 0 && !kubernetes && !etcd)
    return configError("datastore '" + conf.datastore + "' is not supported",
                       "use file:DIR, etcdv3:ENDPOINTS or kubernetes");
  if (auto it = j.find("ipam_lock_file"); it != j.end() && !it->is_null()) {
    CNI_ASSIGN(conf.ipamLockFile, readString(j, "ipam_lock_file", "ipam_lock_file", false));
    if (conf.ipamLockFile.empty() || conf.ipamLockFile.front() != '/')
      return configError("ipam_lock_file '" + conf.ipamLockFile + "' is not an absolute path");
  }
  if (auto it = j.find("runtimeConfig"); it != j.end() && !it->is_null())
    CNI_ASSIGN(conf.runtimeIps, readRuntimeIps(*it));
  if (auto it = j.find("mtu"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) return configError("mtu must be an integer");
    long long mtu = it->get<long long>();
    if (mtu != 0 && (mtu < 68 || mtu > 65535))
      return configError("mtu " + std::to_string(mtu) + " is out of range 68-65535");
    conf.mtu = static_cast<int>(mtu);
  }
  auto ipam = j.find("ipam");
  if (ipam == j.end() || !ipam->is_object())
    return configError("ipam is required", "an object with type tartan-ipam or calico-ipam");
  CNI_ASSIGN(conf.ipamType, readString(*ipam, "type", "ipam.type", true));
  if (conf.ipamType != "tartan-ipam" && conf.ipamType != "calico-ipam")
    return configError("ipam.type '" + conf.ipamType + "' is not supported",
                       "use tartan-ipam or calico-ipam");
  if (auto it = ipam->find("assign_ipv4"); it != ipam->end())
    CNI_ASSIGN(conf.assignIpv4, readBool(*it, "ipam.assign_ipv4"));
  if (auto it = ipam->find("assign_ipv6"); it != ipam->end())
    CNI_ASSIGN(conf.assignIpv6, readBool(*it, "ipam.assign_ipv6"));
  if (!conf.assignIpv4 && !conf.assignIpv6)
    return configError("ipam assigns no address", "assign_ipv4 and assign_ipv6 are both false");
  CNI_ASSIGN(conf.ipv4Pools, readPools(*ipam, "ipv4_pools", "ipam.ipv4_pools", netlink::Family::V4));
  CNI_ASSIGN(conf.ipv6Pools, readPools(*ipam, "ipv6_pools", "ipam.ipv6_pools", netlink::Family::V6));
  // libcni has sent both names (cni.dev/attachments by mistake in its first 1.1 release).
  for (const char* key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null() || conf.validAttachments) continue;
    if (!it->is_array()) return configError(std::string(key) + " must be a list");
    std::vector<NetConf::Attachment> attachments;
    for (const json& a : *it) {
      if (!a.is_object() || !a.contains("containerID") || !a["containerID"].is_string())
        return configError(std::string(key) + ": each attachment needs a containerID");
      NetConf::Attachment attachment{a["containerID"].get<std::string>(), ""};
      if (auto ifname = a.find("ifname"); ifname != a.end() && ifname->is_string())
        attachment.ifName = ifname->get<std::string>();
      attachments.push_back(std::move(attachment));
    }
    conf.validAttachments = std::move(attachments);
  }
  if (auto it = j.find("prevResult"); it != j.end() && !it->is_null()) {
    AddResult prev;
    CNI_ASSIGN(prev, resultFromJson(*it));
    conf.prevResult = std::move(prev);
  }
  return conf;
}

CniResult<std::vector<std::string>> parsePoolsAnnotation(std::string_view key, std::string_view value) {
  json j = json::parse(value, nullptr, false);
  auto bad = [&] {
    return CniError{kInvalidNetworkConfig, "annotation " + std::string(key) + " is not a JSON list of pools",
                    std::string(value)};
  };
  if (j.is_discarded() || !j.is_array() || j.empty()) return bad();
  std::vector<std::string> pools;
  for (const json& item : j) {
    if (!item.is_string() || item.get<std::string>().empty()) return bad();
    pools.push_back(item.get<std::string>());
  }
  return pools;
}

std::string resultJson(const AddResult& result) {
  json j = json::object();
  j["cniVersion"] = result.cniVersion;
  bool ipVersions = !result.cniVersion.empty() && result.cniVersion.rfind("0.", 0) == 0;
  json interfaces = json::array();
  for (const auto& i : result.interfaces) {
    json o{{"name", i.name}};
    if (!i.mac.empty()) o["mac"] = i.mac;
    if (!i.sandbox.empty()) o["sandbox"] = i.sandbox;
    interfaces.push_back(std::move(o));
  }
  j["interfaces"] = std::move(interfaces);
  json ips = json::array();
  for (const auto& ip : result.ips) {
    json o{{"address", ip.address}};
    if (ipVersions) o["version"] = ip.address.find(':') == std::string::npos ? "4" : "6";
    if (!ip.gateway.empty()) o["gateway"] = ip.gateway;
    if (ip.interface) o["interface"] = *ip.interface;
    ips.push_back(std::move(o));
  }
  j["ips"] = std::move(ips);
  json routes = json::array();
  for (const auto& r : result.routes) {
    json o{{"dst", r.dst}};
    if (!r.gw.empty()) o["gw"] = r.gw;
    routes.push_back(std::move(o));
  }
  j["routes"] = std::move(routes);
  j["dns"] = json::object();
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

CniResult<AddResult> parseResult(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return CniError{kDecodeFailure, "result is not JSON"};
  return resultFromJson(j);
}

std::string errorJson(std::string_view cniVersion, const CniError& error) {
  json j{{"cniVersion", cniVersion.empty() ? std::string("1.0.0") : std::string(cniVersion)},
         {"code", error.code},
         {"msg", error.msg}};
  if (!error.details.empty()) j["details"] = error.details;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string versionJson(std::string_view cniVersion) {
  json j{{"cniVersion", cniVersion.empty() ? std::string("1.0.0") : std::string(cniVersion)},
         {"supportedVersions", supportedVersions()}};
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string hostVethName(std::string_view podNamespace, std::string_view podName) {
  return calc::CalcGraph::vethNameForWorkload(calc::kDefaultInterfacePrefix, podNamespace, podName);
}

namespace {
std::string escapeDashes(std::string_view part) {
  std::string out;
  for (char c : part) {
    out += c;
    if (c == '-') out += '-';
  }
  return out;
}
}  // namespace

std::string workloadEndpointName(std::string_view node, std::string_view pod, std::string_view iface) {
  return escapeDashes(node) + "-k8s-" + escapeDashes(pod) + "-" + escapeDashes(iface);
}

model::WorkloadEndpoint makeWorkloadEndpoint(const EndpointInput& in) {
  model::WorkloadEndpoint wep;
  wep.metadata.name = workloadEndpointName(in.node, in.env.podName, in.env.ifName);
  wep.metadata.namespaceName = in.env.podNamespace;
  for (const auto& [key, value] : in.podLabels) wep.metadata.labels[key] = value;
  wep.metadata.labels["projectcalico.org/namespace"] = in.env.podNamespace;
  wep.metadata.labels["projectcalico.org/orchestrator"] = "k8s";
  if (!in.serviceAccount.empty()) wep.metadata.labels["projectcalico.org/serviceaccount"] = in.serviceAccount;
  auto& spec = wep.spec;
  spec.orchestrator = "k8s";
  spec.node = in.node;
  spec.pod = in.env.podName;
  spec.endpoint = in.env.ifName;
  spec.containerID = in.env.containerID;
  spec.interfaceName = in.hostVeth;
  spec.mac = in.mac;
  spec.ipNetworks = in.ipNetworks;
  spec.profiles.push_back("kns." + in.env.podNamespace);
  if (!in.serviceAccount.empty())
    spec.profiles.push_back("ksa." + in.env.podNamespace + "." + in.serviceAccount);
  spec.serviceAccountName = in.serviceAccount;
  return wep;
}

}  // namespace tartan::cni
