// validate_common.cpp — the validator's reporting, and the checks every kind shares: addresses,
// names, labels, selectors and object metadata.
#include "validate.hpp"

#include "tartan/selector/selector.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace tartan::model {

// ---- Reporting ----

std::string Validator::where(const std::string& fullPath, int extraColumns) const {
  if (positions_ == nullptr) return source_;
  // The field itself, or its nearest recorded parent (a missing field has no position).
  std::string path = fullPath;
  while (true) {
    auto it = positions_->find(path);
    if (it != positions_->end()) {
      int column = it->second.column;
      // A column inside the value's text (a selector's) is counted from its first character.
      if (extraColumns > 0) column += extraColumns - 1 + (it->second.quoted ? 1 : 0);
      return source_ + ":" + std::to_string(it->second.line) + ":" + std::to_string(column);
    }
    size_t cut = path.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) break;
    path.resize(cut);
    extraColumns = 0;
  }
  return source_;
}

void Validator::fail(const std::string& path, std::string what) {
  std::string full = prefix_.empty() ? path : path.empty() ? prefix_ : prefix_ + "." + path;
  errors_.push_back(Error{where(full, 0), full, std::move(what)});
}

void Validator::failAt(const std::string& path, int column, std::string what) {
  std::string full = prefix_.empty() ? path : prefix_ + "." + path;
  errors_.push_back(Error{where(full, column), full, std::move(what)});
}

// ---- Addresses ----

bool IPNet::hostBitsSet() const { return !(masked().bytes == bytes); }

IPNet IPNet::masked() const {
  IPNet out = *this;
  int total = version == 4 ? 4 : 16;
  for (int i = 0; i < total; ++i) {
    int keep = std::clamp(prefixLength - i * 8, 0, 8);
    out.bytes[i] &= static_cast<uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
  return out;
}

bool IPNet::contains(const IPNet& other) const {
  if (other.version != version || other.prefixLength < prefixLength) return false;
  IPNet narrowed = other;
  narrowed.prefixLength = prefixLength;
  return narrowed.masked().bytes == masked().bytes;
}

std::string IPNet::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(version == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefixLength);
}

std::optional<IPNet> parseIP(std::string_view text) {
  std::string s(text);
  IPNet net;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), net.bytes.data()) != 1) return std::nullopt;
    net.version = 4;
    net.prefixLength = 32;
  } else {
    if (s.find('%') != std::string::npos) return std::nullopt;  // no zones
    if (inet_pton(AF_INET6, s.c_str(), net.bytes.data()) != 1) return std::nullopt;
    net.version = 6;
    net.prefixLength = 128;
  }
  return net;
}

std::optional<IPNet> parseCIDROrIP(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return parseIP(text);
  auto net = parseIP(text.substr(0, slash));
  if (!net) return std::nullopt;
  std::string_view length = text.substr(slash + 1);
  if (length.empty() || length.size() > 3 ||
      !std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int value = 0;
  std::from_chars(length.data(), length.data() + length.size(), value);
  if (value > (net->version == 4 ? 32 : 128)) return std::nullopt;
  net->prefixLength = value;
  net->hadPrefix = true;
  return net;
}

// ---- Names ----

namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool isQualifiedNamePart(std::string_view s) {
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

}  // namespace

bool matchesDNS1123LabelPattern(std::string_view s) {
  if (s.empty() || !isLowerAlnum(s.front()) || !isLowerAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return isLowerAlnum(c) || c == '-'; });
}

bool isDNS1123Label(std::string_view s) { return s.size() <= 63 && matchesDNS1123LabelPattern(s); }

std::string tooLong(size_t size, size_t max) {
  return "too long (" + std::to_string(size) + " > " + std::to_string(max) + " characters)";
}

