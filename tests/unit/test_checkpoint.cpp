// checkpoint and tokenizer files: validation of every header field, exact
// sizes, and vocabulary agreement.

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "messages/errc.hpp"
#include "runtime/backends/checkpoint.hpp"
#include "runtime/backends/generator.hpp"
#include "runtime/backends/tokenizer.hpp"
#include "tests/unit/model_fixture.hpp"

using namespace dine;
using namespace dine::test;

namespace {

/// Overwrites int32 `index` of the header of `path` with `value`.
void patch_header(const std::string& path, int index, int32_t value) {
  std::fstream f{path, std::ios::in | std::ios::out | std::ios::binary};
  f.seekp(index * 4);
  f.write(reinterpret_cast<const char*>(&value), 4);
}

std::string open_error(const std::string& path) {
  auto cp = checkpoint::open(path);
  REQUIRE_FALSE(cp);
  auto [code, msg] = classify(cp.error());
  CHECK(code == errc::invalid_config);
  CHECK(msg.find(path) != std::string::npos);
  return msg;
}

} // namespace

TEST_CASE("checkpoint opens a valid file and maps its tensors") {
  model_files files;
  auto cp = checkpoint::open(files.checkpoint);
  REQUIRE(cp);
  auto s = cp->shape();
  CHECK(s.dim == 32);
  CHECK(s.n_kv_heads == 2);
  CHECK(s.vocab_size == 512);
  CHECK(s.shared_cls);
  CHECK(cp->weights().wcls == cp->weights().token_embedding);
  CHECK(cp->weights().rms_final[0] == 1.0f);
  CHECK(std::filesystem::file_size(files.checkpoint) == checkpoint_bytes(s));
}

TEST_CASE("checkpoint with an unshared classifier maps wcls after freq_cis") {
  auto s = small_shape();
  s.shared_cls = false;
  model_files files{s};
  auto cp = checkpoint::open(files.checkpoint);
  REQUIRE(cp);
  CHECK_FALSE(cp->shape().shared_cls);
  CHECK(cp->weights().wcls != cp->weights().token_embedding);
  auto end =
      reinterpret_cast<const char*>(cp->weights().wcls + size_t(512) * 32);
  auto begin =
      reinterpret_cast<const char*>(cp->weights().token_embedding) - 28;
  CHECK(size_t(end - begin) == std::filesystem::file_size(files.checkpoint));
}

TEST_CASE("checkpoint rejects bad header fields naming the problem") {
  model_files files;
  auto path = files.checkpoint;
  SUBCASE("zero dim") {
    patch_header(path, 0, 0);
    CHECK(open_error(path).find("dim is 0") != std::string::npos);
  }
  SUBCASE("negative heads") {
    patch_header(path, 3, -4);
    CHECK(open_error(path).find("n_heads") != std::string::npos);
  }
  SUBCASE("dim not divisible by heads") {
    patch_header(path, 3, 5);
    patch_header(path, 4, 5);
    CHECK(open_error(path).find("not divisible by n_heads") !=
          std::string::npos);
  }
  SUBCASE("heads not divisible by kv heads") {
    patch_header(path, 4, 3);
    CHECK(open_error(path).find("not divisible by n_kv_heads") !=
          std::string::npos);
  }
  SUBCASE("odd head size") {
    patch_header(path, 3, 32); // head size 1
    patch_header(path, 4, 32);
    CHECK(open_error(path).find("odd") != std::string::npos);
  }
  SUBCASE("huge fields do not allocate: the size check fails") {
    patch_header(path, 0, 65536);
    patch_header(path, 1, 262144);
    patch_header(path, 2, 1024);
    patch_header(path, 5, -(1 << 22));
    CHECK(open_error(path).find("header implies") != std::string::npos);
  }
  SUBCASE("INT32_MIN vocabulary") {
    patch_header(path, 5, INT32_MIN);
    CHECK(open_error(path).find("vocab_size") != std::string::npos);
  }
}

