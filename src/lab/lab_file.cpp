// Strict parsing of lab files with positions.
#include "lab_file.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <regex>
#include <set>
#include <tuple>

namespace tartan::lab {
namespace {

__extension__ using Wide = unsigned __int128;

// An IPv4 or IPv6 address as one number (IPv4 in the low 32 bits).
struct Ip {
  int family = 4;
  Wide value = 0;
  int bits() const { return family == 4 ? 32 : 128; }
};

std::optional<Ip> parseIp(const std::string& text) {
  in_addr a4{};
  if (::inet_pton(AF_INET, text.c_str(), &a4) == 1) return Ip{4, ntohl(a4.s_addr)};
  in6_addr a6{};
  if (::inet_pton(AF_INET6, text.c_str(), &a6) != 1) return std::nullopt;
  Ip ip{6, 0};
  for (unsigned char byte : a6.s6_addr) ip.value = ip.value << 8 | byte;
  return ip;
}

std::string formatIp(const Ip& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (ip.family == 4) {
    in_addr a{htonl(static_cast<uint32_t>(ip.value))};
    ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  } else {
    in6_addr a{};
    for (int i = 0; i < 16; ++i) a.s6_addr[i] = static_cast<uint8_t>(ip.value >> (120 - 8 * i));
    ::inet_ntop(AF_INET6, &a, buf, sizeof buf);
  }
  return buf;
}

Wide hostMask(int bits, int length) {
  const int hostBits = bits - length;
  return hostBits >= 128 ? ~Wide(0) : (Wide(1) << hostBits) - 1;
}

struct Cidr {
  Ip ip;  // as written (host bits possibly set)
  int length = 0;
  Wide network() const { return ip.value & ~hostMask(ip.bits(), length); }
  bool contains(const Ip& other) const {
    return other.family == ip.family && (other.value & ~hostMask(ip.bits(), length)) == network();
  }
  bool overlaps(const Cidr& other) const {
    if (other.ip.family != ip.family) return false;
    const int shorter = std::min(length, other.length);
    const Wide mask = ~hostMask(ip.bits(), shorter);
    return (ip.value & mask) == (other.ip.value & mask);
  }
  std::string networkText() const { return formatIp({ip.family, network()}) + "/" + std::to_string(length); }
  // The n-th address of the subnet, if it is a host address (not the network, nor IPv4 broadcast).
  std::optional<Ip> host(Wide n) const {
    const Wide hosts = hostMask(ip.bits(), length);
    if (n == 0 || n > hosts || (ip.family == 4 && n == hosts)) return std::nullopt;
    return Ip{ip.family, network() + n};
  }
};

std::optional<Cidr> parseCidr(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto ip = parseIp(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int length = -1;
  const char* begin = text.data() + slash + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, length);
  if (ec != std::errc() || ptr != end || begin == end || length < 0 || length > ip->bits())
    return std::nullopt;
  return Cidr{*ip, length};
}

LabAddress labAddress(const Cidr& c) { return {formatIp(c.ip), c.length, c.networkText()}; }

// A sequence, and no exception for a key that is not there (yaml-cpp's invalid node).
bool isSequence(const YAML::Node& node) { return node.IsDefined() && node.IsSequence(); }

class Parser {
 public:
  Parser(std::string_view source, ParseResult& out) : source_(source), out_(out) {}

  void error(const YAML::Node& node, const std::string& field, const std::string& what) {
    std::string where(source_);
    if (node.IsDefined() && node.Mark().line >= 0)
      where += ":" + std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
    out_.errors.push_back(makeError(where, field, what));
  }

  // Rejects keys other than `allowed` (and any non-scalar key).
  bool checkKeys(const YAML::Node& map, const std::string& field,
                 std::initializer_list<std::string_view> allowed) {
    if (!map.IsMap()) {
      error(map, field, "must be a mapping");
      return false;
    }
    for (const auto& entry : map) {
      const std::string key = entry.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        error(entry.first, field.empty() ? key : std::string(field).append(".").append(key), "unknown field");
    }
    return true;
  }

  bool scalar(const YAML::Node& node, const std::string& field, std::string& out) {
    if (!node.IsDefined() || node.IsNull()) return false;
    if (!node.IsScalar()) {
      error(node, field, "must be a string");
      return false;
    }
    out = node.Scalar();
    return true;
  }

