// Encoding: unsigned integers as LEB128 varints, signed ones zigzagged, strings as length then
// bytes, optionals as a presence byte then the value, vectors as count then elements.
#include "rule_codec.hpp"

#include <cassert>
#include <cstdint>

namespace tartan::calc {
namespace {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void i(int64_t v) { u((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void str(std::string_view s) {
    u(s.size());
    out_.append(s);
  }
  void strings(const std::vector<std::string>& v) {
    u(v.size());
    for (const std::string& s : v) str(s);
  }
  void optInt(const std::optional<int>& v) {
    u(v.has_value());
    if (v) i(*v);
  }
  void protocol(const std::optional<model::Protocol>& p) {
    if (!p) {
      u(0);
    } else if (p->isNumber()) {
      u(1);
      i(std::get<int>(p->value));
    } else {
      u(2);
      str(std::get<std::string>(p->value));
    }
  }
  void icmp(const std::optional<model::ICMPFields>& f) {
    u(f.has_value());
    if (!f) return;
    optInt(f->type);
    optInt(f->code);
  }
  void ports(const std::vector<model::Port>& ports) {
    u(ports.size());
    for (const model::Port& p : ports) {
      u(p.minPort);
      u(p.maxPort);
      str(p.name);
    }
  }
  void entity(const EntityDef& e) {
    strings(e.nets);
    strings(e.notNets);
    str(e.selector);
    str(e.notSelector);
    ports(e.ports);
    ports(e.notPorts);
    str(e.service);
  }
  void rules(const std::vector<RuleDef>& rules) {
    u(rules.size());
    for (const RuleDef& r : rules) {
      str(r.action);
      optInt(r.ipVersion);
      protocol(r.protocol);
      protocol(r.notProtocol);
      icmp(r.icmp);
      icmp(r.notIcmp);
      entity(r.source);
      entity(r.destination);
    }
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint64_t u() {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      assert(pos_ < in_.size());
      const auto byte = static_cast<uint8_t>(in_[pos_++]);
      v |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return v;
    }
  }
  int64_t i() {
    const uint64_t v = u();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  std::string str() {
    const std::size_t n = u();
    assert(pos_ + n <= in_.size());
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> strings() {
    std::vector<std::string> v(u());
    for (std::string& s : v) s = str();
    return v;
  }
  std::optional<int> optInt() {
    if (u() == 0) return std::nullopt;
    return static_cast<int>(i());
  }
  std::optional<model::Protocol> protocol() {
    switch (u()) {
      case 1:
        return model::Protocol{static_cast<int>(i())};
      case 2:
        return model::Protocol{str()};
      default:
        return std::nullopt;
    }
  }
  std::optional<model::ICMPFields> icmp() {
    if (u() == 0) return std::nullopt;
    model::ICMPFields f;
    f.type = optInt();
    f.code = optInt();
    return f;
  }
  std::vector<model::Port> ports() {
    std::vector<model::Port> v(u());
    for (model::Port& p : v) {
      p.minPort = static_cast<uint16_t>(u());
      p.maxPort = static_cast<uint16_t>(u());
      p.name = str();
    }
    return v;
  }
  EntityDef entity() {
    EntityDef e;
    e.nets = strings();
    e.notNets = strings();
    e.selector = str();
    e.notSelector = str();
    e.ports = ports();
    e.notPorts = ports();
    e.service = str();
    return e;
  }
  std::vector<RuleDef> rules() {
    std::vector<RuleDef> v(u());
    for (RuleDef& r : v) {
      r.action = str();
      r.ipVersion = optInt();
      r.protocol = protocol();
      r.notProtocol = protocol();
      r.icmp = icmp();
      r.notIcmp = icmp();
      r.source = entity();
      r.destination = entity();
    }
    return v;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string packPolicyBody(const PolicyDef& def) {
  std::string out;
  Writer w(out);
  w.str(def.selector);
  w.rules(def.ingress);
  w.rules(def.egress);
  out.shrink_to_fit();
  return out;
}

void unpackPolicyBody(std::string_view packed, PolicyDef& def) {
  Reader r(packed);
  def.selector = r.str();
  def.ingress = r.rules();
  def.egress = r.rules();
  assert(r.done());
}

}  // namespace tartan::calc
