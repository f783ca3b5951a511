// Fuzzes what the etcd backend reads from etcd, which anyone with write access to it (Calico's
// tools, a hand with etcdctl) may have written: an etcd key (the input's first line) and its value
// (the rest). Nothing may crash or hang; a key Tartan reads has a place it writes to; and a value
// it accepts is a document that it can write back, which then reads back too.
#include "etcd_layout.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tartan::datastore::etcd;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view path = input.substr(0, newline);
  std::string_view value = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  auto key = keyOf(path);
  if (!key) return 0;
  auto paths = pathsOf(*key);
  if (!paths) std::abort();  // a key read from a place has a place
  auto document = decodeValue(*key, path, value);
  if (!document) return 0;
  auto written = encodeValue(*key, *document, nullptr);
  if (!written) std::abort();
  auto target = writePathOf(*key, *document);
  if (!target) std::abort();
  if (!decodeValue(*key, *target, *written)) std::abort();
  return 0;
}
