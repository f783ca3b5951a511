// codec.cpp — the strict scalar decoder, the scalar encoder and the YAML and JSON writers.
#include "codec.hpp"

#include "tartan/common/limits.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

namespace tartan::model {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Kubernetes and Calico read manifests as JSON, which is UTF-8; a string that is not would not
// survive a round trip through the JSON encoder.
bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t cp = 0;
    if ((c >> 5) == 0x6) {
      extra = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 0xe) {
      extra = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 0x1e) {
      extra = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

bool isDecimalInt(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

bool isHexInt(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  for (char c : s.substr(2)) {
    if (!isDigit(c) && !((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// [-+]? ( \.[0-9]+ | [0-9]+ (\.[0-9]*)? ) ([eE][-+]?[0-9]+)?
bool isDecimalFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t intDigits = 0;
  while (i < s.size() && isDigit(s[i])) ++i, ++intDigits;
  size_t fracDigits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isDigit(s[i])) ++i, ++fracDigits;
  }
  if (intDigits == 0 && fracDigits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t expDigits = 0;
    while (i < s.size() && isDigit(s[i])) ++i, ++expDigits;
    if (expDigits == 0) return false;
  }
  return i == s.size();
}

const std::set<std::string_view> kNullWords = {"", "~", "null", "Null", "NULL"};
const std::set<std::string_view> kBoolWords = {"y",  "Y",  "yes",  "Yes",  "YES",  "n",     "N",     "no",
                                               "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
                                               "on", "On", "ON",   "off",  "Off",  "OFF"};
const std::set<std::string_view> kTrueWords = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                               "True", "TRUE", "on",  "On",  "ON"};
const std::set<std::string_view> kSpecialFloats = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                                                   "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};

const char* describeType(ScalarType type) {
  switch (type) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "a boolean";
    case ScalarType::kInt:
      return "an integer";
    case ScalarType::kFloat:
      return "a number";
    case ScalarType::kString:
      return "a string";
  }
  return "a value";
}

// What a scalar node holds: quoted scalars are always strings.
ScalarType scalarType(const YAML::Node& node) {
  if (node.IsNull()) return ScalarType::kNull;
  if (node.Tag() == "!") return ScalarType::kString;
  if (node.Tag() == "tag:yaml.org,2002:str" || node.Tag() == "!!str") return ScalarType::kString;
  return resolvePlain(node.Scalar());
}

const char* describeNode(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return describeType(scalarType(node));
}

template <class Int>
void decodeInteger(Decoder& d, const YAML::Node& node, const std::string& path, Int& out) {
  if (!node.IsScalar() || scalarType(node) != ScalarType::kInt) {
    d.error(node, path, std::string("expected an integer, got ") + describeNode(node));
    return;
  }
  std::string_view text = node.Scalar();
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  bool fits = ec == std::errc() && end == text.data() + text.size();
  if (fits) {
    if (negative) {
      if constexpr (std::is_signed_v<Int>) {
        fits = magnitude <= uint64_t(std::numeric_limits<Int>::max()) + 1;
        if (fits) out = static_cast<Int>(-static_cast<int64_t>(magnitude - 1) - 1);
      } else {
        fits = magnitude == 0;
        if (fits) out = 0;
      }
    } else {
      fits = magnitude <= uint64_t(std::numeric_limits<Int>::max());
      if (fits) out = static_cast<Int>(magnitude);
    }
  }
  if (!fits) {
    d.error(node, path,
            "integer " + node.Scalar() + " is out of range [" +
                std::to_string(std::numeric_limits<Int>::min()) + ", " +
                std::to_string(std::numeric_limits<Int>::max()) + "]");
  }
}

template <class Int>
Tree encodeInteger(Int value) {
  return Tree::number(std::to_string(value));
}

template <class V>
void decodeStringMap(Decoder& d, const YAML::Node& node, const std::string& path,
                     std::map<std::string, V, std::less<>>& out);

}  // namespace

ScalarType resolvePlain(std::string_view text) {
  if (kNullWords.count(text)) return ScalarType::kNull;
  if (kBoolWords.count(text)) return ScalarType::kBool;
  if (isDecimalInt(text) || isHexInt(text)) return ScalarType::kInt;
  if (isDecimalFloat(text) || kSpecialFloats.count(text)) return ScalarType::kFloat;
  return ScalarType::kString;
}

// ---- Documents ----

std::vector<DocumentText> splitDocuments(std::string_view text) {
  std::vector<DocumentText> documents;
  DocumentText current;
  int line = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view content = text.substr(start, next - start);
    bool marker =
        content.rfind("---", 0) == 0 && (content.size() == 3 || content[3] == ' ' || content[3] == '\t' ||
                                         content[3] == '\n' || content[3] == '\r');
    if (marker && !current.text.empty()) {
      documents.push_back(std::move(current));
      current = DocumentText{};
    }
    if (current.text.empty()) current.firstLine = line;
    current.text.append(content);
    start = next;
    ++line;
  }
  if (!current.text.empty()) documents.push_back(std::move(current));
  return documents;
}

namespace {

// Thrown by Prescan at the nesting limit, so the parser stops before it recurses deeper.
struct TooDeep {
  YAML::Mark mark;
};

// Walks a document's events without building it: finds aliases, a second document and nesting
// deeper than kMaxNesting.
class Prescan : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> alias;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (!alias) alias = mark;
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void enter(const YAML::Mark& mark) {
    if (++depth_ > kMaxNesting) throw TooDeep{mark};
  }
  int depth_ = 0;
};

// yaml-cpp 0.7 ends a quoted scalar at the end of the input without complaint when a line break
// follows the last character, so `name: "web` + newline would load as "web ". Without the
// trailing line breaks it reports "illegal EOF in scalar".
std::string_view withoutTrailingSpace(std::string_view text) {
  while (!text.empty() && std::string_view(" \t\r\n").find(text.back()) != std::string_view::npos) {
    text.remove_suffix(1);
  }
  return text;
}

// Where a quote that is never closed opens: a quote that begins a scalar (at the start of a line or
// after a space, ':', '-', ',', '[' or '{') outside a comment or another quoted scalar. A cheap
// look (block scalars may hold such quotes): yaml-cpp has the last word.
std::optional<YAML::Mark> unclosedQuote(std::string_view text) {
  std::optional<YAML::Mark> open;
  char quote = 0;
  int line = 0, column = 0;
  char previous = '\n';
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line, column = 0, previous = c, comment = false;
      continue;
    }
    if (quote == '"' && c == '\\') {
      ++i, column += 2;  // an escape; a line break escaped this way is folded by YAML
      continue;
    }
    if (quote != 0) {
      if (c == quote) {
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i, ++column;  // '' is a quote inside a single-quoted scalar
        } else {
          quote = 0, open.reset();
        }
      }
    } else if (!comment) {
      const bool starts = previous == '\n' || previous == ' ' || previous == '\t' || previous == ':' ||
                          previous == '-' || previous == ',' || previous == '[' || previous == '{';
      if (c == '#' && (previous == '\n' || previous == ' ' || previous == '\t')) {
        comment = true;
      } else if ((c == '"' || c == '\'') && starts) {
        quote = c;
        YAML::Mark mark;
        mark.pos = static_cast<int>(i), mark.line = line, mark.column = column;
        open = mark;
      }
    }
    previous = c;
    ++column;
  }
  return open;
}

