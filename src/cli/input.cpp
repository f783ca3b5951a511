#include "cli.hpp"

#include "tartan/common/limits.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

namespace tartan::cli {

namespace fs = std::filesystem;

namespace {

bool isManifestFile(const fs::path& path) {
  auto ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

Error tooLarge(const std::string& source, const std::string& size) {
  return makeError(source, "",
                   size + " bytes, over the limit of " + std::to_string(kMaxInputBytes) +
                       " (64 MiB) for one input; split it into several files");
}

// Reads at most kMaxInputBytes, and says so rather than reading on: a file or stdin may be any
// size, and what is read is decoded next.
Result<std::string> readBounded(std::istream& in, const std::string& source) {
  std::string text;
  std::array<char, 65536> buffer;
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    text.append(buffer.data(), static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxInputBytes) return tooLarge(source, "more than " + std::to_string(kMaxInputBytes));
  }
  if (in.bad()) return makeError(source, "", "read failed");
  return Result<std::string>(boost::system::in_place_value, std::move(text));
}

Result<std::string> readFile(const fs::path& path) {
  std::error_code ec;
  if (const auto size = fs::file_size(path, ec); !ec && size > kMaxInputBytes) {
    return tooLarge(path.string(), std::to_string(size));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(path.string(), "", "cannot be read");
  return readBounded(in, path.string());
}

}  // namespace

Result<std::vector<Input>> readInputs(const std::vector<std::string>& paths, bool recursive) {
  std::vector<Input> inputs;
  if (paths.empty()) return makeError("no input: give -f FILE, -f DIR or -f -");
  for (const auto& arg : paths) {
    if (arg == "-") {
      auto text = readBounded(std::cin, "<stdin>");
      if (!text) return text.error();
      inputs.push_back({"<stdin>", std::move(*text)});
      continue;
    }
    fs::path path(arg);
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return makeError(arg, "", "no such file or directory");
    if (fs::is_directory(status)) {
      std::vector<fs::path> files;
      auto collect = [&](const fs::directory_entry& entry) {
        if (entry.is_regular_file() && isManifestFile(entry.path())) files.push_back(entry.path());
      };
      if (recursive) {
        for (const auto& entry : fs::recursive_directory_iterator(path, ec)) collect(entry);
      } else {
        for (const auto& entry : fs::directory_iterator(path, ec)) collect(entry);
      }
      if (ec) return makeError(arg, "", ec.message());
      std::sort(files.begin(), files.end());
      if (files.empty()) return makeError(arg, "", "no .yaml, .yml or .json files in this folder");
      for (const auto& file : files) {
        auto text = readFile(file);
        if (!text) return text.error();
        inputs.push_back({file.string(), std::move(*text)});
      }
      continue;
    }
    auto text = readFile(path);
    if (!text) return text.error();
    inputs.push_back({arg, std::move(*text)});
  }
  return inputs;
}

DecodedInputs decodeInputs(const std::vector<Input>& inputs, const std::string& defaultNamespace,
                           bool namespaceExplicit) {
  DecodedInputs decoded;
  std::map<datastore::Key, std::string> seen;  // key -> the input it came from
  for (const auto& input : inputs) {
    auto result = model::decode(input.text, input.source);
    for (auto& error : result.errors) decoded.errors.push_back(std::move(error));
    if (!result.ok()) continue;
    size_t index = 0;
    for (auto& resource : result.resources) {
      ++index;
      auto& meta = model::metadata(resource);
      auto kind = model::kindOf(resource);
      std::string where = index <= result.locations.size()
                              ? result.locations[index - 1]
                              : input.source + " (document " + std::to_string(index) + ")";
      if (model::isNamespaced(kind)) {
        if (meta.namespaceName.empty()) {
          meta.namespaceName = defaultNamespace;
        } else if (namespaceExplicit && meta.namespaceName != defaultNamespace) {
          decoded.errors.push_back(
              makeError(where, "metadata.namespace",
                        "namespace \"" + meta.namespaceName + "\" does not match -n " + defaultNamespace));
          continue;
        }
      } else if (!meta.namespaceName.empty()) {
        decoded.errors.push_back(
            makeError(where, "metadata.namespace",
                      std::string("a ") + std::string(model::kindName(kind)) + " is not namespaced"));
        continue;
      }
      auto key = keyOf(resource);
      auto [it, fresh] = seen.emplace(key, where);
      if (!fresh) {
        decoded.errors.push_back(
            makeError(where, "metadata.name", key.toString() + " is given twice; first at " + it->second));
        continue;
      }
      decoded.resources.push_back(std::move(resource));
    }
  }
  if (!decoded.errors.empty()) decoded.resources.clear();
  return decoded;
}

int Context::fail(const std::string& message) const {
  *err << "tartanctl: " << message << "\n";
  return 1;
}

std::unique_ptr<datastore::Datastore> Context::openStore() const {
  datastore::OpenOptions options;
  std::ostream* errStream = err;
  options.onInvalidDocument = [errStream](const datastore::StoreError& error) {
    *errStream << "tartanctl: warning: damaged " << error.toString() << "\n";
  };
  // Judged as the agent judges them, so a bad hand edit is never recorded as a revision.
  options.validate = syncer::checkStored;
  auto store = datastore::open(datastoreSpec, options);
  if (!store) {
    fail("datastore " + (datastoreSpec.empty() ? "file:" + datastore::defaultLocation() : datastoreSpec) +
         ": " + store.error().toString());
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace tartan::cli
