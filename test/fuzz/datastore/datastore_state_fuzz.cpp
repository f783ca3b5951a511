// Fuzzes what the file datastore reads back from disk: the state file (its commit point: index
// and journal), the redo log of an interrupted transaction, and the check every stored document
// passes. Each of them may find a torn, hand-edited or corrupt file, so none may crash or hang;
// and whatever the state or redo-log parser accepts must serialise to text that parses back to
// the same value and serialises to the same bytes again (the store rewrites these files).
#include "file_state.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using tartan::datastore::file::JournalEntry;
using tartan::datastore::file::State;

bool sameState(const State& a, const State& b) {
  if (a.id != b.id || a.revision != b.revision || a.compacted != b.compacted || a.kinds != b.kinds)
    return false;
  if (a.index.size() != b.index.size() || a.journal.size() != b.journal.size()) return false;
  for (auto ia = a.index.begin(), ib = b.index.begin(); ia != a.index.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.revision != ib->second.revision ||
        ia->second.hash != ib->second.hash) {
      return false;
    }
  }
  for (size_t i = 0; i < a.journal.size(); ++i) {
    const JournalEntry& x = a.journal[i];
    const JournalEntry& y = b.journal[i];
    if (x.revision != y.revision || x.op != y.op || x.hash != y.hash || x.key != y.key) return false;
  }
  return true;
}

void checkState(std::string_view input) {
  namespace file = tartan::datastore::file;
  auto parsed = file::parseState(input, "state");
  if (!parsed) {
    // A rejection names the file and line it is about.
    if (parsed.error().error.where.rfind("state:", 0) != 0) __builtin_trap();
    return;
  }
  std::string text = file::serializeState(*parsed);
  auto again = file::parseState(text, "state");
  if (!again || !sameState(*parsed, *again)) __builtin_trap();
  if (file::serializeState(*again) != text) __builtin_trap();
}

void checkPending(const std::string& input) {
  namespace file = tartan::datastore::file;
  auto parsed = file::parsePending(input);
  if (!parsed) return;
  std::string text = file::serializePending(*parsed);
  auto again = file::parsePending(text);
  if (!again || *again != *parsed) __builtin_trap();
  if (file::serializePending(*again) != text) __builtin_trap();
}

void checkDocument(const std::string& input) {
  std::string kind;
  auto problem = tartan::datastore::file::checkDocument(input, &kind);
  // A rejected document tells no kind; an accepted one's kind is text from the input.
  if (problem && !kind.empty()) __builtin_trap();
  if (problem && problem->empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  checkState(input);
  checkPending(input);
  checkDocument(input);
  return 0;
}
