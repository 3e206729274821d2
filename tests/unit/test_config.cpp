// node_config: the file format, flags overriding it, and validation.

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"

using namespace dine;

namespace {

std::string message_of(const caf::error& err) {
  return classify(err).second;
}

} // namespace

TEST_CASE("defaults: --role=all embedded node with the built-in models") {
  auto cfg = load_config({});
  REQUIRE(cfg);
  CHECK(cfg->coordinator);
  CHECK(cfg->worker);
  CHECK(cfg->client_port == 7400);
  CHECK(cfg->model_table.count("echo") == 1);
  CHECK(cfg->model_table.count("cost") == 1);
  CHECK(cfg->model_table.count("sleep") == 1);
}

TEST_CASE("flags set roles, endpoints and lists") {
  auto cfg = load_config({"--role=worker", "--join=10.1.2.3:7401",
                          "--models=echo, cost", "--capacity=8", "--insecure"});
  REQUIRE(cfg);
  CHECK_FALSE(cfg->coordinator);
  CHECK(cfg->worker);
  CHECK(cfg->join_host == "10.1.2.3");
  CHECK(cfg->join_port == 7401);
  CHECK(cfg->models == std::vector<std::string>{"echo", "cost"});
  CHECK(cfg->capacity == 8);
}

TEST_CASE("the config file is read and flags override it") {
  auto path = std::string{"/tmp/dine-test-config-"} +
              std::to_string(::getpid()) + ".ini";
  {
    std::ofstream out{path};
    out << "# a comment\n"
           "role = coordinator\n"
           "client-port = 9000\n"
           "; another comment\n"
           "[model.big]\n"
           "backend = cost\n"
           "max-batch-size = 16\n"
           "max-delay-us = 2000\n";
  }
  auto cfg = load_config(
      std::vector<std::string>{"--config=" + path, "--client-port=9001"});
  std::remove(path.c_str());
  REQUIRE(cfg);
  CHECK(cfg->coordinator);
  CHECK_FALSE(cfg->worker);
  CHECK(cfg->client_port == 9001); // the flag wins
  auto& big = cfg->model_table.at("big");
  CHECK(big.backend == "cost");
  CHECK(big.max_batch_size == 16);
  CHECK(big.max_delay == std::chrono::microseconds{2000});
}

TEST_CASE("every bad key or value is an error naming key and value") {
  struct bad_case {
    std::vector<std::string> args;
    std::string must_mention;
  };
  std::vector<bad_case> cases = {
      {{"--client-port=70000"}, "client-port"},
      {{"--client-port=abc"}, "abc"},
      {{"--client-port=-1"}, "client-port"},
      {{"--role=boss"}, "boss"},
      {{"--capacity=0"}, "capacity"},
      {{"--join=nohostport"}, "join"},
      {{"--request-timeout-ms=5s"}, "request-timeout-ms"},
      {{"--scheduler-policy=fast"}, "scheduler-policy"},
      {{"--nope=1"}, "nope"},
      {{"--model.cost.fixed-us=x"}, "model.cost.fixed-us"},
      {{"--model.cost.colour=red"}, "colour"},
      {{"--model.x"}, "model.x"},
      {{"--client-port"}, "client-port"},
      {{"positional"}, "positional"},
      {{"--config=/nonexistent/dine.ini"}, "/nonexistent/dine.ini"},
      {{"--role=worker"}, "join"},
      {{"--role=worker", "--join=h:1", "--models=bert"}, "bert"},
      {{"--heartbeat-interval-ms=500", "--connection-timeout-ms=400"},
       "connection-timeout-ms"},
  };
  for (auto& c : cases) {
    CAPTURE(c.args[0]);
    auto cfg = load_config(c.args);
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().category() == errc_category);
    CHECK(message_of(cfg.error()).find(c.must_mention) != std::string::npos);
  }
}

TEST_CASE("file errors name the file and line") {
  node_config cfg;
  auto err =
      apply_config_text(cfg, "role = all\nclient-port = 99999\n", "my.ini");
  REQUIRE(err);
  CHECK(message_of(err).find("my.ini:2") != std::string::npos);
  err = apply_config_text(cfg, "[oops\n", "my.ini");
  REQUIRE(err);
  CHECK(message_of(err).find("my.ini:1") != std::string::npos);
  err = apply_config_text(cfg, "[weird]\n", "my.ini");
  REQUIRE(err);
  CHECK(message_of(err).find("weird") != std::string::npos);
  err = apply_config_text(cfg, "just words\n", "my.ini");
  REQUIRE(err);
}

TEST_CASE("usage lists every option") {
  auto text = usage();
  for (auto key :
       {"role", "listen", "client-port", "join", "models", "max-frame-bytes",
        "request-timeout-ms", "heartbeat-interval-ms", "connection-timeout-ms",
        "max-batch-size", "max-delay-us", "fixed-us"})
    CHECK(text.find(key) != std::string::npos);
}