TEST_CASE("checkpoint rejects truncated files and trailing data") {
  model_files files;
  auto size = std::filesystem::file_size(files.checkpoint);
  std::filesystem::resize_file(files.checkpoint, size - 4);
  CHECK(open_error(files.checkpoint).find("truncated") != std::string::npos);
  std::filesystem::resize_file(files.checkpoint, size + 4);
  CHECK(open_error(files.checkpoint).find("trailing") != std::string::npos);
  std::filesystem::resize_file(files.checkpoint, 10);
  CHECK(open_error(files.checkpoint).find("header") != std::string::npos);
  CHECK(open_error(files.dir.sub("missing.bin")).find("cannot open") !=
        std::string::npos);
}

TEST_CASE("tokenizer file round trips and rejects bad lengths") {
  model_files files;
  auto tok = tokenizer::load(files.tokenizer);
  REQUIRE(tok);
  CHECK(tok->vocab_size() == 512);
  CHECK(tok->piece(3) == "<0x00>");
  CHECK(tok->piece(258) == "<0xFF>");
  auto size = std::filesystem::file_size(files.tokenizer);
  SUBCASE("truncated entry") {
    std::filesystem::resize_file(files.tokenizer, size - 1);
    auto bad = tokenizer::load(files.tokenizer);
    REQUIRE_FALSE(bad);
    CHECK(classify(bad.error()).second.find(files.tokenizer) !=
          std::string::npos);
  }
  SUBCASE("length claiming more than the file") {
    std::fstream f{files.tokenizer,
                   std::ios::in | std::ios::out | std::ios::binary};
    int32_t huge = 1 << 30;
    f.seekp(4 + 4); // first entry's length
    f.write(reinterpret_cast<const char*>(&huge), 4);
    f.close();
    auto bad = tokenizer::load(files.tokenizer);
    REQUIRE_FALSE(bad);
    CHECK(classify(bad.error()).second.find("exceeds the remaining") !=
          std::string::npos);
  }
}

TEST_CASE("a tokenizer whose vocabulary differs from the checkpoint fails") {
  model_files files;
  auto other = files.dir.sub("other.tok");
  REQUIRE(!make_vocabulary(600, 1).save(other));
  auto cfg = files.config();
  cfg.tokenizer = other;
  auto g = make_generator(cfg);
  REQUIRE_FALSE(g);
  auto [code, msg] = classify(g.error());
  CHECK(code == errc::invalid_config);
  CHECK(msg.find(other) != std::string::npos);
  CHECK(msg.find("600 tokens") != std::string::npos);
  CHECK(msg.find("512") != std::string::npos);
}

TEST_CASE("make_generator names the bad checkpoint file") {
  model_files files;
  std::filesystem::resize_file(files.checkpoint, 100);
  auto g = make_generator(files.config());
  REQUIRE_FALSE(g);
  CHECK(classify(g.error()).second.find(files.checkpoint) != std::string::npos);
  model_config echo;
  echo.backend = "echo";
  CHECK_FALSE(make_generator(echo));
  CHECK(is_generative("transformer"));
  CHECK_FALSE(is_generative("echo"));
}

TEST_CASE("dine-mkmodel's writers are deterministic per seed") {
  temp_dir dir;
  auto s = small_shape();
  auto read = [](const std::string& path) {
    std::ifstream in{path, std::ios::binary};
    return std::string{std::istreambuf_iterator<char>{in},
                       std::istreambuf_iterator<char>{}};
  };
  REQUIRE(!write_random_checkpoint(dir.sub("a.bin"), s, 5));
  REQUIRE(!write_random_checkpoint(dir.sub("b.bin"), s, 5));
  REQUIRE(!write_random_checkpoint(dir.sub("c.bin"), s, 6));
  CHECK(read(dir.sub("a.bin")) == read(dir.sub("b.bin")));
  CHECK(read(dir.sub("a.bin")) != read(dir.sub("c.bin")));
  REQUIRE(!make_vocabulary(512, 5).save(dir.sub("a.tok")));
  REQUIRE(!make_vocabulary(512, 5).save(dir.sub("b.tok")));
  CHECK(read(dir.sub("a.tok")) == read(dir.sub("b.tok")));
  auto tok = tokenizer::load(dir.sub("a.tok"));
  REQUIRE(tok);
  CHECK(tok->vocab_size() == 512);
  // Every piece is distinct: lookups are unambiguous.
  for (int32_t i = 0; i < tok->vocab_size(); ++i)
    CHECK(tok->lookup(tok->piece(i)) == i);
}
