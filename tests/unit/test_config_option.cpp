// config_option: one row per key, `lift` reusing a section's table inside
// the table that holds the section, and the [node] / [model.NAME] tables.

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "runtime/config_option.hpp"
#include "runtime/node_config.hpp"

using namespace dine;

namespace {

struct inner {
  uint32_t x = 0;
};

struct outer {
  inner in;
};

const config_table<inner>& inner_table() {
  static const config_table<inner> table = {
      {"x", "a number", "an integer",
       [](inner& i, const std::string& v) {
         if (v.empty() || v.size() > 3)
           return false;
         i.x = static_cast<uint32_t>(std::stoul(v));
         return true;
       },
       [](const inner& i) -> std::optional<std::string> {
         if (i.x == 0)
           return std::nullopt;
         return std::to_string(i.x);
       }},
  };
  return table;
}

} // namespace

TEST_CASE("a lifted row sets and shows the member of the outer struct") {
  auto table = lift(inner_table(), &outer::in);
  REQUIRE(table.size() == 1);
  outer o;
  std::string shown;
  append_shown(shown, table, o);
  CHECK(shown.empty()); // nullopt omits the key
  auto row = find_option(table, "x");
  REQUIRE(row != nullptr);
  CHECK_FALSE(apply_row(*row, o, "x", "42", "test"));
  CHECK(o.in.x == 42);
  append_shown(shown, table, o);
  CHECK(shown == "\nx = 42");
  auto err = apply_row(*row, o, "sec.x", "12345", "f.ini:3");
  REQUIRE(err);
  CHECK(to_string(err).find("f.ini:3: `sec.x` = `12345` is invalid: "
                            "expected an integer") != std::string::npos);
  CHECK(o.in.x == 42);
  CHECK(find_option(table, "y") == nullptr);
}

TEST_CASE("each section has one table and no key twice in it") {
  std::set<std::string> node_keys;
  for (auto& row : node_options())
    CHECK_MESSAGE(node_keys.insert(row.key).second, row.key);
  for (auto key : {"role", "balance", "workers", "checkpoint", "cache-dir"})
    CHECK(node_keys.count(key) == 1);
  std::set<std::string> model_keys;
  for (auto& row : model_options())
    CHECK_MESSAGE(model_keys.insert(row.key).second, row.key);
  for (auto key : {"backend", "kv-block-size", "shards", "cacheable"})
    CHECK(model_keys.count(key) == 1);
}

TEST_CASE("every key --check prints reads back to the same text") {
  auto cfg = load_config(
      {"--role=coordinator,cache", "--join=h:1", "--name=n", "--shards=0,2",
       "--workers=a:1,b:2", "--cache-node=c:3", "--enable-fault-injection",
       "--ready-file=/tmp/r", "--checkpoint=/m/a.bin", "--tokenizer=/m/t.bin",
       "--model.big.backend=sleep", "--model.big.fault=slow",
       "--model.big.preferred-batch-sizes=2,4", "--model.big.schema=map",
       "--model.big.schema-keys=q", "--model.big.balance=random",
       "--insecure"});
  REQUIRE(cfg);
  auto text = to_config_text(*cfg);
  for (auto line :
       {"\njoin = h:1", "\nshards = 0,2", "\nworkers = a:1,b:2",
        "\ncache-node = c:3", "\nfault = slow", "\npreferred-batch-sizes = 2,4",
        "\nschema-keys = q", "\ncheckpoint = /m/a.bin"})
    CHECK_MESSAGE(text.find(line) != std::string::npos, line);
  node_config again;
  again.model_table.clear();
  REQUIRE_FALSE(apply_config_text(again, text, "rendered"));
  CHECK(to_config_text(again) == text);
}
