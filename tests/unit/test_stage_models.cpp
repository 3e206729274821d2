// Pool stages as models (runtime/stage_models.hpp) and the coordinator's
// record of which stage each request is in (runtime/stage_tracker.hpp).

#include <doctest/doctest.h>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"
#include "runtime/stage_models.hpp"
#include "runtime/stage_tracker.hpp"

using namespace dine;

namespace {

std::map<std::string, model_config> pipelined() {
  node_config cfg;
  cfg.model_table = builtin_models();
  REQUIRE(!apply_option(cfg, "model.echo.preproc",
                        "normalize@pool cost-us=5, pass@worker", "test"));
  REQUIRE(!apply_option(cfg, "model.echo.postproc", "softmax@pool", "test"));
  REQUIRE(!apply_option(cfg, "model.cost.postproc", "softmax", "test"));
  return cfg.model_table;
}

} // namespace

TEST_CASE("stage_models: one stage model per list with @pool steps") {
  auto table = pipelined();
  auto pre = stage_model(table, "echo@pre");
  REQUIRE(pre);
  CHECK(pre->backend == "stage");
  CHECK(!pre->cacheable);
  REQUIRE(pre->pipeline.pre.size() == 1); // only the @pool step
  CHECK(pre->pipeline.pre[0].cost_us == 5);
  CHECK(pre->pipeline.post.empty());
  auto post = stage_model(table, "echo@post");
  REQUIRE(post);
  CHECK(post->pipeline.post.size() == 1);
  CHECK(!stage_model(table, "cost@post")); // co-located only
  CHECK(!stage_model(table, "nosuch@pre"));
  CHECK(!stage_model(table, "@pre"));
  auto all = with_stage_models(table);
  CHECK(all.count("echo@pre") == 1);
  CHECK(all.count("echo@post") == 1);
  CHECK(all.size() == table.size() + 2);
  // Stages of stages are never made.
  CHECK(with_stage_models(all).size() == all.size());
}

TEST_CASE("stage_models: what each role serves") {
  node_config cfg;
  cfg.model_table = pipelined();
  cfg.models = {"echo", "cost"};
  cfg.coordinator = cfg.worker = true; // --role=all: stages run locally
  CHECK(served_models(cfg) ==
        std::vector<std::string>{"echo", "cost", "echo@pre", "echo@post"});
  cfg.coordinator = false; // a model worker
  CHECK(served_models(cfg) == std::vector<std::string>{"echo", "cost"});
  REQUIRE(!apply_option(cfg, "role", "preproc", "test"));
  CHECK(cfg.worker);
  CHECK(served_models(cfg) == std::vector<std::string>{"echo@pre"});
  REQUIRE(!apply_option(cfg, "role", "postproc", "test"));
  CHECK(served_models(cfg) == std::vector<std::string>{"echo@post"});
  CHECK(apply_option(cfg, "role", "preproc,worker", "test"));
  CHECK(apply_option(cfg, "role", "preproc,coordinator", "test"));
}

