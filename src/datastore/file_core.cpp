#include "file_core.hpp"

#include "tartan/common/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <filesystem>

namespace tartan::datastore::file {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSuffix = ".yaml";

std::shared_ptr<spdlog::logger> logger() {
  static auto log = tartan::log::get("datastore");
  return log;
}

bool isResourceFileName(const std::string& name) {
  return name.size() > kSuffix.size() && name.front() != '.' &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

std::vector<std::string> splitPath(const std::string& relative) {
  std::vector<std::string> parts;
  for (const auto& part : fs::path(relative)) parts.push_back(part.string());
  return parts;
}

// Entries of a folder: (name, is-folder), skipping hidden ones. A missing folder is empty.
std::vector<std::pair<std::string, bool>> listFolder(const std::string& path) {
  std::vector<std::pair<std::string, bool>> entries;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    std::error_code typeError;
    entries.emplace_back(name, it->is_directory(typeError));
  }
  return entries;
}

StoreError ioError(const std::string& where, const std::string& what) {
  return makeStoreError(ErrorKind::Io, where, what);
}

StoreError unavailable(const std::string& where, const std::string& what) {
  return makeStoreError(ErrorKind::Unavailable, where, what);
}

bool isDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// ".<name>.yaml.<pid>.<counter>.tmp", the name transaction() stages a new file under.
bool isStagedFileName(const std::string& name) {
  constexpr std::string_view kTmp = ".tmp";
  if (name.size() < 2 || name.front() != '.' || !name.ends_with(kTmp)) return false;
  std::string_view rest(name.data() + 1, name.size() - 1 - kTmp.size());
  for (int digits = 0; digits < 2; ++digits) {
    const auto dot = rest.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == rest.size() ||
        !std::all_of(rest.begin() + static_cast<std::ptrdiff_t>(dot) + 1, rest.end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    rest = rest.substr(0, dot);
  }
  return rest.size() > kSuffix.size() && rest.ends_with(kSuffix);
}

// A writer killed while staging (before its redo log) leaves hidden temp files that nothing names.
// Called with the flock held and after recoverPending(): staging happens only under the flock, so
// every staged file left now is a dead writer's, never a live one's (a live writer is blocked on
// the lock, or finished and removed or renamed its own).
void removeAbandonedStagedFiles(const std::string& root) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code typeError;
    if (it->is_directory(typeError)) {
      // Resources sit at most two folders down (kind/namespace/); .tartan is not theirs.
      if (it.depth() >= 2 || name.front() == '.') it.disable_recursion_pending();
      continue;
    }
    if (!isStagedFileName(name)) continue;
    if (::unlink(it->path().c_str()) == 0) {
      logger()->warn("removed {}, staged by a writer that died", it->path().string());
    }
  }
}

}  // namespace

struct Core::Session {
  std::unique_lock<std::mutex> guard;
  std::optional<FileLock> lock;
  bool dirty = false;  // state_ changed and is not committed yet
  std::vector<std::pair<StoreError, Damage>> reports;
  bool damageChanged = false;
};

Core::Core(std::string root, OpenOptions options)
    : root_(std::move(root)), stateDir_(root_ + "/.tartan"), options_(std::move(options)) {}

