// pipeline_spec: the `preproc` / `postproc` step lists, their places and
// options, and the [model.NAME] rows that read them.

#include <doctest/doctest.h>

#include "messages/errc.hpp"
#include "runtime/node_config.hpp"
#include "runtime/pipeline_spec.hpp"

using namespace dine;

TEST_CASE("pipeline_spec: steps, places and options parse") {
  auto s = parse_steps("normalize@pool cost-us=500 case=keep, tokenize",
                       step_list::pre);
  REQUIRE(s);
  REQUIRE(s->size() == 2);
  CHECK((*s)[0].kind == step_kind::normalize);
  CHECK((*s)[0].place == step_place::pool);
  CHECK((*s)[0].cost_us == 500);
  CHECK(!(*s)[0].fold_case);
  CHECK((*s)[1].kind == step_kind::tokenize);
  CHECK((*s)[1].place == step_place::worker);
  CHECK(pipeline_spec::any_at(*s, step_place::pool));
  CHECK(pipeline_spec::at(*s, step_place::worker).size() == 1);
  auto p = parse_steps("softmax, top-k k=3@pool", step_list::post);
  CHECK(!p); // the place belongs to the name, not to an option
  p = parse_steps("softmax, top-k@pool k=3, labels@pool names=a|b|c",
                  step_list::post);
  REQUIRE(p);
  CHECK((*p)[1].k == 3);
  CHECK((*p)[2].names == std::vector<std::string>{"a", "b", "c"});
  auto empty = parse_steps("  ", step_list::pre);
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("pipeline_spec: text round-trips") {
  for (auto text : {"normalize@pool cost-us=500 case=keep, tokenize@worker",
                    "pass@pool cost-us=2000", "normalize@worker field=text"}) {
    auto s = parse_steps(text, step_list::pre);
    REQUIRE(s);
    CHECK(steps_text(*s) == text);
  }
  auto p = parse_steps("detokenize@worker, softmax@pool, top-k@pool k=2, "
                       "labels@pool names=x|y",
                       step_list::post);
  REQUIRE(p);
  auto again = parse_steps(steps_text(*p), step_list::post);
  REQUIRE(again);
  CHECK(*again == *p);
}

TEST_CASE("pipeline_spec: bad lists name the step and the problem") {
  auto err = [](const char* text, step_list which) {
    auto s = parse_steps(text, which);
    REQUIRE(!s);
    return classify(s.error()).second;
  };
  CHECK(err("frobnicate", step_list::pre).find("unknown step") !=
        std::string::npos);
  CHECK(err("detokenize", step_list::pre).find("postprocessing") !=
        std::string::npos);
  CHECK(err("tokenize", step_list::post).find("preprocessing") !=
        std::string::npos);
  CHECK(err("normalize@gpu", step_list::pre).find("gpu") != std::string::npos);
  CHECK(err("normalize k=3", step_list::pre).find("unknown option") !=
        std::string::npos);
  CHECK(err("normalize cost-us=x", step_list::pre).find("cost-us") !=
        std::string::npos);
  CHECK(err("normalize, , tokenize", step_list::pre).find("empty") !=
        std::string::npos);
  CHECK(err("labels", step_list::post).find("names") != std::string::npos);
  CHECK(err("top-k k=0", step_list::post).find("`k`") != std::string::npos);
  // A request meets the pool before the model worker, and after it for
  // postprocessing: any other order would cross a pool twice.
  CHECK(err("normalize, tokenize@pool", step_list::pre).find("before") !=
        std::string::npos);
  CHECK(err("softmax@pool, top-k", step_list::post).find("before") !=
        std::string::npos);
}

TEST_CASE("pipeline_spec: the model rows read and show the lists") {
  node_config cfg;
  cfg.model_table = builtin_models();
  REQUIRE(!apply_option(cfg, "model.echo.preproc", "normalize@pool cost-us=10",
                        "test"));
  REQUIRE(!apply_option(cfg, "model.echo.postproc", "softmax, top-k@pool k=2",
                        "test"));
  auto& m = cfg.model_table.at("echo");
  CHECK(m.pipeline.pre.size() == 1);
  CHECK(m.pipeline.post.size() == 2);
  auto text = to_config_text(cfg);
  CHECK(text.find("preproc = normalize@pool cost-us=10") != std::string::npos);
  CHECK(text.find("postproc = softmax@worker, top-k@pool k=2") !=
        std::string::npos);
  CHECK(apply_option(cfg, "model.echo.preproc", "detokenize", "test"));
  // tokenize needs the model's tokenizer file.
  REQUIRE(!apply_option(cfg, "model.echo.preproc", "tokenize", "test"));
  CHECK(validate_models(cfg.model_table));
}

TEST_CASE("pipeline_spec: stage model names") {
  CHECK(stage_model_name("tiny", step_list::pre) == "tiny@pre");
  CHECK(stage_model_name("tiny", step_list::post) == "tiny@post");
}
