// Test helpers: BGP bytes written as hex, and whole messages built from a type and a body.
#pragma once

#include "codec/message.hpp"

#include <cstdio>
#include <string>
#include <string_view>

namespace tartan::bgp::test {

// "ff 00 1a" → bytes; spaces and newlines are ignored.
inline wire::Bytes hex(std::string_view text) {
  wire::Bytes out;
  int high = -1;
  for (char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

inline std::string toHex(const wire::Bytes& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// A whole message: marker, computed length, type, body.
inline wire::Bytes message(MessageType type, std::string_view bodyHex) {
  wire::Bytes body = hex(bodyHex);
  wire::Bytes out(16, 0xff);
  const std::size_t length = 19 + body.size();
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length));
  out.push_back(static_cast<std::uint8_t>(type));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// An UPDATE with no withdrawn routes, the given attributes and IPv4 NLRI.
inline wire::Bytes updateWith(std::string_view attrsHex, std::string_view nlriHex = "") {
  const wire::Bytes attrs = hex(attrsHex);
  std::string body = "0000";
  char len[5];
  std::snprintf(len, sizeof len, "%04zx", attrs.size());
  body += len;
  body += toHex(attrs);
  body += ' ';
  body += nlriHex;
  return message(MessageType::kUpdate, body);
}

inline Prefix pfx(std::string_view text) { return *Prefix::parse(text); }
inline Address addr(std::string_view text) { return *Address::parse(text); }

}  // namespace tartan::bgp::test
