// expiry_record: the 8-byte expiry header of stored records.

#include <doctest/doctest.h>

#include <cstdint>

#include "runtime/expiry_record.hpp"

using namespace dine;

TEST_CASE("the expiry header is 8 bytes little endian and round-trips") {
  uint8_t buf[expiry_header_size + 1] = {};
  buf[expiry_header_size] = 0xee; // the value's first byte stays
  write_expiry(buf, 0x0102030405060708ull);
  CHECK(buf[0] == 0x08);
  CHECK(buf[7] == 0x01);
  CHECK(buf[expiry_header_size] == 0xee);
  CHECK(read_expiry(buf) == 0x0102030405060708ull);
  write_expiry(buf, UINT64_MAX);
  CHECK(read_expiry(buf) == UINT64_MAX);
}

TEST_CASE("expiry 0 never expires, others at their millisecond") {
  CHECK_FALSE(is_expired(0, UINT64_MAX));
  CHECK_FALSE(is_expired(1050, 1049));
  CHECK(is_expired(1050, 1050));
  CHECK(is_expired(1050, 1051));
}
