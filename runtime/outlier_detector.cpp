#include "runtime/outlier_detector.hpp"

#include <algorithm>

#include "messages/errc.hpp"

namespace dine {

caf::error check(const outlier_config& cfg) {
  if (cfg.consecutive_failures == 0)
    return make_error(errc::invalid_config,
                      "outlier consecutive failures must be at least 1");
  if (cfg.base_ejection_time <= outlier_config::duration::zero())
    return make_error(errc::invalid_config,
                      "outlier base ejection time must be positive");
  if (cfg.max_ejection_time < cfg.base_ejection_time)
    return make_error(errc::invalid_config,
                      "outlier max ejection time must be at least the base "
                      "ejection time");
  if (cfg.max_ejection_percent > 100)
    return make_error(errc::invalid_config,
                      "outlier max ejection percent must be at most 100");
  if (cfg.decay_interval < outlier_config::duration::zero())
    return make_error(errc::invalid_config,
                      "outlier decay interval must not be negative");
  return caf::none;
}

const char* to_string(outlier_state x) {
  switch (x) {
  case outlier_state::ejected:
    return "ejected";
  case outlier_state::probing:
    return "probing";
  default:
    return "active";
  }
}

outlier_state worse(outlier_state a, outlier_state b) {
  auto rank = [](outlier_state x) {
    return x == outlier_state::ejected   ? 2
           : x == outlier_state::probing ? 1
                                         : 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

outlier_detector::outlier_detector(outlier_config cfg) : cfg_(cfg) {
  using std::chrono::milliseconds;
  cfg_.consecutive_failures = std::max(cfg_.consecutive_failures, 1u);
  if (cfg_.base_ejection_time <= duration::zero())
    cfg_.base_ejection_time = milliseconds{1};
  cfg_.max_ejection_time =
      std::max(cfg_.max_ejection_time, cfg_.base_ejection_time);
  cfg_.max_ejection_percent = std::min(cfg_.max_ejection_percent, 100u);
  cfg_.decay_interval = std::max(cfg_.decay_interval, duration::zero());
}

caf::expected<outlier_detector>
outlier_detector::make(const outlier_config& cfg) {
  if (auto err = check(cfg))
    return err;
  return outlier_detector{cfg};
}

bool outlier_detector::add(uint64_t id) {
  return members_.emplace(id, member{}).second;
}

bool outlier_detector::remove(uint64_t id, time_point now) {
  auto i = members_.find(id);
  if (i == members_.end())
    return false;
  if (i->second.out)
    --out_count_;
  members_.erase(i);
  if (members_.empty() || ejected_count(now) < members_.size())
    return true;
  auto first =
      std::min_element(members_.begin(), members_.end(), [](auto& x, auto& y) {
        return x.second.until < y.second.until;
      });
  first->second.until = now; // probing: its next success readmits it
  return true;
}

bool outlier_detector::contains(uint64_t id) const noexcept {
  return members_.count(id) > 0;
}

const outlier_detector::member* outlier_detector::find(uint64_t id) const {
  auto i = members_.find(id);
  return i == members_.end() ? nullptr : &i->second;
}

void outlier_detector::decay(member& m, time_point now) const {
  if (m.out || m.ejections == 0 || cfg_.decay_interval == duration::zero() ||
      now <= m.healthy_since)
    return;
  auto steps = (now - m.healthy_since) / cfg_.decay_interval;
  if (steps <= 0)
    return;
  auto forgiven =
      static_cast<uint32_t>(std::min<decltype(steps)>(steps, m.ejections));
  m.ejections -= forgiven;
  m.healthy_since += steps * cfg_.decay_interval;
}

outlier_detector::duration
outlier_detector::ejection_time(const member& m) const {
  auto result = cfg_.base_ejection_time;
  for (uint32_t i = 0; i < m.ejections && result < cfg_.max_ejection_time; ++i)
    result *= 2;
  return std::min(result, cfg_.max_ejection_time);
}

bool outlier_detector::try_eject(member& m, time_point now) {
  auto total = members_.size();
  auto ejected = ejected_count(now); // never counts `m`: it is not ejected
  auto allowed = total * cfg_.max_ejection_percent / 100;
  if (ejected + 1 > allowed || ejected + 1 >= total)
    return false; // max percent, or `m` is the last worker in service
  m.until = now + ejection_time(m);
  if (!m.out)
    ++out_count_;
  m.out = true;
  m.failures = 0;
  if (m.ejections < 64)
    ++m.ejections;
  return true;
}

void outlier_detector::on_success(uint64_t id, time_point now) {
  auto i = members_.find(id);
  if (i == members_.end())
    return;
  auto& m = i->second;
  if (m.out) {
    if (now < m.until)
      return;      // a late reply of a batch sent before the ejection
    m.out = false; // probing succeeded: readmit
    --out_count_;
    m.healthy_since = now;
  }
  decay(m, now);
  m.failures = 0;
}

bool outlier_detector::on_failure(uint64_t id, time_point now) {
  auto i = members_.find(id);
  if (i == members_.end())
    return false;
  auto& m = i->second;
  if (m.out && now < m.until)
    return false; // a late reply of a batch sent before the ejection
  decay(m, now);
  if (m.failures < UINT32_MAX)
    ++m.failures;
  if (m.out || m.failures >= cfg_.consecutive_failures)
    return try_eject(m, now);
  return false;
}

outlier_state outlier_detector::state(uint64_t id, time_point now) const {
  auto m = find(id);
  if (m == nullptr || !m->out)
    return outlier_state::active;
  return now < m->until ? outlier_state::ejected : outlier_state::probing;
}

bool outlier_detector::is_ejected(uint64_t id, time_point now) const {
  auto m = find(id);
  return m != nullptr && m->out && now < m->until;
}

size_t outlier_detector::ejected_count(time_point now) const {
  size_t result = 0;
  for (auto& kvp : members_)
    if (kvp.second.out && now < kvp.second.until)
      ++result;
  return result;
}

std::optional<outlier_detector::time_point>
outlier_detector::next_readmission(time_point now) const {
  std::optional<time_point> result;
  for (auto& kvp : members_) {
    auto& m = kvp.second;
    if (m.out && now < m.until && (!result || m.until < *result))
      result = m.until;
  }
  return result;
}

uint32_t outlier_detector::consecutive_failures(uint64_t id) const {
  auto m = find(id);
  return m != nullptr ? m->failures : 0;
}

uint32_t outlier_detector::ejections(uint64_t id) const {
  auto m = find(id);
  return m != nullptr ? m->ejections : 0;
}

std::optional<outlier_detector::time_point>
outlier_detector::ejected_until(uint64_t id) const {
  auto m = find(id);
  if (m == nullptr || !m->out)
    return std::nullopt;
  return m->until;
}

} // namespace dine
