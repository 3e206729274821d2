#include "runtime/pipeline_spec.hpp"

#include <algorithm>

#include "messages/errc.hpp"
#include "runtime/config_parse.hpp"

namespace dine {

namespace {

constexpr step_kind all_kinds[] = {
    step_kind::normalize, step_kind::tokenize, step_kind::detokenize,
    step_kind::softmax,   step_kind::top_k,    step_kind::labels,
    step_kind::pass,
};

/// Labels are short; a hostile config cannot make a step hold much.
constexpr size_t max_labels = 100000;

caf::error bad(const std::string& step, const std::string& what) {
  return make_error(errc::invalid_config, "step `" + step + "`: " + what);
}

bool allowed(step_kind k, step_list which) {
  switch (k) {
  case step_kind::normalize:
  case step_kind::tokenize:
    return which == step_list::pre;
  case step_kind::detokenize:
  case step_kind::softmax:
  case step_kind::top_k:
  case step_kind::labels:
    return which == step_list::post;
  case step_kind::pass:
    return true;
  }
  return false;
}

/// Splits `s` at runs of blanks.
std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
      ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t')
      ++j;
    if (j > i)
      out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

caf::expected<step_spec> parse_step(const std::string& text, step_list which) {
  auto ws = words(text);
  if (ws.empty())
    return bad(text, "empty step");
  step_spec s;
  auto head = ws[0];
  auto at = head.find('@');
  auto name = head.substr(0, at);
  if (at != std::string::npos) {
    auto place = head.substr(at + 1);
    if (place == "pool")
      s.place = step_place::pool;
    else if (place != "worker")
      return bad(name, "place `" + place + "` is not `worker` or `pool`");
  }
  auto k = std::find_if(std::begin(all_kinds), std::end(all_kinds),
                        [&](step_kind x) { return name == to_string(x); });
  if (k == std::end(all_kinds))
    return bad(name, "unknown step (normalize, tokenize, detokenize, "
                     "softmax, top-k, labels, pass)");
  s.kind = *k;
  if (!allowed(s.kind, which))
    return bad(name, which == step_list::pre ? "is a postprocessing step"
                                             : "is a preprocessing step");
  for (size_t i = 1; i < ws.size(); ++i) {
    auto eq = ws[i].find('=');
    if (eq == std::string::npos || eq == 0)
      return bad(name, "option `" + ws[i] + "` is not KEY=VALUE");
    auto key = ws[i].substr(0, eq);
    auto value = ws[i].substr(eq + 1);
    bool text_step =
        s.kind == step_kind::normalize || s.kind == step_kind::tokenize;
    if (key == "cost-us") {
      if (!parse_uint(value, s.cost_us, 0, 10000000))
        return bad(name, "`cost-us` must be microseconds 0-10000000");
    } else if (key == "field" && text_step) {
      if (value.empty())
        return bad(name, "`field` is empty");
      s.field = value;
    } else if (key == "case" && s.kind == step_kind::normalize) {
      if (value != "fold" && value != "keep")
        return bad(name, "`case` must be `fold` or `keep`");
      s.fold_case = value == "fold";
    } else if (key == "k" && s.kind == step_kind::top_k) {
      if (!parse_uint(value, s.k, 1, 1000000))
        return bad(name, "`k` must be an integer 1-1000000");
    } else if (key == "names" && s.kind == step_kind::labels) {
      s.names.clear();
      size_t from = 0;
      for (;;) {
        auto bar = value.find('|', from);
        s.names.push_back(value.substr(from, bar - from));
        if (s.names.size() > max_labels)
          return bad(name, "more than 100000 labels");
        if (bar == std::string::npos)
          break;
        from = bar + 1;
      }
    } else {
      return bad(name, "unknown option `" + key + "`");
    }
  }
  if (s.kind == step_kind::labels && s.names.empty())
    return bad(name, "needs `names=a|b|...`");
  return s;
}

} // namespace

const char* to_string(step_kind x) {
  switch (x) {
  case step_kind::normalize:
    return "normalize";
  case step_kind::tokenize:
    return "tokenize";
  case step_kind::detokenize:
    return "detokenize";
  case step_kind::softmax:
    return "softmax";
  case step_kind::top_k:
    return "top-k";
  case step_kind::labels:
    return "labels";
  case step_kind::pass:
    return "pass";
  }
  return "?";
}

bool pipeline_spec::any_at(const std::vector<step_spec>& steps,
                           step_place where) {
  return std::any_of(steps.begin(), steps.end(),
                     [&](const step_spec& s) { return s.place == where; });
}

std::vector<step_spec> pipeline_spec::at(const std::vector<step_spec>& steps,
                                         step_place where) {
  std::vector<step_spec> out;
  for (auto& s : steps)
    if (s.place == where)
      out.push_back(s);
  return out;
}

caf::expected<std::vector<step_spec>> parse_steps(const std::string& text,
                                                  step_list which) {
  std::vector<step_spec> out;
  if (words(text).empty())
    return out;
  size_t from = 0;
  for (;;) {
    auto comma = text.find(',', from);
    auto s = parse_step(text.substr(from, comma - from), which);
    if (!s)
      return std::move(s.error());
    out.push_back(std::move(*s));
    if (comma == std::string::npos)
      break;
    from = comma + 1;
  }
  // The first place a request meets must come first: the pool before the
  // worker for preprocessing, the worker before the pool after it.
  auto first = which == step_list::pre ? step_place::pool : step_place::worker;
  bool seen_second = false;
  for (auto& s : out) {
    if (s.place != first)
      seen_second = true;
    else if (seen_second)
      return bad(to_string(s.kind),
                 which == step_list::pre
                     ? "a @pool step must come before every @worker step "
                       "(the pool runs before the model worker)"
                     : "a @worker step must come before every @pool step "
                       "(the pool runs after the model worker)");
  }
  return out;
}

std::string steps_text(const std::vector<step_spec>& steps) {
  std::string out;
  step_spec defaults;
  for (auto& s : steps) {
    if (!out.empty())
      out += ", ";
    out += to_string(s.kind);
    out += s.place == step_place::pool ? "@pool" : "@worker";
    if (s.cost_us != 0)
      out += " cost-us=" + std::to_string(s.cost_us);
    if ((s.kind == step_kind::normalize || s.kind == step_kind::tokenize) &&
        s.field != defaults.field)
      out += " field=" + s.field;
    if (s.kind == step_kind::normalize && !s.fold_case)
      out += " case=keep";
    if (s.kind == step_kind::top_k)
      out += " k=" + std::to_string(s.k);
    if (s.kind == step_kind::labels) {
      out += " names=";
      for (size_t i = 0; i < s.names.size(); ++i)
        out += (i == 0 ? "" : "|") + s.names[i];
    }
  }
  return out;
}

std::string stage_model_name(const std::string& model, step_list which) {
  return model + (which == step_list::pre ? "@pre" : "@post");
}

std::string fallback_model_name(const std::string& model, step_list which) {
  return model + (which == step_list::pre ? "@pre-fallback" : "@post-fallback");
}

} // namespace dine
