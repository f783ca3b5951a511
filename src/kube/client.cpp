// The requests of the Kubernetes REST API on top of the transport: paths and query strings,
// the bearer token (re-read when its file changes), the rate limiter, pagination, watch streams.
#include "tartan/kube/client.hpp"

#include "transport.hpp"

#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace tartan::kube {
namespace {

KubeError localError(ErrorKind kind, std::string where, std::string message) {
  KubeError error;
  error.kind = kind;
  error.where = std::move(where);
  error.message = std::move(message);
  return error;
}

// Query values are percent-encoded (RFC 3986 §2.1): selectors carry '=', ',', '!', spaces, '()'.
std::string escape(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class Query {
 public:
  Query& add(std::string_view name, std::string_view value) {
    if (value.empty()) return *this;
    text_ += text_.empty() ? '?' : '&';
    text_ += name;
    text_ += '=';
    text_ += escape(value);
    return *this;
  }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

std::string metadataString(const Json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  auto value = meta->find(field);
  return value != meta->end() && value->is_string() ? value->get<std::string>() : std::string();
}

struct TokenFileState {
  ino_t inode = 0;
  off_t size = -1;
  timespec mtime{};
  bool operator==(const TokenFileState& o) const {
    return inode == o.inode && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

}  // namespace

struct Client::Impl {
  Config config;
  std::unique_ptr<detail::Transport> transport;

  std::mutex mutex;  // guards what follows
  TokenBucket bucket;
  std::string token;
  TokenFileState tokenState;

  Impl(Config c, std::unique_ptr<detail::Transport> t)
      : config(std::move(c)),
        transport(std::move(t)),
        bucket(config.qps, config.burst, TokenBucket::Clock::now()),
        token(config.token) {}

  // The token to send: the file's, re-read when the file changed (a kubelet rotates projected
  // service account tokens by replacing the file) or when `force` (after a 401).
  std::string currentToken(bool force) {
    std::lock_guard lock(mutex);
    if (config.tokenFile.empty()) return token;
    struct stat st {};
    if (::stat(config.tokenFile.c_str(), &st) != 0) return token;  // keep the last one read
    TokenFileState now{st.st_ino, st.st_size, st.st_mtim};
    if (force || !(now == tokenState)) {
      std::ifstream in(config.tokenFile);
      std::stringstream text;
      text << in.rdbuf();
      std::string read = text.str();
      while (!read.empty() && std::isspace(static_cast<unsigned char>(read.back()))) read.pop_back();
      if (in && !read.empty()) {
        token = read;
        tokenState = now;
      }
    }
    return token;
  }

  void throttle() {
    TokenBucket::Clock::duration wait;
    {
      std::lock_guard lock(mutex);
      wait = bucket.take(TokenBucket::Clock::now());
    }
    if (wait > TokenBucket::Clock::duration::zero()) std::this_thread::sleep_for(wait);
  }

  // One request; a 401 with a token file re-reads the file and tries once more.
  KubeResult<detail::HttpReply> send(detail::HttpRequest request) {
    for (int attempt = 0;; ++attempt) {
      throttle();
      request.token = currentToken(attempt > 0);
      auto reply = transport->exchange(request, config.timeout);
      if (!reply) return reply.error();
      if (reply->status == 401 && attempt == 0 && !config.tokenFile.empty()) continue;
      return reply;
    }
  }

  KubeResult<Json> jsonRequest(detail::HttpRequest request) {
    const std::string where = request.method + " " + request.target;
    auto reply = send(std::move(request));
    if (!reply) return reply.error();
    if (reply->status < 200 || reply->status > 299) return errorFromStatus(reply->status, reply->body, where);
    Json body = Json::parse(reply->body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return localError(ErrorKind::Decode, where, "the answer is not a JSON object");
    }
    return KubeResult<Json>(boost::system::in_place_value, std::move(body));
  }

  std::string namespaceOf(const ResourceType& type, const Json& object) const {
    if (!type.namespaced) return {};
    std::string ns = metadataString(object, "namespace");
    return ns.empty() ? config.namespace_ : ns;
  }

  KubeResult<Json> put(const ResourceType& type, const Json& object, std::string_view subresource) {
    const std::string name = metadataString(object, "name");
    std::string where = "PUT " + type.path(namespaceOf(type, object), name);
    if (name.empty()) return localError(ErrorKind::BadRequest, where, "the object has no metadata.name");
    if (metadataString(object, "resourceVersion").empty()) {
      return localError(ErrorKind::BadRequest, where, "an update needs metadata.resourceVersion");
    }
    std::string target = type.path(namespaceOf(type, object), name);
    if (!subresource.empty()) target += "/" + std::string(subresource);
    return jsonRequest({"PUT", target, object.dump(), "application/json", {}});
  }

  KubeResult<Json> listPage(const ResourceType& type, const ListOptions& options,
                            const std::string& continueToken, int64_t limit) {
    Query query;
    query.add("labelSelector", options.labelSelector).add("fieldSelector", options.fieldSelector);
    if (limit > 0) query.add("limit", std::to_string(limit));
    query.add("continue", continueToken);
    return jsonRequest({"GET", type.path(options.namespace_) + query.str(), {}, {}, {}});
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

KubeResult<std::unique_ptr<Client>> Client::create(Config config) {
  auto transport = detail::Transport::create(config);
  if (!transport) return transport.error();
  auto impl = std::make_unique<Impl>(std::move(config), std::move(*transport));
  if (!impl->config.tokenFile.empty() && impl->currentToken(true).empty()) {
    return localError(ErrorKind::Config, impl->config.tokenFile, "the token file is empty or unreadable");
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const Config& Client::config() const { return impl_->config; }

KubeResult<Json> Client::get(const ResourceType& type, std::string_view namespace_, std::string_view name) {
  return impl_->jsonRequest({"GET", type.path(namespace_, name), {}, {}, {}});
}

KubeResult<Json> Client::getPath(const std::string& path) {
  return impl_->jsonRequest({"GET", path, {}, {}, {}});
}

KubeResult<ListResult> Client::list(const ResourceType& type, const ListOptions& options) {
  ListResult result;
  // A continue token the server no longer honours (410 Expired: its snapshot was compacted)
  // restarts the list; a second expiry takes the whole list in one page, as client-go's pager does.
  int64_t limit = options.limit;
  for (;;) {
    result.items.clear();
    result.pages = 0;
    std::string continueToken;
    bool expired = false;
    for (;;) {
      auto page = impl_->listPage(type, options, continueToken, limit);
      if (!page) {
        if (page.error().kind == ErrorKind::Gone && !continueToken.empty() && result.restarts < 2) {
          expired = true;
          break;
        }
        return page.error();
      }
      ++result.pages;
      auto items = page->find("items");
      if (items != page->end() && !items->is_null() && !items->is_array()) {
        return localError(ErrorKind::Decode, "GET " + type.path(options.namespace_), "items is not a list");
      }
      if (items != page->end() && items->is_array()) {
        for (Json& item : *items) {
          if (!item.is_object()) {
            return localError(ErrorKind::Decode, "GET " + type.path(options.namespace_),
                              "an item is not an object");
          }
          // A list's items carry no kind of their own; give them the collection's.
          if (!item.contains("kind")) item["kind"] = type.kind;
          if (!item.contains("apiVersion")) item["apiVersion"] = type.apiVersion();
          result.items.push_back(std::move(item));
        }
      }
      result.resourceVersion = metadataString(*page, "resourceVersion");
      continueToken = metadataString(*page, "continue");
      if (continueToken.empty()) break;
    }
    if (!expired) return result;
    ++result.restarts;
    if (result.restarts == 2) limit = 0;
  }
}

KubeResult<Json> Client::create(const ResourceType& type, const Json& object) {
  return impl_->jsonRequest(
      {"POST", type.path(impl_->namespaceOf(type, object)), object.dump(), "application/json", {}});
}

KubeResult<Json> Client::update(const ResourceType& type, const Json& object) {
  return impl_->put(type, object, {});
}

KubeResult<Json> Client::updateStatus(const ResourceType& type, const Json& object) {
  return impl_->put(type, object, "status");
}

KubeResult<Json> Client::patch(const ResourceType& type, std::string_view namespace_, std::string_view name,
                               PatchType patchType, const Json& patch, std::string_view subresource) {
  std::string target = type.path(namespace_, name);
  if (!subresource.empty()) target += "/" + std::string(subresource);
  const char* contentType =
      patchType == PatchType::Merge ? "application/merge-patch+json" : "application/json-patch+json";
  return impl_->jsonRequest({"PATCH", target, patch.dump(), contentType, {}});
}

KubeResult<Json> Client::remove(const ResourceType& type, std::string_view namespace_, std::string_view name,
                                const Preconditions& preconditions) {
  Json options = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (preconditions.resourceVersion)
    options["preconditions"]["resourceVersion"] = *preconditions.resourceVersion;
  if (preconditions.uid) options["preconditions"]["uid"] = *preconditions.uid;
  return impl_->jsonRequest({"DELETE", type.path(namespace_, name), options.dump(), "application/json", {}});
}

namespace {

class StreamImpl : public WatchStream {
 public:
  StreamImpl(std::unique_ptr<detail::BodyStream> body, std::chrono::milliseconds idle)
      : body_(std::move(body)), idle_(idle) {}

  KubeResult<std::optional<WatchEvent>> next() override {
    for (;;) {
      if (stop_.load()) return localError(ErrorKind::Stopped, "watch", "stopped");
      auto event = decoder_.next();
      if (!event || *event) return event;
      auto bytes = body_->read(idle_, stop_);
      if (!bytes) return bytes.error();
      if (!*bytes) {
        if (decoder_.partial())
          return localError(ErrorKind::Transport, "watch", "the stream ended inside an event");
        return std::optional<WatchEvent>();
      }
      decoder_.feed(**bytes);
    }
  }
  void stop() override { stop_.store(true); }

 private:
  std::unique_ptr<detail::BodyStream> body_;
  std::chrono::milliseconds idle_;
  WatchDecoder decoder_;
  std::atomic<bool> stop_{false};
};

}  // namespace

KubeResult<std::unique_ptr<WatchStream>> Client::watch(const ResourceType& type,
                                                       const WatchOptions& options) {
  Query query;
  query.add("watch", "true")
      .add("resourceVersion", options.resourceVersion)
      .add("labelSelector", options.labelSelector)
      .add("fieldSelector", options.fieldSelector)
      .add("timeoutSeconds", std::to_string(options.timeout.count()));
  if (options.allowBookmarks) query.add("allowWatchBookmarks", "true");
  detail::HttpRequest request{"GET", type.path(options.namespace_) + query.str(), {}, {}, {}};
  const std::atomic<bool> never{false};
  const std::atomic<bool>& cancel = options.cancel != nullptr ? *options.cancel : never;
  for (int attempt = 0;; ++attempt) {
    impl_->throttle();
    request.token = impl_->currentToken(attempt > 0);
    auto body = impl_->transport->open(request, impl_->config.timeout, cancel);
    if (!body && body.error().kind == ErrorKind::Unauthorized && attempt == 0 &&
        !impl_->config.tokenFile.empty()) {
      continue;
    }
    if (!body) return body.error();
    return std::unique_ptr<WatchStream>(std::make_unique<StreamImpl>(std::move(*body), options.idleTimeout));
  }
}

}  // namespace tartan::kube
