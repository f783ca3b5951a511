// schema_writer.hpp (private) — the third visitor of the describe() functions: it writes the
// OpenAPI v3 schema (structural, as Kubernetes wants a CustomResourceDefinition's) of what the
// Decoder accepts, from the same field lists, so a schema cannot name a field the decoder
// refuses or miss one it reads.
//
// Types follow the decoder's overloads: strings, booleans, integers (with their range where it
// is narrower than JSON's), numbers, string maps, lists, nested structs; Calico's protocol and
// port and Kubernetes' int-or-string as x-kubernetes-int-or-string; ObjectMeta as a bare object
// (the API server owns its schema). A field the decoder requires (Need::kRequired) is required.
// A field described with a FixedValues set gets an enum (or, when the validator ignores case, a
// (?i) pattern as Calico's CRDs write it); a plain string the decoder does not require may also
// be "" (unset, or written empty).
#pragma once

#include "codec.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tartan::model {

// ---- Scalars and shared types (schema_writer.cpp) ----

Tree schemaValue(const std::string&);
Tree schemaValue(const bool&);
Tree schemaValue(const int&);
Tree schemaValue(const int64_t&);
Tree schemaValue(const uint16_t&);
Tree schemaValue(const uint32_t&);
Tree schemaValue(const uint64_t&);
Tree schemaValue(const double&);
Tree schemaValue(const Labels&);
Tree schemaValue(const Protocol&);
Tree schemaValue(const Port&);
Tree schemaValue(const IntOrString&);
Tree schemaValue(const ObjectMeta&);
Tree schemaValue(const std::map<std::string, int>&);
Tree schemaValue(const std::map<std::string, uint64_t>&);

// A schema that accepts an integer or a string (Kubernetes' int-or-string marker).
Tree intOrStringSchema();
// The schema of a string restricted to `values` (see the header comment for "" and case).
void restrictString(Tree& schema, const FixedValues& values, bool mayBeEmpty);

// ---- Containers and structs ----

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
Tree schemaValue(const T& value);
template <class T>
Tree schemaValue(const std::optional<T>& value);
template <class T>
Tree schemaValue(const std::vector<T>& value);

class SchemaWriter {
 public:
  explicit SchemaWriter(Tree& object) : object_(object) {}

  template <class T>
  void field(std::string_view key, const T& member, Need need = Need::kOptional) {
    add(key, schemaValue(member), need);
  }
  template <class T>
  void field(std::string_view key, const T& member, Need need, const FixedValues& values) {
    static_assert(std::is_same_v<T, std::string> || std::is_same_v<T, std::optional<std::string>> ||
                      std::is_same_v<T, std::vector<std::string>>,
                  "a fixed set of values describes a string or a list of strings");
    Tree schema = schemaValue(member);
    Tree* strings = &schema;
    if constexpr (IsVector<T>::value) strings = &schema.fields.back().value;  // the list's "items"
    constexpr bool kPlainString = std::is_same_v<T, std::string>;
    // A plain string the decoder does not require may be "": unset, or written empty (kAlways).
    restrictString(*strings, values, kPlainString && need != Need::kRequired);
    add(key, std::move(schema), need);
  }
  void typeMeta(Kind) {
    add("apiVersion", schemaValue(std::string()), Need::kOptional);
    add("kind", schemaValue(std::string()), Need::kOptional);
  }

 private:
  void add(std::string_view key, Tree schema, Need need);
  Tree& object_;
};

template <class T>
Tree schemaValue(const T& value) {
  Tree schema = Tree::map();
  schema.fields.emplace_back("type", Tree::string("object"));
  SchemaWriter w(schema);
  // describe() takes a mutable reference so that one function serves every visitor; this one
  // never touches the value.
  describe(w, const_cast<T&>(value));
  return schema;
}

template <class T>
Tree schemaValue(const std::optional<T>&) {
  return schemaValue(T{});
}

template <class T>
Tree schemaValue(const std::vector<T>&) {
  Tree schema = Tree::map();
  schema.fields.emplace_back("type", Tree::string("array"));
  Tree items = schemaValue(T{});
  if constexpr (IsOptional<T>::value) {
    items.fields.emplace_back("nullable", Tree::flag(true));  // a JSON null element is read
  }
  schema.fields.emplace_back("items", std::move(items));
  return schema;
}

}  // namespace tartan::model
