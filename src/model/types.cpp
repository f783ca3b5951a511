// types.cpp — the shared value types: object metadata and the numbers-or-strings.
#include "codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace tartan::model {

namespace {

constexpr std::array<std::pair<std::string_view, int>, 6> kProtocolNames = {
    {{"TCP", 6}, {"UDP", 17}, {"ICMP", 1}, {"ICMPv6", 58}, {"SCTP", 132}, {"UDPLite", 136}}};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<uint64_t> parseDigits(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isPortNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

}  // namespace

// ---- Protocol ----

Protocol Protocol::fromName(std::string_view name) {
  // As numorstring.ProtocolFromString: known names in any case take the canonical spelling.
  for (const auto& [canonical, number] : kProtocolNames) {
    (void)number;
    if (equalsIgnoreCase(canonical, name)) return Protocol{std::string(canonical)};
  }
  return Protocol{std::string(name)};
}

std::optional<int> Protocol::number() const {
  if (const int* n = std::get_if<int>(&value)) return *n;
  const std::string& name = std::get<std::string>(value);
  if (allDigits(name)) {
    auto n = parseDigits(name);
    if (n && *n <= 255) return static_cast<int>(*n);
    return std::nullopt;
  }
  for (const auto& [canonical, number] : kProtocolNames) {
    if (canonical == name) return number;
  }
  return std::nullopt;
}

bool Protocol::supportsPorts() const {
  auto n = number();
  return n && (*n == 6 || *n == 17 || *n == 132);
}

bool Protocol::isIcmp() const { return number() == 1; }
bool Protocol::isIcmpV6() const { return number() == 58; }

std::string Protocol::toString() const {
  if (const int* n = std::get_if<int>(&value)) return std::to_string(*n);
  return std::get<std::string>(value);
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, Protocol& out) {
  if (node.IsScalar() && node.Tag() != "!" && resolvePlain(node.Scalar()) == ScalarType::kInt) {
    int number = 0;
    size_t before = 0;
    (void)before;
    uint16_t wide = 0;
    decodeValue(d, node, path, wide);
    if (wide > 255) {
      d.error(node, path, "protocol number " + node.Scalar() + " is out of range [0, 255]");
      return;
    }
    number = wide;
    out = Protocol::fromNumber(number);
    return;
  }
  // Kept as written: Calico's validator takes the names in their own case only ("tcp" is
  // refused, not read as TCP), so validation sees what the user wrote.
  std::string name;
  decodeValue(d, node, path, name);
  out = Protocol{std::move(name)};
}

Tree encodeValue(const Protocol& value) {
  if (value.isNumber()) return Tree::number(value.toString());
  return Tree::string(value.toString());
}

// ---- Port ----

std::string Port::toString() const {
  if (!name.empty()) return name;
  if (minPort == maxPort) return std::to_string(minPort);
  return std::to_string(minPort) + ":" + std::to_string(maxPort);
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, Port& out) {
  if (node.IsScalar() && node.Tag() != "!" && resolvePlain(node.Scalar()) == ScalarType::kInt) {
    uint16_t port = 0;
    decodeValue(d, node, path, port);
    out = Port::single(port);
    return;
  }
  std::string text;
  decodeValue(d, node, path, text);
  if (text.empty() && !node.IsScalar()) return;  // error already reported
  // numorstring.PortFromString: "80", "80:90", or a name of [a-zA-Z0-9_.-]{1,128}.
  if (allDigits(text)) {
    auto n = parseDigits(text);
    if (!n || *n > 65535) {
      d.error(node, path, "invalid port format (" + text + ")");
      return;
    }
    out = Port::single(static_cast<uint16_t>(*n));
    return;
  }
  size_t colon = text.find(':');
  if (colon != std::string::npos && allDigits(text.substr(0, colon)) && allDigits(text.substr(colon + 1))) {
    auto low = parseDigits(text.substr(0, colon));
    auto high = parseDigits(text.substr(colon + 1));
    if (!low || *low > 65535) {
      d.error(node, path, "invalid minimum port number in range (" + text + ")");
      return;
    }
    if (!high || *high > 65535) {
      d.error(node, path, "invalid maximum port number in range (" + text + ")");
      return;
    }
    if (*low > *high) {
      d.error(node, path,
              "minimum port number (" + std::to_string(*low) + ") is greater than maximum port number (" +
                  std::to_string(*high) + ") in port range");
      return;
    }
    out = Port::range(static_cast<uint16_t>(*low), static_cast<uint16_t>(*high));
    return;
  }
  if (text.empty() || text.size() > 128 || !std::all_of(text.begin(), text.end(), isPortNameChar)) {
    d.error(node, path, "invalid name for named port (" + text + ")");
    return;
  }
  out = Port::named(text);
}

Tree encodeValue(const Port& value) {
  if (!value.isNamed() && value.minPort == value.maxPort) {
    return Tree::number(std::to_string(value.minPort));
  }
  return Tree::string(value.toString());
}

// ---- IntOrString ----

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, IntOrString& out) {
  if (node.IsScalar() && node.Tag() != "!" && resolvePlain(node.Scalar()) == ScalarType::kInt) {
    int32_t number = 0;
    decodeValue(d, node, path, number);
    out.value = number;
    return;
  }
  std::string text;
  decodeValue(d, node, path, text);
  out.value = text;
}

Tree encodeValue(const IntOrString& value) {
  if (const int32_t* n = std::get_if<int32_t>(&value.value)) return encodeValue(*n);
  return Tree::string(std::get<std::string>(value.value));
}

// ---- ObjectMeta ----

template <class V>
void describe(V& v, OwnerReference& s) {
  v.field("apiVersion", s.apiVersion, Need::kAlways);
  v.field("kind", s.kind, Need::kAlways);
  v.field("name", s.name, Need::kAlways);
  v.field("uid", s.uid, Need::kAlways);
  v.field("controller", s.controller);
  v.field("blockOwnerDeletion", s.blockOwnerDeletion);
}

template <class V>
void describe(V& v, ObjectMeta& s) {
  v.field("name", s.name);
  v.field("generateName", s.generateName);
  v.field("namespace", s.namespaceName);
  v.field("uid", s.uid);
  v.field("resourceVersion", s.resourceVersion);
  v.field("generation", s.generation);
  v.field("creationTimestamp", s.creationTimestamp);
  v.field("deletionTimestamp", s.deletionTimestamp);
  v.field("labels", s.labels);
  v.field("annotations", s.annotations);
  v.field("ownerReferences", s.ownerReferences);
  v.field("finalizers", s.finalizers);
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, ObjectMeta& out) {
  decodeStruct(d, node, path, out);
}

Tree encodeValue(const ObjectMeta& value) { return encodeStruct(value); }

}  // namespace tartan::model
