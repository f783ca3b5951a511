// The subset of kubectl's JSONPath that tartanctl's -o jsonpath and -o custom-columns take, over
// a resource's JSON document. Pure: parse once, render against any document.
//
// Supported: text outside braces, printed as it is; {.a.b}, {['a.b']}, {.a[2]}, {.a[*].b} paths
// from the current object ("." or "@") or the root ("$"); {"literal"} with \n, \t, \\ and \"; and
// {range PATH}...{end}, which renders its body once per element (an array result is walked
// element by element), "." meaning that element. Several values of one path print separated by a
// space; a string prints as it is, anything else as compact JSON; a path that leads nowhere prints
// nothing, as kubectl's does. Anything else — filters [?()], slices [a:b], unions [a,b],
// recursive descent .., negative indices, functions — is refused when parsed, never guessed at.
#pragma once

#include "tartan/common/result.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::cli::jsonpath {

using Json = nlohmann::ordered_json;

// One path: steps applied in turn, each to every value the previous one produced.
class Path {
 public:
  // `text` is the path without braces (".metadata.name"); `where` names it in errors, whose
  // columns count from `column` (the column of the path's first character in what was typed).
  static Result<Path> parse(std::string_view text, const std::string& where, size_t column = 1);
  // The values the path leads to from `current` (root for "$" paths), in document order.
  std::vector<const Json*> evaluate(const Json& current, const Json& root) const;

 private:
  struct Step {
    enum class Type { kField, kIndex, kAll };
    Type type = Type::kField;
    std::string field;
    size_t index = 0;
  };
  bool fromRoot_ = false;
  std::vector<Step> steps_;
};

// A value as kubectl prints it: a string as it is, anything else as compact JSON.
std::string format(const Json& value);

class Template {
 public:
  static Result<Template> parse(std::string_view text);
  std::string render(const Json& root) const;

  struct Piece;  // text, a path, or a range with its body

 private:
  std::vector<std::shared_ptr<Piece>> pieces_;
};

}  // namespace tartan::cli::jsonpath