  // A required scalar: "is required" on `parent` when absent.
  bool required(const YAML::Node& parent, const char* key, const std::string& field, std::string& out) {
    if (scalar(parent[key], field, out)) return true;
    if (!parent[key].IsDefined() || parent[key].IsNull()) error(parent, field, "is required");
    return false;
  }

  bool boolean(const YAML::Node& node, const std::string& field, bool& out) {
    std::string text;
    if (!scalar(node, field, text)) return false;
    if (text == "true")
      out = true;
    else if (text == "false")
      out = false;
    else
      error(node, field, "'" + text + "' must be true or false");
    return true;
  }

  // An integer in [low, high].
  bool integer(const YAML::Node& node, const std::string& field, int64_t low, int64_t high, int64_t& out) {
    std::string text;
    if (!scalar(node, field, text)) return false;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
      error(node, field,
            "'" + text + "' is not a number from " + std::to_string(low) + " to " + std::to_string(high));
      return false;
    }
    out = value;
    return true;
  }

  bool asNumber(const YAML::Node& node, const std::string& field, uint32_t& out) {
    int64_t value = 0;
    if (!integer(node, field, 1, 4294967295LL, value)) return false;
    out = static_cast<uint32_t>(value);
    return true;
  }

  void labels(const YAML::Node& node, const std::string& field, std::map<std::string, std::string>& out) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) return error(node, field, "must be a mapping of label keys to values");
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      if (!entry.second.IsScalar()) {
        error(entry.second, std::string(field).append(".").append(key), "a label value must be a string");
        continue;
      }
      out[key] = entry.second.Scalar();
    }
  }

  // A list (absent: empty). False, with an error, when it is something else.
  bool list(const YAML::Node& node, const std::string& field) {
    if (!node.IsDefined() || node.IsNull()) return false;
    if (!isSequence(node)) {
      error(node, field, "must be a list");
      return false;
    }
    return true;
  }

  // "addresses: [v4/len, v6/len]": at most one per family, each an address with its subnet.
  void addresses(const YAML::Node& parent, const std::string& field, std::optional<Cidr>& v4,
                 std::optional<Cidr>& v6, YAML::Node& v4Node, YAML::Node& v6Node) {
    const YAML::Node node = parent["addresses"];
    if (!list(node, field)) {
      if (!node.IsDefined() || node.IsNull()) error(parent, field, "is required");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string f = field + "[" + std::to_string(i) + "]";
      std::string text;
      if (!scalar(node[i], f, text)) continue;
      auto cidr = parseCidr(text);
      if (!cidr) {
        error(node[i], f, "'" + text + "' is not an address with its prefix length (10.64.0.1/24)");
        continue;
      }
      if (!cidr->host(cidr->ip.value - cidr->network())) {
        error(node[i], f, "'" + text + "' is not a host address of its subnet");
        continue;
      }
      auto& slot = cidr->ip.family == 4 ? v4 : v6;
      if (slot) {
        error(node[i], f, "'" + text + "': only one address per family");
        continue;
      }
      slot = cidr;
      (cidr->ip.family == 4 ? v4Node : v6Node) = node[i];
    }
  }

 private:
  std::string_view source_;
  ParseResult& out_;
};

const std::regex kDnsLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

void parseNodes(Parser& p, const YAML::Node& root, LabFile& lab) {
  const YAML::Node nodes = root["nodes"];
  if (!p.list(nodes, "nodes") || nodes.size() == 0) {
    if (!nodes.IsDefined() || nodes.IsNull() || (isSequence(nodes) && nodes.size() == 0))
      p.error(root, "nodes", "at least one node is required");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const YAML::Node n = nodes[i];
    const std::string field = "nodes[" + std::to_string(i) + "]";
    if (!p.checkKeys(n, field, {"name", "asNumber", "labels"})) continue;
    LabNode node;
    if (p.required(n, "name", field + ".name", node.name)) {
      if (!isDnsLabel(node.name))
        p.error(n["name"], field + ".name", "'" + node.name + "' is not a DNS label");
      else if (node.name == "tor" || node.name == "outside")
        p.error(n["name"], field + ".name", "'" + node.name + "' is the lab's own namespace name");
      else if (!names.insert(node.name).second)
        p.error(n["name"], field + ".name", "'" + node.name + "' is declared twice");
    }
    p.asNumber(n["asNumber"], field + ".asNumber", node.asNumber);
    p.labels(n["labels"], field + ".labels", node.labels);
    lab.nodes.push_back(std::move(node));
  }
}