bool isDNS1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    // Labels of a subdomain name are not limited to 63 here, as Kubernetes' regex does not.
    if (label.empty() || !isLowerAlnum(label.front()) || !isLowerAlnum(label.back()) ||
        !std::all_of(label.begin(), label.end(), [](char c) { return isLowerAlnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<std::string> qualifiedNameProblem(std::string_view s) {
  std::string_view name = s;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (prefix.empty()) return "prefix part must be non-empty";
    if (!isDNS1123Subdomain(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain";
    }
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part must be no more than 63 characters";
  if (!isQualifiedNamePart(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
           "and end with an alphanumeric character";
  }
  return std::nullopt;
}

std::optional<std::string> labelValueProblem(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.size() > 63) return "must be no more than 63 characters";
  if (!isQualifiedNamePart(s)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', "
           "'_' or '.', and must start and end with an alphanumeric character";
  }
  return std::nullopt;
}

bool isValidPortName(std::string_view s) {
  // IANA_SVC_NAME: 1-15 of [a-z0-9-], at least one letter, no leading, trailing or double '-'.
  if (s.empty() || s.size() > 15) return false;
  if (s.front() == '-' || s.back() == '-' || s.find("--") != std::string_view::npos) return false;
  bool letter = false;
  for (char c : s) {
    if (!(isLowerAlnum(c) || c == '-')) return false;
    letter = letter || (c >= 'a' && c <= 'z');
  }
  return letter;
}

bool isValidInterfaceName(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

// ---- Selectors and metadata ----

namespace {

// At most about 60 characters of a selector around the 1-based column of its error, "..." marking
// what is left out: a selector can be any length, an error line should not be.
std::string excerpt(const std::string& selector, int column) {
  constexpr size_t kWidth = 60;
  if (selector.size() <= kWidth) return selector;
  const size_t at = column > 0 ? static_cast<size_t>(column - 1) : 0;
  size_t begin = at > kWidth / 2 ? at - kWidth / 2 : 0;
  begin = std::min(begin, selector.size() - kWidth);
  // Never cut a UTF-8 sequence in two: step back to the start of a character.
  while (begin > 0 && (static_cast<unsigned char>(selector[begin]) & 0xc0) == 0x80) --begin;
  size_t end = begin + kWidth;
  while (end < selector.size() && (static_cast<unsigned char>(selector[end]) & 0xc0) == 0x80) ++end;
  return (begin > 0 ? "..." : "") + selector.substr(begin, end - begin) +
         (end < selector.size() ? "..." : "");
}

}  // namespace

void checkSelector(Validator& v, const std::string& path, const std::string& selector) {
  auto parsed = selector::parse(selector);
  if (parsed) return;
  const Error& e = parsed.error();
  // The selector module reports "column N" of the selector text.
  int column = 0;
  if (e.where.rfind("column ", 0) == 0) {
    std::from_chars(e.where.data() + 7, e.where.data() + e.where.size(), column);
  }
  std::string what = "invalid selector \"" + excerpt(selector, column) + "\"";
  if (column > 0) what += " at column " + std::to_string(column);
  what += ": " + e.what;
  v.failAt(path, column, std::move(what));
}

void checkName(Validator& v, const ObjectMeta& meta) {
  if (meta.name.empty()) {
    v.fail("metadata.name", "name is required");
    return;
  }
  if (meta.name.size() > 253) {
    v.fail("metadata.name", "name is " + tooLong(meta.name.size(), 253));
  } else if (!isDNS1123Subdomain(meta.name)) {
    v.fail("metadata.name",
           "name must consist of lower case alphanumeric characters, '-' or '.' (regex: "
           "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
  }
}

void checkMetadata(Validator& v, const ObjectMeta& meta, bool namespaced) {
  if (namespaced) {
    if (meta.namespaceName.size() > 63 && matchesDNS1123LabelPattern(meta.namespaceName)) {
      v.fail("metadata.namespace", "namespace is " + tooLong(meta.namespaceName.size(), 63));
    } else if (!meta.namespaceName.empty() && !isDNS1123Label(meta.namespaceName)) {
      v.fail("metadata.namespace", "namespace must be a lower case RFC 1123 label");
    }
  } else if (!meta.namespaceName.empty()) {
    v.fail("metadata.namespace", "a cluster-scoped resource has no namespace");
  }
  for (const auto& [key, value] : meta.labels) {
    std::string path = "metadata.labels[" + key + "]";
    if (auto problem = qualifiedNameProblem(key)) v.fail(path, "invalid label key: " + *problem);
    if (auto problem = labelValueProblem(value)) v.fail(path, "invalid label value: " + *problem);
  }
  size_t total = 0;
  for (const auto& [key, value] : meta.annotations) {
    std::string lowered = key;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto problem = qualifiedNameProblem(lowered)) {
      v.fail("metadata.annotations[" + key + "]", "invalid annotation key: " + *problem);
    }
    total += key.size() + value.size();
  }
  constexpr size_t kAnnotationLimit = 256 * 1024;
  if (total > kAnnotationLimit) {
    v.fail("metadata.annotations", "total size of annotations is too large by " +
                                       std::to_string(total - kAnnotationLimit) + " bytes");
  }
}

}  // namespace tartan::model
