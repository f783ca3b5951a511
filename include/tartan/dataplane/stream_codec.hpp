// tartan/dataplane/stream_codec.hpp — length-prefixed framing of dataplane API messages.
//
// What: lets a dataplane driver run out of process, fed ToDataplane envelopes over a pipe and
// answering with FromDataplane envelopes. Each frame is a base-128 varint byte count followed by
// the serialized message (protobuf's own "delimited" format, so a Go or Python peer can use its
// library's delimited reader).
// Owns: nothing but its buffer. Threading: one decoder per stream, not shared.
// Failure: an oversized length, a malformed varint or a message that does not parse is an Error
// value; after an error the decoder stays failed (the stream has lost its framing).
// No protobuf header is included here: messages are passed as google::protobuf::MessageLite.
#pragma once

#include "tartan/common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace google::protobuf {
class MessageLite;
}

namespace tartan::dataplane {

// Frames larger than this are refused: a corrupt length must not make us allocate gigabytes.
inline constexpr std::size_t kMaxFrameBytes = 64u << 20;

// Appends one frame (varint length + message bytes) to `out`.
void appendFrame(const google::protobuf::MessageLite& message, std::string& out);

// Splits a byte stream into frames, however the bytes arrive (one at a time or many frames at once).
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t maxFrameBytes = kMaxFrameBytes) : maxFrameBytes_(maxFrameBytes) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }

  // Parses the next complete frame into `message`. Returns true if one was parsed, false if more
  // bytes are needed, or an Error if the stream is corrupt.
  Result<bool> next(google::protobuf::MessageLite& message);

  // Bytes received but not yet consumed (a partial frame).
  std::size_t pending() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
  std::size_t maxFrameBytes_;
  bool failed_ = false;
};

// Blocking helpers for a pipe or socket file descriptor.
// Writes one frame completely (retrying on EINTR and short writes).
Result<void> writeFrame(int fd, const google::protobuf::MessageLite& message);

// Reads until one frame is decoded into `message`. Returns false on a clean end of stream
// before any byte of a new frame, an Error on a read error or truncated/corrupt frame.
Result<bool> readFrame(int fd, FrameDecoder& decoder, google::protobuf::MessageLite& message);

}  // namespace tartan::dataplane
