#include "file_state.hpp"

#include "tartan/common/limits.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>

namespace tartan::datastore::file {

namespace {

constexpr std::string_view kStateMagic = "tartan-datastore-state 1";

std::string_view opName(JournalOp op) {
  switch (op) {
    case JournalOp::Added:
      return "added";
    case JournalOp::Modified:
      return "modified";
    case JournalOp::Deleted:
      return "deleted";
  }
  return "?";
}

std::optional<JournalOp> parseOp(std::string_view name) {
  if (name == "added") return JournalOp::Added;
  if (name == "modified") return JournalOp::Modified;
  if (name == "deleted") return JournalOp::Deleted;
  return std::nullopt;
}

// A state line has at most 7 fields; more is corrupt, reported as an 8th.
struct Fields {
  std::array<std::string_view, 8> at;
  size_t count = 0;
  size_t size() const { return count; }
  std::string_view operator[](size_t i) const { return at[i]; }
};

Fields splitTabs(std::string_view line) {
  Fields fields;
  size_t start = 0;
  while (fields.count < fields.at.size()) {
    size_t tab = line.find('\t', start);
    fields.at[fields.count++] = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return fields;
}

template <class T>
bool parseNumber(std::string_view text, T* out, int base = 10) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string errnoText(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool safeName(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.') return false;
  for (char c : name) {
    if (c == '/' || c == '\0' || c == '\t' || c == '\n' || c == '\r') return false;
  }
  return true;
}

}  // namespace

void State::record(JournalOp op, const Key& key, uint64_t hash, int64_t at, size_t limit) {
  revision = at;
  kinds.insert(key.kind);
  if (op == JournalOp::Deleted) {
    index.erase(key);
  } else {
    index[key] = IndexEntry{at, hash};
  }
  journal.push_back(JournalEntry{at, op, hash, key});
  // Drop whole revisions so that a resume point is either fully retained or compacted.
  while (journal.size() > limit && journal.front().revision != journal.back().revision) {
    int64_t oldest = journal.front().revision;
    while (!journal.empty() && journal.front().revision == oldest) journal.pop_front();
    compacted = oldest;
  }
}

std::string serializeState(const State& state) {
  std::string out;
  out.reserve(64 * (state.index.size() + state.journal.size()) + 64);
  out += kStateMagic;
  if (!state.id.empty()) out += "\nid\t" + state.id;
  out += "\nrevision\t" + std::to_string(state.revision);
  out += "\ncompacted\t" + std::to_string(state.compacted) + "\n";
  for (const auto& kind : state.kinds) out += "kind\t" + kind + "\n";
  // Appended piece by piece: no temporary string per line (this runs on every commit).
  auto number = [&out](auto value, int base) {
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, base);
    (void)ec;
    out.append(buffer, end);
  };
  auto key = [&out](const Key& k) {
    out += k.kind;
    out += '\t';
    out += k.namespace_;
    out += '\t';
    out += k.name;
    out += '\n';
  };
  for (const auto& [k, entry] : state.index) {
    out += "index\t";
    number(entry.revision, 10);
    out += '\t';
    number(entry.hash, 16);
    out += '\t';
    key(k);
  }
  for (const JournalEntry& entry : state.journal) {
    out += "journal\t";
    number(entry.revision, 10);
    out += '\t';
    out += opName(entry.op);
    out += '\t';
    number(entry.hash, 16);
    out += '\t';
    key(entry.key);
  }
  return out;
}

StoreResult<State> parseState(std::string_view text, const std::string& where) {
  State state;
  size_t lineNo = 0;
  auto bad = [&](std::string_view why) {
    return makeStoreError(ErrorKind::Io, where + ":" + std::to_string(lineNo),
                          "corrupt state file: " + std::string(why));
  };
  while (!text.empty()) {
    ++lineNo;
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (lineNo == 1) {
      if (line != kStateMagic) return bad("unknown format");
      continue;
    }
    if (line.empty()) continue;
    auto fields = splitTabs(line);
    if (fields[0] == "id" && fields.size() == 2) {
      state.id = std::string(fields[1]);
    } else if (fields[0] == "revision" && fields.size() == 2) {
      if (!parseNumber(fields[1], &state.revision)) return bad("revision");
    } else if (fields[0] == "compacted" && fields.size() == 2) {
      if (!parseNumber(fields[1], &state.compacted)) return bad("compacted");
    } else if (fields[0] == "kind" && fields.size() == 2) {
      state.kinds.insert(std::string(fields[1]));
    } else if (fields[0] == "index" && fields.size() == 6) {
      IndexEntry entry;
      if (!parseNumber(fields[1], &entry.revision) || !parseNumber(fields[2], &entry.hash, 16)) {
        return bad("index entry");
      }
      // Written in key order, so the hint makes each insert constant time.
      state.index.insert_or_assign(
          state.index.end(), Key{std::string(fields[3]), std::string(fields[4]), std::string(fields[5])},
          entry);
    } else if (fields[0] == "journal" && fields.size() == 7) {
      JournalEntry entry;
      auto op = parseOp(fields[2]);
      if (!op || !parseNumber(fields[1], &entry.revision) || !parseNumber(fields[3], &entry.hash, 16)) {
        return bad("journal entry");
      }
      entry.op = *op;
      entry.key = Key{std::string(fields[4]), std::string(fields[5]), std::string(fields[6])};
      state.journal.push_back(std::move(entry));
    } else {
      return bad("unknown line");
    }
  }
  if (lineNo == 0) return bad("empty");
  return state;
}

std::string newStoreId() {
  std::random_device device;
  return hashName((static_cast<uint64_t>(device()) << 32) | device());
}

std::string serializePending(const PendingLog& log) {
  std::string out = "revision\t" + std::to_string(log.revision) + "\n";
  for (const auto& [temp, final] : log.renames) out += "rename\t" + temp + "\t" + final + "\n";
  for (const auto& path : log.removals) out += "remove\t" + path + "\n";
  return out;
}

std::optional<PendingLog> parsePending(const std::string& text) {
  PendingLog log;
  size_t start = 0;
  bool sawRevision = false;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) return std::nullopt;  // torn: the commit cannot have happened
    std::string line = text.substr(start, end - start);
    start = end + 1;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) return std::nullopt;
    std::string verb = line.substr(0, tab), rest = line.substr(tab + 1);
    if (verb == "revision") {
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), log.revision);
      if (ec != std::errc() || end != rest.data() + rest.size()) return std::nullopt;
      sawRevision = true;
    } else if (verb == "rename") {
      size_t second = rest.find('\t');
      if (second == std::string::npos) return std::nullopt;
      log.renames.emplace_back(rest.substr(0, second), rest.substr(second + 1));
    } else if (verb == "remove") {
      log.removals.push_back(rest);
    } else {
      return std::nullopt;
    }
  }
  if (!sawRevision) return std::nullopt;
  return log;
}

