// etcd_datastore.cpp — the Datastore over etcd v3 (see tartan/datastore/etcd_datastore.hpp).
#include "tartan/datastore/etcd_datastore.hpp"

#include "etcd_client.hpp"
#include "etcd_layout.hpp"
#include "etcd_watch.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

namespace tartan::datastore {

namespace {

using etcd::Client;
using etcd::Compare;
using etcd::TxnOp;

// Writes that lose a race they did not ask to win (apply, remove without a revision) try again.
constexpr int kMaxAttempts = 10;
// Gets per Txn when reading where keys are (etcd's default --max-txn-ops is 128).
constexpr size_t kReadBatch = 128;

StoreError invalid(const Error& error) { return StoreError{ErrorKind::Invalid, error}; }

// Where a resource is stored right now.
struct Located {
  std::vector<std::string> candidates;  // where it may be; the first is where a new one goes
  std::optional<etcd::KeyValue> stored;
};

class EtcdDatastore final : public Datastore {
 public:
  EtcdDatastore(std::shared_ptr<Client> client, EtcdOptions etcd, OpenOptions options)
      : client_(std::move(client)), etcd_(std::move(etcd)), options_(std::move(options)) {}

  StoreResult<ListResult> list(std::string_view kind, std::optional<std::string_view> namespace_) override {
    auto range = etcd::rangeOf(kind, namespace_);
    if (!range) return range.error();
    if (kind.empty()) return makeStoreError(ErrorKind::Invalid, "etcd list", "no kind given");
    auto snapshot = etcd::readSnapshot(*client_, *range, kind, 0, options_);
    if (!snapshot) return snapshot.error();
    // A policy stored under both of Calico's names is listed once, under the name written today.
    std::map<Key, std::pair<bool, KVPair>> byKey;
    for (auto& [path, item] : snapshot->byPath) {
      auto paths = etcd::pathsOf(item.key);
      bool written = paths && !paths->empty() && paths->front() == path;
      auto [it, fresh] =
          byKey.try_emplace(item.key, written, KVPair{item.key, item.document, item.modRevision});
      if (!fresh && written) it->second = {true, KVPair{item.key, item.document, item.modRevision}};
    }
    ListResult out;
    out.revision = snapshot->revision;
    for (auto& [key, entry] : byKey) out.items.push_back(std::move(entry.second));
    return out;
  }

  StoreResult<KVPair> get(const Key& key) override {
    auto located = locate(key);
    if (!located) return located.error();
    if (!located->stored) return notFound(key);
    return toKVPair(key, *located->stored);
  }

  StoreResult<KVPair> create(const Key& key, std::string value) override {
    auto txn = transaction({Op::create(key, std::move(value))});
    if (!txn) return txn.error();
    return std::move(txn->results.front());
  }

  StoreResult<KVPair> update(const Key& key, std::string value, int64_t expectedRevision) override {
    if (expectedRevision <= 0) {
      return makeStoreError(ErrorKind::Invalid, key.toString(), "update needs a revision > 0; use apply");
    }
    auto txn = transaction({Op::update(key, std::move(value), expectedRevision)});
    if (!txn) return txn.error();
    return std::move(txn->results.front());
  }

  StoreResult<KVPair> apply(const Key& key, std::string value) override {
    auto txn = transaction({Op::apply(key, std::move(value))});
    if (!txn) return txn.error();
    return std::move(txn->results.front());
  }

  StoreResult<int64_t> remove(const Key& key, std::optional<int64_t> expectedRevision) override {
    auto txn = transaction({Op::remove(key, expectedRevision)});
    if (!txn) return txn.error();
    return txn->revision;
  }

  // One Txn: a compare per op (version == 0 for a new key, mod_revision for a stored one), a put
  // or delete per op on success, and on failure a read of every compared key, so the first op
  // whose compare failed is named with the right kind of error.
  StoreResult<TxnResult> transaction(const std::vector<Op>& ops) override {
    std::set<Key> seen;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!seen.insert(ops[i].key).second) {
        return makeStoreError(ErrorKind::Invalid, opWhere(i, ops[i]),
                              "a key may appear once in a transaction");
      }
      if (ops[i].type == Op::Type::Update && (!ops[i].expectedRevision || *ops[i].expectedRevision <= 0)) {
        return makeStoreError(ErrorKind::Invalid, opWhere(i, ops[i]), "update needs a revision > 0");
      }
    }
    if (ops.empty()) {
      auto now = client_->range("/calico/", "", 0, true);
      if (!now) return now.error();
      return TxnResult{now->revision, {}};
    }
    for (int attempt = 0;; ++attempt) {
      auto result = tryTransaction(ops);
      if (result || result.error().kind != ErrorKind::Conflict || attempt + 1 >= kMaxAttempts ||
          !retryable_) {
        return result;
      }
    }
  }

