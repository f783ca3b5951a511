#include "file_state.hpp"

#include <catch2/catch.hpp>

using namespace tartan::datastore;
using namespace tartan::datastore::file;

TEST_CASE("the state file round-trips, empty namespaces included", "[unit]") {
  State state;
  state.record(JournalOp::Added, Key{"Tier", "", "a"}, 0xabc, 1, 100);
  state.record(JournalOp::Added, Key{"NetworkPolicy", "ns", "p"}, 0xdef, 2, 100);
  state.record(JournalOp::Deleted, Key{"Tier", "", "a"}, 0, 3, 100);
  auto parsed = parseState(serializeState(state), "state");
  REQUIRE(parsed.has_value());
  CHECK(parsed->revision == 3);
  CHECK(parsed->compacted == 0);
  REQUIRE(parsed->index.size() == 1);
  CHECK(parsed->index.begin()->first == Key{"NetworkPolicy", "ns", "p"});
  CHECK(parsed->index.begin()->second.hash == 0xdef);
  REQUIRE(parsed->journal.size() == 3);
  CHECK(parsed->journal[2].op == JournalOp::Deleted);
  CHECK(parsed->journal[0].key == Key{"Tier", "", "a"});
  CHECK(parsed->kinds == std::set<std::string>{"NetworkPolicy", "Tier"});
}

TEST_CASE("the store's id round-trips, and a state without one (an older store) reads as none", "[unit]") {
  State state;
  state.id = newStoreId();
  CHECK(state.id.size() == 16);
  CHECK(newStoreId() != state.id);
  auto parsed = parseState(serializeState(state), "state");
  REQUIRE(parsed.has_value());
  CHECK(parsed->id == state.id);
  auto old = parseState("tartan-datastore-state 1\nrevision\t3\ncompacted\t0\n", "state");
  REQUIRE(old.has_value());
  CHECK(old->id.empty());
  CHECK(old->revision == 3);
}

TEST_CASE("a corrupt state file is an Io error naming the line", "[unit]") {
  auto bad = parseState("tartan-datastore-state 1\nrevision\tx\n", "s");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().kind == ErrorKind::Io);
  CHECK(bad.error().error.where == "s:2");
  CHECK_FALSE(parseState("", "s").has_value());
  CHECK_FALSE(parseState("something else\n", "s").has_value());
}

TEST_CASE("the journal is trimmed by whole revisions and records the compaction point", "[unit]") {
  State state;
  // Revision 1 is a transaction of three writes; then single writes.
  for (const char* name : {"a", "b", "c"}) {
    state.record(JournalOp::Added, Key{"Tier", "", name}, 1, 1, 4);
  }
  state.record(JournalOp::Modified, Key{"Tier", "", "a"}, 2, 2, 4);
  CHECK(state.journal.size() == 4);
  CHECK(state.compacted == 0);
  state.record(JournalOp::Modified, Key{"Tier", "", "a"}, 3, 3, 4);
  CHECK(state.journal.size() == 2);  // all of revision 1 went at once
  CHECK(state.compacted == 1);
  CHECK(state.index.size() == 3);
  CHECK(state.index[Key{"Tier", "", "a"}].revision == 3);
}

TEST_CASE("documents must be exactly one YAML document; its kind is read", "[unit]") {
  std::string kind;
  CHECK_FALSE(checkDocument("kind: Tier\nspec: {}\n", &kind));
  CHECK(kind == "Tier");
  CHECK_FALSE(checkDocument("just a scalar", &kind));
  CHECK(kind.empty());
  CHECK(checkDocument("a: [1", &kind));
  CHECK(checkDocument("a: 1\n---\nb: 1\n", &kind));
  CHECK(checkDocument("", &kind));
  CHECK(checkDocument("# only a comment\n", &kind));
}

TEST_CASE("content hashes differ for different content", "[unit]") {
  CHECK(contentHash("a: 1") != contentHash("a: 2"));
  CHECK(contentHash("") == contentHash(""));
}