// Pools, then the ToR and the outside; every network checked against the others.
void parseNetworks(Parser& p, const YAML::Node& root, LabFile& lab) {
  struct Named {
    Cidr cidr;
    std::string what;
  };
  std::vector<Named> networks;
  auto claim = [&](const YAML::Node& node, const std::string& field, const Cidr& cidr,
                   const std::string& what) {
    for (const auto& other : networks) {
      if (other.cidr.overlaps(cidr)) {
        p.error(node, field, "'" + cidr.networkText() + "' overlaps " + other.what);
        return;
      }
    }
    networks.push_back({cidr, what});
  };

  bool poolFamily[2] = {false, false};
  const YAML::Node pools = root["pools"];
  if (!p.list(pools, "pools") || pools.size() == 0) {
    if (!pools.IsDefined() || pools.IsNull() || (isSequence(pools) && pools.size() == 0))
      p.error(root, "pools", "at least one IP pool is required");
  }
  std::set<std::string> poolNames;
  std::vector<YAML::Node> poolNodes;
  for (size_t i = 0; isSequence(pools) && i < pools.size(); ++i) {
    const YAML::Node n = pools[i];
    const std::string field = "pools[" + std::to_string(i) + "]";
    if (!p.checkKeys(n, field, {"name", "cidr", "blockSize", "natOutgoing"})) continue;
    LabPool pool;
    if (p.required(n, "name", field + ".name", pool.name)) {
      if (!isDnsLabel(pool.name))
        p.error(n["name"], field + ".name", "'" + pool.name + "' is not a DNS label");
      else if (!poolNames.insert(pool.name).second)
        p.error(n["name"], field + ".name", "'" + pool.name + "' is declared twice");
    }
    p.boolean(n["natOutgoing"], field + ".natOutgoing", pool.natOutgoing);
    std::optional<Cidr> cidr;
    if (p.required(n, "cidr", field + ".cidr", pool.cidr)) {
      cidr = parseCidr(pool.cidr);
      if (!cidr) {
        p.error(n["cidr"], field + ".cidr", "'" + pool.cidr + "' is not a CIDR");
      } else if (cidr->network() != cidr->ip.value) {
        p.error(n["cidr"], field + ".cidr", "'" + pool.cidr + "' has host bits set");
        cidr.reset();
      }
    }
    if (cidr) {
      pool.family = cidr->ip.family;
      pool.cidr = cidr->networkText();  // canonical
      poolFamily[pool.family == 6] = true;
      // Calico's bounds: a block is /20../32 (IPv4) or /116../128 (IPv6), inside the pool.
      const int low = pool.family == 4 ? 20 : 116, high = pool.family == 4 ? 32 : 128;
      pool.blockSize = pool.family == 4 ? 26 : 122;
      int64_t size = 0;
      if (p.integer(n["blockSize"], field + ".blockSize", low, high, size))
        pool.blockSize = static_cast<int>(size);
      if (pool.blockSize < cidr->length)
        p.error(n["blockSize"].IsDefined() ? n["blockSize"] : n, field + ".blockSize",
                "a /" + std::to_string(pool.blockSize) + " block is larger than the pool " + pool.cidr);
      claim(n["cidr"], field + ".cidr", *cidr, "pool '" + pool.name + "'");
    }
    lab.pools.push_back(std::move(pool));
  }

  const YAML::Node tor = root["tor"];
  if (!tor.IsDefined() || tor.IsNull()) {
    p.error(root, "tor", "is required (asNumber and addresses)");
  } else if (p.checkKeys(tor, "tor", {"asNumber", "addresses"})) {
    if (!p.asNumber(tor["asNumber"], "tor.asNumber", lab.tor.asNumber) && !tor["asNumber"].IsDefined())
      p.error(tor, "tor.asNumber", "is required");
    std::optional<Cidr> v4, v6;
    YAML::Node v4Node, v6Node;
    p.addresses(tor, "tor.addresses", v4, v6, v4Node, v6Node);
    if (isSequence(tor["addresses"]) && !v4)
      p.error(tor["addresses"], "tor.addresses", "needs an IPv4 address");
    for (const auto& [cidr, node, slot] :
         {std::tuple{&v4, &v4Node, &lab.tor.ipv4}, std::tuple{&v6, &v6Node, &lab.tor.ipv6}}) {
      if (!*cidr) continue;
      *slot = labAddress(**cidr);
      claim(*node, "tor.addresses", **cidr, "the fabric " + (*cidr)->networkText());
      // Node i (from 1) is host 10+i of the fabric.
      for (size_t i = 0; i < lab.nodes.size(); ++i) {
        auto host = (*cidr)->host(10 + i + 1);
        if (!host) {
          p.error(*node, "tor.addresses",
                  "the fabric " + (*cidr)->networkText() + " has no host " + std::to_string(11 + i) +
                      " for node '" + lab.nodes[i].name + "'");
          break;
        }
        if (host->value == (*cidr)->ip.value) {
          p.error(*node, "tor.addresses",
                  "the ToR's address is node '" + lab.nodes[i].name + "''s (host " + std::to_string(11 + i) +
                      " of the fabric)");
          break;
        }
        (cidr == &v4 ? lab.nodes[i].ipv4 : lab.nodes[i].ipv6) =
            formatIp(*host) + "/" + std::to_string((*cidr)->length);
      }
    }
    for (int family : {4, 6}) {
      if (poolFamily[family == 6] && !(family == 4 ? v4 : v6) && isSequence(tor["addresses"]))
        p.error(tor["addresses"], "tor.addresses",
                "an IPv" + std::to_string(family) + " pool needs an IPv" + std::to_string(family) +
                    " fabric address");
    }
  }

  const YAML::Node outside = root["outside"];
  if (!outside.IsDefined() || outside.IsNull()) {
    p.error(root, "outside", "is required (addresses)");
  } else if (p.checkKeys(outside, "outside", {"addresses"})) {
    std::optional<Cidr> v4, v6;
    YAML::Node v4Node, v6Node;
    p.addresses(outside, "outside.addresses", v4, v6, v4Node, v6Node);
    for (const auto& [cidr, node, slot, torSlot] :
         {std::tuple{&v4, &v4Node, &lab.outside.ipv4, &lab.outside.torIpv4},
          std::tuple{&v6, &v6Node, &lab.outside.ipv6, &lab.outside.torIpv6}}) {
      if (!*cidr) continue;
      auto first = (*cidr)->host(1);
      if (!first || first->value == (*cidr)->ip.value) {
        p.error(*node, "outside.addresses",
                "'" + formatIp((*cidr)->ip) + "' is the first host of its subnet, which is the ToR's");
        continue;
      }
      *slot = labAddress(**cidr);
      *torSlot = labAddress(Cidr{*first, (*cidr)->length});
      claim(*node, "outside.addresses", **cidr, "the outside network " + (*cidr)->networkText());
    }
  }
}

