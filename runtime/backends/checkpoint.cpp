#include "runtime/backends/checkpoint.hpp"

#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messages/errc.hpp"

namespace dine {

namespace {

// Bounds far above any CPU-servable model; they keep every size product
// below 2^63 before the overflow-checked total is computed.
constexpr int32_t max_dim = 1 << 16;
constexpr int32_t max_hidden = 1 << 18;
constexpr int32_t max_layers = 1024;
constexpr int32_t max_vocab = 1 << 22;
constexpr int32_t max_seq_len = 1 << 20;

caf::error bad(const std::string& origin, const std::string& what) {
  return make_error(errc::invalid_config,
                    "checkpoint `" + origin + "`: " + what);
}

bool add_mul(uint64_t& acc, uint64_t a, uint64_t b) {
  uint64_t p = 0;
  if (__builtin_mul_overflow(a, b, &p))
    return false;
  return !__builtin_add_overflow(acc, p, &acc);
}

} // namespace

caf::error validate_shape(const model_shape& s, const std::string& origin) {
  auto range = [&](const char* name, int32_t v, int32_t hi) -> caf::error {
    if (v <= 0 || v > hi)
      return bad(origin, std::string{name} + " is " + std::to_string(v) +
                             ", expected 1.." + std::to_string(hi));
    return caf::none;
  };
  if (auto err = range("dim", s.dim, max_dim))
    return err;
  if (auto err = range("hidden_dim", s.hidden_dim, max_hidden))
    return err;
  if (auto err = range("n_layers", s.n_layers, max_layers))
    return err;
  if (auto err = range("n_heads", s.n_heads, s.dim))
    return err;
  if (auto err = range("n_kv_heads", s.n_kv_heads, s.n_heads))
    return err;
  if (auto err = range("vocab_size", s.vocab_size, max_vocab))
    return err;
  if (auto err = range("seq_len", s.seq_len, max_seq_len))
    return err;
  if (s.vocab_size < 3)
    return bad(origin, "vocab_size " + std::to_string(s.vocab_size) +
                           " lacks the special tokens 0-2");
  if (s.dim % s.n_heads != 0)
    return bad(origin, "dim " + std::to_string(s.dim) +
                           " is not divisible by n_heads " +
                           std::to_string(s.n_heads));
  if (s.n_heads % s.n_kv_heads != 0)
    return bad(origin, "n_heads " + std::to_string(s.n_heads) +
                           " is not divisible by n_kv_heads " +
                           std::to_string(s.n_kv_heads));
  if (s.head_size() % 2 != 0)
    return bad(origin, "head size " + std::to_string(s.head_size()) +
                           " is odd (rotary embedding needs pairs)");
  return caf::none;
}

uint64_t checkpoint_bytes(const model_shape& s) {
  uint64_t d = s.dim, h = s.hidden_dim, l = s.n_layers, v = s.vocab_size;
  uint64_t kv = s.kv_dim(), hs = s.head_size();
  uint64_t n = 0;                    // floats
  bool ok = add_mul(n, v, d)         // token_embedding
            && add_mul(n, l, d)      // rms_att
            && add_mul(n, l * d, d)  // wq
            && add_mul(n, l * d, kv) // wk
            && add_mul(n, l * d, kv) // wv
            && add_mul(n, l * d, d)  // wo
            && add_mul(n, l, d)      // rms_ffn
            && add_mul(n, l * d, h)  // w1
            && add_mul(n, l * h, d)  // w2
            && add_mul(n, l * d, h)  // w3
            && add_mul(n, 1, d)      // rms_final
            && add_mul(n, static_cast<uint64_t>(s.seq_len),
                       hs)                         // freq_cis real + imag
            && (s.shared_cls || add_mul(n, v, d)); // wcls
  uint64_t bytes = 7 * sizeof(int32_t);
  if (!ok || !add_mul(bytes, n, sizeof(float)))
    return 0;
  return bytes;
}

caf::expected<checkpoint> checkpoint::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return bad(path, std::string{"cannot open: "} + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return bad(path, "not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  int32_t hdr[7];
  if (size < sizeof(hdr) ||
      pread(fd, hdr, sizeof(hdr), 0) != static_cast<ssize_t>(sizeof(hdr))) {
    ::close(fd);
    return bad(path, "truncated header (" + std::to_string(size) +
                         " bytes, the header alone is 28)");
  }
  model_shape s;
  s.dim = hdr[0];
  s.hidden_dim = hdr[1];
  s.n_layers = hdr[2];
  s.n_heads = hdr[3];
  s.n_kv_heads = hdr[4];
  s.shared_cls = hdr[5] > 0;
  // INT32_MIN has no positive counterpart: validate_shape rejects it as 0.
  s.vocab_size = hdr[5] == INT32_MIN ? 0 : (hdr[5] > 0 ? hdr[5] : -hdr[5]);
  s.seq_len = hdr[6];
  if (auto err = validate_shape(s, path)) {
    ::close(fd);
    return err;
  }
  auto want = checkpoint_bytes(s);
  if (want == 0 || want != size) {
    ::close(fd);
    return bad(path, "file has " + std::to_string(size) +
                         " bytes, its header implies " + std::to_string(want) +
                         (size < want ? " (truncated)" : " (trailing data)"));
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
    return bad(path, std::string{"mmap failed: "} + std::strerror(errno));
  checkpoint cp;
  cp.path_ = path;
  cp.shape_ = s;
  cp.map_ = map;
  cp.map_size_ = size;
  size_t d = s.dim, h = s.hidden_dim, l = s.n_layers, v = s.vocab_size;
  size_t kv = s.kv_dim();
  auto p = reinterpret_cast<const float*>(static_cast<const char*>(map) + 28);
  auto take = [&p](size_t n) {
    auto r = p;
    p += n;
    return r;
  };
  auto& w = cp.weights_;
  w.token_embedding = take(v * d);
  w.rms_att = take(l * d);
  w.wq = take(l * d * d);
  w.wk = take(l * d * kv);
  w.wv = take(l * d * kv);
  w.wo = take(l * d * d);
  w.rms_ffn = take(l * d);
  w.w1 = take(l * d * h);
  w.w2 = take(l * h * d);
  w.w3 = take(l * d * h);
  w.rms_final = take(d);
  take(size_t(s.seq_len) * s.head_size()); // freq_cis_real, freq_cis_imag
  w.wcls = s.shared_cls ? w.token_embedding : take(v * d);
  return cp;
}

checkpoint::checkpoint(checkpoint&& other) noexcept {
  *this = std::move(other);
}

checkpoint& checkpoint::operator=(checkpoint&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    shape_ = other.shape_;
    weights_ = other.weights_;
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
  }
  return *this;
}

checkpoint::~checkpoint() {
  release();
}

void checkpoint::release() noexcept {
  if (map_ != nullptr)
    munmap(map_, map_size_);
  map_ = nullptr;
  map_size_ = 0;
}

} // namespace dine
