#include "jsonpath.hpp"

#include <cctype>

namespace tartan::cli::jsonpath {

namespace {

constexpr const char* kSupported = "supported: .field, ['field'], [N], [*], .*, range/end, \"text\"";

bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-'; }

Error refuse(const std::string& where, size_t column, const std::string& what) {
  return makeError(where, "", "column " + std::to_string(column) + ": " + what + " (" + kSupported + ")");
}

}  // namespace

Result<Path> Path::parse(std::string_view text, const std::string& where, size_t firstColumn) {
  Path path;
  size_t i = 0;
  auto column = [&](size_t at) { return at + firstColumn; };
  if (text.empty()) return refuse(where, firstColumn, "an empty path");
  if (text[0] == '$' || text[0] == '@') {
    path.fromRoot_ = text[0] == '$';
    i = 1;
  } else if (text[0] != '.' && text[0] != '[') {
    return refuse(where, firstColumn, "a path starts with ., @ or $, not \"" + std::string(text) + "\"");
  }
  if (text == ".") return path;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '.') {
      if (i + 1 < text.size() && text[i + 1] == '.')
        return refuse(where, column(i), "recursive descent (..) is not supported");
      if (i + 1 < text.size() && text[i + 1] == '*') {
        path.steps_.push_back({Step::Type::kAll, "", 0});
        i += 2;
        continue;
      }
      size_t end = i + 1;
      while (end < text.size() && isNameChar(text[end])) ++end;
      if (end == i + 1) {
        return refuse(where, column(i + 1),
                      end < text.size() ? std::string("unexpected \"") + text[end] + "\" after \".\""
                                        : std::string("a path cannot end in \".\""));
      }
      path.steps_.push_back({Step::Type::kField, std::string(text.substr(i + 1, end - i - 1)), 0});
      i = end;
      continue;
    }
    if (c == '[') {
      size_t close = text.find(']', i);
      if (text.size() > i + 1 && (text[i + 1] == '\'' || text[i + 1] == '"')) {
        const char quote = text[i + 1];
        size_t endQuote = text.find(quote, i + 2);
        if (endQuote == std::string_view::npos || endQuote + 1 >= text.size() || text[endQuote + 1] != ']')
          return refuse(where, column(i), "a quoted field name must be closed as ['name']");
        path.steps_.push_back({Step::Type::kField, std::string(text.substr(i + 2, endQuote - i - 2)), 0});
        i = endQuote + 2;
        continue;
      }
      if (close == std::string_view::npos) return refuse(where, column(i), "\"[\" is not closed");
      std::string_view inside = text.substr(i + 1, close - i - 1);
      if (inside == "*") {
        path.steps_.push_back({Step::Type::kAll, "", 0});
      } else if (!inside.empty() && inside[0] == '?') {
        return refuse(where, column(i), "filters [?(...)] are not supported");
      } else if (inside.find(':') != std::string_view::npos) {
        return refuse(where, column(i), "slices [a:b] are not supported");
      } else if (inside.find(',') != std::string_view::npos) {
        return refuse(where, column(i), "unions [a,b] are not supported");
      } else if (!inside.empty() && inside[0] == '-') {
        return refuse(where, column(i), "negative indices are not supported");
      } else if (!inside.empty() && inside.size() <= 9 &&
                 inside.find_first_not_of("0123456789") == std::string_view::npos) {
        path.steps_.push_back({Step::Type::kIndex, "", std::stoul(std::string(inside))});
      } else {
        return refuse(where, column(i), "\"[" + std::string(inside) + "]\" is not an index, [*] or ['name']");
      }
      i = close + 1;
      continue;
    }
    if (c == '(') return refuse(where, column(i), "functions are not supported");
    return refuse(where, column(i), std::string("unexpected \"") + c + "\"");
  }
  return path;
}

std::vector<const Json*> Path::evaluate(const Json& current, const Json& root) const {
  std::vector<const Json*> values{fromRoot_ ? &root : &current};
  for (const Step& step : steps_) {
    std::vector<const Json*> next;
    for (const Json* value : values) {
      switch (step.type) {
        case Step::Type::kField:
          if (value->is_object()) {
            auto it = value->find(step.field);
            if (it != value->end()) next.push_back(&*it);
          }
          break;
        case Step::Type::kIndex:
          if (value->is_array() && step.index < value->size()) next.push_back(&(*value)[step.index]);
          break;
        case Step::Type::kAll:
          if (value->is_array() || value->is_object())
            for (const auto& item : *value) next.push_back(&item);
          break;
      }
    }
    values = std::move(next);
  }
  return values;
}

