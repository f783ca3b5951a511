#include "tartan/datastore/datastore.hpp"

#include "tartan/datastore/file_datastore.hpp"
#include "tartan/datastore/kubernetes_datastore.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>

namespace tartan::datastore {

// Defined by tartan::datastore_etcd (etcd_datastore.hpp) in the binaries that link it; null in the
// others, which then answer an etcd spec with Unsupported.
[[gnu::weak]] StoreResult<std::unique_ptr<Datastore>> openEtcdDatastore(std::string_view spec,
                                                                        OpenOptions options);
[[gnu::weak]] StoreResult<std::optional<std::string>> etcdSpecFromEnvironment();

std::string Key::toString() const {
  return namespace_.empty() ? kind + "/" + name : kind + "/" + namespace_ + "/" + name;
}

std::string_view toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::NotFound:
      return "not found";
    case ErrorKind::AlreadyExists:
      return "already exists";
    case ErrorKind::Conflict:
      return "conflict";
    case ErrorKind::Compacted:
      return "compacted";
    case ErrorKind::Invalid:
      return "invalid";
    case ErrorKind::Io:
      return "i/o error";
    case ErrorKind::Unsupported:
      return "unsupported";
    case ErrorKind::Unavailable:
      return "unavailable";
  }
  return "unknown";
}

std::string StoreError::toString() const { return error.toString(); }

std::string Damage::toString() const {
  std::string out = path + ": " + problem;
  if (servedRevision > 0) {
    out += "; serving its last valid version (revision " + std::to_string(servedRevision) + ")";
  } else {
    out += "; no valid version kept: not served";
  }
  return out;
}

StoreError makeStoreError(ErrorKind kind, std::string where, std::string what) {
  return StoreError{kind, tartan::Error{std::move(where), {}, std::move(what)}};
}

void throw_exception_from_error(const StoreError& error, const boost::source_location& /*where*/) {
  throw tartan::ErrorException(error.error);
}

Op Op::create(Key key, std::string value) {
  return Op{Type::Create, std::move(key), std::move(value), std::nullopt};
}
Op Op::update(Key key, std::string value, int64_t expectedRevision) {
  return Op{Type::Update, std::move(key), std::move(value), expectedRevision};
}
Op Op::apply(Key key, std::string value) {
  return Op{Type::Apply, std::move(key), std::move(value), std::nullopt};
}
Op Op::remove(Key key, std::optional<int64_t> expectedRevision) {
  return Op{Type::Remove, std::move(key), {}, expectedRevision};
}

std::ostream& operator<<(std::ostream& os, const Key& key) { return os << key.toString(); }
std::ostream& operator<<(std::ostream& os, const KVPair& kv) { return os << kv.key << "@" << kv.revision; }
std::ostream& operator<<(std::ostream& os, const StoreError& error) {
  return os << toString(error.kind) << ": " << error.toString();
}
std::ostream& operator<<(std::ostream& os, const ListResult& list) {
  return os << list.items.size() << " items @" << list.revision;
}
std::ostream& operator<<(std::ostream& os, const TxnResult& txn) {
  return os << "transaction of " << txn.results.size() << " @" << txn.revision;
}

std::string defaultLocation() {
  if (const char* explicitDir = std::getenv("TARTAN_DATASTORE"); explicitDir && *explicitDir) {
    std::string_view dir(explicitDir);
    if (dir.starts_with("file:")) dir.remove_prefix(5);
    return std::string(dir);
  }
  if (::geteuid() == 0) return "/var/lib/tartan/datastore";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg == '/') {
    return std::string(xdg) + "/tartan/datastore";
  }
  std::string home;
  if (const char* env = std::getenv("HOME"); env && *env) {
    home = env;
  } else if (const passwd* entry = ::getpwuid(::geteuid())) {
    home = entry->pw_dir;
  }
  return home + "/.local/share/tartan/datastore";
}

StoreResult<std::unique_ptr<Datastore>> open(std::string_view spec, OpenOptions options) {
  if (spec.empty()) {
    // Calico's DATASTORE_TYPE=etcdv3 with ETCD_ENDPOINTS (or CALICO_-prefixed) picks etcd.
    if (etcdSpecFromEnvironment) {
      auto calico = etcdSpecFromEnvironment();
      if (!calico) return calico.error();
      if (*calico) return open(**calico, std::move(options));
    }
    // Calico's DATASTORE_TYPE=kubernetes (or CALICO_DATASTORE_TYPE) picks the Kubernetes API.
    if (kubernetesChosenByEnvironment()) return open("kubernetes", std::move(options));
    // $TARTAN_DATASTORE may name another backend; a plain path is a file datastore.
    const char* fromEnvironment = std::getenv("TARTAN_DATASTORE");
    std::string_view chosen = fromEnvironment ? fromEnvironment : "";
    if (chosen.starts_with("etcd:") || chosen.starts_with("etcdv3:") || chosen == "kubernetes" ||
        chosen.starts_with("kubernetes:")) {
      return open(chosen, std::move(options));
    }
    return openFileDatastore(defaultLocation(), std::move(options));
  }
  if (spec.starts_with("file:")) {
    spec.remove_prefix(5);
    if (spec.empty()) return makeStoreError(ErrorKind::Invalid, "file:", "no folder given");
    return openFileDatastore(std::string(spec), std::move(options));
  }
  if (spec == "kubernetes" || spec.starts_with("kubernetes:")) {
    // "kubernetes:FILE" names the kubeconfig; plain "kubernetes" finds it as kubectl would
    // ($KUBECONFIG, in-cluster, ~/.kube/config).
    std::optional<std::string> kubeconfig;
    if (spec.size() > 11) kubeconfig = std::string(spec.substr(11));
    return openKubernetesDatastore(kubeconfig, std::move(options));
  }
  if ((spec.starts_with("etcd:") || spec.starts_with("etcdv3:")) && openEtcdDatastore) {
    return openEtcdDatastore(spec, std::move(options));
  }
  if (spec.starts_with("etcd:") || spec.starts_with("etcdv3:") || spec == "kubernetes" ||
      spec.starts_with("kubernetes:")) {
    return makeStoreError(ErrorKind::Unsupported, std::string(spec),
                          "this datastore backend is not built in yet; use file:DIR");
  }
  return makeStoreError(ErrorKind::Invalid, std::string(spec),
                        "unknown datastore: expected file:DIR, etcdv3:http://HOST:PORT[,…] or kubernetes");
}

}  // namespace tartan::datastore
