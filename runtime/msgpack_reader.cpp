#include "runtime/msgpack_reader.hpp"

#include <cstring>

namespace dine {

uint64_t msgpack_reader::be(size_t n) noexcept {
  if (!need(n))
    return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; ++i)
    x = (x << 8) | pos_[i];
  pos_ += n;
  return x;
}

msgpack_reader::kind msgpack_reader::peek() const noexcept {
  if (!ok_)
    return kind::invalid;
  if (pos_ == end_)
    return kind::end;
  auto t = *pos_;
  if (t <= 0x7f || t == 0xcc || t == 0xcd || t == 0xce || t == 0xcf)
    return kind::uint;
  if (t >= 0xe0 || (t >= 0xd0 && t <= 0xd3))
    return kind::sint;
  if ((t & 0xf0) == 0x80 || t == 0xde || t == 0xdf)
    return kind::map;
  if ((t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd)
    return kind::array;
  if ((t & 0xe0) == 0xa0 || t == 0xd9 || t == 0xda || t == 0xdb)
    return kind::str;
  switch (t) {
  case 0xc0:
    return kind::nil;
  case 0xc2:
  case 0xc3:
    return kind::boolean;
  case 0xc4:
  case 0xc5:
  case 0xc6:
    return kind::bin;
  case 0xca:
  case 0xcb:
    return kind::real;
  case 0xc7:
  case 0xc8:
  case 0xc9:
  case 0xd4:
  case 0xd5:
  case 0xd6:
  case 0xd7:
  case 0xd8:
    return kind::ext;
  default:
    return kind::invalid; // 0xc1 is never used
  }
}

bool msgpack_reader::read_map_header(uint32_t& n) {
  if (!need(1))
    return false;
  auto t = *pos_;
  if ((t & 0xf0) == 0x80) {
    ++pos_;
    n = t & 0x0f;
  } else if (t == 0xde) {
    ++pos_;
    n = static_cast<uint32_t>(be(2));
  } else if (t == 0xdf) {
    ++pos_;
    n = static_cast<uint32_t>(be(4));
  } else {
    return fail();
  }
  // Each entry needs at least two bytes: reject counts the input cannot hold.
  if (ok_ && static_cast<uint64_t>(n) * 2 > static_cast<size_t>(end_ - pos_))
    return fail();
  return ok_;
}

bool msgpack_reader::read_array_header(uint32_t& n) {
  if (!need(1))
    return false;
  auto t = *pos_;
  if ((t & 0xf0) == 0x90) {
    ++pos_;
    n = t & 0x0f;
  } else if (t == 0xdc) {
    ++pos_;
    n = static_cast<uint32_t>(be(2));
  } else if (t == 0xdd) {
    ++pos_;
    n = static_cast<uint32_t>(be(4));
  } else {
    return fail();
  }
  if (ok_ && n > static_cast<size_t>(end_ - pos_))
    return fail();
  return ok_;
}

bool msgpack_reader::read_str(std::string_view& x) {
  if (!need(1))
    return false;
  auto t = *pos_;
  size_t n;
  if ((t & 0xe0) == 0xa0) {
    ++pos_;
    n = t & 0x1f;
  } else if (t == 0xd9) {
    ++pos_;
    n = be(1);
  } else if (t == 0xda) {
    ++pos_;
    n = be(2);
  } else if (t == 0xdb) {
    ++pos_;
    n = be(4);
  } else {
    return fail();
  }
  if (!need(n))
    return false;
  x = std::string_view{reinterpret_cast<const char*>(pos_), n};
  pos_ += n;
  return true;
}

bool msgpack_reader::read_bin(std::string_view& x) {
  if (!need(1))
    return false;
  auto t = *pos_;
  size_t n;
  if (t == 0xc4) {
    ++pos_;
    n = be(1);
  } else if (t == 0xc5) {
    ++pos_;
    n = be(2);
  } else if (t == 0xc6) {
    ++pos_;
    n = be(4);
  } else {
    return fail();
  }
  if (!need(n))
    return false;
  x = std::string_view{reinterpret_cast<const char*>(pos_), n};
  pos_ += n;
  return true;
}

bool msgpack_reader::read_uint(uint64_t& x) {
  int64_t sx = 0;
  if (!need(1))
    return false;
  auto t = *pos_;
  if (t <= 0x7f) {
    ++pos_;
    x = t;
    return true;
  }
  switch (t) {
  case 0xcc:
  case 0xcd:
  case 0xce:
  case 0xcf:
    ++pos_;
    x = be(size_t{1} << (t - 0xcc));
    return ok_;
  default:
    // Signed encodings of non-negative values are accepted too.
    if (!read_int(sx))
      return false;
    if (sx < 0)
      return fail();
    x = static_cast<uint64_t>(sx);
    return true;
  }
}

bool msgpack_reader::read_int(int64_t& x) {
  if (!need(1))
    return false;
  auto t = *pos_;
  if (t <= 0x7f) {
    ++pos_;
    x = t;
    return true;
  }
  if (t >= 0xe0) {
    ++pos_;
    x = static_cast<int8_t>(t);
    return true;
  }
  switch (t) {
  case 0xd0:
    ++pos_;
    x = static_cast<int8_t>(be(1));
    return ok_;
  case 0xd1:
    ++pos_;
    x = static_cast<int16_t>(be(2));
    return ok_;
  case 0xd2:
    ++pos_;
    x = static_cast<int32_t>(be(4));
    return ok_;
  case 0xd3:
    ++pos_;
    x = static_cast<int64_t>(be(8));
    return ok_;
  case 0xcc:
  case 0xcd:
  case 0xce:
  case 0xcf: {
    ++pos_;
    auto u = be(size_t{1} << (t - 0xcc));
    if (!ok_ || u > static_cast<uint64_t>(INT64_MAX))
      return fail();
    x = static_cast<int64_t>(u);
    return true;
  }
  default:
    return fail();
  }
}

bool msgpack_reader::read_bool(bool& x) {
  if (!need(1))
    return false;
  if (*pos_ == 0xc2 || *pos_ == 0xc3) {
    x = *pos_++ == 0xc3;
    return true;
  }
  return fail();
}

bool msgpack_reader::read_double(double& x) {
  if (!need(1))
    return false;
  auto t = *pos_;
  if (t == 0xca) {
    ++pos_;
    auto bits = static_cast<uint32_t>(be(4));
    float f;
    memcpy(&f, &bits, 4);
    x = f;
    return ok_;
  }
  if (t == 0xcb) {
    ++pos_;
    auto bits = be(8);
    memcpy(&x, &bits, 8);
    return ok_;
  }
  int64_t i;
  if (read_int(i)) {
    x = static_cast<double>(i);
    return true;
  }
  return false;
}

bool msgpack_reader::read_nil() {
  if (!need(1))
    return false;
  if (*pos_ != 0xc0)
    return fail();
  ++pos_;
  return true;
}

bool msgpack_reader::skip() {
  return skip_impl(0);
}

bool msgpack_reader::skip_impl(size_t depth) {
  if (depth > max_depth_) {
    too_deep_ = true;
    return fail();
  }
  switch (peek()) {
  case kind::nil:
  case kind::boolean:
    ++pos_;
    return true;
  case kind::uint: {
    uint64_t x;
    return read_uint(x);
  }
  case kind::sint: {
    int64_t x;
    return read_int(x);
  }
  case kind::real: {
    double x;
    return read_double(x);
  }
  case kind::str: {
    std::string_view x;
    return read_str(x);
  }
  case kind::bin: {
    std::string_view x;
    return read_bin(x);
  }
  case kind::array: {
    uint32_t n;
    if (!read_array_header(n))
      return false;
    for (uint32_t i = 0; i < n; ++i)
      if (!skip_impl(depth + 1))
        return false;
    return true;
  }
  case kind::map: {
    uint32_t n;
    if (!read_map_header(n))
      return false;
    for (uint32_t i = 0; i < n; ++i)
      if (!skip_impl(depth + 1) || !skip_impl(depth + 1))
        return false;
    return true;
  }
  case kind::ext: {
    auto t = *pos_++;
    size_t n;
    switch (t) {
    case 0xd4:
      n = 1;
      break;
    case 0xd5:
      n = 2;
      break;
    case 0xd6:
      n = 4;
      break;
    case 0xd7:
      n = 8;
      break;
    case 0xd8:
      n = 16;
      break;
    case 0xc7:
      n = be(1);
      break;
    case 0xc8:
      n = be(2);
      break;
    default:
      n = be(4);
      break;
    }
    return need(n + 1) && (pos_ += n + 1, true);
  }
  default:
    return fail();
  }
}

bool find_map_key(msgpack_reader& rd, std::string_view key) {
  uint32_t n = 0;
  if (rd.peek() != msgpack_reader::kind::map || !rd.read_map_header(n))
    return false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view k;
    if (!rd.read_str(k))
      return false;
    if (k == key)
      return true;
    if (!rd.skip())
      return false;
  }
  return false;
}

} // namespace dine
