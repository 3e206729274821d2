// Config keys of generative models: [model.NAME] backend = transformer,
// the --checkpoint/--tokenizer shorthand, and --check's rendering.

#include <doctest/doctest.h>

#include <algorithm>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"

using namespace dine;

TEST_CASE("config --checkpoint and --tokenizer define and serve transformer") {
  auto cfg = load_config(
      {"--checkpoint=/m/a.bin", "--models=echo", "--tokenizer=/m/a.tok"});
  REQUIRE(cfg);
  auto& m = cfg->model_table.at("transformer");
  CHECK(m.backend == "transformer");
  CHECK(m.checkpoint == "/m/a.bin");
  CHECK(m.tokenizer == "/m/a.tok");
  CHECK(m.kv_cache_bytes == 64ull << 20);
  CHECK(m.kv_block_size == 16);
  CHECK(m.max_running == 64);
  CHECK(std::count(cfg->models.begin(), cfg->models.end(), "transformer") == 1);
  CHECK(std::count(cfg->models.begin(), cfg->models.end(), "echo") == 1);
  auto text = to_config_text(*cfg);
  CHECK(text.find("checkpoint = /m/a.bin") != std::string::npos);
  CHECK(text.find("kv-block-size = 16") != std::string::npos);
}

TEST_CASE("config file names several transformer models") {
  node_config cfg;
  cfg.model_table = builtin_models();
  auto err = apply_config_text(cfg,
                               "[model.small]\nbackend = transformer\n"
                               "checkpoint = s.bin\ntokenizer = s.tok\n"
                               "kv-cache-bytes = 1048576\nkv-block-size = 8\n"
                               "max-running = 4\n"
                               "[model.big]\nbackend = transformer\n"
                               "checkpoint = b.bin\ntokenizer = b.tok\n",
                               "test.ini");
  REQUIRE(!err);
  CHECK(cfg.model_table.at("small").kv_cache_bytes == 1048576);
  CHECK(cfg.model_table.at("small").kv_block_size == 8);
  CHECK(cfg.model_table.at("small").max_running == 4);
  CHECK(cfg.model_table.at("big").checkpoint == "b.bin");
  CHECK(!validate(cfg));
}

TEST_CASE("config rejects bad generative keys and missing files") {
  node_config cfg;
  cfg.model_table = builtin_models();
  auto bad = apply_config_text(cfg, "[model.x]\nkv-block-size = 0\n", "f");
  REQUIRE(bad);
  CHECK(classify(bad).second.find("kv-block-size") != std::string::npos);
  bad = apply_config_text(cfg, "[model.x]\nkv-cache-bytes = 12\n", "f");
  REQUIRE(bad);
  REQUIRE(!apply_config_text(cfg, "[model.y]\nbackend = transformer\n", "f"));
  auto v = validate(cfg);
  REQUIRE(v);
  CHECK(classify(v).second.find("model `y`") != std::string::npos);
}
