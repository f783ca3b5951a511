// compare.cpp — crds/ against what generateCrds() writes (the drift check of tartan-crdgen
// --check and of the unit test).
#include "tartan/crds/crds.hpp"
#include "tartan/datastore/calico_layout.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tartan::crds {

std::vector<std::string> compareWithDirectory(const std::vector<CrdFile>& files, const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> problems;
  for (const CrdFile& file : files) {
    const fs::path path = fs::path(dir) / file.name;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problems.push_back(path.string() + ": missing");
      continue;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str() != file.text) {
      problems.push_back(path.string() + ": differs from what the model describes");
    }
  }
  std::error_code ec;
  const std::string prefix = std::string(datastore::calico::kCrdGroup) + "_";
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".yaml")) continue;
    if (std::none_of(files.begin(), files.end(), [&](const CrdFile& f) { return f.name == name; })) {
      problems.push_back(entry.path().string() + ": a CRD of no kind Tartan stores");
    }
  }
  if (ec) problems.push_back(dir + ": cannot be read: " + ec.message());
  return problems;
}

}  // namespace tartan::crds
