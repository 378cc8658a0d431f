// The two forms of `sqltrack compare`: a table of text and one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "sqltrack/read/run_comparison.hpp"
#include "sqltrack/read/status_table.hpp"
#include "sqltrack/util/terminal_text.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

// Wider cells would wrap the table on a usual terminal; --json has every value whole.
constexpr std::size_t kMaxCellWidth = 40;

using Row = std::vector<std::string>;

// Printable and at most kMaxCellWidth columns wide, "…" where it was cut; "-" for nothing.
std::string cell(const std::string& text) {
  if (text.empty()) return "-";
  std::string shown = printable(text);
  if (display_width(shown) <= kMaxCellWidth) return shown;
  return std::string(truncate_to_width(shown, kMaxCellWidth - 1)) + "…";
}

std::string cell(const std::optional<std::string>& text) {
  return cell(text.value_or(""));
}

// Six significant digits: enough to tell runs apart at a glance.
std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

std::string value_text(const db::Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return number_text(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visitor{}, value);
}

std::string at_step_text(const std::optional<ValueAtStep>& point) {
  if (!point) return "";
  return value_text(point->value) + " (step " + std::to_string(point->step) + ")";
}

std::string duration_text(const ComparedRun& run) {
  if (!run.duration_seconds) return "";
  return format_duration(std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(*run.duration_seconds)));
}

// One row per fact: a label, then a cell per run.
template <class CellOf>
Row fact_row(const std::string& label, const RunComparison& comparison, CellOf cell_of) {
  Row row{cell(label)};
  for (const auto& run : comparison.runs) row.push_back(cell(cell_of(run)));
  return row;
}

// "3f2a9c1 main" (the commit as git abbreviates it, the branch), " dirty" when tracked files
// had changes; empty outside a git work tree.
std::string git_text(const ComparedRun& run) {
  if (!run.git.is_object()) return "";
  auto field = [&](const char* key) {
    auto it = run.git.find(key);
    return it != run.git.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string text = field("commit").substr(0, 7);
  if (!field("branch").empty()) text += " " + field("branch");
  auto dirty = run.git.find("dirty");
  if (dirty != run.git.end() && dirty->is_boolean() && dirty->get<bool>()) text += " dirty";
  return text;
}

void add_run_rows(std::vector<Row>& rows, const RunComparison& comparison) {
  rows.push_back(
      fact_row("experiment", comparison, [](const auto& run) { return run.experiment; }));
  rows.push_back(fact_row("status", comparison, [](const auto& run) { return run.status; }));
  rows.push_back(fact_row("started", comparison, [](const auto& run) {
    return run.time_started ? local_time_text(run.time_started) : "";
  }));
  rows.push_back(fact_row("duration", comparison, duration_text));
  rows.push_back(fact_row("host", comparison, [](const auto& run) { return run.host; }));
  rows.push_back(fact_row("comment", comparison, [](const auto& run) { return run.comment; }));
  rows.push_back(fact_row("code", comparison, git_text));
  for (const auto& key : comparison.tag_keys) {
    rows.push_back(fact_row("tag " + key, comparison, [&](const ComparedRun& run) {
      auto it = run.tags.find(key);
      return it == run.tags.end() ? std::string() : json_value_text(*it);
    }));
  }
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : " ") + item;
  return text;
}

// The items only some runs have; the whole command line when they are the same (or differ
// only in order).
void add_args_row(std::vector<Row>& rows, const RunComparison& comparison) {
  const bool shows_items = std::any_of(comparison.runs.begin(), comparison.runs.end(),
                                       [](const auto& run) { return !run.args_only_here.empty(); });
  if (shows_items) {
    rows.push_back(fact_row("args (differing)", comparison,
                            [](const auto& run) { return joined(run.args_only_here); }));
  } else {
    rows.push_back(fact_row("args", comparison,
                            [](const auto& run) { return joined(command_line_items(run.args)); }));
  }
}

