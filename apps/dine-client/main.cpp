// dine-client: sends requests over the client protocol and prints each
// reply as one JSON line (see options.cpp for the flags).

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "convert.hpp"
#include "messages/errc.hpp"
#include "options.hpp"
#include "runtime/client_conn.hpp"
#include "runtime/failover_client.hpp"
#include "runtime/wire.hpp"

using namespace dine;
using namespace dine::client;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_error_reply = 1;
constexpr int exit_usage = 2;

int usage_error(const std::string& msg) {
  std::cerr << "dine-client: " << msg << "\n(see dine-client --help)\n";
  return exit_usage;
}

/// Reads --file: one request per non-empty line, framed back to back.
/// Returns an empty string or a message naming the bad line.
std::string load_requests(const options& opts,
                          std::vector<std::vector<char>>& frames,
                          std::vector<client_request>& reqs) {
  std::ifstream file;
  if (opts.file != "-") {
    file.open(opts.file);
    if (!file)
      return "--file: cannot open `" + opts.file + "`";
  }
  std::istream& in = opts.file == "-" ? std::cin : file;
  std::string line;
  size_t line_no = 0;
  client_request req;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto where = opts.file + ":" + std::to_string(line_no) + ": ";
    nlohmann::json fields;
    try {
      fields = nlohmann::json::parse(line);
    } catch (const std::exception& ex) {
      return where + "invalid JSON: " + ex.what();
    }
    auto err = make_request(fields, opts, frames.size() + 1, req);
    if (!err.empty())
      return where + err;
    frames.emplace_back();
    append_request(frames.back(), req);
    reqs.push_back(req);
  }
  return {};
}

/// Tallies the replies of one run.
struct tally {
  size_t sent = 0;
  size_t ok = 0;
  std::map<std::string, size_t> errors;

  void add(const client_reply& r) {
    if (r.code == 0)
      ++ok;
    else
      ++errors[to_string(static_cast<errc>(r.code))];
  }

  size_t error_count() const {
    size_t n = 0;
    for (auto& kv : errors)
      n += kv.second;
    return n;
  }

  void print_summary() const {
    nlohmann::ordered_json j;
    j["sent"] = sent;
    j["ok"] = ok;
    j["errors"] = nlohmann::ordered_json::object();
    for (auto& [code, n] : errors)
      j["errors"][code] = n;
    std::cerr << j.dump() << std::endl;
  }
};

/// Sends every frame with at most `opts.pipeline` in flight.
int run_file(client_conn& conn, const options& opts,
             const std::vector<std::vector<char>>& frames,
             std::chrono::milliseconds timeout) {
  tally t;
  std::unordered_set<uint64_t> outstanding;
  size_t next = 0;
  std::vector<char> buf;
  client_reply reply;
  while (next < frames.size() || !outstanding.empty()) {
    buf.clear();
    while (next < frames.size() && outstanding.size() < opts.pipeline) {
      buf.insert(buf.end(), frames[next].begin(), frames[next].end());
      outstanding.insert(++next); // ids are 1-based line numbers
    }
    if (!buf.empty()) {
      if (auto err = conn.send_frames(buf, timeout); !err.empty()) {
        std::cerr << "dine-client: " << err << '\n';
        t.print_summary();
        return exit_usage;
      }
      t.sent = next;
    }
    if (auto err = conn.read_reply(reply, timeout); !err.empty()) {
      std::cerr << "dine-client: " << err << " (" << outstanding.size()
                << " requests unanswered)\n";
      t.print_summary();
      return exit_usage;
    }
    if (outstanding.erase(reply.id) == 0) {
      std::cerr << "dine-client: reply with unknown id " << reply.id << '\n';
      ++t.errors["bad_reply"];
      continue;
    }
    t.add(reply);
    std::cout << to_line(reply_to_json(reply)) << std::endl;
  }
  t.print_summary();
  return t.error_count() == 0 ? exit_ok : exit_error_reply;
}

