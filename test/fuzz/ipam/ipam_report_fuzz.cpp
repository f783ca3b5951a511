// Fuzzes the reader of calicoctl's IPAM check report (`ipam release --from-report FILE`): any
// bytes are read or refused without a crash, and a report that reads writes back to a report
// that reads as the same.
#include "tartan/ipam/check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto report = tartan::ipam::decodeReport(text, "report.json");
  if (!report) return 0;
  auto again = tartan::ipam::decodeReport(tartan::ipam::encodeReport(*report), "again.json");
  if (!again || !(*again == *report)) std::abort();
  (void)tartan::ipam::mergeReports({*report, *again});
  return 0;
}