std::string format(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

struct Template::Piece {
  enum class Type { kText, kPath, kRange };
  Type type = Type::kText;
  std::string text;
  Path path;
  std::vector<std::shared_ptr<Piece>> body;
};

namespace {

using Piece = Template::Piece;
using Pieces = std::vector<std::shared_ptr<Piece>>;

void renderPieces(const Pieces& pieces, const Json& current, const Json& root, std::string& out) {
  for (const auto& piece : pieces) {
    switch (piece->type) {
      case Piece::Type::kText:
        out += piece->text;
        break;
      case Piece::Type::kPath: {
        bool first = true;
        for (const Json* value : piece->path.evaluate(current, root)) {
          if (!first) out += ' ';
          first = false;
          out += format(*value);
        }
        break;
      }
      case Piece::Type::kRange:
        for (const Json* value : piece->path.evaluate(current, root)) {
          if (value->is_array()) {
            for (const auto& item : *value) renderPieces(piece->body, item, root, out);
          } else {
            renderPieces(piece->body, *value, root, out);
          }
        }
        break;
    }
  }
}

Result<std::string> stringLiteral(std::string_view text, size_t column) {
  const std::string where = "-o jsonpath";
  std::string out;
  for (size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      if (i + 1 != text.size()) return refuse(where, column + i, "text after a closed string");
      return Result<std::string>(boost::system::in_place_value, std::move(out));
    }
    if (c == '\\' && i + 1 < text.size()) {
      char e = text[++i];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '\\':
          out += '\\';
          break;
        case '"':
          out += '"';
          break;
        default:
          return refuse(where, column + i, std::string("unknown escape \\") + e);
      }
      continue;
    }
    out += c;
  }
  return refuse(where, column, "a string is not closed");
}

}  // namespace

Result<Template> Template::parse(std::string_view text) {
  const std::string where = "-o jsonpath";
  // The open ranges: the list pieces go to, and where each range began.
  std::vector<std::pair<Pieces*, size_t>> stack;
  Template result;
  Pieces* into = &result.pieces_;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find('{', i);
    if (open != i) {
      auto piece = std::make_shared<Piece>();
      piece->text = std::string(text.substr(i, open == std::string_view::npos ? open : open - i));
      into->push_back(piece);
      if (open == std::string_view::npos) break;
    }
    // The matching "}", outside quotes.
    size_t close = open + 1;
    char quote = 0;
    for (; close < text.size(); ++close) {
      char c = text[close];
      if (quote) {
        if (c == '\\')
          ++close;
        else if (c == quote)
          quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '}') {
        break;
      } else if (c == '{') {
        return refuse(where, close + 1, "\"{\" inside an expression");
      }
    }
    if (close >= text.size()) return refuse(where, open + 1, "\"{\" is not closed");
    std::string_view expression = text.substr(open + 1, close - open - 1);
    size_t column = open + 2;
    while (!expression.empty() && expression.front() == ' ') {
      expression.remove_prefix(1);
      ++column;
    }
    while (!expression.empty() && expression.back() == ' ') expression.remove_suffix(1);
    if (expression.empty()) return refuse(where, open + 1, "an empty expression {}");
    if (expression.front() == '"') {
      auto literal = stringLiteral(expression, column);
      if (!literal) return literal.error();
      auto piece = std::make_shared<Piece>();
      piece->text = std::move(*literal);
      into->push_back(piece);
    } else if (expression == "end") {
      if (stack.empty()) return refuse(where, column, "{end} without {range}");
      into = stack.back().first;
      stack.pop_back();
    } else if (expression.substr(0, 6) == "range ") {
      std::string_view pathText = expression.substr(6);
      while (!pathText.empty() && pathText.front() == ' ') pathText.remove_prefix(1);
      auto path = Path::parse(pathText, where, column + (pathText.data() - expression.data()));
      if (!path) return path.error();
      auto piece = std::make_shared<Piece>();
      piece->type = Piece::Type::kRange;
      piece->path = std::move(*path);
      into->push_back(piece);
      stack.emplace_back(into, column);
      into = &into->back()->body;
    } else {
      auto path = Path::parse(expression, where, column);
      if (!path) return path.error();
      auto piece = std::make_shared<Piece>();
      piece->type = Piece::Type::kPath;
      piece->path = std::move(*path);
      into->push_back(piece);
    }
    i = close + 1;
  }
  if (!stack.empty()) return refuse(where, stack.back().second, "{range} has no {end}");
  return result;
}

std::string Template::render(const Json& root) const {
  std::string out;
  renderPieces(pieces_, root, root, out);
  return out;
}

}  // namespace tartan::cli::jsonpath