int run_single(client_conn& conn, const options& opts,
               std::chrono::milliseconds timeout) {
  client_request req;
  if (auto err = make_request(nlohmann::json::object(), opts, 1, req);
      !err.empty())
    return usage_error(err);
  std::vector<char> buf;
  append_request(buf, req);
  if (auto err = conn.send_frames(buf, timeout); !err.empty()) {
    std::cerr << "dine-client: " << err << '\n';
    return exit_usage;
  }
  client_reply reply;
  // A stream's chunks (bounded: each read waits at most `timeout`).
  for (;;) {
    if (auto err = conn.read_reply(reply, timeout); !err.empty()) {
      std::cerr << "dine-client: " << err << '\n';
      return exit_usage;
    }
    if (reply.frame != reply_frame::chunk)
      break;
    try {
      auto j = nlohmann::json::from_msgpack(reply.outputs);
      std::cout << j.value("text", std::string{}) << std::flush;
    } catch (const std::exception&) {
      std::cout << "?" << std::flush; // not a {text, tokens} map
    }
  }
  if (reply.frame == reply_frame::last)
    std::cout << '\n';
  std::cout << to_line(reply_to_json(reply)) << std::endl;
  if (reply.id != req.id) {
    std::cerr << "dine-client: reply id " << reply.id << " does not match "
              << req.id << '\n';
    return exit_error_reply;
  }
  return reply.code == 0 ? exit_ok : exit_error_reply;
}

/// Several coordinators: every request through a failover_client, which
/// resends what a dead or deposed coordinator left unanswered.
int run_failover(const options& opts, std::vector<client_request> reqs,
                 std::chrono::milliseconds timeout) {
  if (opts.file.empty()) {
    reqs.emplace_back();
    if (auto err = make_request(nlohmann::json::object(), opts, 1, reqs[0]);
        !err.empty())
      return usage_error(err);
  }
  failover_client fc{opts.addrs, opts.api_key, timeout};
  tally t;
  size_t next = 0;
  client_reply reply;
  while (next < reqs.size() || fc.pending() > 0) {
    while (next < reqs.size() && fc.pending() < opts.pipeline) {
      fc.send(std::move(reqs[next++])); // kept pending if no one took it
      t.sent = next;
    }
    if (auto err = fc.next(reply, timeout); !err.empty()) {
      std::cerr << "dine-client: " << err << " (" << fc.pending()
                << " requests unanswered)\n";
      if (!opts.file.empty())
        t.print_summary();
      return exit_usage;
    }
    if (reply.frame == reply_frame::chunk)
      continue;
    t.add(reply);
    std::cout << to_line(reply_to_json(reply)) << std::endl;
  }
  if (fc.failovers() > 0)
    std::cerr << "dine-client: failed over " << fc.failovers()
              << " time(s), resent " << fc.resent() << " request(s); now on "
              << fc.current() << std::endl;
  if (!opts.file.empty())
    t.print_summary();
  return t.error_count() == 0 ? exit_ok : exit_error_reply;
}

} // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  options opts;
  if (auto err = parse_options(argc, argv, opts); !err.empty())
    return usage_error(err);
  if (opts.help) {
    std::cout << usage;
    return exit_ok;
  }
  std::vector<std::vector<char>> frames;
  std::vector<client_request> reqs;
  if (!opts.file.empty())
    if (auto err = load_requests(opts, frames, reqs); !err.empty())
      return usage_error(err);
  auto timeout = std::chrono::milliseconds{
      static_cast<int64_t>(opts.timeout_s * 1000 + 0.5)};
  if (timeout.count() == 0)
    timeout = std::chrono::milliseconds{1};
  if (opts.addrs.size() > 1)
    return run_failover(opts, std::move(reqs), timeout);
  client_conn conn;
  if (opts.tls)
    conn.use_tls(opts.tls_ctx);
  if (auto err = conn.connect(opts.host, opts.port, timeout); !err.empty()) {
    std::cerr << "dine-client: --connect: " << err << '\n';
    return exit_usage;
  }
  if (!opts.api_key.empty())
    if (auto err = conn.hello(opts.api_key, timeout); !err.empty()) {
      std::cerr << "dine-client: hello: " << err << '\n';
      return exit_error_reply;
    }
  if (opts.file.empty())
    return run_single(conn, opts, timeout);
  return run_file(conn, opts, frames, timeout);
}