StoreResult<std::shared_ptr<Core>> Core::open(const std::string& root, OpenOptions options) {
  if (root.empty()) return makeStoreError(ErrorKind::Invalid, "file:", "no folder given");
  if (options.journalLimit == 0) options.journalLimit = 1;
  std::error_code ec;
  std::string absolute = fs::absolute(root, ec).lexically_normal().string();
  if (ec) return ioError(root, ec.message());
  while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  auto core = std::make_shared<Core>(absolute, std::move(options));
  if (!core->options_.create &&
      (!isDirectory(absolute) || (!isDirectory(core->stateDir_) && !listFolder(absolute).empty()))) {
    // Nothing is made here, not even DIR/.tartan (a restore moving its .tartan into place would
    // find it taken): sessions say Unavailable until the store is there.
    logger()->warn("datastore {} is not there (or not whole); waiting for it", absolute);
    return core;
  }
  if (auto error = makeDirectories(core->stateDir_)) return ioError(root, *error);
  if (auto error = core->initialize()) return ioError(core->stateDir_ + "/state", *error);
  // Files edited while nobody watched become revisions when they are next read: every read
  // reconciles what it reads (get and each op of a transaction their key, list and snapshot their
  // folder, a resumed watch everything). Opening reads the state file only, so a one-shot writer
  // such as tartanctl does not pay for reading every document of a large store; it only lists the
  // folders' names, for files staged by a writer killed before its redo log.
  auto opened = core->locked<bool>([&](Session&) -> StoreResult<bool> {
    removeAbandonedStagedFiles(core->root_);
    return true;
  });
  // A store that is away is not an error to open: its sessions say Unavailable until it is back.
  if (!opened && opened.error().kind != ErrorKind::Unavailable) return opened.error();
  return core;
}

template <class T, class Body>
StoreResult<T> Core::locked(Body&& body) {
  Session session;
  std::optional<StoreResult<T>> result;
  if (auto begun = begin(session); !begun) {
    result.emplace(begun.error());
  } else {
    result.emplace(body(session));
    if (session.dirty) {
      if (auto committed = commitState(); !committed) result.emplace(committed.error());
    }
  }
  std::optional<std::pair<uint64_t, std::vector<Damage>>> damageNow;
  if (session.damageChanged) {
    damageNow.emplace(damageVersion_, std::vector<Damage>());
    for (const auto& [path, reported] : damage_) damageNow->second.push_back(reported.damage);
  }
  session.lock.reset();
  if (session.guard.owns_lock()) session.guard.unlock();
  for (const auto& [report, damage] : session.reports) {
    logger()->error("damaged: {}", damage.toString());
    if (options_.onInvalidDocument) options_.onInvalidDocument(report);
  }
  if (damageNow && options_.onDamage) {
    std::lock_guard deliver(deliverMutex_);
    if (damageNow->first > damageDelivered_) {
      damageDelivered_ = damageNow->first;
      options_.onDamage(damageNow->second);
    }
  }
  return std::move(*result);
}

// A new store is marked by its state file at revision 0, written only here. With `create` false a
// folder is new only if nothing is in it: resource folders without a state are a store whose
// state is missing or not restored yet, which is an outage, not an empty store.
std::optional<std::string> Core::initialize() {
  auto lock = FileLock::acquire(stateDir_ + "/lock");
  if (!lock) return lock.error().toString();
  std::string path = stateDir_ + "/state", text, error;
  ReadStatus status = readFile(path, &text, &error);
  if (status == ReadStatus::Failed) return error;
  if (status == ReadStatus::Ok) return std::nullopt;
  if (!options_.create && !listFolder(root_).empty()) {
    logger()->warn("datastore {} holds resources but no state: waiting for its state to be restored", root_);
    return std::nullopt;
  }
  if (auto made = makeDirectories(stateDir_ + "/valid")) return made;
  State fresh;
  fresh.id = newStoreId();
  return writeFileAtomic(path, serializeState(fresh));
}

// Never makes a folder again: a store that is gone is an outage until it is back, and writing
// into a fresh folder there would turn it into a new, empty store.
StoreResult<void> Core::begin(Session& session) {
  session.guard = std::unique_lock(mutex_);
  auto present = [&]() -> StoreResult<void> {
    if (!isDirectory(stateDir_)) {
      return unavailable(root_,
                         "the datastore is gone: " + stateDir_ + " is missing (removed or moved away?)");
    }
    auto lock = FileLock::acquire(stateDir_ + "/lock");
    if (!lock) {
      if (!isDirectory(stateDir_))
        return unavailable(root_, "the datastore is gone: " + stateDir_ + " is missing");
      return lock.error();
    }
    session.lock.emplace(std::move(*lock));
    if (auto loaded = loadState(); !loaded) return loaded;
    if (restoring_) return checkRestored();
    return {};
  }();
  if (!present) {
    if (present.error().kind == ErrorKind::Unavailable) {
      if (!outage_) logger()->error("datastore unavailable: {}", present.error().toString());
      outage_ = restoring_ = true;
    }
    return present;
  }
  if (outage_) {
    logger()->warn("datastore {} is back", root_);
    outage_ = false;
  }
  return recoverPending();
}

