// apply, create, replace, delete and validate: decode everything first, then write it all in one
// datastore transaction, so a multi-document apply with one bad document writes nothing.
#include "cli.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <random>

namespace tartan::cli {

namespace {

std::string newUid() {
  std::random_device device;
  std::mt19937_64 rng((uint64_t(device()) << 32) ^ device());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xffff), unsigned(hi & 0xffff), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buffer;
}

std::string nowRfc3339() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

const char* verb(WriteMode mode) {
  switch (mode) {
    case WriteMode::Apply:
      return "applied";
    case WriteMode::Create:
      return "created";
    case WriteMode::Replace:
      return "replaced";
  }
  return "written";
}

int printDecodeErrors(const Context& ctx, const DecodedInputs& decoded) {
  for (const auto& error : decoded.errors) *ctx.err << "tartanctl: " << error.toString() << "\n";
  *ctx.err << "tartanctl: " << decoded.errors.size() << " problem(s) found; nothing was written\n";
  return 1;
}

std::optional<DecodedInputs> load(const Context& ctx, const FileOptions& options, int& status) {
  auto inputs = readInputs(options.files, options.recursive);
  if (!inputs) {
    status = ctx.fail(inputs.error().toString());
    return std::nullopt;
  }
  auto decoded = decodeInputs(*inputs, options.namespaceName, options.namespaceExplicit);
  if (!decoded.errors.empty()) {
    status = printDecodeErrors(ctx, decoded);
    return std::nullopt;
  }
  return decoded;
}

// A transaction whose compare-and-swap lost to a concurrent writer is planned again from what is
// now stored; after this many tries the conflict is reported.
constexpr int kMaxAttempts = 5;

}  // namespace

std::string storedDocument(model::Resource resource, const std::optional<model::Resource>& current) {
  auto& meta = model::metadata(resource);
  meta.resourceVersion.clear();
  if (current) {
    const auto& old = model::metadata(*current);
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
  }
  if (meta.uid.empty()) meta.uid = newUid();
  if (meta.creationTimestamp.empty()) meta.creationTimestamp = nowRfc3339();
  return model::encodeYaml(resource);
}

int runValidate(const Context& ctx, const FileOptions& options) {
  int status = 0;
  auto decoded = load(ctx, options, status);
  if (!decoded) return status;
  *ctx.out << "Successfully validated " << decoded->resources.size() << " resource(s)\n";
  return 0;
}

