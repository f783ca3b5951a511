// schema_writer.cpp — the schemas of the scalar and shared types; see schema_writer.hpp.
#include "schema_writer.hpp"

#include <limits>

namespace tartan::model {

namespace {

Tree typed(const char* type) {
  Tree schema = Tree::map();
  schema.fields.emplace_back("type", Tree::string(type));
  return schema;
}

// An integer of a C++ type: the range the decoder checks, where JSON's is wider.
template <class Int>
Tree integer() {
  Tree schema = typed("integer");
  if constexpr (sizeof(Int) == 8) {
    schema.fields.emplace_back("format", Tree::string("int64"));
  } else if constexpr (std::is_same_v<Int, int>) {
    schema.fields.emplace_back("format", Tree::string("int32"));
  }
  if constexpr (std::is_unsigned_v<Int>) {
    schema.fields.emplace_back("minimum", Tree::number("0"));
    if constexpr (sizeof(Int) < 8) {
      schema.fields.emplace_back("maximum", Tree::number(std::to_string(std::numeric_limits<Int>::max())));
    }
  }
  return schema;
}

Tree mapOf(Tree values) {
  Tree schema = typed("object");
  schema.fields.emplace_back("additionalProperties", std::move(values));
  return schema;
}

}  // namespace

Tree schemaValue(const std::string&) { return typed("string"); }
Tree schemaValue(const bool&) { return typed("boolean"); }
Tree schemaValue(const int&) { return integer<int>(); }
Tree schemaValue(const int64_t&) { return integer<int64_t>(); }
Tree schemaValue(const uint16_t&) { return integer<uint16_t>(); }
Tree schemaValue(const uint32_t&) { return integer<uint32_t>(); }
Tree schemaValue(const uint64_t&) { return integer<uint64_t>(); }
Tree schemaValue(const double&) { return typed("number"); }
Tree schemaValue(const Labels&) { return mapOf(typed("string")); }
Tree schemaValue(const Protocol&) { return intOrStringSchema(); }
Tree schemaValue(const Port&) { return intOrStringSchema(); }
Tree schemaValue(const IntOrString&) { return intOrStringSchema(); }
// The API server validates metadata itself; a CRD's schema may say no more than "an object".
Tree schemaValue(const ObjectMeta&) { return typed("object"); }
Tree schemaValue(const std::map<std::string, int>&) { return mapOf(integer<int>()); }
Tree schemaValue(const std::map<std::string, uint64_t>&) { return mapOf(integer<uint64_t>()); }

Tree intOrStringSchema() {
  Tree schema = Tree::map();
  Tree anyOf = Tree::list();
  anyOf.items.push_back(typed("integer"));
  anyOf.items.push_back(typed("string"));
  schema.fields.emplace_back("anyOf", std::move(anyOf));
  schema.fields.emplace_back("x-kubernetes-int-or-string", Tree::flag(true));
  return schema;
}

void restrictString(Tree& schema, const FixedValues& values, bool mayBeEmpty) {
  if (values.ignoreCase) {
    std::string alternatives;
    for (std::string_view value : values.values) {
      if (!alternatives.empty()) alternatives += '|';
      alternatives += value;
    }
    schema.fields.emplace_back("pattern",
                               Tree::string("^(?i)(" + alternatives + ")" + (mayBeEmpty ? "?" : "") + "$"));
    return;
  }
  Tree list = Tree::list();
  for (std::string_view value : values.values) list.items.push_back(Tree::string(std::string(value)));
  if (mayBeEmpty) list.items.push_back(Tree::string(""));
  schema.fields.emplace_back("enum", std::move(list));
}

void SchemaWriter::add(std::string_view key, Tree schema, Need need) {
  auto find = [&](std::string_view name) -> Tree* {
    for (TreeField& f : object_.fields) {
      if (f.key == name) return &f.value;
    }
    return nullptr;
  };
  Tree* properties = find("properties");
  if (properties == nullptr) {
    object_.fields.emplace_back("properties", Tree::map());
    properties = &object_.fields.back().value;
  }
  properties->fields.emplace_back(std::string(key), std::move(schema));
  if (need != Need::kRequired) return;
  Tree* required = find("required");
  if (required == nullptr) {
    object_.fields.emplace_back("required", Tree::list());
    required = &object_.fields.back().value;
  }
  required->items.push_back(Tree::string(std::string(key)));
}

}  // namespace tartan::model
