// file_state.hpp — the file backend's bookkeeping: the state file and the helpers around it.
//
// The state file is the commit point of every write. It holds the store revision, the highest
// revision dropped from the journal (the compaction point), the index (per resource: the revision
// of its last write and the hash of its file's content) and the journal (the last N writes).
// And the kinds ever stored, and the store's id. It is line-oriented text with tab-separated fields so that a
// person can read it; keys cannot contain tabs or newlines (validated on the way in).
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tartan::datastore::file {

struct IndexEntry {
  int64_t revision = 0;
  uint64_t hash = 0;
};

enum class JournalOp { Added, Modified, Deleted };

struct JournalEntry {
  int64_t revision = 0;
  JournalOp op = JournalOp::Added;
  uint64_t hash = 0;  // of the content written; 0 for Deleted
  Key key;
};

struct State {
  // Made once, when the store is made, and never changed: a store restored from a backup keeps
  // it, a new store in the same folder has another. Empty in stores made before ids were kept.
  std::string id;
  int64_t revision = 0;
  int64_t compacted = 0;  // the journal holds every write after this revision
  std::map<Key, IndexEntry> index;
  std::deque<JournalEntry> journal;
  // Every kind ever stored, so that a folder keeps its kind after its last resource is gone.
  std::set<std::string> kinds;

  // Records one write at `revision` (>= the current one) and trims the journal to `limit`
  // entries, dropping whole revisions, never the newest.
  void record(JournalOp op, const Key& key, uint64_t hash, int64_t revision, size_t limit);
};

std::string serializeState(const State& state);
// A fresh store id: 16 random hex digits.
std::string newStoreId();
StoreResult<State> parseState(std::string_view text, const std::string& where);

// The redo log of a transaction in flight (DIR/.tartan/pending): the files staged beside their
// final places and the files to remove, written before the state file commits the revision.
struct PendingLog {
  int64_t revision = 0;
  std::vector<std::pair<std::string, std::string>> renames;  // temp -> final, relative
  std::vector<std::string> removals;                         // relative

  bool operator==(const PendingLog&) const = default;
};

std::string serializePending(const PendingLog& log);
// Nothing for a torn or unreadable log: a log without its last newline was never finished, so
// its transaction cannot have committed.
std::optional<PendingLog> parsePending(const std::string& text);

// FNV-1a, 64 bits: enough to tell that a file changed.
uint64_t contentHash(std::string_view content);

// Key validation: names become file names, so they must be safe ones.
std::optional<std::string> checkKey(const Key& key);
std::string lowercase(std::string_view text);

// A stored document must be exactly one YAML document. Returns the error, if any; on success,
// *kind receives the document's top-level `kind` field (empty if none).
std::optional<std::string> checkDocument(std::string_view content, std::string* kind);

// I/O helpers; errors carry the path.
enum class ReadStatus { Ok, Missing, Failed };
ReadStatus readFile(const std::string& path, std::string* content, std::string* error);
// Writes and fsyncs `path` (not atomic by itself: callers write a temp file and rename); `sync`
// false skips the fsync.
std::optional<std::string> writeFileSynced(const std::string& path, std::string_view content,
                                           bool sync = true);
std::optional<std::string> fsyncDirectory(const std::string& path);
std::optional<std::string> makeDirectories(const std::string& path);
// Writes `path` atomically: temp file beside it, fsync, rename, fsync of the folder. `durable`
// false leaves out both fsyncs: still all or nothing, but a crash may lose it.
std::optional<std::string> writeFileAtomic(const std::string& path, std::string_view content,
                                           bool durable = true);

// The name of a content hash as a file name: 16 hex digits.
std::string hashName(uint64_t hash);

// An exclusive flock() on a file, released on destruction. Each holder opens its own file
// description, so holders in one process exclude each other as well as other processes.
class FileLock {
 public:
  static StoreResult<FileLock> acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace tartan::datastore::file