void parsePorts(Parser& p, const YAML::Node& ports, const std::string& field, LabPod& pod) {
  if (!p.list(ports, field + ".ports")) return;
  std::set<std::pair<std::string, int>> seen;
  std::set<std::string> portNames;
  for (size_t j = 0; j < ports.size(); ++j) {
    const YAML::Node pn = ports[j];
    const std::string pf = field + ".ports[" + std::to_string(j) + "]";
    if (!p.checkKeys(pn, pf, {"name", "port", "protocol", "hostPort"})) continue;
    LabPort port;
    if (p.scalar(pn["name"], pf + ".name", port.name)) {
      if (!isServiceName(port.name))
        p.error(pn["name"], pf + ".name",
                "'" + port.name + "' is not a port name (1-15 of a-z, 0-9, '-', with a letter)");
      else if (!portNames.insert(port.name).second)
        p.error(pn["name"], pf + ".name", "port name '" + port.name + "' is used twice in the pod");
    }
    int64_t value = 0;
    if (!pn["port"].IsDefined())
      p.error(pn, pf + ".port", "is required");
    else if (p.integer(pn["port"], pf + ".port", 1, 65535, value))
      port.port = static_cast<uint16_t>(value);
    if (p.scalar(pn["protocol"], pf + ".protocol", port.protocol)) {
      for (auto& c : port.protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (port.protocol != "TCP" && port.protocol != "UDP")
        p.error(pn["protocol"], pf + ".protocol", "'" + port.protocol + "' must be TCP or UDP");
    }
    if (p.integer(pn["hostPort"], pf + ".hostPort", 1, 65535, value))
      port.hostPort = static_cast<uint16_t>(value);
    if (port.port != 0 && !seen.emplace(port.protocol, port.port).second)
      p.error(pn, pf, port.protocol + " port " + std::to_string(port.port) + " is listed twice");
    pod.ports.push_back(port);
  }
}

}  // namespace