std::string markText(std::string_view source, const YAML::Mark& mark, int lineOffset) {
  std::string where(source);
  if (mark.line >= 0 && mark.column >= 0) {
    where += ":" + std::to_string(mark.line + lineOffset + 1) + ":" + std::to_string(mark.column + 1);
  }
  return where;
}

// (YAML::Node converts from anything, so the error alternative must be named.)
Result<YAML::Node> failed(std::string where, std::string field, std::string what) {
  return Result<YAML::Node>(boost::system::in_place_error,
                            Error{std::move(where), std::move(field), std::move(what)});
}

}  // namespace

Result<YAML::Node> loadDocument(const DocumentText& document, std::string_view source) {
  const std::string start = std::string(source) + ":" + std::to_string(document.firstLine + 1);
  if (document.text.size() > kMaxDocumentBytes) {
    return failed(start + ":1", "",
                  "document is " + std::to_string(document.text.size()) + " bytes, over the limit of " +
                      std::to_string(kMaxDocumentBytes) + " (4 MiB); split it into smaller documents");
  }
  const auto unclosed = [&](const YAML::Mark& fallback) {
    const auto open = unclosedQuote(document.text);
    return failed(markText(source, open ? *open : fallback, document.firstLine), "",
                  "invalid YAML: a quoted string is not closed before the end of the document");
  };
  try {
    std::stringstream stream(document.text);
    YAML::Parser parser(stream);
    Prescan prescan;
    // At most two calls: yaml-cpp 0.7 can report documents forever on some bad input.
    if (parser.HandleNextDocument(prescan) && parser.HandleNextDocument(prescan)) {
      return failed(start, "", "invalid YAML: unexpected content after the document");
    }
    if (prescan.alias) {
      return failed(markText(source, *prescan.alias, document.firstLine), "",
                    "YAML aliases are not supported in manifests");
    }
    // A quote that looks unclosed is confirmed by parsing again without the trailing line breaks
    // (see withoutTrailingSpace); only then, so that a document pays for one parse, not two.
    if (unclosedQuote(document.text)) {
      try {
        std::stringstream trimmed{std::string(withoutTrailingSpace(document.text))};
        YAML::Parser again(trimmed);
        Prescan ignored;
        again.HandleNextDocument(ignored);
      } catch (const YAML::Exception& e) {
        if (e.msg == YAML::ErrorMsg::EOF_IN_SCALAR) return unclosed(e.mark);
      }
    }
    return YAML::Load(document.text);
  } catch (const TooDeep& e) {
    return failed(markText(source, e.mark, document.firstLine), "",
                  "invalid YAML: nested more than " + std::to_string(kMaxNesting) + " levels deep");
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own limit ("bad file"), should it ever come before ours.
    return failed(markText(source, e.mark, document.firstLine), "", "invalid YAML: nested too deeply");
  } catch (const YAML::Exception& e) {
    if (e.msg == YAML::ErrorMsg::EOF_IN_SCALAR) return unclosed(e.mark);
    return failed(markText(source, e.mark, document.firstLine), "", "invalid YAML: " + e.msg);
  }
}