TEST_CASE("stage_tracker: pre -> model -> post, one final reply") {
  stage_tracker st{pipelined()};
  REQUIRE(st.active());
  client_request r;
  r.id = 7;
  r.model = "echo";
  r.version = 3;
  r.inputs = {1, 2};
  st.enter(r);
  CHECK(r.model == "echo@pre");
  CHECK(r.version == 0);
  CHECK(r.inputs == std::vector<uint8_t>{1, 2});
  CHECK(st.size() == 1);
  client_reply res;
  res.id = 7;
  res.outputs = {3};
  client_request next;
  REQUIRE(st.advance(res, false, std::chrono::milliseconds{900}, 100, next));
  CHECK(next.model == "echo");
  CHECK(next.version == 3);
  CHECK(next.inputs == std::vector<uint8_t>{3});
  CHECK(next.deadline_ms == 900);
  client_reply out;
  out.id = 7;
  out.outputs = {4};
  out.worker = "w1";
  out.batch = 5;
  out.version = 3;
  out.times.infer_us = 42;
  out.marks.sent = 150;
  out.marks.received = 190;
  REQUIRE(st.advance(out, false, std::chrono::milliseconds{0}, 200, next));
  CHECK(next.model == "echo@post");
  CHECK(next.deadline_ms == 1); // never 0 (= the node default)
  CHECK(next.inputs == std::vector<uint8_t>{4});
  client_reply fin;
  fin.id = 7;
  fin.outputs = {5};
  fin.worker = "post-1";
  fin.marks.sent = 210;
  CHECK(!st.advance(fin, false, std::chrono::milliseconds{500}, 300, next));
  CHECK(fin.outputs == std::vector<uint8_t>{5});
  CHECK(fin.worker == "w1");
  CHECK(fin.batch == 5);
  CHECK(fin.version == 3);
  CHECK(fin.times.infer_us == 42);
  CHECK(fin.marks.pre_end == 100);
  CHECK(fin.marks.sent == 150);
  CHECK(fin.marks.received == 190);
  CHECK(fin.marks.post_begin == 200);
  CHECK(fin.marks.post_end == 300);
  CHECK(st.size() == 0);
}

TEST_CASE("stage_tracker: stage errors are final and name the stage") {
  stage_tracker st{pipelined()};
  client_request r;
  r.id = 1;
  r.model = "echo";
  st.enter(r);
  client_reply err;
  err.id = 1;
  err.code = 7;
  err.message = "no worker";
  client_request next;
  CHECK(!st.advance(err, false, std::chrono::milliseconds{10}, 5, next));
  CHECK(err.message == "preproc stage: no worker");
  CHECK(st.size() == 0);
  // A model error skips the postproc stage; so does a stream.
  r.id = 2;
  r.model = "echo";
  st.enter(r);
  client_reply ok;
  ok.id = 2;
  REQUIRE(st.advance(ok, true, std::chrono::milliseconds{10}, 5, next));
  client_reply streamed;
  streamed.id = 2;
  CHECK(!st.advance(streamed, true, std::chrono::milliseconds{10}, 6, next));
  CHECK(streamed.marks.pre_end == 5);
  // Post errors name the stage; untracked ids and models pass through.
  r.id = 3;
  r.model = "cost"; // co-located steps only: never tracked
  st.enter(r);
  CHECK(r.model == "cost");
  CHECK(st.size() == 0);
  client_reply other;
  other.id = 3;
  CHECK(!st.advance(other, false, std::chrono::milliseconds{10}, 6, next));
  r.id = 4;
  r.model = "echo";
  st.enter(r);
  st.forget(4);
  CHECK(st.size() == 0);
  stage_tracker none{builtin_models()};
  CHECK(!none.active());
}

TEST_CASE("stage_models: pool-fallback adds a co-located stage the model's "
          "workers serve") {
  node_config cfg;
  cfg.model_table = pipelined();
  CHECK(!stage_model(cfg.model_table, "echo@pre-fallback")); // not configured
  REQUIRE(!apply_option(cfg, "model.echo.pool-fallback", "true", "test"));
  CHECK(apply_option(cfg, "model.echo.pool-fallback", "maybe", "test"));
  CHECK(to_config_text(cfg).find("pool-fallback = true") != std::string::npos);
  auto& table = cfg.model_table;
  auto pre = stage_model(table, "echo@pre-fallback");
  REQUIRE(pre);
  CHECK(pre->backend == "stage");
  CHECK(pre->pipeline.pre == stage_model(table, "echo@pre")->pipeline.pre);
  auto post = stage_model(table, "echo@post-fallback");
  REQUIRE(post);
  CHECK(post->pipeline.post == stage_model(table, "echo@post")->pipeline.post);
  CHECK(!stage_model(table, "cost@post-fallback")); // no pool steps
  CHECK(with_stage_models(table).size() == table.size() + 4);
  cfg.models = {"echo", "cost"};
  cfg.worker = true; // a model worker serves the fallbacks
  cfg.coordinator = false;
  CHECK(served_models(cfg) == std::vector<std::string>{"echo", "cost",
                                                       "echo@pre-fallback",
                                                       "echo@post-fallback"});
  REQUIRE(!apply_option(cfg, "role", "preproc", "test"));
  CHECK(served_models(cfg) == std::vector<std::string>{"echo@pre"});
}