  StoreResult<std::unique_ptr<Watch>> watch(const WatchOptions& options, WatchCallbacks callbacks) override {
    return etcd::startWatch(client_, etcd_, options_, options, std::move(callbacks));
  }

 private:
  static std::string opWhere(size_t index, const Op& op) {
    return "transaction op " + std::to_string(index) + " (" + op.key.toString() + ")";
  }

  static StoreError notFound(const Key& key) {
    return makeStoreError(ErrorKind::NotFound, key.toString(), "not found in etcd");
  }

  StoreResult<KVPair> toKVPair(const Key& key, const etcd::KeyValue& kv) {
    auto document = etcd::decodeValue(key, kv.key, kv.value);
    if (!document) {
      StoreError error{ErrorKind::Invalid, document.error()};
      error.error.where = "etcd " + kv.key;
      if (options_.onInvalidDocument) options_.onInvalidDocument(error);
      return error;
    }
    return KVPair{key, std::move(*document), kv.modRevision};
  }

  StoreResult<Located> locate(const Key& key) {
    auto all = locateAll({key});
    if (!all) return all.error();
    return std::move(all->front());
  }

  // Where each key is stored now: the candidates' reads batched into Txns of kReadBatch gets.
  StoreResult<std::vector<Located>> locateAll(const std::vector<Key>& keys) {
    std::vector<Located> out(keys.size());
    std::vector<std::pair<size_t, std::string>> reads;  // key index, path
    for (size_t i = 0; i < keys.size(); ++i) {
      auto paths = etcd::pathsOf(keys[i]);
      if (!paths) return invalid(paths.error());
      out[i].candidates = std::move(*paths);
      if (out[i].candidates.empty()) {
        // An IPv6 block affinity: node and CIDR cannot be told apart in its name; look.
        auto affinities =
            client_->range(etcd::affinityPrefix(), etcd::prefixEnd(etcd::affinityPrefix()), 0, true);
        if (!affinities) return affinities.error();
        for (const etcd::KeyValue& kv : affinities->kvs) {
          if (etcd::keyOf(kv.key) == keys[i]) out[i].candidates.push_back(kv.key);
        }
      }
      for (const std::string& path : out[i].candidates) reads.emplace_back(i, path);
    }
    for (size_t start = 0; start < reads.size(); start += kReadBatch) {
      size_t end = std::min(reads.size(), start + kReadBatch);
      std::vector<TxnOp> gets;
      for (size_t r = start; r < end; ++r) gets.push_back(TxnOp{TxnOp::Type::Get, reads[r].second, "", 0});
      auto read = client_->txn({}, gets, {});
      if (!read) return read.error();
      for (size_t r = start; r < end && r - start < read->reads.size(); ++r) {
        Located& located = out[reads[r].first];
        // The first candidate found wins: the name written today before the older one.
        if (!located.stored && !read->reads[r - start].empty())
          located.stored = read->reads[r - start].front();
      }
    }
    return out;
  }

  struct Planned {
    std::string path;   // where the op writes or deletes
    std::string value;  // the value put
    std::vector<Compare> compares;
  };

