// Fuzzes the kubeconfig parser: a file a person wrote (or a tool mangled) may hold anything. No
// input may crash or hang it; a refusal names the file; an accepted file gives an https server.
#include "tartan/kube/client.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // Files the input names are looked for in a folder that does not exist, so none is read.
  auto config = tartan::kube::parseKubeconfig(input, "fuzz.kubeconfig", "/nonexistent-tartan-fuzz");
  if (!config) {
    if (config.error().where.rfind("fuzz.kubeconfig", 0) != 0) __builtin_trap();
    if (config.error().what.empty()) __builtin_trap();
    // One line, whatever the keys and names in the input hold.
    if (config.error().toString().find('\n') != std::string::npos) __builtin_trap();
    return 0;
  }
  if (config->server.rfind("https://", 0) != 0) __builtin_trap();
  if (config->insecureSkipTlsVerify && !config->caPem.empty()) __builtin_trap();
  return 0;
}
