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
    // Whatever the kernel held, we only ever declare, flush or delete chains of our own.
    std::string_view rest = input;
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      const std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      if ((line.starts_with("-X ") || line.starts_with("-F ")) && !line.substr(3).starts_with("tartan-"))
        std::abort();
      if (line.starts_with(":") && !line.substr(1).starts_with("tartan-")) std::abort();
    }
    table.applied();
    if (table.needsApply()) std::abort();
  }
  return 0;
}
