#include "codec/message.hpp"

#include <algorithm>
#include <cassert>

namespace tartan::bgp {
namespace {

Notification headerError(HeaderSubcode sub, wire::Bytes data = {}) {
  return Notification::make(ErrorCode::kMessageHeader, sub, std::move(data));
}

Decoded reset(Notification n, std::string why) {
  Decoded d;
  d.outcome.raise(ErrorAction::kSessionReset, std::move(why), std::move(n));
  return d;
}

// Minimum (and for KEEPALIVE/ROUTE-REFRESH exact) lengths, RFC 4271 §6.1.
bool lengthFitsType(std::uint8_t type, std::size_t length) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kOpen:
      return length >= 29;
    case MessageType::kUpdate:
      return length >= 23;
    case MessageType::kNotification:
      return length >= 21;
    case MessageType::kKeepalive:
      return length == 19;
    case MessageType::kRouteRefresh:
      return length >= 23;  // exact length checked by RFC 7313 §5
  }
  return false;
}

Decoded decodeOpen(wire::Reader in) {
  Open open;
  std::uint8_t paramsLength = 0;
  in.u8(open.version);
  in.u16(open.myAs);
  in.u16(open.holdTime);
  in.u32(open.bgpId);
  in.u8(paramsLength);
  const auto openError = [](OpenSubcode sub, const char* why, wire::Bytes data = {}) {
    return reset(Notification::make(ErrorCode::kOpenMessage, sub, std::move(data)), why);
  };
  if (paramsLength != in.remaining())
    return openError(OpenSubcode::kUnspecific, "optional parameters length does not match the message");
  while (!in.empty()) {
    std::uint8_t type = 0, length = 0;
    wire::ByteView value;
    if (!in.u8(type) || !in.u8(length) || !in.take(length, value))
      return openError(OpenSubcode::kUnspecific, "optional parameter overruns the message");
    // RFC 5492 §4: type 2 carries capabilities; any other parameter is unsupported (RFC 4271 §6.2).
    if (type != 2)
      return openError(OpenSubcode::kUnsupportedOptionalParameter, "unsupported optional parameter");
    wire::Reader caps(value);
    while (!caps.empty()) {
      std::uint8_t code = 0, capLength = 0;
      wire::ByteView capValue;
      if (!caps.u8(code) || !caps.u8(capLength) || !caps.take(capLength, capValue))
        return openError(OpenSubcode::kUnspecific, "capability overruns its parameter");
      auto decoded = decodeCapability(code, capValue);
      if (!decoded.capability) return openError(OpenSubcode::kUnspecific, decoded.error);
      open.capabilities.push_back(std::move(*decoded.capability));
    }
  }
  return Decoded{Message{std::move(open)}, {}};
}