int runWrite(const Context& ctx, WriteMode mode, const FileOptions& options) {
  int status = 0;
  auto decoded = load(ctx, options, status);
  if (!decoded) return status;
  auto store = ctx.openStore();
  if (!store) return 1;

  for (int attempt = 1;; ++attempt) {
    std::vector<datastore::Op> ops;
    std::vector<std::string> problems;
    size_t skipped = 0;
    for (const auto& resource : decoded->resources) {
      auto key = keyOf(resource);
      auto stored = store->get(key);
      std::optional<model::Resource> current;
      if (stored) {
        auto parsed = decodeStored(*stored);
        if (parsed) current = std::move(*parsed);
      } else if (stored.error().kind != datastore::ErrorKind::NotFound) {
        return ctx.fail(stored.error().toString());
      }
      switch (mode) {
        case WriteMode::Apply:
          if (stored) {
            ops.push_back(datastore::Op::update(key, storedDocument(resource, current), stored->revision));
          } else {
            ops.push_back(datastore::Op::create(key, storedDocument(resource, std::nullopt)));
          }
          break;
        case WriteMode::Create:
          if (stored) {
            if (options.skipExists) {
              ++skipped;
              continue;
            }
            problems.push_back(key.toString() + " already exists");
            continue;
          }
          ops.push_back(datastore::Op::create(key, storedDocument(resource, std::nullopt)));
          break;
        case WriteMode::Replace: {
          if (!stored) {
            problems.push_back(key.toString() + " does not exist");
            continue;
          }
          int64_t expected = stored->revision;
          const auto& version = model::metadata(resource).resourceVersion;
          if (!version.empty()) {
            try {
              expected = std::stoll(version);
            } catch (...) {
              problems.push_back(key.toString() + ": metadata.resourceVersion \"" + version +
                                 "\" is not a revision");
              continue;
            }
          }
          ops.push_back(datastore::Op::update(key, storedDocument(resource, current), expected));
          break;
        }
      }
    }
    if (!problems.empty()) {
      for (const auto& problem : problems) *ctx.err << "tartanctl: " << problem << "\n";
      *ctx.err << "tartanctl: nothing was written\n";
      return 1;
    }
    if (ops.empty()) {
      *ctx.out << "Successfully " << verb(mode) << " 0 resource(s)";
      if (skipped) *ctx.out << " (" << skipped << " already existed)";
      *ctx.out << "\n";
      return 0;
    }
    auto committed = store->transaction(ops);
    if (committed) {
      *ctx.out << "Successfully " << verb(mode) << " " << ops.size() << " resource(s)";
      if (skipped) *ctx.out << " (" << skipped << " already existed)";
      *ctx.out << "\n";
      return 0;
    }
    const auto& error = committed.error();
    bool retry =
        mode != WriteMode::Replace && attempt < kMaxAttempts &&
        (error.kind == datastore::ErrorKind::Conflict || error.kind == datastore::ErrorKind::AlreadyExists ||
         error.kind == datastore::ErrorKind::NotFound);
    if (!retry) {
      if (error.kind == datastore::ErrorKind::Conflict)
        return ctx.fail("conflict: " + error.toString() +
                        " (the resource changed since it was read); nothing was written");
      return ctx.fail(error.toString() + "; nothing was written");
    }
  }
}

namespace {

// Removes every key in one transaction, each guarded by the revision it was read at; a key that is
// not stored fails the whole delete unless skipNotExists.
int removeAll(const Context& ctx, datastore::Datastore& store, const std::vector<datastore::Key>& keys,
              bool skipNotExists) {
  std::vector<datastore::Op> ops;
  std::vector<std::string> problems;
  for (const auto& key : keys) {
    auto stored = store.get(key);
    if (!stored) {
      if (stored.error().kind == datastore::ErrorKind::NotFound && skipNotExists) continue;
      problems.push_back(stored.error().toString());
      continue;
    }
    ops.push_back(datastore::Op::remove(key, stored->revision));
  }
  if (!problems.empty()) {
    for (const auto& problem : problems) *ctx.err << "tartanctl: " << problem << "\n";
    *ctx.err << "tartanctl: nothing was deleted\n";
    return 1;
  }
  if (!ops.empty()) {
    auto committed = store.transaction(ops);
    if (!committed) return ctx.fail(committed.error().toString() + "; nothing was deleted");
  }
  *ctx.out << "Successfully deleted " << ops.size() << " resource(s)\n";
  return 0;
}

}  // namespace

int runDeleteFiles(const Context& ctx, const FileOptions& options) {
  int status = 0;
  auto decoded = load(ctx, options, status);
  if (!decoded) return status;
  auto store = ctx.openStore();
  if (!store) return 1;
  std::vector<datastore::Key> keys;
  for (const auto& resource : decoded->resources) keys.push_back(keyOf(resource));
  return removeAll(ctx, *store, keys, options.skipNotExists);
}

int runDeleteNamed(const Context& ctx, const std::string& kindName, const std::vector<std::string>& names,
                   const std::string& namespaceName, bool skipNotExists) {
  auto kind = model::lookupKind(kindName);
  if (!kind) return ctx.fail("unknown resource kind \"" + kindName + "\"");
  if (names.empty()) return ctx.fail("delete needs a name, or -f FILE");
  auto store = ctx.openStore();
  if (!store) return 1;
  std::vector<datastore::Key> keys;
  for (const auto& name : names) keys.push_back(keyOf(*kind, namespaceName, name));
  return removeAll(ctx, *store, keys, skipNotExists);
}

}  // namespace tartan::cli
