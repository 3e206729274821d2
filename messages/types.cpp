#include "messages/types.hpp"

#include <caf/all.hpp>

#include "messages/errc.hpp"
#include "messages/interfaces.hpp"

namespace dine {

const char* to_string(op_code x) {
  switch (x) {
  case op_code::infer:
    return "infer";
  case op_code::health:
    return "health";
  case op_code::models:
    return "models";
  case op_code::stats:
    return "stats";
  case op_code::fault:
    return "fault";
  case op_code::cancel:
    return "cancel";
  case op_code::hello:
    return "hello";
  }
  return "infer";
}

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<std::vector<uint8_t>>("dine::bytes");
  cfg.add_message_type<op_code>("dine::op_code");
  cfg.add_message_type<timings>("dine::timings");
  cfg.add_message_type<stage_marks>("dine::stage_marks");
  cfg.add_message_type<client_request>("dine::client_request");
  cfg.add_message_type<client_reply>("dine::client_reply");
  cfg.add_message_type<batch_item>("dine::batch_item");
  cfg.add_message_type<batch>("dine::batch");
  cfg.add_message_type<item_result>("dine::item_result");
  cfg.add_message_type<batch_result>("dine::batch_result");
  cfg.add_message_type<stream_chunk>("dine::stream_chunk");
  cfg.add_message_type<std::vector<stream_chunk>>("dine::stream_chunks");
  cfg.add_message_type<model_decl>("dine::model_decl");
  cfg.add_message_type<worker_info>("dine::worker_info");
  cfg.add_message_type<heartbeat>("dine::heartbeat");
  cfg.add_message_type<worker_stats>("dine::worker_stats");
  cfg.add_message_type<batcher_stats>("dine::batcher_stats");
  cfg.add_message_type<cluster_stats>("dine::cluster_stats");
  cfg.add_message_type<model_info>("dine::model_info");
  cfg.add_message_type<model_version>("dine::model_version");
  cfg.add_message_type<std::vector<model_version>>("dine::model_versions");
  cfg.add_message_type<fault_kind>("dine::fault_kind");
  cfg.add_message_type<fault_spec>("dine::fault_spec");
  cfg.add_message_type<cache_entry>("dine::cache_entry");
  cfg.add_message_type<std::vector<cache_entry>>("dine::cache_entries");
  cfg.add_message_type<cache_lookup>("dine::cache_lookup");
  cfg.add_message_type<cache_hits>("dine::cache_hits");
  cfg.add_message_type<cache_stats>("dine::cache_stats");
  cfg.add_message_type<worker_actor>("dine::worker_actor");
  cfg.add_message_type<cache_actor>("dine::cache_actor");
  cfg.add_message_type<coordinator_actor>("dine::coordinator_actor");
  cfg.add_error_category(errc_category, [](uint8_t code, caf::atom_value,
                                           const caf::message& ctx) {
    std::string result = "dine::";
    result += to_string(static_cast<errc>(code));
    if (!ctx.empty()) {
      result += " (";
      result += caf::deep_to_string(ctx);
      result += ")";
    }
    return result;
  });
}

} // namespace dine

namespace dine {

namespace {

constexpr const char* fault_names[] = {"off",  "crash", "crash_on_start",
                                       "hang", "error", "slow"};

} // namespace

const char* to_string(fault_kind x) {
  auto i = static_cast<size_t>(x);
  return i < 6 ? fault_names[i] : "off";
}

bool from_string(const std::string& name, fault_kind& out) {
  for (size_t i = 0; i < 6; ++i)
    if (name == fault_names[i]) {
      out = static_cast<fault_kind>(i);
      return true;
    }
  return false;
}

} // namespace dine
