// test/support/kube_test_pki.hpp — a certificate authority made by the test, with the server and
// client certificates a Kubernetes API server and its clients use (OpenSSL's API, in memory).
#pragma once

#include <string>
#include <vector>

namespace tartan::test {

struct KeyPair {
  std::string certPem;
  std::string keyPem;
};

struct TestPki {
  KeyPair ca;
  KeyPair server;   // signed by ca: SANs IP 127.0.0.1, IP ::1, DNS localhost
  KeyPair client;   // signed by ca: CN=tartan-test, O=system:masters, for client-certificate auth
  KeyPair otherCa;  // an unrelated CA: trusting it must fail verification

  // Makes all four (P-256 keys, a day of validity); the server certificate names `serverNames`.
  static TestPki generate(const std::vector<std::string>& serverNames = {"IP:127.0.0.1", "IP:::1",
                                                                         "DNS:localhost"});
};

// A certificate signed by `issuer` with the given subject common name and SANs ("IP:1.2.3.4",
// "DNS:name"); an empty issuer makes a self-signed CA.
KeyPair makeCertificate(const std::string& commonName, const std::vector<std::string>& subjectAltNames,
                        const KeyPair* issuer, bool isCa, const std::string& organization = {});

}  // namespace tartan::test
