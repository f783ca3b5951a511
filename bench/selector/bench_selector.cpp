// Selector benchmark: how fast parsed selectors evaluate over generated endpoint label sets,
// and how fast selectors parse, against a naive evaluator in the same run that re-parses the
// selector string for every evaluation (what code that keeps selectors as strings pays).
// Prints one JSON object. Timings are for reading, never asserted.
//
//   bench_selector [--label-sets N] [--min-seconds S]
#include "tartan/selector/selector.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

using tartan::selector::Labels;
using tartan::selector::Selector;
using Clock = std::chrono::steady_clock;

// Representative of what policies select on: equality on app labels, namespace labels, sets,
// presence, and the string operators, alone and combined.
const char* const kSelectors[] = {
    "app == 'web'",
    "app == 'web' && tier == 'frontend'",
    "env in {'prod', 'staging', 'qa'}",
    "has(team) && !has(debug)",
    "projectcalico.org/namespace == 'ns-3' && app in {'web', 'api', 'db'}",
    "version != 'v1' && env not in {'dev'}",
    "role starts with 'db-' || role ends with '-cache'",
    "k8s-app contains 'dns'",
    "(app == 'web' || app == 'api') && (env == 'prod' || zone in {'a', 'b'}) && !has(quarantine)",
    "all()",
};

// Pod-like label sets: a few well-known keys with small value pools, some optional keys, and a
// handful of unique keys per endpoint (pod-template-hash and the like).
std::vector<Labels> generateLabelSets(size_t count) {
  std::mt19937_64 random(20261126);  // fixed seed: the same sets in every run
  auto pick = [&](std::initializer_list<const char*> pool) {
    std::uniform_int_distribution<size_t> index(0, pool.size() - 1);
    return std::string(pool.begin()[index(random)]);
  };
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(random); };
  std::vector<Labels> sets;
  sets.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Labels labels;
    labels["app"] = pick({"web", "api", "db", "cache", "worker", "frontend", "auth"});
    labels["projectcalico.org/namespace"] = "ns-" + std::to_string(random() % 20);
    labels["projectcalico.org/orchestrator"] = "k8s";
    labels["env"] = pick({"prod", "staging", "qa", "dev"});
    if (chance(0.7)) labels["tier"] = pick({"frontend", "backend", "data"});
    if (chance(0.5)) labels["team"] = pick({"payments", "search", "infra"});
    if (chance(0.05)) labels["debug"] = "true";
    if (chance(0.02)) labels["quarantine"] = "true";
    if (chance(0.6)) labels["version"] = pick({"v1", "v2", "v3"});
    if (chance(0.4)) labels["zone"] = pick({"a", "b", "c"});
    if (chance(0.3)) labels["role"] = pick({"db-primary", "db-replica", "redis-cache", "edge"});
    if (chance(0.1)) labels["k8s-app"] = pick({"kube-dns", "coredns", "metrics"});
    labels["pod-template-hash"] = std::to_string(random());
    sets.push_back(std::move(labels));
  }
  return sets;
}

volatile size_t gSink = 0;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int run(int argc, char** argv) {
  size_t labelSetCount = 10000;
  double minSeconds = 0.3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--label-sets") == 0) labelSetCount = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--min-seconds") == 0) minSeconds = std::strtod(argv[i + 1], nullptr);
  }
  const std::vector<Labels> labelSets = generateLabelSets(labelSetCount);

  nlohmann::json out;
  out["benchmark"] = "selector";
  out["label_sets"] = labelSetCount;
  out["baseline"] = "re-parse the selector string for every evaluation";
  nlohmann::json perSelector = nlohmann::json::array();
  // Aggregates weigh every selector equally: the mean time of one evaluation of a selector drawn
  // from the list (a plain sum of evaluations would be dominated by the cheapest, all()).
  double sumSecondsPerEvaluation = 0, sumBaselineSecondsPerEvaluation = 0, sumHotSeconds = 0;
  bool agree = true;

  for (const char* text : kSelectors) {
    const Selector selector = tartan::selector::parse(text).value();

    // Parsed once, evaluated many times: whole passes over the label sets until minSeconds.
    size_t matched = 0, evaluations = 0;
    const auto start = Clock::now();
    do {
      for (const Labels& labels : labelSets) matched += selector.matches(labels);
      evaluations += labelSets.size();
    } while (secondsSince(start) < minSeconds);
    const double seconds = secondsSince(start);
    const size_t matchesPerPass = matched / (evaluations / labelSets.size());

    // The same over a few label sets that stay in cache: the selector's own cost, without the
    // cache misses of walking 10k std::maps.
    const size_t hotCount = std::min<size_t>(64, labelSets.size());
    size_t hotEvaluations = 0, hotMatched = 0;
    const auto hotStart = Clock::now();
    do {
      for (size_t i = 0; i < hotCount; ++i) hotMatched += selector.matches(labelSets[i]);
      hotEvaluations += hotCount;
    } while (secondsSince(hotStart) < minSeconds / 4);
    const double hotSecondsPerEvaluation = secondsSince(hotStart) / static_cast<double>(hotEvaluations);
    gSink = hotMatched;  // keeps the loop observable

    // Baseline: one pass, parsing the string again for each label set.
    size_t baselineMatched = 0;
    const auto baselineStart = Clock::now();
    for (const Labels& labels : labelSets) {
      baselineMatched += tartan::selector::parse(text).value().matches(labels);
    }
    const double baseSeconds = secondsSince(baselineStart);
    agree = agree && baselineMatched == matchesPerPass;

    const double rate = static_cast<double>(evaluations) / seconds;
    const double baseRate = static_cast<double>(labelSets.size()) / baseSeconds;
    perSelector.push_back({{"selector", selector.canonical()},
                           {"matching_label_sets", matchesPerPass},
                           {"evaluations_per_second", rate},
                           {"ns_per_evaluation", 1e9 / rate},
                           {"ns_per_evaluation_hot", 1e9 * hotSecondsPerEvaluation},
                           {"baseline_evaluations_per_second", baseRate},
                           {"speedup_vs_baseline", rate / baseRate}});
    sumSecondsPerEvaluation += 1 / rate;
    sumBaselineSecondsPerEvaluation += 1 / baseRate;
    sumHotSeconds += hotSecondsPerEvaluation;
  }

  // Parse rate over the same selectors.
  size_t parses = 0;
  const auto parseStart = Clock::now();
  do {
    for (const char* text : kSelectors) parses += tartan::selector::parse(text).has_value();
  } while (secondsSince(parseStart) < minSeconds);
  const double parseSeconds = secondsSince(parseStart);

  const double count = static_cast<double>(std::size(kSelectors));
  const double rate = count / sumSecondsPerEvaluation;
  const double baseRate = count / sumBaselineSecondsPerEvaluation;
  out["hot_evaluations_per_second"] = count / sumHotSeconds;
  out["selectors"] = perSelector;
  out["evaluations_per_second"] = rate;
  out["baseline_evaluations_per_second"] = baseRate;
  out["speedup_vs_baseline"] = rate / baseRate;
  out["parses_per_second"] = static_cast<double>(parses) / parseSeconds;
  out["results_agree_with_baseline"] = agree;
  std::cout << out.dump(2) << "\n";
  return agree ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "bench_selector: " << error.what() << "\n";
    return 2;
  }
}
