// Strict parsing of lab files with positions.
#include "lab_file.hpp"

#include "tartan/calc/calc_graph.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <regex>
#include <set>

namespace tartan::lab {
namespace {

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
        error(entry.first, field.empty() ? key : field + "." + key, "unknown field");
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

  void labels(const YAML::Node& node, const std::string& field, std::map<std::string, std::string>& out) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) return error(node, field, "must be a mapping of label keys to values");
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      if (!entry.second.IsScalar()) {
        error(entry.second, field + "." + key, "a label value must be a string");
        continue;
      }
      out[key] = entry.second.Scalar();
    }
  }

 private:
  std::string_view source_;
  ParseResult& out_;
};

const std::regex kDnsLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

bool parseIpv4(const std::string& text, uint32_t& out) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
  out = ntohl(a.s_addr);
  return true;
}

// IPv6 addresses as two 64-bit halves, so a host offset is one addition.
struct Ipv6 {
  uint64_t high = 0, low = 0;
  bool operator==(const Ipv6&) const = default;
};

bool parseIpv6(const std::string& text, Ipv6& out) {
  in6_addr a{};
  if (::inet_pton(AF_INET6, text.c_str(), &a) != 1) return false;
  out = {};
  for (int i = 0; i < 8; ++i) out.high = out.high << 8 | a.s6_addr[i];
  for (int i = 8; i < 16; ++i) out.low = out.low << 8 | a.s6_addr[i];
  return true;
}

std::string formatIpv6(const Ipv6& address) {
  in6_addr a{};
  for (int i = 0; i < 8; ++i) a.s6_addr[i] = static_cast<uint8_t>(address.high >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) a.s6_addr[8 + i] = static_cast<uint8_t>(address.low >> (56 - 8 * i));
  char buf[INET6_ADDRSTRLEN];
  ::inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return buf;
}

// The network bits of the low half for a prefix of `length` (64..128: the lab's IPv6 prefixes).
uint64_t lowNetworkMask(int length) { return length <= 64 ? 0 : ~uint64_t(0) << (128 - length); }

bool inPrefix6(const Ipv6& address, const Ipv6& base, int length) {
  return address.high == base.high && (address.low & lowNetworkMask(length)) == base.low;
}

