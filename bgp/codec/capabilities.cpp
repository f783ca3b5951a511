#include "codec/capabilities.hpp"

namespace tartan::bgp {
namespace {

bool readFamily(wire::Reader& in, AfiSafi& out, bool withReservedByte) {
  std::uint16_t afi = 0;
  std::uint8_t reserved = 0, safi = 0;
  if (!in.u16(afi)) return false;
  if (withReservedByte && !in.u8(reserved)) return false;
  if (!in.u8(safi)) return false;
  out = AfiSafi{static_cast<Afi>(afi), static_cast<Safi>(safi)};
  return true;
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;  // clang 14 needs the guide

}  // namespace

CapabilityDecode decodeCapability(std::uint8_t code, wire::ByteView value) {
  wire::Reader in(value);
  switch (static_cast<CapabilityCode>(code)) {
    case CapabilityCode::kMultiprotocol: {
      // RFC 4760 §8: AFI (2), Reserved (1), SAFI (1).
      if (value.size() != 4) return {std::nullopt, "multiprotocol capability length is not 4"};
      MultiprotocolCap cap;
      readFamily(in, cap.family, true);
      return {cap, nullptr};
    }
    case CapabilityCode::kRouteRefresh:
      if (!value.empty()) return {std::nullopt, "route refresh capability length is not 0"};
      return {RouteRefreshCap{}, nullptr};
    case CapabilityCode::kFourOctetAs: {
      if (value.size() != 4) return {std::nullopt, "4-octet AS capability length is not 4"};
      FourOctetAsCap cap;
      in.u32(cap.asn);
      return {cap, nullptr};
    }
    case CapabilityCode::kGracefulRestart: {
      if (value.size() < 2 || (value.size() - 2) % 4 != 0)
        return {std::nullopt, "graceful restart capability length is not 2 + 4n"};
      GracefulRestartCap cap;
      std::uint16_t flagsAndTime = 0;
      in.u16(flagsAndTime);
      cap.restarting = (flagsAndTime & 0x8000) != 0;
      cap.notification = (flagsAndTime & 0x4000) != 0;
      cap.restartTime = flagsAndTime & 0x0fff;
      while (!in.empty()) {
        GracefulRestartCap::Family f;
        std::uint8_t flags = 0;
        readFamily(in, f.family, false);
        in.u8(flags);
        f.forwardingPreserved = (flags & 0x80) != 0;
        cap.families.push_back(f);
      }
      return {cap, nullptr};
    }
    case CapabilityCode::kAddPath: {
      if (value.empty() || value.size() % 4 != 0)
        return {std::nullopt, "ADD-PATH capability length is not a non-zero multiple of 4"};
      AddPathCap cap;
      while (!in.empty()) {
        AddPathCap::Family f;
        std::uint8_t mode = 0;
        readFamily(in, f.family, false);
        in.u8(mode);
        // RFC 7911 §4: other values are invalid; we reject the capability.
        if (mode < 1 || mode > 3) return {std::nullopt, "ADD-PATH send/receive value is not 1..3"};
        f.mode = static_cast<AddPathMode>(mode);
        cap.families.push_back(f);
      }
      return {cap, nullptr};
    }
  }
  return {UnknownCap{code, wire::Bytes(value.begin(), value.end())}, nullptr};
}

std::uint8_t capabilityCode(const Capability& capability) {
  return std::visit(Overloaded{
                        [](const MultiprotocolCap&) { return std::uint8_t{1}; },
                        [](const RouteRefreshCap&) { return std::uint8_t{2}; },
                        [](const GracefulRestartCap&) { return std::uint8_t{64}; },
                        [](const FourOctetAsCap&) { return std::uint8_t{65}; },
                        [](const AddPathCap&) { return std::uint8_t{69}; },
                        [](const UnknownCap& c) { return c.code; },
                    },
                    capability);
}

void encodeCapability(const Capability& capability, wire::Writer& out) {
  out.u8(capabilityCode(capability));
  const std::size_t lengthAt = out.size();
  out.u8(0);
  std::visit(Overloaded{
                 [&](const MultiprotocolCap& c) {
                   out.u16(static_cast<std::uint16_t>(c.family.afi));
                   out.u8(0);
                   out.u8(static_cast<std::uint8_t>(c.family.safi));
                 },
                 [&](const RouteRefreshCap&) {},
                 [&](const GracefulRestartCap& c) {
                   std::uint16_t v = c.restartTime & 0x0fff;
                   if (c.restarting) v |= 0x8000;
                   if (c.notification) v |= 0x4000;
                   out.u16(v);
                   for (const auto& f : c.families) {
                     out.u16(static_cast<std::uint16_t>(f.family.afi));
                     out.u8(static_cast<std::uint8_t>(f.family.safi));
                     out.u8(f.forwardingPreserved ? 0x80 : 0);
                   }
                 },
                 [&](const FourOctetAsCap& c) { out.u32(c.asn); },
                 [&](const AddPathCap& c) {
                   for (const auto& f : c.families) {
                     out.u16(static_cast<std::uint16_t>(f.family.afi));
                     out.u8(static_cast<std::uint8_t>(f.family.safi));
                     out.u8(static_cast<std::uint8_t>(f.mode));
                   }
                 },
                 [&](const UnknownCap& c) { out.bytes(c.value); },
             },
             capability);
  out.patchU8(lengthAt, static_cast<std::uint8_t>(out.size() - lengthAt - 1));
}

std::optional<std::uint32_t> fourOctetAs(const std::vector<Capability>& caps) {
  for (const auto& c : caps)
    if (const auto* v = std::get_if<FourOctetAsCap>(&c)) return v->asn;
  return std::nullopt;
}

std::vector<AfiSafi> multiprotocolFamilies(const std::vector<Capability>& caps) {
  std::vector<AfiSafi> out;
  for (const auto& c : caps)
    if (const auto* v = std::get_if<MultiprotocolCap>(&c)) out.push_back(v->family);
  return out;
}

bool hasRouteRefresh(const std::vector<Capability>& caps) {
  for (const auto& c : caps)
    if (std::holds_alternative<RouteRefreshCap>(c)) return true;
  return false;
}

const GracefulRestartCap* gracefulRestart(const std::vector<Capability>& caps) {
  for (const auto& c : caps)
    if (const auto* v = std::get_if<GracefulRestartCap>(&c)) return v;
  return nullptr;
}

const AddPathCap* addPath(const std::vector<Capability>& caps) {
  for (const auto& c : caps)
    if (const auto* v = std::get_if<AddPathCap>(&c)) return v;
  return nullptr;
}

}  // namespace tartan::bgp