// Files put back one by one (the state before its YAML, or a folder before its files) would read
// as deletions; so after an outage the store counts as back only once every file the index
// names is there. One stat per resource, only while restoring.
StoreResult<void> Core::checkRestored() {
  size_t missing = 0;
  std::string first;
  for (const auto& [key, entry] : state_.index) {
    struct stat st {};
    if (::stat(pathOf(key).c_str(), &st) == 0) continue;
    if (missing++ == 0) first = pathOf(key);
  }
  if (missing > 0) {
    return unavailable(root_, std::to_string(missing) + " file(s) the state lists are missing (" + first +
                                  (missing > 1 ? ", ..." : "") +
                                  "): the store is being restored (delete them with tartanctl if they are "
                                  "meant to be gone)");
  }
  restoring_ = false;
  return {};
}

// The state file is read in every session and parsed only when it changed. Comparing content,
// not stat() data, is what makes this safe: a rewritten file can reuse an inode number and land
// within the file system's timestamp granularity.
StoreResult<void> Core::loadState() {
  std::string path = stateDir_ + "/state";
  std::string text, error;
  ReadStatus status = readFile(path, &text, &error);
  if (status == ReadStatus::Failed) return unavailable(path, "the store's state cannot be read: " + error);
  if (status == ReadStatus::Missing) {
    return unavailable(path, "the store's state is missing (removed, or not restored yet)");
  }
  if (stateLoaded_ && text == stateText_) return {};
  auto parsed = parseState(text, path);
  if (!parsed) return unavailable(parsed.error().error.where, parsed.error().error.what);
  if (!storeId_.empty() && parsed->id != storeId_) {
    // Not the store this process has been reading, restored, but another one made in its place
    // (by a writer that found the folder gone): its emptiness is no sign that the store is empty.
    return unavailable(root_, "a different datastore is in its place (id " +
                                  (parsed->id.empty() ? std::string("none") : parsed->id) + ", was " +
                                  storeId_ +
                                  "): it was replaced, not restored; restore the old one, or restart to take "
                                  "the new one as the truth");
  }
  if (storeId_.empty()) storeId_ = parsed->id;
  const bool first = !stateLoaded_;
  state_ = std::move(*parsed);
  stateText_ = std::move(text);
  stateLoaded_ = true;
  knownKinds_.clear();
  for (const auto& kind : state_.kinds) knownKinds_[lowercase(kind)] = kind;
  // Another process may have swept copies since: what is known to be kept is known no longer.
  // Sweeping is left to the first load of each process, so that a long-lived reader does not list
  // every copy on every commit of a writer (each tartanctl run sweeps what the last ones left).
  kept_.clear();
  if (first) sweepValid();
  return {};
}

std::string Core::validPath(uint64_t hash) const { return stateDir_ + "/valid/" + hashName(hash); }

