// schema.cpp — openApiSchemaJson(): each kind's schema from its group's schemaResource().
#include "tartan/model/schema.hpp"
#include "kinds_internal.hpp"

#include <cassert>
#include <utility>

namespace tartan::model {

namespace {

template <size_t... I>
Tree schemaByIndex(size_t index, std::index_sequence<I...>) {
  Tree out;
  const bool found =
      ((index == I ? (out = schemaResource(std::variant_alternative_t<I, Resource>{}), true) : false) || ...);
  assert(found);  // every Kind has its alternative
  (void)found;
  return out;
}

void preserveUnknownFields(Tree& schema) {
  bool object = false;
  for (TreeField& f : schema.fields) {
    if (f.key == "type" && f.value.text == "object") object = true;
    if (f.key == "properties") {
      for (TreeField& p : f.value.fields) preserveUnknownFields(p.value);
    }
    if (f.key == "items") preserveUnknownFields(f.value);
  }
  if (object) schema.fields.emplace_back("x-kubernetes-preserve-unknown-fields", Tree::flag(true));
}

}  // namespace

std::string openApiSchemaJson(Kind kind) {
  // The Resource alternatives are in the order of the Kind enum.
  Tree schema =
      schemaByIndex(static_cast<size_t>(kind), std::make_index_sequence<std::variant_size_v<Resource>>{});
  if (isLenientKind(kind)) preserveUnknownFields(schema);
  return writeJson(schema);
}

}  // namespace tartan::model
