// Selector::uniqueId(), Calico's name for a selector, in a file of its own: it needs libcrypto
// (SHA-224), and a program that never asks for it (tartan-bgpd) links without that library.
#include <tartan/selector/selector.hpp>

#include <openssl/evp.h>

#include <array>
#include <cassert>
#include <cstdint>

namespace tartan::selector {
namespace {

// Base64 with the URL-safe alphabet (RFC 4648 section 5), without padding.
std::string base64Url(const unsigned char* data, size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t bits = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(bits >> shift) & 0x3f];
  }
  if (size - i == 1) {
    uint32_t bits = uint32_t{data[i]} << 16;
    out += kAlphabet[(bits >> 18) & 0x3f];
    out += kAlphabet[(bits >> 12) & 0x3f];
  } else if (size - i == 2) {
    uint32_t bits = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(bits >> 18) & 0x3f];
    out += kAlphabet[(bits >> 12) & 0x3f];
    out += kAlphabet[(bits >> 6) & 0x3f];
  }
  return out;
}

}  // namespace

std::string Selector::uniqueId() const {
  // Calico's UniqueID(): "s:" + base64url(SHA-224("s:" + String())), unpadded.
  const std::string input = "s:" + canonical_;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  const int ok = EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha224(), nullptr);
  assert(ok == 1 && size == 28);
  (void)ok;
  return "s:" + base64Url(digest.data(), size);
}

}  // namespace tartan::selector