TEST_CASE("the effective config round-trips through the file format") {
  auto cfg = load_config({"--role=coordinator", "--client-port=9100",
                          "--model.big.backend=sleep",
                          "--model.big.max-delay-us=700"});
  REQUIRE(cfg);
  node_config again;
  again.model_table.clear();
  REQUIRE_FALSE(apply_config_text(again, to_config_text(*cfg), "rendered"));
  CHECK(again.coordinator);
  CHECK_FALSE(again.worker);
  CHECK(again.client_port == 9100);
  CHECK(again.model_table.at("big").backend == "sleep");
  CHECK(again.model_table.at("big").max_delay.count() == 700);
  CHECK(to_config_text(again) == to_config_text(*cfg));
}

TEST_CASE("--check prints the cache keys, the cache role and per-model TTLs "
          "so that they round-trip too") {
  auto cfg = load_config(
      {"--role=coordinator,cache", "--cache-dir=/tmp/dc", "--cache-ttl-ms=5000",
       "--cache-sync=full", "--cache-flush-us=0", "--cache-max-entries=77",
       "--model.echo.cache-ttl-ms=123", "--ready-file=/tmp/ready.json"});
  REQUIRE(cfg);
  auto text = to_config_text(*cfg);
  CHECK(text.find("role = coordinator,cache") != std::string::npos);
  node_config again;
  again.model_table.clear();
  REQUIRE_FALSE(apply_config_text(again, text, "rendered"));
  CHECK(again.coordinator);
  CHECK(again.cache_role);
  CHECK(again.cache.dir == "/tmp/dc");
  CHECK(again.cache.ttl_ms == 5000);
  CHECK(again.cache.sync == "full");
  CHECK(again.cache.flush_us == 0);
  CHECK(again.cache.max_entries == 77);
  CHECK(again.model_table.at("echo").cache_ttl_ms == 123);
  CHECK(again.ready_file == "/tmp/ready.json");
  CHECK(to_config_text(again) == text);
}

TEST_CASE("a role on the command line replaces the file's, cache included") {
  node_config cfg;
  REQUIRE_FALSE(apply_config_text(cfg, "[node]\nrole = cache\n", "f.ini"));
  CHECK(cfg.cache_role);
  auto loaded = load_config({"--role=coordinator"});
  REQUIRE(loaded);
  CHECK_FALSE(loaded->cache_role);
  REQUIRE_FALSE(apply_option(cfg, "role", "coordinator", "--role"));
  CHECK(cfg.coordinator);
  CHECK_FALSE(cfg.cache_role);
}

TEST_CASE("an unterminated or stray quote is an error naming key and line") {
  node_config cfg;
  auto err =
      apply_config_text(cfg, "role = all\nname = \"unterminated\n", "my.ini");
  REQUIRE(err);
  CHECK(message_of(err).find("my.ini:2") != std::string::npos);
  CHECK(message_of(err).find("`name`") != std::string::npos);
  CHECK(message_of(err).find("unterminated quote") != std::string::npos);
  err = apply_config_text(cfg, "name = half\"\n", "my.ini");
  REQUIRE(err);
  CHECK(message_of(err).find("stray quote") != std::string::npos);
  err = apply_config_text(cfg, "name = \"\n", "my.ini");
  REQUIRE(err);
  CHECK(message_of(err).find("my.ini:1") != std::string::npos);
  // Properly quoted values still work, and an empty quoted name is still
  // validated by its key.
  REQUIRE_FALSE(apply_config_text(cfg, "name = \"w 1\"\n", "my.ini"));
  CHECK(cfg.name == "w 1");
  CHECK(apply_config_text(cfg, "name = \"\"\n", "my.ini"));
}

TEST_CASE("fault injection is off unless enabled, as a flag or a key") {
  auto off = load_config({"--role=all"});
  REQUIRE(off);
  CHECK_FALSE(off->fault_injection);
  auto flag = load_config({"--role=all", "--enable-fault-injection"});
  REQUIRE(flag);
  CHECK(flag->fault_injection);
  auto key = load_config({"--role=all", "--enable-fault-injection=true"});
  REQUIRE(key);
  CHECK(key->fault_injection);
  CHECK_FALSE(load_config({"--enable-fault-injection=yes"}));
  node_config cfg;
  REQUIRE_FALSE(
      apply_config_text(cfg, "enable-fault-injection = true\n", "f.ini"));
  CHECK(cfg.fault_injection);
  CHECK(to_config_text(cfg).find("enable-fault-injection") !=
        std::string::npos);
}

TEST_CASE("a model's fault-slow-ms is held to 600000") {
  CHECK(load_config({"--model.sleep.fault-slow-ms=600000"}));
  CHECK_FALSE(load_config({"--model.sleep.fault-slow-ms=600001"}));
}