// Kubernetes' IANA_SVC_NAME, what a container port's name must be: 1-15 characters of a-z, 0-9
// and '-', at least one letter, no '-' at either end or twice in a row.
bool isServiceName(const std::string& name) {
  static const std::regex kName("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return name.size() <= 15 && std::regex_match(name, kName) && name.find("--") == std::string::npos &&
         name.find_first_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos;
}

std::string formatIpv4(uint32_t address) {
  in_addr a{htonl(address)};
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

}  // namespace

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
  if (!p.checkKeys(root, "", {"name", "node", "cidr", "cidr6", "namespaces", "pods"})) return result;
  LabFile& lab = result.lab;
  lab.name = std::string(defaultName);
  p.scalar(root["name"], "name", lab.name);
  if (!std::regex_match(lab.name, kDnsLabel) || lab.name.size() > 20)
    p.error(root["name"], "name", "'" + lab.name + "' must be 1-20 characters of a-z, 0-9 and '-'");
  p.scalar(root["node"], "node", lab.node);
  if (!std::regex_match(lab.node, kDnsLabel))
    p.error(root["node"], "node", "'" + lab.node + "' is not a DNS label");

  p.scalar(root["cidr"], "cidr", lab.cidr);
  uint32_t base = 0;
  int length = -1;
  {
    const auto slash = lab.cidr.find('/');
    const std::string addr = lab.cidr.substr(0, slash);
    if (slash != std::string::npos) {
      const std::string len = lab.cidr.substr(slash + 1);
      std::from_chars(len.data(), len.data() + len.size(), length);
    }
    if (!parseIpv4(addr, base) || length < 8 || length > 30) {
      p.error(root["cidr"], "cidr", "'" + lab.cidr + "' is not an IPv4 CIDR between /8 and /30");
      length = -1;
    }
  }
  const uint32_t mask = length < 0 ? 0 : ~uint32_t(0) << (32 - length);
  if (length >= 0 && (base & ~mask) != 0)
    p.error(root["cidr"], "cidr", "'" + lab.cidr + "' has host bits set");

  // The IPv6 prefix: a /64 (or longer, to /120) of its own per lab, ULA by convention.
  p.scalar(root["cidr6"], "cidr6", lab.cidr6);
  Ipv6 base6;
  int length6 = -1;
  {
    const auto slash = lab.cidr6.find('/');
    if (slash != std::string::npos) {
      const std::string len = lab.cidr6.substr(slash + 1);
      std::from_chars(len.data(), len.data() + len.size(), length6);
    }
    if (!parseIpv6(lab.cidr6.substr(0, slash), base6) || length6 < 64 || length6 > 120) {
      p.error(root["cidr6"], "cidr6", "'" + lab.cidr6 + "' is not an IPv6 CIDR between /64 and /120");
      length6 = -1;
    } else if ((base6.low & ~lowNetworkMask(length6)) != 0) {
      p.error(root["cidr6"], "cidr6", "'" + lab.cidr6 + "' has host bits set");
      length6 = -1;
    }
  }

  std::set<std::string> namespaceNames;
  const YAML::Node namespaces = root["namespaces"];
  if (namespaces.IsDefined() && !namespaces.IsSequence()) p.error(namespaces, "namespaces", "must be a list");
  for (size_t i = 0; namespaces.IsDefined() && namespaces.IsSequence() && i < namespaces.size(); ++i) {
    const YAML::Node n = namespaces[i];
    const std::string field = "namespaces[" + std::to_string(i) + "]";
    if (!p.checkKeys(n, field, {"name", "labels"})) continue;
    LabNamespace ns;
    if (!p.scalar(n["name"], field + ".name", ns.name))
      p.error(n, field + ".name", "is required");
    else if (!std::regex_match(ns.name, kDnsLabel))
      p.error(n["name"], field + ".name", "'" + ns.name + "' is not a DNS label");
    else if (!namespaceNames.insert(ns.name).second)
      p.error(n["name"], field + ".name", "'" + ns.name + "' is declared twice");
    p.labels(n["labels"], field + ".labels", ns.labels);
    lab.namespaces.push_back(std::move(ns));
  }

  std::set<std::string> podNames, addresses;
  std::set<std::pair<uint64_t, uint64_t>> addresses6;
  std::vector<std::pair<size_t, YAML::Node>> unaddressed, unaddressed6;
  std::set<size_t> badIp;  // pods whose given IPv4 address is in error: no IPv6 address mirrors it
  const YAML::Node pods = root["pods"];
  if (pods.IsDefined() && !pods.IsSequence()) p.error(pods, "pods", "must be a list");
  for (size_t i = 0; pods.IsDefined() && pods.IsSequence() && i < pods.size(); ++i) {
    const YAML::Node n = pods[i];
    const std::string field = "pods[" + std::to_string(i) + "]";
    if (!p.checkKeys(n, field, {"name", "namespace", "labels", "ip", "ip6", "serviceAccount", "ports"}))
      continue;
    LabPod pod;
    if (!p.scalar(n["name"], field + ".name", pod.name))
      p.error(n, field + ".name", "is required");
    else if (!std::regex_match(pod.name, kDnsLabel))
      p.error(n["name"], field + ".name", "'" + pod.name + "' is not a DNS label");
    if (!p.scalar(n["namespace"], field + ".namespace", pod.namespaceName))
      p.error(n, field + ".namespace", "is required");
    else if (!namespaceNames.contains(pod.namespaceName))
      p.error(n["namespace"], field + ".namespace",
              "namespace '" + pod.namespaceName + "' is not declared under namespaces");
    if (!pod.name.empty() && !podNames.insert(pod.namespaceName + "/" + pod.name).second)
      p.error(n["name"], field + ".name",
              "pod '" + pod.namespaceName + "/" + pod.name + "' is declared twice");
    p.labels(n["labels"], field + ".labels", pod.labels);
    if (p.scalar(n["ip"], field + ".ip", pod.ip)) {
      uint32_t a = 0;
      const size_t errorsBefore = result.errors.size();
      if (!parseIpv4(pod.ip, a))
        p.error(n["ip"], field + ".ip", "'" + pod.ip + "' is not an IPv4 address");
      else if (length >= 0 && ((a & mask) != base || a == base || a == (base | ~mask)))
        p.error(n["ip"], field + ".ip", "'" + pod.ip + "' is not a host address of the lab cidr " + lab.cidr);
      else if (!addresses.insert(pod.ip).second)
        p.error(n["ip"], field + ".ip", "'" + pod.ip + "' is given to two pods");
      if (result.errors.size() != errorsBefore) badIp.insert(lab.pods.size());
    } else {
      unaddressed.emplace_back(lab.pods.size(), n);
    }
    if (p.scalar(n["ip6"], field + ".ip6", pod.ip6)) {
      Ipv6 a;
      if (!parseIpv6(pod.ip6, a)) {
        p.error(n["ip6"], field + ".ip6", "'" + pod.ip6 + "' is not an IPv6 address");
      } else {
        pod.ip6 = formatIpv6(a);  // canonical, as the probe and the datastore print it
        if (length6 >= 0 && (!inPrefix6(a, base6, length6) || a == base6))
          p.error(n["ip6"], field + ".ip6",
                  "'" + pod.ip6 + "' is not a host address of the lab cidr6 " + lab.cidr6);
        else if (!addresses6.emplace(a.high, a.low).second)
          p.error(n["ip6"], field + ".ip6", "'" + pod.ip6 + "' is given to two pods");
      }
    } else {
      unaddressed6.emplace_back(lab.pods.size(), n);
    }
    if (p.scalar(n["serviceAccount"], field + ".serviceAccount", pod.serviceAccount) &&
        !std::regex_match(pod.serviceAccount, kDnsLabel))
      p.error(n["serviceAccount"], field + ".serviceAccount",
              "'" + pod.serviceAccount + "' is not a DNS label");
    const YAML::Node ports = n["ports"];
    if (ports.IsDefined() && !ports.IsSequence()) p.error(ports, field + ".ports", "must be a list");
    std::set<std::pair<std::string, int>> seen;
    std::set<std::string> portNames;
    for (size_t j = 0; ports.IsDefined() && ports.IsSequence() && j < ports.size(); ++j) {
      const YAML::Node pn = ports[j];
      const std::string pf = field + ".ports[" + std::to_string(j) + "]";
      if (!p.checkKeys(pn, pf, {"name", "port", "protocol"})) continue;
      LabPort port;
      if (p.scalar(pn["name"], pf + ".name", port.name)) {
        if (!isServiceName(port.name))
          p.error(pn["name"], pf + ".name",
                  "'" + port.name + "' is not a port name (1-15 of a-z, 0-9, '-', with a letter)");
        else if (!portNames.insert(port.name).second)
          p.error(pn["name"], pf + ".name", "port name '" + port.name + "' is used twice in the pod");
      }
      std::string number;
      int value = 0;
      if (!p.scalar(pn["port"], pf + ".port", number)) {
        p.error(pn, pf + ".port", "is required");
      } else {
        auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
        if (ec != std::errc() || end != number.data() + number.size() || value < 1 || value > 65535)
          p.error(pn["port"], pf + ".port", "'" + number + "' is not a port (1-65535)");
        port.port = static_cast<uint16_t>(value);
      }
      if (p.scalar(pn["protocol"], pf + ".protocol", port.protocol)) {
        for (auto& c : port.protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (port.protocol != "TCP" && port.protocol != "UDP")
          p.error(pn["protocol"], pf + ".protocol", "'" + port.protocol + "' must be TCP or UDP");
      }
      if (!seen.emplace(port.protocol, value).second)
        p.error(pn, pf, port.protocol + " port " + number + " is listed twice");
      pod.ports.push_back(port);
    }
    lab.pods.push_back(std::move(pod));
  }

  // Addresses for the pods that gave none: the lowest free hosts of the CIDR, in file order.
  if (length >= 0) {
    uint32_t next = base + 1;
    const uint32_t broadcast = base | ~mask;
    for (auto& [index, node] : unaddressed) {
      while (next < broadcast && addresses.contains(formatIpv4(next))) ++next;
      if (next >= broadcast) {
        p.error(node, "pods[" + std::to_string(index) + "].ip",
                "the lab cidr " + lab.cidr + " has no free address left");
        break;
      }
      lab.pods[index].ip = formatIpv4(next);
      addresses.insert(lab.pods[index].ip);
    }
  }
  // IPv6 addresses for the pods that gave none: cidr6 plus the host part of the pod's IPv4
  // address (10.65.0.20 in 10.65.0.0/24 -> fd00:65::14), so the two are easy to pair up.
  if (length >= 0 && length6 >= 0) {
    for (auto& [index, node] : unaddressed6) {
      LabPod& pod = lab.pods[index];
      uint32_t v4 = 0;
      if (badIp.contains(index) || pod.ip.empty() || !parseIpv4(pod.ip, v4)) continue;  // reported above
      const uint64_t offset = v4 - base;
      Ipv6 a{base6.high, base6.low + offset};
      if (length6 > 64 && offset >> (128 - length6) != 0) {
        p.error(node, "pods[" + std::to_string(index) + "].ip6",
                "the lab cidr6 " + lab.cidr6 + " is too small to mirror " + pod.ip + "; give ip6");
        continue;
      }
      pod.ip6 = formatIpv6(a);
      if (!addresses6.emplace(a.high, a.low).second)
        p.error(node, "pods[" + std::to_string(index) + "].ip6",
                "'" + pod.ip6 + "' (mirroring " + pod.ip + ") is given to another pod; give ip6");
    }
  }
  return result;
}

std::string nodeNamespace(const LabFile& lab) { return "tl-" + lab.name + "-node"; }

std::string podNamespace(const LabFile& lab, const LabPod& pod) {
  return "tl-" + lab.name + "-" + pod.namespaceName + "." + pod.name;
}

std::string hostVethName(const LabPod& pod) {
  return calc::CalcGraph::vethNameForWorkload(calc::kDefaultInterfacePrefix, pod.namespaceName, pod.name);
}

}  // namespace tartan::lab
