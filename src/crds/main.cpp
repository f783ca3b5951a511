// tartan-crdgen — writes crds/, the CustomResourceDefinitions of the Calico kinds Tartan stores,
// from the model (see tartan/crds/crds.hpp).
//
//   tartan-crdgen [DIR]          write every CRD to DIR (default: crds), removing stale ones
//   tartan-crdgen --check [DIR]  write nothing; exit 1 naming each file that differs
#include "tartan/crds/crds.hpp"
#include "tartan/datastore/calico_layout.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  using namespace tartan::crds;
  bool check = false;
  std::string dir = "crds";
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--check") {
      check = true;
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: tartan-crdgen [--check] [DIR]  (DIR defaults to crds)\n");
      return 0;
    } else if (arg.starts_with("-") || positional++ > 0) {
      std::fprintf(stderr,
                   "tartan-crdgen: unexpected argument \"%s\" (usage: tartan-crdgen [--check] [DIR])\n",
                   arg.c_str());
      return 2;
    } else {
      dir = arg;
    }
  }
  auto files = generateCrds();
  if (!files) {
    std::fprintf(stderr, "tartan-crdgen: %s\n", files.error().toString().c_str());
    return 1;
  }
  if (check) {
    const auto problems = compareWithDirectory(*files, dir);
    for (const std::string& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (!problems.empty()) std::fprintf(stderr, "regenerate with: tartan-crdgen %s\n", dir.c_str());
    return problems.empty() ? 0 : 1;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "tartan-crdgen: %s: cannot create the directory: %s\n", dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  // A CRD of the group that no kind has any more is removed; the rest are rewritten.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool ours =
        name.starts_with(std::string(tartan::datastore::calico::kCrdGroup) + "_") && name.ends_with(".yaml");
    if (ours &&
        std::none_of(files->begin(), files->end(), [&](const CrdFile& f) { return f.name == name; })) {
      fs::remove(entry.path(), ec);
    }
  }
  for (const CrdFile& file : *files) {
    const fs::path path = fs::path(dir) / file.name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << file.text;
    if (!out.flush()) {
      std::fprintf(stderr, "tartan-crdgen: %s: cannot write\n", path.c_str());
      return 1;
    }
  }
  std::printf("wrote %zu CRDs to %s\n", files->size(), dir.c_str());
  return 0;
}
