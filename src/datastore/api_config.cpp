// api_config.cpp — Calico's CalicoAPIConfig file to a datastore spec.
#include "tartan/datastore/api_config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tartan::datastore {

namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

// Calico's fields that Tartan does not take from this file, and what to use instead.
struct Refused {
  std::string_view field;
  std::string_view instead;
};
constexpr std::array<Refused, 8> kRefused = {{
    {"k8sAPIEndpoint", "name the server in a kubeconfig (spec.kubeconfig)"},
    {"k8sAPIToken", "put the token in a kubeconfig (spec.kubeconfig)"},
    {"k8sCAFile", "name the CA in a kubeconfig (spec.kubeconfig)"},
    {"k8sCertFile", "name the certificate in a kubeconfig (spec.kubeconfig)"},
    {"k8sKeyFile", "name the key in a kubeconfig (spec.kubeconfig)"},
    {"k8sInsecureSkipTLSVerify", "set insecure-skip-tls-verify in a kubeconfig (spec.kubeconfig)"},
    {"k8sClientQPS", "the client's rate limit is fixed"},
    {"kubeconfigInline", "write the kubeconfig to a file (spec.kubeconfig)"},
}};

// Calico's etcd TLS and credential fields, as options of the etcdv3: spec.
struct EtcdOption {
  std::string_view field;
  std::string_view option;
};
constexpr std::array<EtcdOption, 5> kEtcdOptions = {{
    {"etcdCACertFile", "ca"},
    {"etcdCertFile", "cert"},
    {"etcdKeyFile", "key"},
    {"etcdUsername", "username"},
    {"etcdPassword", "password"},
}};

// A string result (Error's aggregate initialisation makes the plain conversion ambiguous).
Result<std::string> ok(std::string value) {
  return Result<std::string>(boost::system::in_place_value, std::move(value));
}

Error at(const std::string& where, const YAML::Node& node, std::string field, std::string what) {
  const YAML::Mark mark = node.Mark();
  std::string w = where;
  if (!mark.is_null()) w += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  return makeError(std::move(w), std::move(field), std::move(what));
}

Result<std::string> scalar(const std::string& where, const YAML::Node& node, const std::string& field) {
  if (!node.IsScalar()) return at(where, node, field, "expected a string");
  return ok(node.Scalar());
}

}  // namespace

Result<std::string> datastoreSpecFromApiConfig(std::string_view text, const std::string& where) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return makeError(where + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
                     "", e.msg);
  }
  if (!root.IsMap()) return makeError(where, "", "expected a CalicoAPIConfig document");
  std::string datastoreType, kubeconfig, etcdEndpoints, etcdOptions, etcdOptionField;
  bool sawSpec = false;
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    const YAML::Node& value = item.second;
    if (key == "apiVersion") {
      auto v = scalar(where, value, key);
      if (!v) return v.error();
      if (*v != "projectcalico.org/v3" && *v != "tartan.dev/v1") {
        return at(where, value, key, "expected projectcalico.org/v3");
      }
    } else if (key == "kind") {
      auto v = scalar(where, value, key);
      if (!v) return v.error();
      if (*v != "CalicoAPIConfig") return at(where, value, key, "expected CalicoAPIConfig");
    } else if (key == "metadata") {
      if (!value.IsMap() && !value.IsNull()) return at(where, value, key, "expected a map");
    } else if (key == "spec") {
      if (!value.IsMap()) return at(where, value, key, "expected a map");
      sawSpec = true;
      for (const auto& field : value) {
        const std::string name = field.first.as<std::string>();
        const std::string path = "spec." + name;
        auto refused =
            std::find_if(kRefused.begin(), kRefused.end(), [&](const Refused& r) { return r.field == name; });
        if (refused != kRefused.end()) {
          return at(where, field.second, path, "is not supported: " + std::string(refused->instead));
        }
        auto v = scalar(where, field.second, path);
        if (!v) return v.error();
        if (name == "datastoreType") {
          datastoreType = *v;
        } else if (name == "kubeconfig") {
          kubeconfig = *v;
        } else if (name == "etcdEndpoints") {
          etcdEndpoints = *v;
        } else if (auto option = std::find_if(kEtcdOptions.begin(), kEtcdOptions.end(),
                                              [&](const EtcdOption& o) { return o.field == name; });
                   option != kEtcdOptions.end()) {
          if (v->find_first_of("&?") != std::string::npos) {
            return at(where, field.second, path, "may not hold '&' or '?'");
          }
          if (v->empty()) continue;
          etcdOptions += (etcdOptions.empty() ? "?" : "&") + std::string(option->option) + "=" + *v;
          etcdOptionField = path;
        } else {
          return at(where, field.second, path, "unknown field");
        }
      }
    } else {
      return at(where, item.first, key, "unknown field");
    }
  }
  if (!sawSpec) return makeError(where, "spec", "missing");
  if (datastoreType == "kubernetes") {
    if (!etcdEndpoints.empty()) return makeError(where, "spec.etcdEndpoints", "is for datastoreType etcdv3");
    if (!etcdOptions.empty()) return makeError(where, etcdOptionField, "is for datastoreType etcdv3");
    return ok(kubeconfig.empty() ? std::string("kubernetes") : "kubernetes:" + kubeconfig);
  }
  if (datastoreType == "etcdv3" || datastoreType.empty()) {
    if (!kubeconfig.empty()) return makeError(where, "spec.kubeconfig", "is for datastoreType kubernetes");
    if (etcdEndpoints.empty())
      return makeError(where, "spec.etcdEndpoints", "required for datastoreType etcdv3");
    return ok("etcdv3:" + etcdEndpoints + etcdOptions);
  }
  return makeError(where, "spec.datastoreType", "\"" + datastoreType + "\" is not kubernetes or etcdv3");
}

Result<std::optional<std::string>> loadApiConfig(const std::string& path, bool required) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (!required) return Result<std::optional<std::string>>(boost::system::in_place_value, std::nullopt);
    return makeError(path, "", "no such file");
  }
  if (!std::filesystem::is_regular_file(path, ec)) return makeError(path, "", "not a regular file");
  if (std::filesystem::file_size(path, ec) > kMaxFileBytes) return makeError(path, "", "larger than 1 MiB");
  std::ifstream in(path);
  if (!in) return makeError(path, "", "cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto spec = datastoreSpecFromApiConfig(buffer.str(), path);
  if (!spec) return spec.error();
  return Result<std::optional<std::string>>(boost::system::in_place_value, std::move(*spec));
}

}  // namespace tartan::datastore
