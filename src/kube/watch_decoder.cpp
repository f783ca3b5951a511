// The watch stream: JSON event objects one after another, split as their bytes arrive.
//
// The API server writes each event as one JSON object followed by a newline, in HTTP chunks that
// need not line up with events. The splitter tracks brace depth outside strings, so it neither
// needs the newline nor is misled by braces or newlines inside string values; only a complete
// object is parsed.
#include "tartan/kube/client.hpp"

namespace tartan::kube {
namespace {

KubeError decodeError(std::string message) {
  KubeError error;
  error.kind = ErrorKind::Decode;
  error.message = std::move(message);
  error.where = "watch stream";
  return error;
}

}  // namespace

KubeResult<WatchEvent> decodeWatchEvent(std::string_view text) {
  Json event = Json::parse(text, nullptr, false);
  if (event.is_discarded() || !event.is_object()) return decodeError("an event is not a JSON object");
  auto type = event.find("type");
  auto object = event.find("object");
  if (type == event.end() || !type->is_string()) return decodeError("an event has no type");
  if (object == event.end() || !object->is_object()) return decodeError("an event has no object");
  WatchEvent out;
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "ADDED") {
    out.type = WatchEventType::Added;
  } else if (name == "MODIFIED") {
    out.type = WatchEventType::Modified;
  } else if (name == "DELETED") {
    out.type = WatchEventType::Deleted;
  } else if (name == "BOOKMARK") {
    out.type = WatchEventType::Bookmark;
  } else if (name == "ERROR") {
    out.type = WatchEventType::Error;
  } else {
    return decodeError("unknown event type \"" + name.substr(0, 40) + "\"");
  }
  if (out.type != WatchEventType::Error) {
    // Every object event (and a bookmark) carries the resourceVersion the watch resumes from.
    auto meta = object->find("metadata");
    if (meta == object->end() || !meta->is_object())
      return decodeError(name + " event: object has no metadata");
    auto rv = meta->find("resourceVersion");
    if (rv == meta->end() || !rv->is_string() || rv->get_ref<const std::string&>().empty()) {
      return decodeError(name + " event: object has no metadata.resourceVersion");
    }
  }
  out.object = std::move(*object);
  return out;
}

void WatchDecoder::feed(std::string_view bytes) {
  if (!failed_) buffer_.append(bytes);
}

bool WatchDecoder::partial() const {
  for (size_t i = start_; i < buffer_.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(buffer_[i]))) return true;
  }
  return false;
}

KubeResult<std::optional<WatchEvent>> WatchDecoder::next() {
  if (failed_) return decodeError("the stream failed before");
  for (; scanned_ < buffer_.size(); ++scanned_) {
    const char c = buffer_[scanned_];
    if (depth_ == 0) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        start_ = scanned_ + 1;
        continue;
      }
      if (c != '{') {
        failed_ = true;
        return decodeError("an event does not start with '{'");
      }
      start_ = scanned_;
      depth_ = 1;
      continue;
    }
    if (inString_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        inString_ = false;
      }
      continue;
    }
    if (c == '"') {
      inString_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        const std::string_view text(buffer_.data() + start_, scanned_ + 1 - start_);
        auto event = decodeWatchEvent(text);
        // Drop what is consumed, so the buffer holds at most one event's bytes.
        buffer_.erase(0, scanned_ + 1);
        scanned_ = 0;
        start_ = 0;
        if (!event) {
          failed_ = true;
          return event.error();
        }
        return std::optional<WatchEvent>(std::move(*event));
      }
    }
  }
  if (depth_ > 0 && buffer_.size() - start_ > maxEventBytes_) {
    failed_ = true;
    return decodeError("an event is larger than " + std::to_string(maxEventBytes_) + " bytes");
  }
  if (depth_ == 0) {
    buffer_.clear();
    scanned_ = 0;
    start_ = 0;
  }
  return std::optional<WatchEvent>();
}

}  // namespace tartan::kube