Decoded decodeUpdate(wire::Reader in, const CodecContext& ctx) {
  Update update;
  Decoded result;
  auto& outcome = result.outcome;
  const auto updateError = [](UpdateSubcode sub, const char* why) {
    return reset(Notification::make(ErrorCode::kUpdateMessage, sub), why);
  };
  std::uint16_t withdrawnLength = 0, attrsLength = 0;
  wire::ByteView withdrawnField, attrsField;
  // RFC 4271 §6.3 / RFC 7606 §3 a: length fields that do not fit the message reset the session.
  if (!in.u16(withdrawnLength) || !in.take(withdrawnLength, withdrawnField) || !in.u16(attrsLength) ||
      !in.take(attrsLength, attrsField))
    return updateError(UpdateSubcode::kMalformedAttributeList,
                       "withdrawn or attribute length overruns the message");
  // RFC 7606 §5.3: malformed NLRI in the IPv4 fields cannot be skipped reliably: session reset.
  if (!decodeNlri(withdrawnField, Afi::kIpv4, ctx.addPathIpv4, update.withdrawn))
    return updateError(UpdateSubcode::kInvalidNetworkField, "withdrawn routes field is malformed");
  decodePathAttributes(attrsField, ctx, update.attributes, outcome);
  if (outcome.action == ErrorAction::kSessionReset) return result;
  if (!decodeNlri(in.rest(), Afi::kIpv4, ctx.addPathIpv4, update.nlri))
    return updateError(UpdateSubcode::kInvalidNetworkField, "NLRI field is malformed");

  // RFC 7606 §3 d: reachability without a well-known mandatory attribute is treat-as-withdraw.
  const auto& a = update.attributes;
  const bool mpNlri = a.mpReach && !a.mpReach->nlri.empty();
  if (!update.nlri.empty() || mpNlri) {
    std::uint8_t missing = 0;
    if (!a.origin)
      missing = static_cast<std::uint8_t>(AttrType::kOrigin);
    else if (!a.asPath)
      missing = static_cast<std::uint8_t>(AttrType::kAsPath);
    else if (!update.nlri.empty() && !a.nextHop)
      missing = static_cast<std::uint8_t>(AttrType::kNextHop);
    if (missing != 0)
      outcome.raise(ErrorAction::kTreatAsWithdraw, "missing well-known mandatory attribute",
                    Notification::make(ErrorCode::kUpdateMessage, UpdateSubcode::kMissingWellKnownAttribute,
                                       wire::Bytes{missing}));
  }
  result.message = std::move(update);
  return result;
}

}  // namespace

Frame frameMessage(wire::ByteView buffer) {
  Frame frame;
  if (buffer.size() < kHeaderSize) return frame;
  // RFC 4271 §6.1: the marker must be all ones.
  if (!std::all_of(buffer.begin(), buffer.begin() + 16, [](std::uint8_t b) { return b == 0xff; })) {
    frame.status = Frame::Status::kError;
    frame.error = headerError(HeaderSubcode::kConnectionNotSynchronized);
    return frame;
  }
  const std::size_t length = (std::size_t{buffer[16]} << 8) | buffer[17];
  const std::uint8_t type = buffer[18];
  if (length < kHeaderSize || length > kMaxMessageSize) {
    frame.status = Frame::Status::kError;
    frame.error = headerError(HeaderSubcode::kBadMessageLength, {buffer[16], buffer[17]});
    return frame;
  }
  if (type < 1 || type > 5) {
    frame.status = Frame::Status::kError;
    frame.error = headerError(HeaderSubcode::kBadMessageType, {type});
    return frame;
  }
  if (!lengthFitsType(type, length)) {
    frame.status = Frame::Status::kError;
    frame.error = headerError(HeaderSubcode::kBadMessageLength, {buffer[16], buffer[17]});
    return frame;
  }
  if (buffer.size() < length) return frame;
  frame.status = Frame::Status::kComplete;
  frame.length = length;
  return frame;
}

Decoded decodeMessage(wire::ByteView bytes, const CodecContext& ctx) {
  const Frame frame = frameMessage(bytes);
  if (frame.status == Frame::Status::kError) return reset(frame.error, "bad message header");
  if (frame.status == Frame::Status::kNeedMore || frame.length != bytes.size()) {
    wire::Bytes lengthField;
    if (bytes.size() >= 18) lengthField = {bytes[16], bytes[17]};
    return reset(headerError(HeaderSubcode::kBadMessageLength, lengthField),
                 "message length does not match the bytes given");
  }
  wire::Reader in(bytes.subspan(kHeaderSize));
  switch (static_cast<MessageType>(bytes[18])) {
    case MessageType::kOpen:
      return decodeOpen(in);
    case MessageType::kUpdate:
      return decodeUpdate(in, ctx);
    case MessageType::kNotification: {
      Notification n;
      in.u8(n.code);
      in.u8(n.subcode);
      n.data.assign(in.rest().begin(), in.rest().end());
      return Decoded{Message{std::move(n)}, {}};
    }
    case MessageType::kKeepalive:
      return Decoded{Message{Keepalive{}}, {}};
    case MessageType::kRouteRefresh: {
      // RFC 7313 §5: a ROUTE-REFRESH whose length is not 23 is "Invalid Message Length", with
      // the whole message as data.
      if (bytes.size() != 23)
        return reset(Notification(ErrorCode::kRouteRefresh, 1, wire::Bytes(bytes.begin(), bytes.end())),
                     "ROUTE-REFRESH length is not 23");
      RouteRefresh rr;
      in.u16(rr.afi);
      in.u8(rr.subtype);
      in.u8(rr.safi);
      return Decoded{Message{rr}, {}};
    }
  }
  return reset(headerError(HeaderSubcode::kBadMessageType, {bytes[18]}), "bad message type");
}

