#include "rib/packing.hpp"

#include <optional>

namespace tartan::bgp {
namespace {

// Header, Withdrawn Routes Length and Total Path Attribute Length.
constexpr std::size_t kUpdateOverhead = kHeaderSize + 2 + 2;

std::size_t encodedSize(const PathAttributes& attrs, const CodecContext& ctx) {
  wire::Bytes bytes;
  wire::Writer w(bytes);
  encodePathAttributes(attrs, ctx, w);
  return bytes.size();
}

// Largest NLRI entry: path identifier, length octet, 16 address octets.
constexpr std::size_t kMaxNlriSize = 4 + 1 + 16;

// Greedy fill: adds entries while each chunk stays within budget (the first chunk within
// firstBudget), and emits the chunks in order.
template <class Emit>
void fill(const std::vector<NlriEntry>& entries, bool addPath, std::size_t budget, Emit emit,
          std::size_t firstBudget = 0) {
  std::vector<NlriEntry> current;
  std::size_t used = 0;
  std::size_t limit = firstBudget ? firstBudget : budget;
  for (const auto& e : entries) {
    const std::size_t n = nlriSize(e, addPath);
    if (!current.empty() && used + n > limit) {
      emit(std::move(current));
      current.clear();
      used = 0;
      limit = budget;
    }
    current.push_back(e);
    used += n;
  }
  if (!current.empty()) emit(std::move(current));
}

}  // namespace

std::vector<Update> packUpdates(const OutboundBatch& batch, const CodecContext& ctx,
                                std::size_t maxMessageSize) {
  std::vector<Update> out;
  const std::size_t room = maxMessageSize - kUpdateOverhead;

  std::vector<NlriEntry> withdrawV4, withdrawV6;
  for (const auto& w : batch.withdrawn)
    (w.prefix.family() == Afi::kIpv4 ? withdrawV4 : withdrawV6).push_back(w);
  // The last IPv4 withdrawal UPDATE, and how much of it is used: the first IPv4 announcements
  // can share it (one UPDATE may withdraw and announce, RFC 4271 §4.3).
  std::optional<std::size_t> openUpdate;
  std::size_t openUsed = 0;
  fill(withdrawV4, ctx.addPathIpv4, room, [&](std::vector<NlriEntry> part) {
    Update u;
    openUsed = 0;
    for (const auto& e : part) openUsed += nlriSize(e, ctx.addPathIpv4);
    u.withdrawn = std::move(part);
    openUpdate = out.size();
    out.push_back(std::move(u));
  });
  // MP_UNREACH_NLRI: extended-length attribute header (4) plus AFI/SAFI (3).
  fill(withdrawV6, ctx.addPathIpv6, room - 7, [&](std::vector<NlriEntry> part) {
    Update u;
    u.attributes.mpUnreach = MpUnreach{kIpv6Unicast, std::move(part)};
    out.push_back(std::move(u));
  });

  for (const auto& [attrs, routes] : batch.announced) {
    PathAttributes base = *attrs;
    if (!ctx.fourOctetAs) splitAs4(base);
    std::vector<NlriEntry> v4, v6;
    for (const auto& r : routes) (r.prefix.family() == Afi::kIpv4 ? v4 : v6).push_back(r);
    if (!v4.empty()) {
      PathAttributes a = base;
      a.mpReach.reset();
      const std::size_t attrBytes = encodedSize(a, ctx);
      // Attributes too big to leave room for a prefix cannot be sent at all.
      if (attrBytes + 64 <= room) {
        std::size_t firstBudget = 0;
        if (openUpdate && openUsed + attrBytes + kMaxNlriSize <= room)
          firstBudget = room - openUsed - attrBytes;
        bool first = true;
        fill(
            v4, ctx.addPathIpv4, room - attrBytes,
            [&](std::vector<NlriEntry> part) {
              if (first && firstBudget) {
                out[*openUpdate].attributes = a;
                out[*openUpdate].nlri = std::move(part);
              } else {
                Update u;
                u.attributes = a;
                u.nlri = std::move(part);
                out.push_back(std::move(u));
              }
              first = false;
            },
            firstBudget);
        openUpdate.reset();
      }
    }
    if (!v6.empty() && base.mpReach) {
      PathAttributes a = base;
      a.nextHop.reset();
      // One spare byte: MP_REACH_NLRI switches to an extended length once its NLRI grows.
      const std::size_t attrBytes = encodedSize(a, ctx) + 1;
      if (attrBytes + 64 <= room) {
        fill(v6, ctx.addPathIpv6, room - attrBytes, [&](std::vector<NlriEntry> part) {
          Update u;
          u.attributes = a;
          u.attributes.mpReach->nlri = std::move(part);
          out.push_back(std::move(u));
        });
      }
    }
  }
  return out;
}

}  // namespace tartan::bgp
