// bgp/codec/notification.hpp — NOTIFICATION error codes and subcodes (RFC 4271 §4.5, §6;
// RFC 4486 Cease subcodes; RFC 7313 ROUTE-REFRESH errors), each with its RFC name.
#pragma once

#include "codec/wire.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace tartan::bgp {

enum class ErrorCode : std::uint8_t {
  kMessageHeader = 1,  // RFC 4271 §6.1
  kOpenMessage = 2,    // RFC 4271 §6.2
  kUpdateMessage = 3,  // RFC 4271 §6.3
  kHoldTimerExpired = 4,
  kFsm = 5,           // RFC 4271 §6.6, subcodes RFC 6608
  kCease = 6,         // RFC 4486
  kRouteRefresh = 7,  // RFC 7313
};

enum class HeaderSubcode : std::uint8_t {
  kUnspecific = 0,
  kConnectionNotSynchronized = 1,
  kBadMessageLength = 2,
  kBadMessageType = 3,
};

enum class OpenSubcode : std::uint8_t {
  kUnspecific = 0,
  kUnsupportedVersionNumber = 1,
  kBadPeerAs = 2,
  kBadBgpIdentifier = 3,
  kUnsupportedOptionalParameter = 4,
  kUnacceptableHoldTime = 6,
  kUnsupportedCapability = 7,  // RFC 5492 §5
};

enum class UpdateSubcode : std::uint8_t {
  kUnspecific = 0,
  kMalformedAttributeList = 1,
  kUnrecognizedWellKnownAttribute = 2,
  kMissingWellKnownAttribute = 3,
  kAttributeFlagsError = 4,
  kAttributeLengthError = 5,
  kInvalidOriginAttribute = 6,
  kInvalidNextHopAttribute = 8,
  kOptionalAttributeError = 9,
  kInvalidNetworkField = 10,
  kMalformedAsPath = 11,
};

enum class FsmSubcode : std::uint8_t {
  kUnspecific = 0,
  kUnexpectedInOpenSent = 1,
  kUnexpectedInOpenConfirm = 2,
  kUnexpectedInEstablished = 3,
};

enum class CeaseSubcode : std::uint8_t {
  kUnspecific = 0,
  kMaximumPrefixesReached = 1,
  kAdministrativeShutdown = 2,
  kPeerDeconfigured = 3,
  kAdministrativeReset = 4,
  kConnectionRejected = 5,
  kOtherConfigurationChange = 6,
  kConnectionCollisionResolution = 7,
  kOutOfResources = 8,
};

struct Notification {
  std::uint8_t code = 0;
  std::uint8_t subcode = 0;
  wire::Bytes data;

  Notification() = default;
  Notification(ErrorCode c, std::uint8_t sub, wire::Bytes d = {})
      : code(static_cast<std::uint8_t>(c)), subcode(sub), data(std::move(d)) {}
  template <class Sub>
  static Notification make(ErrorCode c, Sub sub, wire::Bytes d = {}) {
    return Notification(c, static_cast<std::uint8_t>(sub), std::move(d));
  }

  // "UPDATE Message Error / Malformed AS_PATH", as RFC 4271 names them.
  std::string describe() const;
  bool operator==(const Notification&) const = default;
};

std::string_view errorCodeName(std::uint8_t code);
std::string_view errorSubcodeName(std::uint8_t code, std::uint8_t subcode);

}  // namespace tartan::bgp