wire::Bytes encodeMessage(const Message& message, const CodecContext& ctx) {
  wire::Bytes out;
  wire::Writer w(out);
  for (int i = 0; i < 16; ++i) w.u8(0xff);
  w.u16(0);
  w.u8(static_cast<std::uint8_t>(message.index() + 1));
  if (const auto* open = std::get_if<Open>(&message)) {
    w.u8(open->version);
    w.u16(open->myAs);
    w.u16(open->holdTime);
    w.u32(open->bgpId);
    const std::size_t paramsLengthAt = w.size();
    w.u8(0);
    // All capabilities in as few Capabilities parameters as fit 255 bytes each (RFC 5492 §4).
    std::size_t paramAt = 0;
    for (const auto& cap : open->capabilities) {
      wire::Bytes one;
      wire::Writer cw(one);
      encodeCapability(cap, cw);
      if (paramAt == 0 || w.size() - paramAt - 2 + one.size() > 255) {
        paramAt = w.size();
        w.u8(2);
        w.u8(0);
      }
      w.bytes(one);
      w.patchU8(paramAt + 1, static_cast<std::uint8_t>(w.size() - paramAt - 2));
    }
    // Over 255 octets needs RFC 9072 extended parameters, which we do not send: our own OPEN
    // never carries that many capabilities, so this is a bug, not input.
    assert(w.size() - paramsLengthAt - 1 <= 255);
    w.patchU8(paramsLengthAt, static_cast<std::uint8_t>(w.size() - paramsLengthAt - 1));
  } else if (const auto* update = std::get_if<Update>(&message)) {
    const std::size_t withdrawnAt = w.size();
    w.u16(0);
    for (const auto& e : update->withdrawn) encodeNlri(e, ctx.addPathIpv4, w);
    w.patchU16(withdrawnAt, static_cast<std::uint16_t>(w.size() - withdrawnAt - 2));
    const std::size_t attrsAt = w.size();
    w.u16(0);
    encodePathAttributes(update->attributes, ctx, w);
    w.patchU16(attrsAt, static_cast<std::uint16_t>(w.size() - attrsAt - 2));
    for (const auto& e : update->nlri) encodeNlri(e, ctx.addPathIpv4, w);
  } else if (const auto* n = std::get_if<Notification>(&message)) {
    w.u8(n->code);
    w.u8(n->subcode);
    w.bytes(n->data);
  } else if (const auto* rr = std::get_if<RouteRefresh>(&message)) {
    w.u16(rr->afi);
    w.u8(rr->subtype);
    w.u8(rr->safi);
  }
  w.patchU16(16, static_cast<std::uint16_t>(out.size()));
  return out;
}

std::optional<AfiSafi> endOfRib(const Update& update) {
  const auto& a = update.attributes;
  if (!update.withdrawn.empty() || !update.nlri.empty()) return std::nullopt;
  if (a == PathAttributes{}) return kIpv4Unicast;
  PathAttributes onlyUnreach;
  onlyUnreach.mpUnreach = a.mpUnreach;
  if (a.mpUnreach && a.mpUnreach->withdrawn.empty() && a == onlyUnreach) return a.mpUnreach->family;
  return std::nullopt;
}

}  // namespace tartan::bgp