bool isDnsLabel(const std::string& name) { return name.size() <= 63 && std::regex_match(name, kDnsLabel); }

// Kubernetes' IANA_SVC_NAME, what a container port's name must be: 1-15 characters of a-z, 0-9
// and '-', at least one letter, no '-' at either end or twice in a row.
bool isServiceName(const std::string& name) {
  return name.size() <= 15 && std::regex_match(name, kDnsLabel) && name.find("--") == std::string::npos &&
         name.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos;
}

Result<LabPort> parsePortSpec(const std::string& text) {
  LabPort port;
  std::string rest = text;
  if (const auto at = rest.find('@'); at != std::string::npos) {
    const std::string host = rest.substr(at + 1);
    rest = rest.substr(0, at);
    int value = 0;
    auto [end, ec] = std::from_chars(host.data(), host.data() + host.size(), value);
    if (ec != std::errc() || end != host.data() + host.size() || value < 1 || value > 65535)
      return makeError("--port", text, "'" + host + "' is not a host port (1-65535)");
    port.hostPort = static_cast<uint16_t>(value);
  }
  if (const auto colon = rest.find(':'); colon != std::string::npos) {
    port.name = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
    if (!isServiceName(port.name)) return makeError("--port", text, "'" + port.name + "' is not a port name");
  }
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    port.protocol = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    for (auto& c : port.protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (port.protocol != "TCP" && port.protocol != "UDP")
      return makeError("--port", text, "'" + port.protocol + "' must be TCP or UDP");
  }
  int value = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || end != rest.data() + rest.size() || value < 1 || value > 65535)
    return makeError("--port", text,
                     "'" + rest + "' is not a port (1-65535); the form is [NAME:]PORT[/TCP|UDP][@HOSTPORT]");
  port.port = static_cast<uint16_t>(value);
  return port;
}

