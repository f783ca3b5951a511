// Resource paths, errors as the API reports them, and the client-side rate limiter.
#include "tartan/kube/client.hpp"

#include <algorithm>
#include <ostream>

namespace tartan::kube {

std::string ResourceType::path(std::string_view namespace_, std::string_view name) const {
  std::string out = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !namespace_.empty()) {
    out += "/namespaces/";
    out += namespace_;
  }
  out += "/" + plural;
  if (!name.empty()) {
    out += "/";
    out += name;
  }
  return out;
}

namespace resources {
ResourceType namespaces() { return {"", "v1", "namespaces", false, "Namespace"}; }
ResourceType pods() { return {"", "v1", "pods", true, "Pod"}; }
ResourceType services() { return {"", "v1", "services", true, "Service"}; }
ResourceType serviceAccounts() { return {"", "v1", "serviceaccounts", true, "ServiceAccount"}; }
ResourceType nodes() { return {"", "v1", "nodes", false, "Node"}; }
ResourceType endpointSlices() { return {"discovery.k8s.io", "v1", "endpointslices", true, "EndpointSlice"}; }
ResourceType networkPolicies() {
  return {"networking.k8s.io", "v1", "networkpolicies", true, "NetworkPolicy"};
}
ResourceType customResourceDefinitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false, "CustomResourceDefinition"};
}
ResourceType calico(std::string plural, std::string kind, bool namespaced) {
  return {"crd.projectcalico.org", "v1", std::move(plural), namespaced, std::move(kind)};
}
}  // namespace resources

std::string_view toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Config:
      return "Config";
    case ErrorKind::Transport:
      return "Transport";
    case ErrorKind::Timeout:
      return "Timeout";
    case ErrorKind::BadRequest:
      return "BadRequest";
    case ErrorKind::Unauthorized:
      return "Unauthorized";
    case ErrorKind::Forbidden:
      return "Forbidden";
    case ErrorKind::NotFound:
      return "NotFound";
    case ErrorKind::MethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorKind::AlreadyExists:
      return "AlreadyExists";
    case ErrorKind::Conflict:
      return "Conflict";
    case ErrorKind::Gone:
      return "Gone";
    case ErrorKind::Invalid:
      return "Invalid";
    case ErrorKind::TooManyRequests:
      return "TooManyRequests";
    case ErrorKind::Server:
      return "Server";
    case ErrorKind::Decode:
      return "Decode";
    case ErrorKind::Stopped:
      return "Stopped";
  }
  return "?";
}

std::string_view toString(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added:
      return "ADDED";
    case WatchEventType::Modified:
      return "MODIFIED";
    case WatchEventType::Deleted:
      return "DELETED";
    case WatchEventType::Bookmark:
      return "BOOKMARK";
    case WatchEventType::Error:
      return "ERROR";
  }
  return "?";
}

std::string KubeError::toString() const {
  std::string out = where.empty() ? std::string() : where + ": ";
  if (status != 0) out += std::to_string(status) + " ";
  out += reason.empty() ? std::string(kube::toString(kind)) : reason;
  if (!message.empty()) out += ": " + message;
  return out;
}

std::ostream& operator<<(std::ostream& os, const KubeError& error) { return os << error.toString(); }

void throw_exception_from_error(const KubeError& error, const boost::source_location& /*where*/) {
  throw ErrorException(makeError(error.where, "", error.toString()));
}

KubeError errorFromStatus(int httpStatus, std::string_view body, std::string where) {
  KubeError error;
  error.status = httpStatus;
  error.where = std::move(where);
  // The API answers failures with a Status object (kind: Status); anything else is kept as text.
  Json status = Json::parse(body, nullptr, false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    if (auto r = status.find("reason"); r != status.end() && r->is_string()) error.reason = *r;
    if (auto m = status.find("message"); m != status.end() && m->is_string()) error.message = *m;
    if (auto c = status.find("code"); httpStatus == 0 && c != status.end() && c->is_number_integer()) {
      error.status = c->get<int>();
    }
  } else {
    error.message = std::string(body.substr(0, 200));
  }
  switch (error.status) {
    case 400:
      error.kind = ErrorKind::BadRequest;
      break;
    case 401:
      error.kind = ErrorKind::Unauthorized;
      break;
    case 403:
      error.kind = ErrorKind::Forbidden;
      break;
    case 404:
      error.kind = ErrorKind::NotFound;
      break;
    case 405:
      error.kind = ErrorKind::MethodNotAllowed;
      break;
    case 409:
      error.kind = error.reason == "AlreadyExists" ? ErrorKind::AlreadyExists : ErrorKind::Conflict;
      break;
    case 410:
      error.kind = ErrorKind::Gone;
      break;
    case 422:
      error.kind = ErrorKind::Invalid;
      break;
    case 429:
      error.kind = ErrorKind::TooManyRequests;
      break;
    case 504:
      error.kind = ErrorKind::Timeout;
      break;
    default:
      error.kind = ErrorKind::Server;
      break;
  }
  if (error.reason.empty()) error.reason = std::string(toString(error.kind));
  return error;
}

TokenBucket::TokenBucket(double qps, int burst, Clock::time_point now)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)), last_(now) {}

TokenBucket::Clock::duration TokenBucket::take(Clock::time_point now) {
  if (qps_ <= 0) return Clock::duration::zero();  // no limit
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
    last_ = now;
  }
  tokens_ -= 1;  // taken now; a negative balance is the wait of those queued before
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

}  // namespace tartan::kube
