// Fuzz target: any bytes as iptables-save output must parse or fail cleanly, and whatever parses
// must be taken over by the table model without breaking its invariants.
#include "tartan/dataplane/iptables/table.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace tartan::dataplane::iptables;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parseIptablesSave(text);
  if (!parsed) return 0;
  for (const auto& [name, saved] : *parsed) {
    for (const auto& [chain, rules] : saved.chains)
      if (rules.ruleTexts.size() != rules.hashes.size()) std::abort();
    Table table(name, IpFamily::kV4);
    table.setHook("INPUT", "tartan-INPUT");
    table.setChain({"tartan-INPUT", {{"", "-j tartan-x"}}});
    table.setProgrammed(saved);
    const std::string input = table.restoreInput();
    // Whatever the kernel held, we only ever delete chains of our own.
    for (auto pos = input.find("-X "); pos != std::string::npos; pos = input.find("-X ", pos + 1))
      if (input.compare(pos + 3, 7, "tartan-") != 0) std::abort();
    table.applied();
    if (table.needsApply()) std::abort();
  }
  return 0;
}
