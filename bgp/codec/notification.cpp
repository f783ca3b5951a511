#include "codec/notification.hpp"

namespace tartan::bgp {

std::string_view errorCodeName(std::uint8_t code) {
  switch (code) {
    case 1:
      return "Message Header Error";
    case 2:
      return "OPEN Message Error";
    case 3:
      return "UPDATE Message Error";
    case 4:
      return "Hold Timer Expired";
    case 5:
      return "Finite State Machine Error";
    case 6:
      return "Cease";
    case 7:
      return "ROUTE-REFRESH Message Error";
    default:
      return "Unknown Error";
  }
}

std::string_view errorSubcodeName(std::uint8_t code, std::uint8_t subcode) {
  if (subcode == 0) return "Unspecific";
  switch (code) {
    case 1:
      switch (subcode) {
        case 1:
          return "Connection Not Synchronized";
        case 2:
          return "Bad Message Length";
        case 3:
          return "Bad Message Type";
      }
      break;
    case 2:
      switch (subcode) {
        case 1:
          return "Unsupported Version Number";
        case 2:
          return "Bad Peer AS";
        case 3:
          return "Bad BGP Identifier";
        case 4:
          return "Unsupported Optional Parameter";
        case 6:
          return "Unacceptable Hold Time";
        case 7:
          return "Unsupported Capability";
      }
      break;
    case 3:
      switch (subcode) {
        case 1:
          return "Malformed Attribute List";
        case 2:
          return "Unrecognized Well-known Attribute";
        case 3:
          return "Missing Well-known Attribute";
        case 4:
          return "Attribute Flags Error";
        case 5:
          return "Attribute Length Error";
        case 6:
          return "Invalid ORIGIN Attribute";
        case 8:
          return "Invalid NEXT_HOP Attribute";
        case 9:
          return "Optional Attribute Error";
        case 10:
          return "Invalid Network Field";
        case 11:
          return "Malformed AS_PATH";
      }
      break;
    case 5:
      switch (subcode) {
        case 1:
          return "Receive Unexpected Message in OpenSent State";
        case 2:
          return "Receive Unexpected Message in OpenConfirm State";
        case 3:
          return "Receive Unexpected Message in Established State";
      }
      break;
    case 6:
      switch (subcode) {
        case 1:
          return "Maximum Number of Prefixes Reached";
        case 2:
          return "Administrative Shutdown";
        case 3:
          return "Peer De-configured";
        case 4:
          return "Administrative Reset";
        case 5:
          return "Connection Rejected";
        case 6:
          return "Other Configuration Change";
        case 7:
          return "Connection Collision Resolution";
        case 8:
          return "Out of Resources";
      }
      break;
    case 7:
      if (subcode == 1) return "Invalid Message Length";
      break;
  }
  return "Unknown Subcode";
}

std::string Notification::describe() const {
  std::string out(errorCodeName(code));
  out += " / ";
  out += errorSubcodeName(code, subcode);
  return out;
}

}  // namespace tartan::bgp