void add_env_rows(std::vector<Row>& rows, const RunComparison& comparison) {
  for (const auto& name : comparison.differing_env) {
    rows.push_back(fact_row("env " + name, comparison, [&](const ComparedRun& run) {
      if (!run.env.is_object()) return std::string();
      auto it = run.env.find(name);
      return it == run.env.end() ? std::string() : json_value_text(*it);
    }));
  }
}

void add_metric_rows(std::vector<Row>& rows, const RunComparison& comparison) {
  for (const auto& metric : comparison.metrics) {
    auto row_of = [&](const std::string& which, auto point_of) {
      Row row{cell(metric.name + " " + which)};
      for (const auto& run : metric.runs) row.push_back(cell(run ? point_of(*run) : ""));
      rows.push_back(std::move(row));
    };
    row_of("last", [](const RunMetric& run) { return at_step_text(run.last); });
    if (!metric.numeric) continue;
    row_of("min", [](const RunMetric& run) { return at_step_text(run.min); });
    row_of("max", [](const RunMetric& run) { return at_step_text(run.max); });
  }
}

std::vector<std::string> aligned_lines(const std::vector<Row>& rows) {
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  std::vector<std::string> lines;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - display_width(row[c]) + 2, ' ');
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

nlohmann::json value_json(const db::Value& value) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(std::int64_t v) const { return v; }
    nlohmann::json operator()(double v) const { return v; }  // NaN, inf: null when dumped
    nlohmann::json operator()(bool v) const { return v; }
    nlohmann::json operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visitor{}, value);
}

nlohmann::json at_step_json(const std::optional<ValueAtStep>& point) {
  if (!point) return nullptr;
  return {{"value", value_json(point->value)}, {"step", point->step}};
}

template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json run_json(const RunComparison& comparison, std::size_t r) {
  const ComparedRun& run = comparison.runs[r];
  nlohmann::json env = nullptr;
  if (run.env.is_object()) {
    env = nlohmann::json::object();
    for (const auto& name : comparison.differing_env) {
      auto it = run.env.find(name);
      env[name] = it == run.env.end() ? nlohmann::json(nullptr) : *it;
    }
  }
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& metric : comparison.metrics) {
    const auto& values = metric.runs[r];
    metrics[metric.name] = values ? nlohmann::json{{"last", at_step_json(values->last)},
                                                   {"min", at_step_json(values->min)},
                                                   {"max", at_step_json(values->max)}}
                                  : nlohmann::json(nullptr);
  }
  return {{"run_id", run.id},
          {"experiment", run.experiment},
          {"status", run.status},
          {"time_started", optional_json(run.time_started)},
          {"time_ended", optional_json(run.time_ended)},
          {"duration_seconds", optional_json(run.duration_seconds)},
          {"host", optional_json(run.host)},
          {"comment", optional_json(run.comment)},
          {"git", run.git},
          {"tags", run.tags},
          {"args", run.args},
          {"args_only_here", run.args_only_here},
          {"env", env},
          {"metrics", metrics}};
}

}  // namespace

std::vector<std::string> comparison_table_lines(const RunComparison& comparison) {
  std::vector<Row> rows;
  Row header{""};
  for (const auto& run : comparison.runs) header.push_back("run " + std::to_string(run.id));
  rows.push_back(std::move(header));
  add_run_rows(rows, comparison);
  add_args_row(rows, comparison);
  add_env_rows(rows, comparison);
  add_metric_rows(rows, comparison);
  return aligned_lines(rows);
}

nlohmann::json comparison_to_json(const RunComparison& comparison) {
  nlohmann::json runs = nlohmann::json::array();
  for (std::size_t r = 0; r < comparison.runs.size(); ++r) {
    runs.push_back(run_json(comparison, r));
  }
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& metric : comparison.metrics) metrics.push_back(metric.name);
  return {{"runs", runs},
          {"args_differ", comparison.args_differ},
          {"tag_keys", comparison.tag_keys},
          {"differing_env", comparison.differing_env},
          {"metrics", metrics}};
}

}  // namespace sqltrack