// ---- Decoder ----

std::string Decoder::where(const YAML::Node& at) const {
  const YAML::Mark mark = at.Mark();
  if (mark.line < 0 || mark.column < 0) return source_;
  return source_ + ":" + std::to_string(mark.line + lineOffset_ + 1) + ":" + std::to_string(mark.column + 1);
}

void Decoder::error(const YAML::Node& at, const std::string& path, std::string what) {
  errors_.push_back(Error{where(at), path, std::move(what)});
}

void Decoder::record(const YAML::Node& at, const std::string& path) {
  const YAML::Mark mark = at.Mark();
  if (mark.line < 0 || mark.column < 0) return;
  bool quoted = at.IsScalar() && at.Tag() == "!";
  positions_[path] = Position{mark.line + lineOffset_ + 1, mark.column + 1, quoted};
}

std::string Decoder::childPath(std::string_view key) const {
  if (frame_ == nullptr || frame_->path.empty()) return std::string(key);
  return frame_->path + "." + std::string(key);
}

bool Decoder::open(const YAML::Node& node, const std::string& path, Frame& frame) {
  if (node.IsNull()) return false;
  if (!node.IsMap()) {
    error(node, path, std::string("expected a mapping, got ") + describeNode(node));
    return false;
  }
  frame.node = &node;
  frame.path = path;
  std::set<std::string, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, path, "a mapping key must be a string");
      continue;
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) {
      // yaml-cpp keeps both entries of a duplicated key, so the duplicate can be named here.
      error(key, path.empty() ? name : path + "." + name, "duplicate key \"" + name + "\"");
      continue;
    }
    frame.entries.emplace_back(name, it->second);
    frame.keys.push_back(key);
  }
  frame.used.assign(frame.entries.size(), false);
  return true;
}

void Decoder::close(Frame& frame) {
  if (lenient_) return;
  for (size_t i = 0; i < frame.entries.size(); ++i) {
    if (frame.used[i]) continue;
    const std::string& name = frame.entries[i].first;
    error(frame.keys[i], frame.path.empty() ? name : frame.path + "." + name,
          "unknown field \"" + name + "\"");
  }
}

const YAML::Node* Decoder::find(std::string_view key) {
  if (frame_ == nullptr) return nullptr;
  for (size_t i = 0; i < frame_->entries.size(); ++i) {
    if (frame_->entries[i].first == key) {
      frame_->used[i] = true;
      return &frame_->entries[i].second;
    }
  }
  return nullptr;
}

