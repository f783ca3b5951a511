// AS_PATH helpers: length and neighbour AS for the decision process, prepending on export, and
// the RFC 6793 AS4_PATH reconstruction for sessions with 2-octet AS speakers.
#include "codec/attributes.hpp"

#include <algorithm>

namespace tartan::bgp {

std::size_t asPathLength(const AsPath& path) {
  std::size_t n = 0;
  for (const auto& seg : path) {
    if (seg.type == AsSegmentType::kSequence) n += seg.asns.size();
    if (seg.type == AsSegmentType::kSet) n += 1;
  }
  return n;
}

std::optional<std::uint32_t> neighbourAs(const AsPath& path) {
  for (const auto& seg : path) {
    if (seg.type == AsSegmentType::kConfedSequence || seg.type == AsSegmentType::kConfedSet) continue;
    if (seg.type == AsSegmentType::kSequence && !seg.asns.empty()) return seg.asns.front();
    return std::nullopt;
  }
  return std::nullopt;
}

bool asPathContains(const AsPath& path, std::uint32_t asn) {
  for (const auto& seg : path)
    if (std::find(seg.asns.begin(), seg.asns.end(), asn) != seg.asns.end()) return true;
  return false;
}

std::size_t asPathCount(const AsPath& path, std::uint32_t asn) {
  std::size_t n = 0;
  for (const auto& seg : path)
    n += static_cast<std::size_t>(std::count(seg.asns.begin(), seg.asns.end(), asn));
  return n;
}

void prependAs(AsPath& path, std::uint32_t asn) {
  if (!path.empty() && path.front().type == AsSegmentType::kSequence && path.front().asns.size() < 255) {
    path.front().asns.insert(path.front().asns.begin(), asn);
    return;
  }
  path.insert(path.begin(), AsPathSegment{AsSegmentType::kSequence, {asn}});
}

void mergeAs4(PathAttributes& attrs) {
  auto as4Path = std::move(attrs.as4Path);
  auto as4Aggregator = attrs.as4Aggregator;
  attrs.as4Path.reset();
  attrs.as4Aggregator.reset();
  // §4.2.3: an AGGREGATOR from a real 2-octet AS means the AS4 attributes are stale.
  if (attrs.aggregator && as4Aggregator) {
    if (attrs.aggregator->asn != kAsTrans) return;
    attrs.aggregator = as4Aggregator;
  }
  if (!as4Path || !attrs.asPath) return;
  const std::size_t n2 = asPathLength(*attrs.asPath);
  const std::size_t n4 = asPathLength(*as4Path);
  if (n2 < n4) return;  // §4.2.3: AS4_PATH is ignored
  // Keep the leading n2 - n4 ASes of AS_PATH (and any confederation segments among them), then
  // append AS4_PATH.
  std::size_t keep = n2 - n4;
  AsPath merged;
  for (const auto& seg : *attrs.asPath) {
    if (seg.type == AsSegmentType::kConfedSequence || seg.type == AsSegmentType::kConfedSet) {
      merged.push_back(seg);
      continue;
    }
    if (keep == 0) break;
    if (seg.type == AsSegmentType::kSet) {
      merged.push_back(seg);
      --keep;
      continue;
    }
    const std::size_t take = std::min(keep, seg.asns.size());
    merged.push_back(AsPathSegment{seg.type, {seg.asns.begin(), seg.asns.begin() + static_cast<long>(take)}});
    keep -= take;
  }
  for (auto& seg : *as4Path) {
    if (!merged.empty() && seg.type == AsSegmentType::kSequence &&
        merged.back().type == AsSegmentType::kSequence)
      merged.back().asns.insert(merged.back().asns.end(), seg.asns.begin(), seg.asns.end());
    else
      merged.push_back(std::move(seg));
  }
  attrs.asPath = std::move(merged);
}

void splitAs4(PathAttributes& attrs) {
  attrs.as4Path.reset();
  attrs.as4Aggregator.reset();
  if (attrs.aggregator && attrs.aggregator->asn > 0xffff) {
    attrs.as4Aggregator = attrs.aggregator;
    attrs.aggregator->asn = kAsTrans;
  }
  if (!attrs.asPath) return;
  bool wide = false;
  for (const auto& seg : *attrs.asPath)
    for (auto asn : seg.asns) wide = wide || asn > 0xffff;
  if (!wide) return;
  // §4.2.2: AS4_PATH carries the real ASes, without confederation segments; AS_PATH gets AS_TRANS.
  AsPath as4;
  for (auto& seg : *attrs.asPath) {
    if (seg.type == AsSegmentType::kSequence || seg.type == AsSegmentType::kSet) as4.push_back(seg);
    for (auto& asn : seg.asns)
      if (asn > 0xffff) asn = kAsTrans;
  }
  attrs.as4Path = std::move(as4);
}

}  // namespace tartan::bgp
