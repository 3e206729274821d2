// Pipelines through real processes (docs/operations.md, "Pipelines"): a
// transformer whose tokenisation runs in a preproc process and its
// detokenisation in a postproc process answers exactly as with both
// co-located on the model worker, and a preproc process SIGKILLed under
// load loses no request (the other preproc process or, with
// `pool-fallback`, the model worker takes over).

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <thread>

#include "harness.hpp"
#include "messages/errc.hpp"
#include "runtime/backends/model_writer.hpp"
#include "runtime/backends/text_stream.hpp"
#include "streams.hpp"

using namespace dine;
using namespace dine::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct model_files {
  std::string checkpoint;
  std::string tokenizer;
};

model_files write_model(const std::string& dir) {
  model_shape s;
  s.dim = 64;
  s.hidden_dim = 128;
  s.n_layers = 2;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.vocab_size = 512;
  s.seq_len = 128;
  s.shared_cls = false;
  model_files f{dir + "/m.bin", dir + "/m.tok"};
  auto err = write_random_checkpoint(f.checkpoint, s, 1);
  REQUIRE_MESSAGE(!err, classify(err).second);
  err = make_vocabulary(s.vocab_size, 1).save(f.tokenizer);
  REQUIRE_MESSAGE(!err, classify(err).second);
  return f;
}

std::vector<std::string> cluster_flags(std::vector<std::string> args) {
  args.push_back("--heartbeat-interval-ms=100");
  args.push_back("--connection-timeout-ms=1000");
  return args;
}

std::string join_of(const node_process& coord) {
  return "--join=127.0.0.1:" + std::to_string(coord.cluster_port());
}

/// Every argument a process of the transformer pipeline gets: the model
/// and where its steps run (`where`: worker or pool).
std::vector<std::string> transformer_args(std::vector<std::string> args,
                                          const model_files& m,
                                          const std::string& where) {
  args.push_back("--checkpoint=" + m.checkpoint);
  args.push_back("--tokenizer=" + m.tokenizer);
  args.push_back("--models=transformer");
  args.push_back("--model.transformer.preproc=normalize@" + where +
                 ", tokenize@" + where);
  args.push_back("--model.transformer.postproc=detokenize@" + where);
  return args;
}

client_request gen(uint64_t id, const std::string& prompt) {
  client_request r;
  r.id = id;
  r.model = "transformer";
  r.cache = false;
  auto b = json::to_msgpack(json{{"prompt", prompt}, {"max_tokens", 20}});
  r.inputs.assign(b.begin(), b.end());
  return r;
}

std::vector<std::string> prompts() {
  std::vector<std::string> out;
  for (size_t i = 0; i < 6; ++i)
    out.push_back("  Once UPON a\ttime " + std::string(i * 3, 'a' + i) +
                  "\n story " + std::to_string(i));
  return out;
}

std::map<std::string, uint64_t> items_by_worker(uint16_t port) {
  std::map<std::string, uint64_t> out;
  auto stats = op(port, op_code::stats);
  for (auto& w : stats["workers"])
    out[w["name"].get<std::string>()] = w["items"].get<uint64_t>();
  return out;
}

/// Items each model's batchers ran (`stats` op, `batchers`).
std::map<std::string, uint64_t> items_by_model(uint16_t port) {
  std::map<std::string, uint64_t> out;
  auto stats = op(port, op_code::stats);
  for (auto& b : stats["batchers"])
    out[b["model"].get<std::string>()] += b["items"].get<uint64_t>();
  return out;
}

} // namespace