// Under the lock, so no writer is between keeping a copy and committing the state that names it:
// a copy nothing names is garbage (a released version, or a transaction that did not commit).
void Core::sweepValid() {
  std::set<std::string> named;
  for (const auto& [key, entry] : state_.index) named.insert(hashName(entry.hash));
  std::error_code ec;
  for (fs::directory_iterator it(stateDir_ + "/valid", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    uint64_t hash = 0;
    if (named.count(name) &&
        std::from_chars(name.data(), name.data() + name.size(), hash, 16).ec == std::errc()) {
      kept_.insert(hash);
    } else {
      ::unlink(it->path().c_str());
    }
  }
}

// Not fsynced: a copy lost in a crash is made again from the file the next time the file is read
// matching the index; lastValid() checks the hash, so a torn copy is never served.
std::optional<std::string> Core::keepValid(uint64_t hash, std::string_view content) {
  if (kept_.count(hash)) return std::nullopt;
  if (::access(validPath(hash).c_str(), F_OK) == 0) {
    kept_.insert(hash);
    return std::nullopt;
  }
  auto error = writeFileAtomic(validPath(hash), content, /*durable=*/false);
  if (error && !makeDirectories(stateDir_ + "/valid"))
    error = writeFileAtomic(validPath(hash), content, false);
  if (error) return error;
  kept_.insert(hash);
  return std::nullopt;
}

std::optional<std::string> Core::lastValid(const Key& key) {
  auto indexed = state_.index.find(key);
  if (indexed == state_.index.end()) return std::nullopt;
  std::string content, error;
  if (readFile(validPath(indexed->second.hash), &content, &error) != ReadStatus::Ok ||
      contentHash(content) != indexed->second.hash) {
    return std::nullopt;
  }
  return content;
}

StoreResult<void> Core::commitState() {
  std::string path = stateDir_ + "/state";
  std::string text = serializeState(state_);
  if (auto error = writeFileAtomic(path, text)) {
    stateLoaded_ = false;  // reload what is really on disk next time
    return ioError(path, *error);
  }
  stateText_ = std::move(text);
  return {};
}

// A transaction writes its redo log before its commit; whoever holds the lock next finishes it
// (the state file says it committed) or undoes its staged files (it did not).
StoreResult<void> Core::recoverPending() {
  std::string path = stateDir_ + "/pending";
  std::string text, error;
  ReadStatus status = readFile(path, &text, &error);
  if (status == ReadStatus::Missing) return {};
  if (status == ReadStatus::Failed) return ioError(path, error);
  auto log = parsePending(text);
  bool committed = log && state_.revision >= log->revision;
  if (log) {
    for (const auto& [temp, final] : log->renames) {
      std::string tempPath = root_ + "/" + temp, finalPath = root_ + "/" + final;
      if (committed) {
        ::rename(tempPath.c_str(), finalPath.c_str());
      } else {
        ::unlink(tempPath.c_str());
      }
    }
    if (committed) {
      for (const auto& removal : log->removals) ::unlink((root_ + "/" + removal).c_str());
    }
    logger()->warn("{} an interrupted transaction at revision {}", committed ? "completed" : "rolled back",
                   log->revision);
  }
  if (::unlink(path.c_str()) != 0) return ioError(path, "cannot remove redo log");
  return {};
}

std::string Core::pathOf(const Key& key) const {
  std::string path = root_ + "/" + lowercase(key.kind) + "/";
  if (!key.namespace_.empty()) path += key.namespace_ + "/";
  return path + key.name + std::string(kSuffix);
}

void Core::recordWrite(Session& session, JournalOp op, const Key& key, uint64_t hash, int64_t at) {
  // A version no longer named may be swept by any process: it is not known to be kept any more.
  if (auto old = state_.index.find(key); old != state_.index.end() && old->second.hash != hash) {
    kept_.erase(old->second.hash);
  }
  state_.record(op, key, hash, at, options_.journalLimit);
  knownKinds_[lowercase(key.kind)] = key.kind;
  session.dirty = true;
}

void Core::reportInvalid(Session& session, const std::string& path, uint64_t hash, const std::string& what,
                         const std::optional<Key>& key, int64_t servedRevision) {
  Damage damage{path, key, what, servedRevision};
  auto it = damage_.find(path);
  bool newContent = it == damage_.end() || it->second.hash != hash;
  if (!newContent && it->second.damage == damage) return;
  damage_[path] = Reported{hash, damage};
  ++damageVersion_;
  session.damageChanged = true;
  if (newContent) session.reports.emplace_back(makeStoreError(ErrorKind::Invalid, path, what), damage);
}

void Core::clearDamage(Session& session, const std::string& path) {
  auto it = damage_.find(path);
  if (it == damage_.end()) return;
  damage_.erase(it);
  ++damageVersion_;
  session.damageChanged = true;
  logger()->warn("{} is no longer damaged", path);
}

std::vector<Damage> Core::damaged() {
  std::lock_guard guard(mutex_);
  std::vector<Damage> out;
  for (const auto& [path, reported] : damage_) out.push_back(reported.damage);
  return out;
}

std::optional<std::string> Core::reconcileKey(Session& session, const Key& key) {
  std::string path = pathOf(key);
  std::string content, error;
  ReadStatus status = readFile(path, &content, &error);
  auto indexed = state_.index.find(key);
  // A damaged file: the kept last valid version is served in its place.
  auto damaged = [&](uint64_t hash, const std::string& problem) {
    auto kept = lastValid(key);
    reportInvalid(session, path, hash, problem, key, kept ? indexed->second.revision : 0);
    return kept;
  };
  if (status == ReadStatus::Failed) return damaged(0, error);
  if (status == ReadStatus::Missing) {
    clearDamage(session, path);
    if (indexed != state_.index.end()) {
      logger()->info("{} was deleted by hand", path);
      recordWrite(session, JournalOp::Deleted, key, 0, state_.revision + 1);
    }
    return std::nullopt;
  }
  uint64_t hash = contentHash(content);
  if (indexed != state_.index.end() && indexed->second.hash == hash) {
    // Also a repair that wrote back exactly the last valid bytes: no new revision, but no damage.
    clearDamage(session, path);
    keepValid(hash, content);  // a store from before copies were kept gets one now
    return content;
  }
  std::string documentKind;
  auto problem = checkDocument(content, &documentKind);
  if (!problem && options_.validate) problem = options_.validate(key, content);
  if (problem) return damaged(hash, *problem);
  if (auto error = keepValid(hash, content)) {
    logger()->warn("cannot keep {} as its last valid version: {}", path, *error);
  }
  clearDamage(session, path);
  bool added = indexed == state_.index.end();
  logger()->info("{} was {} by hand", path, added ? "added" : "edited");
  recordWrite(session, added ? JournalOp::Added : JournalOp::Modified, key, hash, state_.revision + 1);
  return content;
}

std::optional<Key> Core::keyForFile(Session& session, const std::string& relative) {
  auto parts = splitPath(relative);
  if (parts.size() < 2 || parts.size() > 3 || !isResourceFileName(parts.back())) return std::nullopt;
  for (const auto& part : parts) {
    if (part.empty() || part.front() == '.') return std::nullopt;
  }
  Key key;
  key.name = parts.back().substr(0, parts.back().size() - kSuffix.size());
  if (parts.size() == 3) key.namespace_ = parts[1];
  if (auto known = knownKinds_.find(parts[0]); known != knownKinds_.end()) {
    key.kind = known->second;
  } else {
    // A folder nobody wrote through the API: the document must say its kind.
    std::string path = root_ + "/" + relative, content, error, documentKind;
    if (readFile(path, &content, &error) != ReadStatus::Ok) {
      clearDamage(session, path);  // gone: nothing is damaged there any more
      return std::nullopt;
    }
    uint64_t hash = contentHash(content);
    if (auto problem = checkDocument(content, &documentKind)) {
      reportInvalid(session, path, hash, *problem);
      return std::nullopt;
    }
    if (documentKind.empty() || lowercase(documentKind) != parts[0]) {
      reportInvalid(session, path, hash,
                    "cannot tell the kind: folder '" + parts[0] +
                        "' holds no known kind and the document's kind field does not name it");
      return std::nullopt;
    }
    key.kind = documentKind;
  }
  if (auto problem = checkKey(key)) {
    reportInvalid(session, root_ + "/" + relative, 0, *problem);
    return std::nullopt;
  }
  return key;
}

void Core::reconcileScan(Session& session, const std::string& relativeDir,
                         std::map<Key, std::string>* contents) {
  std::set<Key> candidates;
  std::vector<std::string> folders;
  auto parts = relativeDir.empty() ? std::vector<std::string>{} : splitPath(relativeDir);
  if (parts.empty()) {
    for (const auto& [name, isFolder] : listFolder(root_)) {
      if (isFolder) folders.push_back(name);
    }
  } else {
    folders.push_back(relativeDir);
  }
  // Kind folders hold cluster-scoped files and namespace folders; namespace folders hold files.
  for (size_t i = 0; i < folders.size(); ++i) {
    size_t depth = splitPath(folders[i]).size();
    for (const auto& [name, isFolder] : listFolder(root_ + "/" + folders[i])) {
      std::string relative = folders[i] + "/" + name;
      if (isFolder && depth == 1) {
        folders.push_back(relative);
      } else if (!isFolder && isResourceFileName(name)) {
        if (auto key = keyForFile(session, relative)) candidates.insert(*key);
      }
    }
  }
  for (const auto& [key, entry] : state_.index) {
    bool inScope = parts.empty() ||
                   (lowercase(key.kind) == parts[0] && (parts.size() < 2 || key.namespace_ == parts[1]));
    if (inScope) candidates.insert(key);
  }
  for (const Key& key : candidates) {
    auto content = reconcileKey(session, key);
    if (content && contents) (*contents)[key] = std::move(*content);
  }
}

StoreResult<ListResult> Core::list(std::string_view kind, std::optional<std::string_view> ns) {
  Key probe{std::string(kind), ns ? std::string(*ns) : std::string(), "probe"};
  if (auto problem = checkKey(probe)) {
    return makeStoreError(ErrorKind::Invalid, probe.toString(), *problem);
  }
  return locked<ListResult>([&](Session& session) -> StoreResult<ListResult> {
    std::map<Key, std::string> contents;
    std::string folder = lowercase(kind);
    if (ns) folder += "/" + std::string(*ns);
    reconcileScan(session, folder, &contents);
    ListResult result;
    for (auto& [key, content] : contents) {
      if (key.kind != kind || (ns && key.namespace_ != *ns)) continue;
      auto entry = state_.index.find(key);
      if (entry == state_.index.end()) continue;
      result.items.push_back(KVPair{key, std::move(content), entry->second.revision});
    }
    result.revision = state_.revision;
    return result;
  });
}

StoreResult<KVPair> Core::get(const Key& key) {
  if (auto problem = checkKey(key)) {
    return makeStoreError(ErrorKind::Invalid, key.toString(), *problem);
  }
  return locked<KVPair>([&](Session& session) -> StoreResult<KVPair> {
    auto content = reconcileKey(session, key);
    auto entry = state_.index.find(key);
    if (entry == state_.index.end()) {
      return makeStoreError(ErrorKind::NotFound, key.toString(), "not found");
    }
    if (!content) {
      return makeStoreError(ErrorKind::Invalid, pathOf(key),
                            "the stored file is not a valid document and no valid version is kept");
    }
    return KVPair{key, std::move(*content), entry->second.revision};
  });
}

StoreResult<TxnResult> Core::transaction(const std::vector<Op>& ops) {
  auto whereOf = [&](size_t i) {
    return ops.size() == 1 ? ops[i].key.toString()
                           : "transaction op " + std::to_string(i) + " (" + ops[i].key.toString() + ")";
  };
  std::set<Key> seen;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (auto problem = checkKey(op.key)) return makeStoreError(ErrorKind::Invalid, whereOf(i), *problem);
    if (!seen.insert(op.key).second) {
      return makeStoreError(ErrorKind::Invalid, whereOf(i), "a key may appear once in a transaction");
    }
    if (op.type == Op::Type::Update && (!op.expectedRevision || *op.expectedRevision <= 0)) {
      return makeStoreError(ErrorKind::Invalid, whereOf(i),
                            "update needs the expected revision (> 0); use apply to write regardless");
    }
    if (op.type != Op::Type::Remove) {
      std::string documentKind;
      if (auto problem = checkDocument(op.value, &documentKind)) {
        return makeStoreError(ErrorKind::Invalid, whereOf(i), *problem);
      }
    }
  }
  if (ops.empty()) return makeStoreError(ErrorKind::Invalid, "transaction", "no operations");

  return locked<TxnResult>([&](Session& session) -> StoreResult<TxnResult> {
    // Check every op against the files as they are now, hand edits included.
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      if (auto known = knownKinds_.find(lowercase(op.key.kind));
          known != knownKinds_.end() && known->second != op.key.kind) {
        return makeStoreError(ErrorKind::Invalid, whereOf(i),
                              "kind shares its folder with kind " + known->second);
      }
      reconcileKey(session, op.key);
      auto entry = state_.index.find(op.key);
      bool exists = entry != state_.index.end();
      int64_t stored = exists ? entry->second.revision : 0;
      switch (op.type) {
        case Op::Type::Create:
          if (exists) {
            return makeStoreError(ErrorKind::AlreadyExists, whereOf(i),
                                  "already exists at revision " + std::to_string(stored));
          }
          break;
        case Op::Type::Update:
        case Op::Type::Remove:
          if (!exists) return makeStoreError(ErrorKind::NotFound, whereOf(i), "not found");
          if (op.expectedRevision && *op.expectedRevision != stored) {
            return makeStoreError(ErrorKind::Conflict, whereOf(i),
                                  "revision is " + std::to_string(stored) + ", expected " +
                                      std::to_string(*op.expectedRevision));
          }
          break;
        case Op::Type::Apply:
          break;
      }
    }

    // Stage every new file beside its final place.
    static std::atomic<uint64_t> counter{0};
    PendingLog log;
    log.revision = state_.revision + 1;
    auto discardStaged = [&] {
      for (const auto& [temp, final] : log.renames) ::unlink((root_ + "/" + temp).c_str());
    };
    std::set<std::string> touchedFolders;
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      std::string final = pathOf(op.key).substr(root_.size() + 1);
      if (op.type == Op::Type::Remove) {
        log.removals.push_back(final);
        touchedFolders.insert(fs::path(pathOf(op.key)).parent_path().string());
        continue;
      }
      fs::path finalPath(pathOf(op.key));
      std::string folder = finalPath.parent_path().string();
      std::string temp = (fs::path(final).parent_path() /
                          ("." + finalPath.filename().string() + "." + std::to_string(::getpid()) + "." +
                           std::to_string(counter++) + ".tmp"))
                             .string();
      auto error = makeDirectories(folder);
      if (!error) error = writeFileSynced(root_ + "/" + temp, op.value);
      if (!error) error = keepValid(contentHash(op.value), op.value);
      if (error) {
        ::unlink((root_ + "/" + temp).c_str());
        discardStaged();
        return ioError(whereOf(i), *error);
      }
      log.renames.emplace_back(temp, final);
      touchedFolders.insert(folder);
    }
    std::string pendingPath = stateDir_ + "/pending";
    if (auto error = writeFileAtomic(pendingPath, serializePending(log))) {
      discardStaged();
      return ioError(pendingPath, *error);
    }

    // Commit: the new state file names the new revision.
    TxnResult result;
    result.revision = log.revision;
    for (const Op& op : ops) {
      bool exists = state_.index.count(op.key) > 0;
      if (op.type == Op::Type::Remove) {
        recordWrite(session, JournalOp::Deleted, op.key, 0, log.revision);
        result.results.push_back(KVPair{op.key, {}, log.revision});
      } else {
        recordWrite(session, exists ? JournalOp::Modified : JournalOp::Added, op.key, contentHash(op.value),
                    log.revision);
        result.results.push_back(KVPair{op.key, op.value, log.revision});
      }
    }
    session.dirty = false;
    if (auto committed = commitState(); !committed) {
      discardStaged();
      ::unlink(pendingPath.c_str());
      return committed.error();
    }

    // Make the files say what the state says.
    for (const auto& [temp, final] : log.renames) {
      ::rename((root_ + "/" + temp).c_str(), (root_ + "/" + final).c_str());
    }
    for (const auto& removal : log.removals) ::unlink((root_ + "/" + removal).c_str());
    for (const auto& folder : touchedFolders) fsyncDirectory(folder);
    ::unlink(pendingPath.c_str());
    return result;
  });
}

