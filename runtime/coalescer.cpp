#include "runtime/coalescer.hpp"

#include <algorithm>

namespace dine {

bool coalescer::join(const std::string& key, uint64_t rid) {
  auto [i, added] = groups_.try_emplace(key);
  if (added) {
    i->second.leader = rid;
    return true;
  }
  i->second.followers.push_back(rid);
  ++coalesced_;
  return false;
}

std::vector<uint64_t> coalescer::complete(const std::string& key,
                                          uint64_t rid) {
  auto i = groups_.find(key);
  if (i == groups_.end() || i->second.leader != rid)
    return {};
  auto out = std::move(i->second.followers);
  groups_.erase(i);
  return out;
}

uint64_t coalescer::promote(const std::string& key, uint64_t rid) {
  auto i = groups_.find(key);
  if (i == groups_.end() || i->second.leader != rid)
    return 0;
  auto& g = i->second;
  if (g.followers.empty()) {
    groups_.erase(i);
    return 0;
  }
  g.leader = g.followers.front();
  g.followers.erase(g.followers.begin());
  return g.leader;
}

void coalescer::leave(const std::string& key, uint64_t rid) {
  auto i = groups_.find(key);
  if (i == groups_.end())
    return;
  auto& f = i->second.followers;
  f.erase(std::remove(f.begin(), f.end(), rid), f.end());
}

} // namespace dine
