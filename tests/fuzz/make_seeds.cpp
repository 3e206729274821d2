// Writes the seed corpora of the fuzz targets (docs/testing.md, fuzz
// section) into DIR/NAME/: real request and reply frames from the wire
// encoder, the shipped configs (copied by tools/fuzz.sh), and a tiny
// checkpoint and tokenizer written by the same code as dine-mkmodel.
//
// Usage: fuzz_seeds DIR

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "messages/client.hpp"
#include "runtime/backends/checkpoint.hpp"
#include "runtime/backends/model_writer.hpp"
#include "runtime/backends/tokenizer.hpp"
#include "runtime/wire.hpp"

namespace {

void write_file(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
std::vector<uint8_t> packed(const T& x) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, x);
  return {buf.data(), buf.data() + buf.size()};
}

void frame_seeds(const std::string& dir) {
  using dine::op_code;
  std::vector<dine::client_request> reqs;
  auto req = [&](op_code op, std::string model, std::vector<uint8_t> inputs) {
    dine::client_request r;
    r.id = reqs.size() + 1;
    r.op = op;
    r.model = std::move(model);
    r.inputs = std::move(inputs);
    reqs.push_back(std::move(r));
    return &reqs.back();
  };
  req(op_code::infer, "echo", packed(std::vector<int>{1, 2, 3}));
  req(op_code::infer, "transformer", packed(std::string{"once upon a time"}));
  req(op_code::infer, "sum",
      packed(std::map<std::string, double>{{"a", 1.5}, {"b", -2}}));
  req(op_code::health, "", {});
  req(op_code::models, "", {});
  req(op_code::stats, "", {});
  req(op_code::cancel, "", {});
  auto* r = req(op_code::infer, "echo", packed(std::string{"key"}));
  r->key = "user-42";
  r->deadline_ms = 250;
  r->priority = -3;
  r->version = 2;
  r->cache = false;
  r = req(op_code::infer, "transformer", packed(std::string{"hi"}));
  r->stream = true;
  std::vector<char> all;
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::vector<char> one;
    dine::append_request(one, reqs[i]);
    write_file(dir + "/request_" + std::to_string(i), one);
    all.insert(all.end(), one.begin(), one.end());
  }
  write_file(dir + "/requests_all", all);
  dine::client_reply rep;
  rep.id = 7;
  rep.outputs = packed(std::vector<int>{4, 5});
  rep.worker = "w1";
  rep.batch = 3;
  std::vector<char> one;
  dine::append_reply(one, rep);
  rep.code = 3;
  rep.message = "overloaded";
  rep.outputs.clear();
  rep.frame = dine::reply_frame::last;
  dine::append_reply(one, rep);
  write_file(dir + "/replies", one);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fuzz_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  frame_seeds(dir + "/frame");
  dine::model_shape s;
  s.dim = 8;
  s.hidden_dim = 16;
  s.n_layers = 1;
  s.n_heads = 2;
  s.n_kv_heads = 1;
  s.vocab_size = 32;
  s.seq_len = 8;
  if (auto err =
          dine::write_random_checkpoint(dir + "/checkpoint/tiny.bin", s, 1)) {
    fprintf(stderr, "fuzz_seeds: checkpoint: %s\n", to_string(err).c_str());
    return 1;
  }
  s.shared_cls = false;
  if (auto err = dine::write_random_checkpoint(
          dir + "/checkpoint/tiny_unshared.bin", s, 2)) {
    fprintf(stderr, "fuzz_seeds: checkpoint: %s\n", to_string(err).c_str());
    return 1;
  }
  auto tok = dine::make_vocabulary(300, 1);
  if (auto err = tok.save(dir + "/tokenizer/tiny.tok")) {
    fprintf(stderr, "fuzz_seeds: tokenizer: %s\n", to_string(err).c_str());
    return 1;
  }
  return 0;
}