StoreResult<Batch> Core::snapshot(const std::string& kind) {
  return locked<Batch>([&](Session& session) -> StoreResult<Batch> {
    std::map<Key, std::string> contents;
    reconcileScan(session, kind.empty() ? std::string() : lowercase(kind), &contents);
    Batch batch;
    for (auto& [key, content] : contents) {
      if (!kind.empty() && key.kind != kind) continue;
      auto entry = state_.index.find(key);
      if (entry == state_.index.end()) continue;
      int64_t revision = entry->second.revision;
      batch.events.push_back(
          WatchEvent{EventType::Added, KVPair{key, std::move(content), revision}, revision});
    }
    std::stable_sort(batch.events.begin(), batch.events.end(),
                     [](const WatchEvent& a, const WatchEvent& b) { return a.revision < b.revision; });
    batch.revision = state_.revision;
    return batch;
  });
}

StoreResult<Batch> Core::changesSince(int64_t after, const std::string& kind, const Dirty& dirty) {
  return locked<Batch>([&](Session& session) -> StoreResult<Batch> {
    if (after > state_.revision) {
      // The store went back in time: a state restored from before, or a new store in its place.
      return makeStoreError(ErrorKind::Compacted, root_,
                            "revision " + std::to_string(after) + " is ahead of the store's " +
                                std::to_string(state_.revision) +
                                " (it was replaced or restored): list again");
    }
    if (dirty.all) {
      reconcileScan(session, "", nullptr);
    } else {
      for (const auto& folder : dirty.dirs) reconcileScan(session, folder, nullptr);
      for (const auto& file : dirty.files) {
        if (auto key = keyForFile(session, file)) reconcileKey(session, *key);
      }
    }
    if (after < state_.compacted) {
      return makeStoreError(ErrorKind::Compacted, root_,
                            "revision " + std::to_string(after) +
                                " is compacted (history kept after revision " +
                                std::to_string(state_.compacted) + "): list again");
    }
    // First and last journal entry of each key changed after `after`; reading the current
    // contents may find newer hand edits, which add entries, so repeat until stable.
    struct Change {
      JournalOp first;
      JournalOp last;
      int64_t revision;
      size_t order;
    };
    std::map<Key, Change> changes;
    std::map<Key, std::string> contents;
    for (int round = 0; round < 4; ++round) {
      changes.clear();
      contents.clear();
      size_t order = 0;
      for (const JournalEntry& entry : state_.journal) {
        if (entry.revision <= after) continue;
        auto [it, inserted] = changes.try_emplace(entry.key, Change{entry.op, entry.op, 0, 0});
        (void)inserted;
        it->second.last = entry.op;
        it->second.revision = entry.revision;
        it->second.order = order++;
      }
      int64_t before = state_.revision;
      for (const auto& [key, change] : changes) {
        if (change.last == JournalOp::Deleted) continue;
        if (auto content = reconcileKey(session, key)) contents[key] = std::move(*content);
      }
      if (state_.revision == before) break;
    }
    std::vector<std::pair<size_t, WatchEvent>> ordered;
    for (const auto& [key, change] : changes) {
      if (!kind.empty() && key.kind != kind) continue;
      bool existedBefore = change.first != JournalOp::Added;
      bool existsAfter = change.last != JournalOp::Deleted;
      WatchEvent event;
      event.revision = change.revision;
      event.kv = KVPair{key, {}, change.revision};
      if (existsAfter) {
        auto content = contents.find(key);
        if (content == contents.end()) continue;  // unreadable now; reported, skipped
        event.kv.value = content->second;
        event.type = existedBefore ? EventType::Modified : EventType::Added;
      } else if (existedBefore) {
        event.type = EventType::Deleted;
      } else {
        continue;  // came and went: the watcher never knew it
      }
      ordered.emplace_back(change.order, std::move(event));
    }
    std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    Batch batch;
    for (auto& [order, event] : ordered) batch.events.push_back(std::move(event));
    batch.revision = state_.revision;
    return batch;
  });
}

}  // namespace tartan::datastore::file