// ---- Scalars ----

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, std::string& out) {
  // A plain scalar that YAML would read as a number or boolean is kept as written when the field
  // is a string ("namespace: n", "version: 1"), as calicoctl's YAML reader does: it decodes
  // against the target type. The reverse (a quoted string for a number) is an error.
  if (!node.IsScalar() || scalarType(node) == ScalarType::kNull) {
    d.error(node, path, std::string("expected a string, got ") + describeNode(node));
    return;
  }
  if (!isValidUtf8(node.Scalar())) {
    d.error(node, path, "string is not valid UTF-8");
    return;
  }
  out = node.Scalar();
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, bool& out) {
  if (!node.IsScalar() || scalarType(node) != ScalarType::kBool) {
    d.error(node, path, std::string("expected a boolean, got ") + describeNode(node));
    return;
  }
  out = kTrueWords.count(node.Scalar()) != 0;
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, int& out) {
  decodeInteger(d, node, path, out);
}
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, int64_t& out) {
  decodeInteger(d, node, path, out);
}
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, uint16_t& out) {
  decodeInteger(d, node, path, out);
}
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, uint32_t& out) {
  decodeInteger(d, node, path, out);
}
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, uint64_t& out) {
  decodeInteger(d, node, path, out);
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, double& out) {
  ScalarType type = node.IsScalar() ? scalarType(node) : ScalarType::kString;
  if (!node.IsScalar() || (type != ScalarType::kInt && type != ScalarType::kFloat)) {
    d.error(node, path, std::string("expected a number, got ") + describeNode(node));
    return;
  }
  if (type == ScalarType::kInt && isHexInt(node.Scalar())) {
    int64_t value = 0;
    decodeInteger(d, node, path, value);
    out = static_cast<double>(value);
    return;
  }
  const std::string& text = node.Scalar();
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) {
    d.error(node, path, "number " + text + " is not a finite number");
    return;
  }
  out = value == 0 ? 0.0 : value;  // no negative zero: it would not survive "-0" -> 0
}

namespace {
template <class V>
void decodeStringMap(Decoder& d, const YAML::Node& node, const std::string& path,
                     std::map<std::string, V, std::less<>>& out) {
  out.clear();
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    d.error(node, path, std::string("expected a mapping, got ") + describeNode(node));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      d.error(key, path, "a mapping key must be a string");
      continue;
    }
    std::string itemPath = path + "[" + key.Scalar() + "]";
    if (!isValidUtf8(key.Scalar())) {
      d.error(key, path, "key is not valid UTF-8");
      continue;
    }
    if (out.count(key.Scalar())) {
      d.error(key, itemPath, "duplicate key \"" + key.Scalar() + "\"");
      continue;
    }
    d.record(it->second, itemPath);
    decodeValue(d, it->second, itemPath, out[key.Scalar()]);
  }
}
}  // namespace

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, Labels& out) {
  decodeStringMap(d, node, path, out);
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path,
                 std::map<std::string, int>& out) {
  std::map<std::string, int, std::less<>> tmp;
  decodeStringMap(d, node, path, tmp);
  out.clear();
  out.insert(tmp.begin(), tmp.end());
}

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path,
                 std::map<std::string, uint64_t>& out) {
  std::map<std::string, uint64_t, std::less<>> tmp;
  decodeStringMap(d, node, path, tmp);
  out.clear();
  out.insert(tmp.begin(), tmp.end());
}

Tree encodeValue(const std::string& value) { return Tree::string(value); }
Tree encodeValue(bool value) { return Tree::flag(value); }
Tree encodeValue(int value) { return encodeInteger(value); }
Tree encodeValue(int64_t value) { return encodeInteger(value); }
Tree encodeValue(uint16_t value) { return encodeInteger(value); }
Tree encodeValue(uint32_t value) { return encodeInteger(value); }
Tree encodeValue(uint64_t value) { return encodeInteger(value); }

Tree encodeValue(double value) {
  char buffer[64];
  // Shortest form that reads back as the same double, so encoding is stable.
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;
  return Tree::number(std::string(buffer, end));
}

Tree encodeValue(const Labels& value) {
  Tree tree = Tree::map();
  for (const auto& [key, item] : value) tree.fields.emplace_back(key, Tree::string(item));
  return tree;
}

