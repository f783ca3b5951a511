// tartan/common/limits.hpp — bounds on outside input, shared by every reader of manifests.
//
// A bound is checked before the input is parsed, so a document that is too large costs its bytes
// and nothing more (yaml-cpp builds about 30 bytes of nodes per byte of input: a 50 MB network set
// took 1.6 GB and 32 s before these bounds).
//
// Why these numbers: etcd refuses requests over 1.5 MiB by default, so no Calico resource stored
// in etcd or in Kubernetes is larger; 4 MiB leaves room for the file datastore and for whitespace
// and comments, and still bounds a decode to some 130 MB. A network set is an IP set in the
// kernel; Felix's default ipset maxelem is 1,048,576 for every set together, and threat feeds,
// the largest sets in practice, hold tens of thousands of nets: 100,000 nets in one set is
// generous for them and fits in 4 MiB of YAML.
#pragma once

#include <cstddef>

namespace tartan {

// One YAML or JSON document: a resource, or a List of them.
inline constexpr std::size_t kMaxDocumentBytes = 4 * 1024 * 1024;
// One input file or stdin given to tartanctl (many documents).
inline constexpr std::size_t kMaxInputBytes = 64 * 1024 * 1024;
// Nets (CIDRs or addresses) in one GlobalNetworkSet or NetworkSet.
inline constexpr std::size_t kMaxNetworkSetNets = 100'000;
// How deep collections may nest in a document; Kubernetes objects nest about ten levels.
inline constexpr int kMaxNesting = 100;

}  // namespace tartan