  StoreResult<TxnResult> tryTransaction(const std::vector<Op>& ops) {
    retryable_ = false;
    std::vector<Planned> plans;
    std::vector<Compare> compares;
    std::vector<size_t> compareOwner;  // op index per compare
    std::vector<TxnOp> success;
    std::vector<Key> keys;
    for (const Op& op : ops) keys.push_back(op.key);
    auto locatedAll = locateAll(keys);
    if (!locatedAll) return locatedAll.error();
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      Located* located = &(*locatedAll)[i];
      Planned plan;
      const std::string* stored = located->stored ? &located->stored->value : nullptr;
      switch (op.type) {
        case Op::Type::Create:
          if (located->stored)
            return makeStoreError(ErrorKind::AlreadyExists, opWhere(i, op), "already stored");
          stored = nullptr;
          break;
        case Op::Type::Update:
          if (!located->stored)
            return makeStoreError(ErrorKind::NotFound, opWhere(i, op), "not found in etcd");
          if (located->stored->modRevision != *op.expectedRevision) {
            return conflict(i, op, located->stored->modRevision);
          }
          break;
        case Op::Type::Remove:
          if (!located->stored)
            return makeStoreError(ErrorKind::NotFound, opWhere(i, op), "not found in etcd");
          if (op.expectedRevision && located->stored->modRevision != *op.expectedRevision) {
            return conflict(i, op, located->stored->modRevision);
          }
          break;
        case Op::Type::Apply:
          break;
      }
      // One compare per op, so a transaction takes as many ops as etcd's --max-txn-ops (128).
      if (located->stored) {
        plan.path = located->stored->key;
        plan.compares.push_back(
            Compare{plan.path, Compare::Target::ModRevision, located->stored->modRevision});
      }
      if (op.type != Op::Type::Remove) {
        auto path = etcd::writePathOf(op.key, op.value);
        if (!path) return invalid(path.error());
        if (!located->stored) {
          plan.path = *path;
          plan.compares.push_back(Compare{*path, Compare::Target::Version, 0});
        } else if (*path != plan.path && !(etcd::pathsOf(op.key) && etcd::pathsOf(op.key)->size() > 1)) {
          return makeStoreError(
              ErrorKind::Invalid, opWhere(i, op),
              "the document would move the resource to " + *path + "; remove and create it");
        }
        auto value = etcd::encodeValue(op.key, op.value, stored);
        if (!value) {
          StoreError error = invalid(value.error());
          error.error.where = opWhere(i, op) + ": " + error.error.where;
          return error;
        }
        plan.value = std::move(*value);
        success.push_back(TxnOp{TxnOp::Type::Put, plan.path, plan.value, 0});
      } else {
        success.push_back(TxnOp{TxnOp::Type::Delete, plan.path, "", 0});
      }
      for (const Compare& compare : plan.compares) {
        compares.push_back(compare);
        compareOwner.push_back(i);
      }
      plans.push_back(std::move(plan));
    }
    std::vector<TxnOp> failure;
    for (const Compare& compare : compares) failure.push_back(TxnOp{TxnOp::Type::Get, compare.key, "", 0});
    auto txn = client_->txn(compares, success, failure);
    if (!txn) return txn.error();
    if (!txn->succeeded) return explainFailure(ops, compares, compareOwner, *txn);
    TxnResult out;
    out.revision = txn->revision;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].type == Op::Type::Remove) {
        out.results.push_back(KVPair{ops[i].key, "", txn->revision});
        continue;
      }
      auto document = etcd::decodeValue(ops[i].key, plans[i].path, plans[i].value);
      if (!document) return invalid(document.error());
      out.results.push_back(KVPair{ops[i].key, std::move(*document), txn->revision});
    }
    return out;
  }

  StoreError conflict(size_t index, const Op& op, int64_t stored) {
    return makeStoreError(
        ErrorKind::Conflict, opWhere(index, op),
        "stored at revision " + std::to_string(stored) + ", expected " +
            (op.expectedRevision ? std::to_string(*op.expectedRevision) : std::string("none")));
  }

  // The Txn's compare failed: someone wrote in between. The first op whose key moved says why.
  StoreError explainFailure(const std::vector<Op>& ops, const std::vector<Compare>& compares,
                            const std::vector<size_t>& owner, const etcd::TxnResult& txn) {
    for (size_t c = 0; c < compares.size() && c < txn.reads.size(); ++c) {
      const Compare& compare = compares[c];
      const auto& now = txn.reads[c];
      bool held = compare.target == Compare::Target::Version
                      ? now.empty()
                      : (!now.empty() && now.front().modRevision == compare.value);
      if (held) continue;
      size_t i = owner[c];
      const Op& op = ops[i];
      // Create, apply and remove without a revision lose a race they did not ask to win: again.
      retryable_ = op.type == Op::Type::Apply || (op.type == Op::Type::Remove && !op.expectedRevision);
      if (op.type == Op::Type::Create)
        return makeStoreError(ErrorKind::AlreadyExists, opWhere(i, op), "already stored");
      if (now.empty()) {
        if (op.type == Op::Type::Apply) return conflict(i, op, 0);
        return makeStoreError(ErrorKind::NotFound, opWhere(i, op), "removed meanwhile");
      }
      return conflict(i, op, now.front().modRevision);
    }
    retryable_ = true;
    return makeStoreError(ErrorKind::Conflict, "etcd transaction", "a compare failed");
  }

  std::shared_ptr<Client> client_;
  EtcdOptions etcd_;
  OpenOptions options_;
  static thread_local bool retryable_;
};

