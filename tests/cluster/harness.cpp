#include "harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <poll.h>

#include "runtime/client_conn.hpp"
#include "runtime/wire.hpp"

namespace fs = std::filesystem;

namespace dine::test {

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/dine-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string bin(const std::string& name) {
  return std::string{DINE_BIN_DIR} + "/" + name;
}

node_process::node_process(const std::string& dir, const std::string& name,
                           std::vector<std::string> args,
                           std::chrono::milliseconds timeout) {
  auto ready_path = dir + "/" + name + ".ready";
  log_path_ = dir + "/" + name + ".log";
  args.insert(args.begin(), bin("dine-node"));
  args.push_back("--ready-file=" + ready_path);
  // Each node gets its own cache directory in the scratch dir, so no test
  // sees another's (or an earlier run's) cached results.
  bool has_cache_dir = false;
  for (auto& a : args)
    has_cache_dir = has_cache_dir || a.rfind("--cache-dir=", 0) == 0;
  if (!has_cache_dir)
    args.push_back("--cache-dir=" + dir + "/" + name + ".cache");
  auto parent = getpid();
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Die with the test process, whatever happens to it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    if (chdir(dir.c_str()) != 0)
      _exit(127);
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in{ready_path};
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      ready_ = nlohmann::json::parse(ss.str(), nullptr, false);
      if (!ready_.is_discarded())
        return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(name + " exited early: " + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  kill_now();
  throw std::runtime_error(name + " not ready in time: " + log());
}

node_process::~node_process() {
  kill_now();
}

void node_process::signal(int sig) {
  if (pid_ > 0)
    ::kill(pid_, sig);
}

void node_process::kill_now() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int node_process::wait_exit(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return -1;
}

std::string node_process::log() const {
  std::ifstream in{log_path_};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_inflight(uint16_t port, uint64_t n,
                   std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (op(port, op_code::stats)["requests"]["inflight"] != n) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return true;
}

std::vector<uint8_t> inputs_for(uint64_t i) {
  auto bytes = nlohmann::json::to_msgpack(nlohmann::json{{"i", i}});
  return {bytes.begin(), bytes.end()};
}

load_result run_load(uint16_t port, const std::string& model, size_t count,
                     size_t conns, size_t depth,
                     std::chrono::milliseconds timeout, uint32_t deadline_ms) {
  load_result res;
  std::vector<std::unique_ptr<client_conn>> cs;
  for (size_t c = 0; c < conns; ++c) {
    cs.push_back(std::make_unique<client_conn>());
    auto err = cs.back()->connect("127.0.0.1", port, std::chrono::seconds{5});
    if (!err.empty()) {
      res.error = err;
      return res;
    }
  }
  // Request ids are spread round-robin over the connections.
  std::vector<size_t> next(conns), outstanding(conns, 0), received(conns, 0);
  std::vector<size_t> quota(conns, count / conns);
  for (size_t c = 0; c < count % conns; ++c)
    ++quota[c];
  std::vector<std::vector<uint64_t>> ids(conns);
  for (uint64_t i = 0; i < count; ++i)
    ids[i % conns].push_back(i + 1);
  auto until = std::chrono::steady_clock::now() + timeout;
  size_t done = 0;
  auto record = [&](size_t c, client_reply& rep) {
    auto& rs = res.replies[rep.id];
    if (rep.id == 0 || rep.id > count || (rep.id - 1) % conns != c) {
      ++res.unknown;
    } else if (!rs.empty()) {
      ++res.duplicates;
    } else {
      --outstanding[c];
      ++done;
    }
    rs.push_back(std::move(rep));
  };
  // Reads and records one reply of connection `c`, waiting up to `wait`.
  // Returns false if none came; a transport error sets `res.error`.
  auto read_one = [&](size_t c, std::chrono::milliseconds wait) {
    client_reply rep;
    auto err = cs[c]->read_reply(rep, wait);
    if (!err.empty()) {
      if (!cs[c]->timed_out())
        res.error = err;
      return false;
    }
    record(c, rep);
    return true;
  };
  while (done < count && std::chrono::steady_clock::now() < until) {
    for (size_t c = 0; c < conns; ++c) {
      std::vector<char> buf;
      while (outstanding[c] < depth && next[c] < ids[c].size()) {
        client_request req;
        req.id = ids[c][next[c]++];
        req.model = model;
        req.inputs = inputs_for(req.id - 1);
        req.deadline_ms = deadline_ms;
        req.cache = false; // every request reaches a worker
        append_request(buf, req);
        ++outstanding[c];
        ++res.sent;
      }
      if (!buf.empty()) {
        auto err = cs[c]->send_frames(buf);
        if (!err.empty()) {
          res.error = err;
          return res;
        }
      }
      // Drain whatever replies are there, wait briefly for the first.
      auto wait = std::chrono::milliseconds{5};
      while (outstanding[c] > 0 && read_one(c, wait))
        wait = std::chrono::milliseconds{0};
      if (!res.error.empty())
        return res;
    }
  }
  if (done < count)
    return res; // the caller reports what is missing
  // The quiet period: any reply now is one too many.
  auto quiet = std::chrono::milliseconds{deadline_ms + 250};
  auto quiet_until = std::chrono::steady_clock::now() + quiet;
  auto hard_until = quiet_until + 3 * quiet; // a node that never stops
  while (std::chrono::steady_clock::now() < quiet_until &&
         std::chrono::steady_clock::now() < hard_until) {
    bool any = false;
    for (size_t c = 0; c < conns; ++c) {
      any = read_one(c, std::chrono::milliseconds{c == 0 ? 10 : 0}) || any;
      if (!res.error.empty())
        return res;
    }
    if (any) // a reply restarts the quiet period
      quiet_until = std::chrono::steady_clock::now() + quiet;
  }
  return res;
}

client_reply call(uint16_t port, const client_request& req,
                  std::chrono::milliseconds timeout) {
  client_conn conn;
  auto err = conn.connect("127.0.0.1", port, std::chrono::seconds{5});
  if (!err.empty())
    throw std::runtime_error("connect: " + err);
  std::vector<char> buf;
  append_request(buf, req);
  err = conn.send_frames(buf);
  if (!err.empty())
    throw std::runtime_error("send: " + err);
  client_reply rep;
  err = conn.read_reply(rep, timeout);
  if (!err.empty())
    throw std::runtime_error("read: " + err);
  return rep;
}

nlohmann::json op(uint16_t port, op_code which) {
  client_request req;
  req.id = 1;
  req.op = which;
  auto rep = call(port, req);
  if (rep.code != 0)
    throw std::runtime_error("op failed: " + rep.message);
  return nlohmann::json::from_msgpack(rep.outputs);
}

} // namespace dine::test
