#pragma once
// Hands a fuzz input to a loader that takes a path: the bytes go to a
// memfd, named by its /proc/self/fd path (no disk, no temporary files).

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace dine::fuzz {

class mem_file {
public:
  mem_file(const uint8_t* data, size_t size) {
    fd_ = memfd_create("dine-fuzz", 0);
    if (fd_ < 0)
      abort();
    size_t off = 0;
    while (off < size) {
      auto n = write(fd_, data + off, size - off);
      if (n <= 0)
        abort();
      off += static_cast<size_t>(n);
    }
  }
  mem_file(const mem_file&) = delete;
  mem_file& operator=(const mem_file&) = delete;
  ~mem_file() { close(fd_); }

  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

private:
  int fd_ = -1;
};

} // namespace dine::fuzz