TEST_CASE("stage_tracker: with pool-fallback, a stage no pool process took "
          "runs once on a model worker from the same inputs") {
  auto table = pipelined();
  table["echo"].pipeline.fallback = true;
  stage_tracker st{table};
  client_request r;
  r.id = 9;
  r.model = "echo";
  r.inputs = {1, 2};
  st.enter(r);
  CHECK(r.model == "echo@pre");
  client_reply none;
  none.id = 9;
  none.code = static_cast<uint8_t>(errc::unavailable);
  none.message = "no worker serves echo@pre";
  client_request next;
  REQUIRE(st.advance(none, false, std::chrono::milliseconds{800}, 10, next));
  CHECK(next.model == "echo@pre-fallback");
  CHECK(next.inputs == std::vector<uint8_t>{1, 2});
  CHECK(next.deadline_ms == 800);
  // The fallback failing too is final, and names the stage.
  client_reply again = none;
  CHECK(!st.advance(again, false, std::chrono::milliseconds{700}, 20, next));
  CHECK(again.message == "preproc stage: no worker serves echo@pre");
  CHECK(st.size() == 0);
  // The fallback's result goes on to the model; then postproc falls back.
  r.id = 10;
  r.model = "echo";
  r.inputs = {1, 2};
  st.enter(r);
  client_reply lost;
  lost.id = 10;
  lost.code = static_cast<uint8_t>(errc::worker_failed);
  REQUIRE(st.advance(lost, false, std::chrono::milliseconds{800}, 10, next));
  CHECK(next.model == "echo@pre-fallback");
  client_reply pre_ok;
  pre_ok.id = 10;
  pre_ok.outputs = {3};
  REQUIRE(st.advance(pre_ok, false, std::chrono::milliseconds{700}, 30, next));
  CHECK(next.model == "echo");
  CHECK(next.inputs == std::vector<uint8_t>{3});
  client_reply model_ok;
  model_ok.id = 10;
  model_ok.outputs = {4};
  model_ok.worker = "w1";
  REQUIRE(
      st.advance(model_ok, false, std::chrono::milliseconds{600}, 40, next));
  CHECK(next.model == "echo@post");
  client_reply post_gone;
  post_gone.id = 10;
  post_gone.code = static_cast<uint8_t>(errc::unknown_model);
  REQUIRE(
      st.advance(post_gone, false, std::chrono::milliseconds{500}, 50, next));
  CHECK(next.model == "echo@post-fallback");
  CHECK(next.inputs == std::vector<uint8_t>{4}); // the model's outputs
  client_reply fin;
  fin.id = 10;
  fin.outputs = {5};
  CHECK(!st.advance(fin, false, std::chrono::milliseconds{400}, 60, next));
  CHECK(fin.code == 0);
  CHECK(fin.outputs == std::vector<uint8_t>{5});
  CHECK(fin.worker == "w1");
  CHECK(fin.marks.pre_end == 30);
  CHECK(st.size() == 0);
  // A step's own verdict and a passed deadline never fall back.
  for (auto code : {errc::invalid_input, errc::deadline_exceeded}) {
    r.id = 11;
    r.model = "echo";
    st.enter(r);
    client_reply bad;
    bad.id = 11;
    bad.code = static_cast<uint8_t>(code);
    CHECK(!st.advance(bad, false, std::chrono::milliseconds{10}, 5, next));
    CHECK(st.size() == 0);
  }
  // Without pool-fallback an unavailable stage is final.
  stage_tracker plain{pipelined()};
  r.id = 12;
  r.model = "echo";
  plain.enter(r);
  client_reply gone = none;
  gone.id = 12;
  CHECK(!plain.advance(gone, false, std::chrono::milliseconds{10}, 5, next));
}
