// codec.hpp (private) — the machinery behind the one description of each struct's fields.
//
// Every struct has a `describe(V& v, T& s)` function template that names each field once:
//   v.field("action", s.action, Need::kRequired);
// It is instantiated with three visitors: Decoder (walks a yaml-cpp node strictly, recording
// errors and field positions), Encoder (builds a Tree with keys in the described order) and
// SchemaWriter (schema_writer.hpp: the OpenAPI schema of what the Decoder accepts). Each kind
// group's .cpp file instantiates its own describe functions and exposes plain functions
// (kinds_internal.hpp), so the templates are compiled once, in one file each.
#pragma once

#include "tartan/common/result.hpp"
#include "tartan/model/kind.hpp"
#include "tartan/model/types.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tartan::model {

// How a field behaves when absent.
enum class Need {
  kOptional,  // may be absent; left out of the output when empty (Go's omitempty)
  kRequired,  // must be present on input; always written
  kAlways,    // may be absent on input; always written (Go fields without omitempty)
};

// The fixed set of values a string field takes, as the validator checks it (fixed_values.hpp
// names each set once, for the validator and for the field's description). The decoder and the
// encoder ignore it; the schema writer makes it an enum.
struct FixedValues {
  std::span<const std::string_view> values;
  bool ignoreCase = false;  // Calico's (?i) patterns: "accept" is as good as "Accept"
};

// An ordered document tree: what the encoder builds and the YAML and JSON writers print.
struct TreeField;
struct Tree {
  enum class Type { kNull, kBool, kNumber, kString, kList, kMap };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // a number's digits or a string's value
  std::vector<Tree> items;
  // A map's entries in order. TreeField is completed below: std::pair<std::string, Tree> here
  // would need Tree complete inside its own definition, which clang's libstdc++ checks refuse.
  std::vector<TreeField> fields;

  static Tree map();
  static Tree list();
  static Tree string(std::string s);
  static Tree number(std::string digits);
  static Tree flag(bool b);
};

struct TreeField {
  TreeField(std::string k, Tree v) : key(std::move(k)), value(std::move(v)) {}
  std::string key;
  Tree value;
};

inline Tree Tree::map() {
  Tree t;
  t.type = Type::kMap;
  return t;
}
inline Tree Tree::list() {
  Tree t;
  t.type = Type::kList;
  return t;
}
inline Tree Tree::string(std::string s) {
  Tree t;
  t.type = Type::kString;
  t.text = std::move(s);
  return t;
}
inline Tree Tree::number(std::string digits) {
  Tree t;
  t.type = Type::kNumber;
  t.text = std::move(digits);
  return t;
}
inline Tree Tree::flag(bool b) {
  Tree t;
  t.type = Type::kBool;
  t.boolean = b;
  return t;
}

std::string writeYaml(const Tree& tree);

// One YAML document of a stream, with the 0-based line of the stream it starts on.
struct DocumentText {
  std::string text;
  int firstLine = 0;
};
// Splits a stream at its "---" document markers (YAML 1.2 §9.1.2: a marker at the start of a
// line always begins a document, whatever precedes it).
std::vector<DocumentText> splitDocuments(std::string_view text);

// Loads one document. Unlike YAML::LoadAll of yaml-cpp 0.7 this cannot loop forever on bad
// input; it also refuses aliases (which could expand exponentially) and trailing content.
// On failure returns an error whose `where` names the line and column.
Result<YAML::Node> loadDocument(const DocumentText& document, std::string_view source);
std::string writeJson(const Tree& tree);

// Where each decoded value sat in the input: field path -> line and column, 1-based, and
// whether the value was a quoted scalar (its text then starts one column later).
struct Position {
  int line = 0;
  int column = 0;
  bool quoted = false;
};
using Positions = std::unordered_map<std::string, Position>;

// How a plain (unquoted) YAML scalar resolves, as go-yaml (and so kubectl and calicoctl) reads it.
enum class ScalarType { kNull, kBool, kInt, kFloat, kString };
ScalarType resolvePlain(std::string_view text);

class Decoder {
 public:
  // `lineOffset` is the line of the input at which the document being decoded starts.
  Decoder(std::string_view source, std::vector<Error>& errors, Positions& positions, int lineOffset = 0)
      : source_(source), errors_(errors), positions_(positions), lineOffset_(lineOffset) {}

  // Fields of the mapping being visited. Marks the key used; decodes it into `member`.
  template <class T>
  void field(std::string_view key, T& member, Need need = Need::kOptional);
  template <class T>
  void field(std::string_view key, T& member, Need need, const FixedValues&) {
    field(key, member, need);  // the validator checks the value
  }

  // The kind header of a top-level resource: apiVersion and kind were checked by the caller.
  void typeMeta(Kind) {
    markUsed("apiVersion");
    markUsed("kind");
  }

  void error(const YAML::Node& at, const std::string& path, std::string what);
  void record(const YAML::Node& at, const std::string& path);
  std::string where(const YAML::Node& at) const;

  // Lenient decoding ignores unknown fields (the Kubernetes kinds whose other fields come from
  // Kubernetes, not from users).
  bool lenient() const { return lenient_; }
  void setLenient(bool lenient) { lenient_ = lenient; }