uint64_t contentHash(std::string_view content) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : content) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> checkKey(const Key& key) {
  if (key.kind.empty() || key.kind.size() > 63 || !std::isalpha(static_cast<unsigned char>(key.kind[0]))) {
    return "kind must start with a letter and have 1 to 63 characters";
  }
  for (char c : key.kind) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return "kind must be letters and digits";
  }
  if (!key.namespace_.empty() && key.namespace_.ends_with(".yaml")) {
    return "namespace may not end in .yaml: its folder would clash with a resource file";
  }
  if (!key.namespace_.empty() && !safeName(key.namespace_)) {
    return "namespace must be 1 to 253 characters, not start with '.', and have no '/' or control "
           "characters";
  }
  if (!safeName(key.name)) {
    return "name must be 1 to 253 characters, not start with '.', and have no '/' or control "
           "characters";
  }
  return std::nullopt;
}

namespace {
// Consumes parser events without building anything: used to count documents.
class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}
};
}  // namespace

std::optional<std::string> checkDocument(std::string_view content, std::string* kind) {
  kind->clear();
  // Before yaml-cpp sees it: it builds some 30 bytes of nodes per byte, under the store's lock.
  if (content.size() > kMaxDocumentBytes) {
    return "document is " + std::to_string(content.size()) + " bytes, over the limit of " +
           std::to_string(kMaxDocumentBytes) + " (4 MiB)";
  }
  try {
    // Never YAML::LoadAll: yaml-cpp 0.7 reports documents forever on some malformed input (a
    // stray ", b" after a flow scalar), which would stall the store under its lock. Asking the
    // parser for at most two documents is bounded.
    std::string text(content);
    std::stringstream stream(text);
    YAML::Parser parser(stream);
    IgnoreEvents ignore;
    if (!parser.HandleNextDocument(ignore)) return "must be exactly one YAML document, found 0";
    if (parser.HandleNextDocument(ignore)) return "must be exactly one YAML document, found more";
    YAML::Node document = YAML::Load(text);
    if (document.IsNull()) return "must be exactly one YAML document, found 0";
    if (document.IsMap() && document["kind"] && document["kind"].IsScalar()) {
      *kind = document["kind"].Scalar();
    }
  } catch (const YAML::Exception& e) {
    return "not valid YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
           std::to_string(e.mark.column + 1) + ": " + e.msg;
  } catch (const std::exception& e) {
    return std::string("cannot read as YAML: ") + e.what();
  }
  return std::nullopt;
}

ReadStatus readFile(const std::string& path, std::string* content, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return ReadStatus::Missing;
    *error = errnoText("cannot open", path);
    return ReadStatus::Failed;
  }
  content->clear();
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = errnoText("cannot read", path);
      ::close(fd);
      return ReadStatus::Failed;
    }
    if (n == 0) break;
    content->append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return ReadStatus::Ok;
}

std::optional<std::string> writeFileSynced(const std::string& path, std::string_view content, bool sync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errnoText("cannot create", path);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string error = errnoText("cannot write", path);
      ::close(fd);
      return error;
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    std::string error = errnoText("cannot fsync", path);
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) return errnoText("cannot close", path);
  return std::nullopt;
}

std::optional<std::string> fsyncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoText("cannot open folder", path);
  int rc = ::fsync(fd);
  std::optional<std::string> error;
  if (rc != 0 && errno != EINVAL) error = errnoText("cannot fsync folder", path);
  ::close(fd);
  return error;
}

std::optional<std::string> makeDirectories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return "cannot create folder " + path + ": " + ec.message();
  return std::nullopt;
}

std::optional<std::string> writeFileAtomic(const std::string& path, std::string_view content, bool durable) {
  static std::atomic<uint64_t> counter{0};
  std::filesystem::path target(path);
  std::string temp =
      (target.parent_path() / ("." + target.filename().string() + "." + std::to_string(::getpid()) + "." +
                               std::to_string(counter++) + ".tmp"))
          .string();
  if (auto error = writeFileSynced(temp, content, durable)) {
    ::unlink(temp.c_str());
    return error;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    std::string error = errnoText("cannot rename to", path);
    ::unlink(temp.c_str());
    return error;
  }
  if (!durable) return std::nullopt;
  return fsyncDirectory(target.parent_path().string());
}

std::string hashName(uint64_t hash) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

StoreResult<FileLock> FileLock::acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return makeStoreError(ErrorKind::Io, path, errnoText("cannot open lock", path));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    std::string error = errnoText("cannot lock", path);
    ::close(fd);
    return makeStoreError(ErrorKind::Io, path, error);
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace tartan::datastore::file