TEST_CASE("pipeline: a transformer tokenised in a preproc process and "
          "detokenised in a postproc process answers as co-located") {
  temp_dir dir;
  auto m = write_model(dir.path());
  std::vector<client_reply> colocated;
  {
    node_process all{
        dir.path(), "all",
        transformer_args({"--role=all", "--client-port=0"}, m, "worker")};
    uint64_t id = 1;
    for (auto& p : prompts())
      colocated.push_back(call(all.client_port(), gen(id++, p)));
  }
  node_process coord{
      dir.path(), "coord",
      transformer_args(cluster_flags({"--role=coordinator", "--client-port=0",
                                      "--listen=127.0.0.1:0"}),
                       m, "pool")};
  auto joined = [&](const char* role, const char* name) {
    return transformer_args(
        cluster_flags({std::string{"--role="} + role, join_of(coord),
                       std::string{"--name="} + name}),
        m, "pool");
  };
  node_process worker{dir.path(), "worker", joined("worker", "model-1")};
  node_process pre{dir.path(), "pre", joined("preproc", "pre-1")};
  node_process post{dir.path(), "post", joined("postproc", "post-1")};
  REQUIRE(wait_inflight(coord.client_port(), 0));
  // All three registered before the first request.
  auto until = std::chrono::steady_clock::now() + 15s;
  while (op(coord.client_port(), op_code::stats)["workers"].size() < 3 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  uint64_t id = 1;
  for (auto& p : prompts()) {
    auto want = colocated[id - 1];
    auto got = call(coord.client_port(), gen(id, p));
    INFO("prompt " << id << ": " << int{got.code} << " " << got.message);
    REQUIRE(want.code == 0);
    REQUIRE(got.code == 0);
    auto w = json::from_msgpack(want.outputs);
    auto g = json::from_msgpack(got.outputs);
    CHECK(g == w);
    CHECK(!g["text"].get<std::string>().empty());
    // The model's hop names the reply's worker; both pool stages took
    // time of their own, and the stages add up.
    CHECK(got.worker == "model-1");
    CHECK(got.times.preproc_us > 0);
    CHECK(got.times.postproc_us > 0);
    CHECK(want.times.preproc_us == 0);
    CHECK(uint64_t{got.times.read_us} + got.times.preproc_us +
              got.times.cache_us + got.times.queue_us + got.times.network_us +
              got.times.infer_us + got.times.postproc_us + got.times.write_us ==
          got.times.total_us);
    ++id;
  }
  auto items = items_by_worker(coord.client_port());
  CHECK(items["pre-1"] == prompts().size());
  CHECK(items["post-1"] == prompts().size());
  CHECK(items["model-1"] == prompts().size());
  // A prompt that is not text fails in the preproc stage, which says so.
  client_request bad = gen(99, "x");
  auto b = json::to_msgpack(json{{"prompt", "x"}, {"tokens", json::array()}});
  bad.inputs.assign(b.begin(), b.end());
  auto r = call(coord.client_port(), bad);
  CHECK(r.code == static_cast<uint8_t>(errc::invalid_input));
  CHECK(r.message.find("preproc step `tokenize`") != std::string::npos);
}

TEST_CASE("pipeline: SIGKILL of a preproc process under load: every request "
          "gets exactly one reply, from the other preproc process") {
  temp_dir dir;
  // Each item costs 300 us of CPU in the preproc pool; echo returns what
  // normalisation left (inputs without a `prompt`: unchanged).
  auto model = [](std::vector<std::string> args) {
    args.push_back("--models=echo");
    args.push_back("--model.echo.preproc=normalize@pool cost-us=300");
    args.push_back("--model.echo.max-batch-size=8");
    return cluster_flags(std::move(args));
  };
  node_process coord{
      dir.path(), "coord",
      model({"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0"})};
  node_process worker{dir.path(), "worker",
                      model({"--role=worker", join_of(coord), "--name=w"})};
  node_process pre1{dir.path(), "pre1",
                    model({"--role=preproc", join_of(coord), "--name=pre-1"})};
  node_process pre2{dir.path(), "pre2",
                    model({"--role=preproc", join_of(coord), "--name=pre-2"})};
  auto until = std::chrono::steady_clock::now() + 15s;
  while (op(coord.client_port(), op_code::stats)["workers"].size() < 3 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  constexpr size_t count = 3000;
  load_result res;
  std::atomic<bool> done{false};
  std::thread load{[&] {
    res = run_load(coord.client_port(), "echo", count, 4, 16, 120s, 20000);
    done = true;
  }};
  // Kill pre-1 once it has served some (it has work in flight then: the
  // load keeps 64 requests outstanding).
  uint64_t before = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && !done) {
    before = items_by_worker(coord.client_port())["pre-1"];
    if (before >= 100)
      break;
    std::this_thread::sleep_for(2ms);
  }
  bool killed_under_load = !done;
  pre1.kill_now();
  load.join();
  MESSAGE("pre-1 had run " << before << " items at the kill");
  REQUIRE(killed_under_load); // else the kill tested nothing
  REQUIRE(res.error.empty());
  CHECK(res.sent == count);
  CHECK(res.duplicates == 0);
  CHECK(res.unknown == 0);
  size_t ok = 0;
  for (uint64_t i = 1; i <= count; ++i) {
    auto it = res.replies.find(i);
    REQUIRE(it != res.replies.end());
    CHECK(it->second.size() == 1);
    auto& r = it->second.front();
    INFO("id " << i << ": " << int{r.code} << " " << r.message);
    CHECK(r.code == 0);
    if (r.code == 0) {
      ++ok;
      CHECK(r.outputs == inputs_for(i - 1));
    }
  }
  CHECK(ok == count);
  auto items = items_by_worker(coord.client_port());
  CHECK(items.count("pre-1") == 0); // gone from the registry
  CHECK(items["pre-2"] > 0);
  CHECK(op(coord.client_port(), op_code::stats)["requests"]["inflight"] == 0);
}

TEST_CASE("pipeline: SIGKILL of the only preproc process under load with "
          "pool-fallback: every request gets exactly one reply, the rest "
          "preprocessed on the model worker") {
  temp_dir dir;
  auto model = [](std::vector<std::string> args) {
    args.push_back("--models=echo");
    args.push_back("--model.echo.preproc=normalize@pool cost-us=300");
    args.push_back("--model.echo.pool-fallback=true");
    args.push_back("--model.echo.max-batch-size=8");
    return cluster_flags(std::move(args));
  };
  node_process coord{
      dir.path(), "coord",
      model({"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0"})};
  node_process worker{dir.path(), "worker",
                      model({"--role=worker", join_of(coord), "--name=w"})};
  node_process pre{dir.path(), "pre",
                   model({"--role=preproc", join_of(coord), "--name=pre-1"})};
  auto until = std::chrono::steady_clock::now() + 15s;
  while (op(coord.client_port(), op_code::stats)["workers"].size() < 2 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  // A prompt is normalised wherever the stage runs.
  client_request one;
  one.id = 1;
  one.model = "echo";
  one.cache = false;
  auto b = json::to_msgpack(json{{"prompt", "  Hello\tWORLD "}});
  one.inputs.assign(b.begin(), b.end());
  auto first = call(coord.client_port(), one);
  REQUIRE(first.code == 0);
  CHECK(json::from_msgpack(first.outputs)["prompt"] == "hello world");
  CHECK(items_by_model(coord.client_port())["echo@pre"] == 1);
  constexpr size_t count = 3000;
  load_result res;
  std::atomic<bool> done{false};
  std::thread load{[&] {
    res = run_load(coord.client_port(), "echo", count, 4, 16, 120s, 20000);
    done = true;
  }};
  uint64_t before = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && !done) {
    before = items_by_worker(coord.client_port())["pre-1"];
    if (before >= 100)
      break;
    std::this_thread::sleep_for(2ms);
  }
  bool killed_under_load = !done;
  pre.kill_now();
  load.join();
  MESSAGE("pre-1 had run " << before << " items at the kill");
  REQUIRE(killed_under_load);
  REQUIRE(res.error.empty());
  CHECK(res.sent == count);
  CHECK(res.duplicates == 0);
  CHECK(res.unknown == 0);
  size_t ok = 0;
  for (uint64_t i = 1; i <= count; ++i) {
    auto it = res.replies.find(i);
    REQUIRE(it != res.replies.end());
    CHECK(it->second.size() == 1);
    auto& r = it->second.front();
    INFO("id " << i << ": " << int{r.code} << " " << r.message);
    CHECK(r.code == 0);
    if (r.code == 0) {
      ++ok;
      CHECK(r.outputs == inputs_for(i - 1));
    }
  }
  CHECK(ok == count);
  auto items = items_by_model(coord.client_port());
  MESSAGE("echo@pre ran " << items["echo@pre"] << ", echo@pre-fallback "
                          << items["echo@pre-fallback"]);
  CHECK(items["echo@pre-fallback"] > 0);
  CHECK(items["echo"] == count + 1);
  CHECK(items_by_worker(coord.client_port()).count("pre-1") == 0);
  // With no preproc process at all, requests still get served.
  auto later = call(coord.client_port(), one);
  REQUIRE(later.code == 0);
  CHECK(json::from_msgpack(later.outputs)["prompt"] == "hello world");
  CHECK(op(coord.client_port(), op_code::stats)["requests"]["inflight"] == 0);
}

TEST_CASE("pipeline: a streamed request runs the preproc stage and skips "
          "the postproc stage: its chunks carry the text detokenize gives") {
  temp_dir dir;
  auto m = write_model(dir.path());
  node_process coord{
      dir.path(), "coord",
      transformer_args(cluster_flags({"--role=coordinator", "--client-port=0",
                                      "--listen=127.0.0.1:0"}),
                       m, "pool")};
  auto joined = [&](const char* role, const char* name) {
    return transformer_args(
        cluster_flags({std::string{"--role="} + role, join_of(coord),
                       std::string{"--name="} + name}),
        m, "pool");
  };
  node_process worker{dir.path(), "worker", joined("worker", "model-1")};
  node_process pre{dir.path(), "pre", joined("preproc", "pre-1")};
  node_process post{dir.path(), "post", joined("postproc", "post-1")};
  auto until = std::chrono::steady_clock::now() + 15s;
  while (op(coord.client_port(), op_code::stats)["workers"].size() < 3 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  auto ps = prompts();
  // Whole replies first: detokenised in the postproc process.
  std::vector<json> whole;
  uint64_t id = 1;
  for (auto& p : ps) {
    auto r = call(coord.client_port(), gen(id++, p));
    INFO(int{r.code} << " " << r.message);
    REQUIRE(r.code == 0);
    whole.push_back(json::from_msgpack(r.outputs));
  }
  auto items = items_by_worker(coord.client_port());
  REQUIRE(items["post-1"] == ps.size());
  REQUIRE(items["pre-1"] == ps.size());
  // The same prompts streamed, all at once on one connection.
  client_conn conn;
  REQUIRE(conn.connect("127.0.0.1", coord.client_port(), 5s).empty());
  for (size_t i = 0; i < ps.size(); ++i) {
    auto r = gen(100 + i, ps[i]);
    r.stream = true;
    send(conn, r);
  }
  auto got = read_until_done(conn, ps.size(), 60s);
  for (size_t i = 0; i < ps.size(); ++i) {
    INFO("prompt " << i);
    auto& rec = got[100 + i];
    REQUIRE(rec.finals.size() == 1);
    auto& fin = rec.finals.front();
    INFO(int{fin.code} << " " << fin.message);
    CHECK(fin.code == 0);
    CHECK(fin.worker == "model-1");
    // Preprocessing ran (the model saw the normalised prompt's tokens:
    // the same tokens as the whole reply), postprocessing did not.
    CHECK(rec.tokens == whole[i]["tokens"].get<std::vector<int64_t>>());
    // Chunks are valid UTF-8 (runtime/backends/text_stream.hpp); the
    // detokenised bytes of a random vocabulary need not be: compare with
    // them made valid the same way.
    std::string text;
    for (auto& t : rec.texts)
      text += t;
    if (!fin.outputs.empty()) {
      auto f = json::from_msgpack(fin.outputs);
      if (f.is_object() && f.contains("text") && f["text"].is_string())
        text += f["text"].get<std::string>();
    }
    text_stream valid;
    valid.push(whole[i]["text"].get<std::string>());
    valid.finish();
    CHECK(text == valid.text());
    CHECK(fin.times.preproc_us > 0);
    CHECK(fin.times.postproc_us == 0);
  }
  items = items_by_worker(coord.client_port());
  CHECK(items["pre-1"] == 2 * ps.size());
  CHECK(items["post-1"] == ps.size()); // not one streamed item
}

TEST_CASE("pipeline: with no postproc process at all, pool-fallback runs the "
          "postproc steps on the model worker, without it the reply names "
          "the stage") {
  temp_dir dir;
  auto model = [](std::vector<std::string> args, bool fallback) {
    args.push_back("--models=echo");
    args.push_back("--model.echo.postproc=softmax@pool, top-k@pool k=1");
    args.push_back(std::string{"--model.echo.pool-fallback="} +
                   (fallback ? "true" : "false"));
    return cluster_flags(std::move(args));
  };
  for (bool fallback : {true, false}) {
    INFO("pool-fallback " << fallback);
    node_process coord{
        dir.path(), fallback ? "coord-f" : "coord",
        model({"--role=coordinator", "--client-port=0", "--listen=127.0.0.1:0"},
              fallback)};
    node_process worker{
        dir.path(), fallback ? "worker-f" : "worker",
        model({"--role=worker", join_of(coord), "--name=w"}, fallback)};
    auto until = std::chrono::steady_clock::now() + 15s;
    while (op(coord.client_port(), op_code::stats)["workers"].size() < 1 &&
           std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(20ms);
    client_request r;
    r.id = 1;
    r.model = "echo";
    r.cache = false;
    auto b = json::to_msgpack(json::array({0.5, 3.0, 1.0}));
    r.inputs.assign(b.begin(), b.end());
    auto got = call(coord.client_port(), r);
    INFO(int{got.code} << " " << got.message);
    if (fallback) {
      REQUIRE(got.code == 0);
      auto out = json::from_msgpack(got.outputs);
      REQUIRE(out["top"].size() == 1);
      CHECK(out["top"][0]["index"] == 1);
      CHECK(got.worker == "w"); // the model's hop
      CHECK(got.times.postproc_us > 0);
      CHECK(items_by_model(coord.client_port())["echo@post-fallback"] == 1);
    } else {
      CHECK(got.code != 0);
      CHECK(got.message.rfind("postproc stage:", 0) == 0);
      CHECK(items_by_model(coord.client_port())["echo@post-fallback"] == 0);
    }
    CHECK(op(coord.client_port(), op_code::stats)["requests"]["inflight"] == 0);
  }
}