  // A mapping being visited; opened and closed by decodeStruct().
  struct Frame {
    const YAML::Node* node = nullptr;
    std::string path;
    std::vector<std::pair<std::string, YAML::Node>> entries;
    std::vector<YAML::Node> keys;
    std::vector<bool> used;
  };
  // False if the node is not a mapping (after reporting it) or is null.
  bool open(const YAML::Node& node, const std::string& path, Frame& frame);
  void close(Frame& frame);  // reports unknown fields
  Frame* swapFrame(Frame* frame) {
    std::swap(frame, frame_);
    return frame;
  }

 private:
  const YAML::Node* find(std::string_view key);
  void markUsed(std::string_view key) { find(key); }
  std::string childPath(std::string_view key) const;

  std::string source_;
  std::vector<Error>& errors_;
  Positions& positions_;
  int lineOffset_ = 0;
  Frame* frame_ = nullptr;
  bool lenient_ = false;
};

class Encoder {
 public:
  explicit Encoder(Tree& out) : out_(out) {}
  template <class T>
  void field(std::string_view key, const T& member, Need need = Need::kOptional);
  template <class T>
  void field(std::string_view key, const T& member, Need need, const FixedValues&) {
    field(key, member, need);
  }
  void typeMeta(Kind kind);

 private:
  Tree& out_;
};

// ---- Values: non-template overloads for scalars and shared types (codec.cpp, types.cpp) ----

void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, std::string& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, bool& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, int& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, int64_t& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, uint16_t& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, uint32_t& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, uint64_t& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, double& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, Labels& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, Protocol& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, Port& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, IntOrString& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, ObjectMeta& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path,
                 std::map<std::string, int>& out);
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path,
                 std::map<std::string, uint64_t>& out);

Tree encodeValue(const std::string& value);
Tree encodeValue(bool value);
Tree encodeValue(int value);
Tree encodeValue(int64_t value);
Tree encodeValue(uint16_t value);
Tree encodeValue(uint32_t value);
Tree encodeValue(uint64_t value);
Tree encodeValue(double value);
Tree encodeValue(const Labels& value);
Tree encodeValue(const Protocol& value);
Tree encodeValue(const Port& value);
Tree encodeValue(const IntOrString& value);
Tree encodeValue(const ObjectMeta& value);
Tree encodeValue(const std::map<std::string, int>& value);
Tree encodeValue(const std::map<std::string, uint64_t>& value);

// ---- Generic containers and structs ----

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// The container templates are declared before any is defined, so that each finds the others
// (argument-dependent lookup would not: std::vector's namespace is std).
template <class T>
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, T& out);
template <class T>
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, std::optional<T>& out);
template <class T>
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, std::vector<T>& out);
template <class T>
Tree encodeValue(const T& value);
template <class T>
Tree encodeValue(const std::optional<T>& value);
template <class T>
Tree encodeValue(const std::vector<T>& value);

template <class T>
void decodeStruct(Decoder& d, const YAML::Node& node, const std::string& path, T& out) {
  Decoder::Frame frame;
  if (!d.open(node, path, frame)) return;
  Decoder::Frame* outer = d.swapFrame(&frame);
  describe(d, out);
  d.swapFrame(outer);
  d.close(frame);
}

template <class T>
Tree encodeStruct(const T& value) {
  Tree tree = Tree::map();
  Encoder e(tree);
  // describe() takes a mutable reference so that one function serves both visitors; the
  // encoder only reads through it.
  describe(e, const_cast<T&>(value));
  return tree;
}

template <class T>
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, T& out) {
  decodeStruct(d, node, path, out);
}
template <class T>
Tree encodeValue(const T& value) {
  return encodeStruct(value);
}

template <class T>
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, std::optional<T>& out) {
  out.emplace();
  decodeValue(d, node, path, *out);
}
template <class T>
Tree encodeValue(const std::optional<T>& value) {
  return value ? encodeValue(*value) : Tree{};
}

template <class T>
void decodeValue(Decoder& d, const YAML::Node& node, const std::string& path, std::vector<T>& out) {
  out.clear();
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    d.error(node, path, "expected a list");
    return;
  }
  out.resize(node.size());
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    std::string itemPath = path + "[" + std::to_string(i) + "]";
    d.record(item, itemPath);
    if constexpr (IsOptional<T>::value) {
      if (item.IsNull()) continue;  // a JSON null list element (IPAMBlock allocations)
    }
    decodeValue(d, item, itemPath, out[i]);
  }
}
template <class T>
Tree encodeValue(const std::vector<T>& value) {
  Tree tree = Tree::list();
  for (const T& item : value) tree.items.push_back(encodeValue(item));
  return tree;
}

template <class T>
bool isEmptyValue(const T& value) {
  if constexpr (IsOptional<T>::value) {
    return !value.has_value();
  } else if constexpr (requires { value.empty(); }) {
    return value.empty();
  } else {
    return value == T{};
  }
}

template <class T>
void Decoder::field(std::string_view key, T& member, Need need) {
  const YAML::Node* value = find(key);
  std::string path = childPath(key);
  if (value == nullptr) {
    if (need == Need::kRequired) {
      error(*frame_->node, path, "required field \"" + std::string(key) + "\" is missing");
    }
    return;
  }
  record(*value, path);
  if (value->IsNull()) {
    if (need == Need::kRequired) error(*value, path, "required field is null");
    member = T{};  // JSON null is the zero value, as in Go
    return;
  }
  decodeValue(*this, *value, path, member);
}

template <class T>
void Encoder::field(std::string_view key, const T& member, Need need) {
  if (need == Need::kOptional && isEmptyValue(member)) return;
  out_.fields.emplace_back(std::string(key), encodeValue(member));
}

}  // namespace tartan::model
