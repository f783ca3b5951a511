// tartan/datastore/etcd_datastore.hpp — the etcd v3 backend of the Datastore, in Calico's layout.
//
// What: the Datastore interface over etcd's v3 gRPC API, reading and writing what Calico's
// libcalico-go reads and writes, where it does (/calico/resources/v3/projectcalico.org/…, IPAM
// under /calico/ipam/v2/…), so a cluster moves between Calico and Tartan with no migration.
// A resource revision is the key's mod_revision; create is a Txn on version == 0, update and remove
// a Txn on mod_revision, and a failed compare is read back to tell NotFound from Conflict;
// transaction() is one Txn; list() is one Range whose header revision is the snapshot's.
// watch(): the state at the start revision (a Range at it) against the state now (a Range), the
// differences delivered, in sync, then a prefix watch from the next revision with previous values.
// A stream that drops (a member killed, a lost leader, a silent member: a progress request every
// progressInterval unanswered three times) is resumed from the last revision delivered on any
// endpoint; a resume point that was compacted meanwhile lists again and delivers the differences,
// removals included. A watch that cannot be resumed within watchResumeWindow ends with Unavailable.
//
// Owns: one gRPC channel per endpoint (etcd_client.hpp, private), one thread per watch.
// Threading: as the Datastore interface. Failure: StoreError values; an etcd that is not there is
// Unavailable; a stored value Tartan cannot read is reported through OpenOptions::onInvalidDocument
// and left out (list, watch) or refused (get: Invalid).
//
// Linked into a binary as the object library tartan::datastore_etcd (it brings gRPC); open()
// answers "etcdv3:" with Unsupported in a binary that does not link it.
#pragma once

#include "tartan/datastore/datastore.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tartan::datastore {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "http://H:P" or "https://H:P"
  std::string caFile;                  // ETCD_CA_CERT_FILE
  std::string certFile;                // ETCD_CERT_FILE
  std::string keyFile;                 // ETCD_KEY_FILE
  std::string username;                // ETCD_USERNAME
  std::string password;                // ETCD_PASSWORD
  std::chrono::milliseconds callTimeout{10000};
  std::chrono::milliseconds progressInterval{5000};
  std::chrono::milliseconds watchResumeWindow{5000};
};

// "etcdv3:http://H:P[,http://H:P…][?ca=FILE&cert=FILE&key=FILE&username=U&password=P]" (or
// "etcd:…"): the endpoints from the spec; TLS files and credentials from its options, else from the
// environment as Calico reads them (CALICO_ETCD_CA_CERT_FILE, else ETCD_CA_CERT_FILE; likewise
// _CERT_FILE, _KEY_FILE, _USERNAME, _PASSWORD).
StoreResult<EtcdOptions> etcdOptionsFromSpec(std::string_view spec);

// Calico's selection: DATASTORE_TYPE=etcdv3 (or CALICO_DATASTORE_TYPE) and ETCD_ENDPOINTS (or
// CALICO_ETCD_ENDPOINTS) make the spec "etcdv3:<endpoints>"; nothing when etcdv3 is not chosen;
// Invalid when it is chosen without endpoints.
StoreResult<std::optional<std::string>> etcdSpecFromEnvironment();

StoreResult<std::unique_ptr<Datastore>> openEtcdDatastore(const EtcdOptions& etcd, OpenOptions options = {});
// What open() calls for an "etcdv3:" or "etcd:" spec.
StoreResult<std::unique_ptr<Datastore>> openEtcdDatastore(std::string_view spec, OpenOptions options);

}  // namespace tartan::datastore
