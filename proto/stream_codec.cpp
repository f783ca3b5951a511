// Varint-length-prefixed framing; see tartan/dataplane/stream_codec.hpp.
#include "tartan/dataplane/stream_codec.hpp"

#include <google/protobuf/message_lite.h>

#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace tartan::dataplane {

namespace {
constexpr std::string_view kWhere = "dataplane stream";

void appendVarint(std::uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}
}  // namespace

void appendFrame(const google::protobuf::MessageLite& message, std::string& out) {
  const std::size_t size = message.ByteSizeLong();
  appendVarint(size, out);
  const std::size_t start = out.size();
  out.resize(start + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(out.data() + start));
}

Result<bool> FrameDecoder::next(google::protobuf::MessageLite& message) {
  if (failed_) return makeError(std::string(kWhere), "", "stream already failed");
  // Decode the length; a varint of a 64 MiB bound never needs more than 4 bytes, allow 10.
  std::uint64_t length = 0;
  std::size_t pos = offset_;
  int shift = 0;
  for (;;) {
    if (pos >= buffer_.size()) return false;  // length not complete yet
    const auto byte = static_cast<std::uint8_t>(buffer_[pos++]);
    if (shift >= 63 && byte > 1) {
      failed_ = true;
      return makeError(std::string(kWhere), "length", "varint longer than 64 bits");
    }
    length |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  if (length > maxFrameBytes_) {
    failed_ = true;
    return makeError(std::string(kWhere), "length",
                     "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                         std::to_string(maxFrameBytes_));
  }
  if (buffer_.size() - pos < length) return false;
  if (!message.ParseFromArray(buffer_.data() + pos, static_cast<int>(length))) {
    failed_ = true;
    return makeError(std::string(kWhere), message.GetTypeName(), "frame does not parse");
  }
  offset_ = pos + length;
  // Drop consumed bytes once they dominate the buffer, keeping amortised O(1) per byte.
  if (offset_ > 4096 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return true;
}

Result<void> writeFrame(int fd, const google::protobuf::MessageLite& message) {
  std::string frame;
  appendFrame(message, frame);
  std::size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::write(fd, frame.data() + done, frame.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return makeError(std::string(kWhere), "", std::string("write: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<bool> readFrame(int fd, FrameDecoder& decoder, google::protobuf::MessageLite& message) {
  for (;;) {
    auto parsed = decoder.next(message);
    if (!parsed) return parsed.error();
    if (*parsed) return true;
    char chunk[16384];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return makeError(std::string(kWhere), "", std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) {
      if (decoder.pending() == 0) return false;
      return makeError(std::string(kWhere), "", "stream ended inside a frame");
    }
    decoder.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
  }
}

}  // namespace tartan::dataplane