ParseResult parseLabFile(std::string_view text, std::string_view source, std::string_view defaultName) {
  ParseResult result;
  Parser p(source, result);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    result.errors.push_back(makeError(
        std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
        "", e.msg));
    return result;
  }
  if (!p.checkKeys(root, "", {"name", "asNumber", "nodes", "pools", "tor", "outside", "namespaces", "pods"}))
    return result;
  LabFile& lab = result.lab;
  lab.name = std::string(defaultName);
  p.scalar(root["name"], "name", lab.name);
  if (!std::regex_match(lab.name, kDnsLabel) || lab.name.size() > 20)
    p.error(root["name"], "name", "'" + lab.name + "' must be 1-20 characters of a-z, 0-9 and '-'");
  p.asNumber(root["asNumber"], "asNumber", lab.asNumber);
  parseNodes(p, root, lab);
  parseNetworks(p, root, lab);

  std::set<std::string> namespaceNames;
  const YAML::Node namespaces = root["namespaces"];
  for (size_t i = 0; p.list(namespaces, "namespaces") && i < namespaces.size(); ++i) {
    const YAML::Node n = namespaces[i];
    const std::string field = "namespaces[" + std::to_string(i) + "]";
    if (!p.checkKeys(n, field, {"name", "labels"})) continue;
    LabNamespace ns;
    if (!p.required(n, "name", field + ".name", ns.name))
      ;
    else if (!isDnsLabel(ns.name))
      p.error(n["name"], field + ".name", "'" + ns.name + "' is not a DNS label");
    else if (!namespaceNames.insert(ns.name).second)
      p.error(n["name"], field + ".name", "'" + ns.name + "' is declared twice");
    p.labels(n["labels"], field + ".labels", ns.labels);
    lab.namespaces.push_back(std::move(ns));
  }

  std::set<std::string> podNames;
  std::set<std::string> podAddresses;
  std::set<std::tuple<std::string, std::string, uint16_t>> hostPorts;  // node, protocol, port
  const YAML::Node pods = root["pods"];
  for (size_t i = 0; p.list(pods, "pods") && i < pods.size(); ++i) {
    const YAML::Node n = pods[i];
    const std::string field = "pods[" + std::to_string(i) + "]";
    if (!p.checkKeys(n, field,
                     {"name", "namespace", "node", "labels", "serviceAccount", "ip", "ip6", "ports"}))
      continue;
    LabPod pod;
    if (p.required(n, "name", field + ".name", pod.name) && !isDnsLabel(pod.name))
      p.error(n["name"], field + ".name", "'" + pod.name + "' is not a DNS label");
    if (p.required(n, "namespace", field + ".namespace", pod.namespaceName) &&
        !namespaceNames.contains(pod.namespaceName))
      p.error(n["namespace"], field + ".namespace",
              "namespace '" + pod.namespaceName + "' is not declared under namespaces");
    if (!pod.name.empty() && !podNames.insert(pod.namespaceName + "/" + pod.name).second)
      p.error(n["name"], field + ".name",
              "pod '" + pod.namespaceName + "/" + pod.name + "' is declared twice");
    if (p.scalar(n["node"], field + ".node", pod.node)) {
      if (std::none_of(lab.nodes.begin(), lab.nodes.end(),
                       [&](const LabNode& x) { return x.name == pod.node; }))
        p.error(n["node"], field + ".node", "node '" + pod.node + "' is not declared under nodes");
    } else if (lab.nodes.size() == 1) {
      pod.node = lab.nodes.front().name;
    } else if (!lab.nodes.empty()) {
      p.error(n, field + ".node", "is required when the lab has several nodes");
    }
    p.labels(n["labels"], field + ".labels", pod.labels);
    if (p.scalar(n["serviceAccount"], field + ".serviceAccount", pod.serviceAccount) &&
        !isDnsLabel(pod.serviceAccount))
      p.error(n["serviceAccount"], field + ".serviceAccount",
              "'" + pod.serviceAccount + "' is not a DNS label");
    // An address asked for: of its family, inside one of the lab's pools of that family, and
    // asked for by no other pod.
    for (auto [key, family, out] : {std::tuple{"ip", 4, &pod.ip}, std::tuple{"ip6", 6, &pod.ip6}}) {
      std::string text;
      if (!p.scalar(n[key], field + "." + key, text)) continue;
      const auto ip = parseIp(text);
      if (!ip || ip->family != family) {
        p.error(n[key], field + "." + key,
                "'" + text + "' is not an IPv" + std::to_string(family) + " address");
        continue;
      }
      const bool inPool = std::any_of(lab.pools.begin(), lab.pools.end(), [&](const LabPool& pool) {
        auto cidr = parseCidr(pool.cidr);
        return cidr && cidr->contains(*ip);
      });
      if (!inPool) {
        p.error(n[key], field + "." + key, "'" + text + "' is in none of the lab's pools");
        continue;
      }
      *out = formatIp(*ip);
      if (!podAddresses.insert(*out).second)
        p.error(n[key], field + "." + key, "'" + *out + "' is asked for by another pod");
    }
    parsePorts(p, n["ports"], field, pod);
    for (size_t j = 0; j < pod.ports.size(); ++j) {
      const LabPort& port = pod.ports[j];
      if (port.hostPort != 0 && !hostPorts.emplace(pod.node, port.protocol, port.hostPort).second)
        p.error(n["ports"][j]["hostPort"], field + ".ports[" + std::to_string(j) + "].hostPort",
                port.protocol + " host port " + std::to_string(port.hostPort) + " is taken on node '" +
                    pod.node + "'");
    }
    lab.pods.push_back(std::move(pod));
  }
  return result;
}

std::string nodeNamespace(const std::string& lab, const std::string& node) {
  return "tl-" + lab + "-" + node;
}
std::string podNamespace(const std::string& lab, const std::string& ns, const std::string& pod) {
  return "tl-" + lab + "-" + ns + "." + pod;
}
std::string torNamespace(const std::string& lab) { return "tl-" + lab + "-tor"; }
std::string outsideNamespace(const std::string& lab) { return "tl-" + lab + "-outside"; }

}  // namespace tartan::lab