Tree encodeValue(const std::map<std::string, int>& value) {
  Tree tree = Tree::map();
  for (const auto& [key, item] : value) tree.fields.emplace_back(key, encodeValue(item));
  return tree;
}

Tree encodeValue(const std::map<std::string, uint64_t>& value) {
  Tree tree = Tree::map();
  for (const auto& [key, item] : value) tree.fields.emplace_back(key, encodeValue(item));
  return tree;
}

// ---- Writers ----

namespace {

bool isPlainSafe(const std::string& s) {
  if (s.empty()) return false;
  char first = s[0];
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_' || first == '/')) {
    return false;
  }
  if (s.back() == ':') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_' || c == '.' ||
              c == '/' || c == '-' || c == ':' || c == '+' || c == '@';
    if (!ok) return false;
  }
  return resolvePlain(s) == ScalarType::kString;
}

std::string quoted(const std::string& s) {
  // JSON string escaping is valid YAML double-quoted escaping.
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string scalarYaml(const Tree& tree) {
  switch (tree.type) {
    case Tree::Type::kNull:
      return "null";
    case Tree::Type::kBool:
      return tree.boolean ? "true" : "false";
    case Tree::Type::kNumber:
      return tree.text;
    case Tree::Type::kString:
      return isPlainSafe(tree.text) ? tree.text : quoted(tree.text);
    case Tree::Type::kList:
      return "[]";
    case Tree::Type::kMap:
      return "{}";
  }
  return "null";
}

bool isBlock(const Tree& tree) {
  return (tree.type == Tree::Type::kMap && !tree.fields.empty()) ||
         (tree.type == Tree::Type::kList && !tree.items.empty());
}

void writeYamlNode(const Tree& tree, int indent, std::string& out);

void writeYamlMapBody(const Tree& tree, int indent, bool firstInline, std::string& out) {
  bool first = true;
  for (const auto& [key, value] : tree.fields) {
    if (!(first && firstInline)) out.append(indent, ' ');
    first = false;
    out += isPlainSafe(key) ? key : quoted(key);
    out += ':';
    if (isBlock(value)) {
      out += '\n';
      // Lists under a key are written at the key's indent, as kubectl writes them.
      writeYamlNode(value, value.type == Tree::Type::kList ? indent : indent + 2, out);
    } else {
      out += ' ';
      out += scalarYaml(value);
      out += '\n';
    }
  }
}

void writeYamlNode(const Tree& tree, int indent, std::string& out) {
  if (tree.type == Tree::Type::kMap && !tree.fields.empty()) {
    writeYamlMapBody(tree, indent, false, out);
  } else if (tree.type == Tree::Type::kList && !tree.items.empty()) {
    for (const Tree& item : tree.items) {
      out.append(indent, ' ');
      out += "- ";
      if (item.type == Tree::Type::kMap && !item.fields.empty()) {
        writeYamlMapBody(item, indent + 2, true, out);
      } else if (item.type == Tree::Type::kList && !item.items.empty()) {
        out += '\n';
        writeYamlNode(item, indent + 2, out);
      } else {
        out += scalarYaml(item);
        out += '\n';
      }
    }
  } else {
    out.append(indent, ' ');
    out += scalarYaml(tree);
    out += '\n';
  }
}

nlohmann::ordered_json toJson(const Tree& tree) {
  switch (tree.type) {
    case Tree::Type::kNull:
      return nullptr;
    case Tree::Type::kBool:
      return tree.boolean;
    case Tree::Type::kNumber: {
      return nlohmann::ordered_json::parse(tree.text);
    }
    case Tree::Type::kString:
      return tree.text;
    case Tree::Type::kList: {
      auto list = nlohmann::ordered_json::array();
      for (const Tree& item : tree.items) list.push_back(toJson(item));
      return list;
    }
    case Tree::Type::kMap: {
      auto map = nlohmann::ordered_json::object();
      for (const auto& [key, value] : tree.fields) map[key] = toJson(value);
      return map;
    }
  }
  return nullptr;
}

}  // namespace

std::string writeYaml(const Tree& tree) {
  std::string out;
  writeYamlNode(tree, 0, out);
  return out;
}

std::string writeJson(const Tree& tree) {
  return toJson(tree).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace tartan::model