thread_local bool EtcdDatastore::retryable_ = false;

std::string environment(std::string_view name) {
  for (std::string candidate : {"CALICO_" + std::string(name), std::string(name)}) {
    if (const char* value = std::getenv(candidate.c_str()); value && *value) return value;
  }
  return {};
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

StoreResult<EtcdOptions> etcdOptionsFromSpec(std::string_view spec) {
  std::string where(spec);
  if (spec.starts_with("etcdv3:")) {
    spec.remove_prefix(7);
  } else if (spec.starts_with("etcd:")) {
    spec.remove_prefix(5);
  } else {
    return makeStoreError(ErrorKind::Invalid, where, "an etcd datastore is etcdv3:http://HOST:PORT[,…]");
  }
  EtcdOptions out;
  std::string_view query;
  if (size_t mark = spec.find('?'); mark != std::string_view::npos) {
    query = spec.substr(mark + 1);
    spec = spec.substr(0, mark);
  }
  out.endpoints = splitList(spec);
  if (out.endpoints.empty()) {
    return makeStoreError(ErrorKind::Invalid, where, "no endpoint: expected etcdv3:http://HOST:PORT[,…]");
  }
  out.caFile = environment("ETCD_CA_CERT_FILE");
  out.certFile = environment("ETCD_CERT_FILE");
  out.keyFile = environment("ETCD_KEY_FILE");
  out.username = environment("ETCD_USERNAME");
  out.password = environment("ETCD_PASSWORD");
  // Options in the spec win over the environment: ?ca=FILE&cert=FILE&key=FILE&username=U&password=P.
  while (!query.empty()) {
    std::string_view option = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), option.size() + 1));
    size_t equals = option.find('=');
    std::string_view name = option.substr(0, equals);
    std::string value(equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1));
    std::string* field = name == "ca"         ? &out.caFile
                         : name == "cert"     ? &out.certFile
                         : name == "key"      ? &out.keyFile
                         : name == "username" ? &out.username
                         : name == "password" ? &out.password
                                              : nullptr;
    if (!field || equals == std::string_view::npos) {
      return makeStoreError(
          ErrorKind::Invalid, where,
          "unknown option '" + std::string(option) + "': expected ca, cert, key, username, password");
    }
    *field = std::move(value);
  }
  return out;
}

StoreResult<std::optional<std::string>> etcdSpecFromEnvironment() {
  std::string type = environment("DATASTORE_TYPE");
  if (type != "etcdv3") return std::optional<std::string>();
  std::string endpoints = environment("ETCD_ENDPOINTS");
  if (endpoints.empty()) {
    return makeStoreError(ErrorKind::Invalid, "DATASTORE_TYPE=etcdv3", "ETCD_ENDPOINTS is not set");
  }
  return std::optional<std::string>("etcdv3:" + endpoints);
}

StoreResult<std::unique_ptr<Datastore>> openEtcdDatastore(const EtcdOptions& etcd, OpenOptions options) {
  etcd::ClientConfig config;
  config.endpoints = etcd.endpoints;
  config.caFile = etcd.caFile;
  config.certFile = etcd.certFile;
  config.keyFile = etcd.keyFile;
  config.username = etcd.username;
  config.password = etcd.password;
  config.callTimeout = etcd.callTimeout;
  auto client = Client::connect(config);
  if (!client) return client.error();
  return std::unique_ptr<Datastore>(
      std::make_unique<EtcdDatastore>(std::move(*client), etcd, std::move(options)));
}

StoreResult<std::unique_ptr<Datastore>> openEtcdDatastore(std::string_view spec, OpenOptions options) {
  auto etcd = etcdOptionsFromSpec(spec);
  if (!etcd) return etcd.error();
  return openEtcdDatastore(*etcd, std::move(options));
}

}  // namespace tartan::datastore
