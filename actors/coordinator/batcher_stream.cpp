// The streaming half of the batcher (see batcher.hpp): forwarding the
// chunks of streamed generations and cancelling requests.

#include "actors/coordinator/batcher.hpp"
#include "actors/coordinator/batcher_state.hpp"

namespace dine {

void forward_chunks(batcher_self self, std::vector<stream_chunk>& chunks) {
  auto& st = self->state;
  std::vector<stream_chunk> out;
  out.reserve(chunks.size());
  for (auto& c : chunks) {
    auto i = st.batches.find(c.bid);
    if (i == st.batches.end())
      continue;
    auto& f = i->second;
    for (size_t k = 0; k < f.items.size(); ++k)
      if (f.items[k].req.id == c.rid && !f.answered[k]) {
        f.streamed[k] = true;
        out.push_back(std::move(c));
        break;
      }
  }
  if (!out.empty())
    self->send(st.coord, std::move(out));
}

void cancel_request(batcher_self self, uint64_t rid) {
  auto& st = self->state;
  for (auto& [bid, f] : st.batches)
    for (size_t k = 0; k < f.items.size(); ++k)
      if (f.items[k].req.id == rid) {
        // Also when answered here already (its deadline): the sequence
        // may still run on the worker.
        f.answered[k] = true;
        if (auto s = find_slot(st, f.worker))
          self->send(s->hdl, cancel_atom::value, st.model.name, rid);
        return;
      }
  st.cancelled.emplace(rid, batcher_state::clock::now());
}

} // namespace dine
