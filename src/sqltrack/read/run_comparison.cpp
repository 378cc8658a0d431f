#include "sqltrack/read/run_comparison.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <set>

#include "sqltrack/read/metric_series.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

// The run ids bound as $1..$n, and "$1, ..., $n" for an IN list.
struct IdList {
  std::vector<db::Value> params;
  std::string placeholders;
};

IdList id_list(std::span<const std::int64_t> ids) {
  IdList list;
  for (auto id : ids) {
    list.params.emplace_back(id);
    list.placeholders +=
        (list.placeholders.empty() ? "$" : ", $") + std::to_string(list.params.size());
  }
  return list;
}

std::optional<std::string> normalized_time(const std::optional<std::string>& stored) {
  if (!stored) return std::nullopt;
  auto time = parse_timestamp(*stored);
  return time ? format_timestamp(*time) : *stored;
}

nlohmann::json json_column(const std::optional<std::string>& text, nlohmann::json fallback) {
  if (!text) return fallback;
  auto parsed = nlohmann::json::parse(*text, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

ComparedRun compared_run(const std::vector<std::optional<std::string>>& row) {
  ComparedRun run;
  run.id = std::stoll(row[0].value_or("0"));
  run.experiment = row[1].value_or("");
  run.status = row[2].value_or("");
  run.time_started = normalized_time(row[3]);
  run.time_ended = normalized_time(row[4]);
  auto started = row[3] ? parse_timestamp(*row[3]) : std::nullopt;
  auto ended = row[4] ? parse_timestamp(*row[4]) : std::nullopt;
  if (started && ended) {
    using namespace std::chrono;
    run.duration_seconds =
        static_cast<double>(duration_cast<microseconds>(*ended - *started).count()) / 1e6;
  }
  run.host = row[5];
  run.comment = row[6];
  auto tags = json_column(row[7], nlohmann::json::object());
  if (tags.is_object()) run.tags = std::move(tags);
  auto args = json_column(row[8], nlohmann::json::array());
  if (args.is_array()) run.args = std::move(args);
  auto env = json_column(row[9], nullptr);
  // A run made by enqueue or submit has no environment until a wrapper runs it.
  if (env.is_object() && !env.empty()) run.env = std::move(env);
  auto git = json_column(row[10], nullptr);
  if (git.is_object()) run.git = std::move(git);
  return run;
}

std::vector<ComparedRun> read_runs(db::Database& db, std::span<const std::int64_t> ids) {
  const IdList list = id_list(ids);
  auto found = db.query(
      "SELECT r.id, e.name, r.status, r.time_started, r.time_ended, r.hostname, r.comment, "
      "r.tags, r.args, r.env, r.git FROM runs r JOIN experiments e ON e.id = r.experiment_id "
      "WHERE r.id IN (" +
          list.placeholders + ")",
      list.params);
  std::vector<ComparedRun> runs;
  for (auto id : ids) {
    auto row = std::find_if(found.rows.begin(), found.rows.end(),
                            [&](const auto& r) { return r[0] == std::to_string(id); });
    if (row == found.rows.end()) throw Error("no run " + std::to_string(id));
    runs.push_back(compared_run(*row));
  }
  return runs;
}

// SQLite keeps booleans as 0/1 and times as the text written: one form on both engines.
db::Value normalized_metric_value(const MetricColumn& column, const db::Value& value) {
  if (column.kind == MetricColumnKind::boolean) {
    if (const auto* number = std::get_if<std::int64_t>(&value)) return *number != 0;
  }
  if (column.kind == MetricColumnKind::timestamp) {
    if (const auto* text = std::get_if<std::string>(&value)) {
      if (auto time = parse_timestamp(*text)) return format_timestamp(*time);
    }
  }
  return value;
}

// One query per column: each run's rows ranked three ways, the first of each ranking kept.
std::string metric_extremes_sql(db::Engine engine, const MetricColumn& column, bool numeric,
                                const std::string& run_ids) {
  const std::string value = "m." + db::quote_identifier(column.name);
  // PostgreSQL orders NaN above every number; SQLite stores NaN as NULL.
  std::string nan_last;
  if (numeric && engine == db::Engine::postgres && column.kind != MetricColumnKind::integer) {
    nan_last = "CASE WHEN " + value + " = 'NaN' THEN 1 ELSE 0 END, ";
  }
  auto first_by = [&](const std::string& direction) {
    if (!numeric) return std::string("0");
    return "row_number() OVER (PARTITION BY m.run_id ORDER BY " + nan_last + value + direction +
           ", m.step, m.progress)";
  };
  return "SELECT run_id, step, metric_value, first_min, first_max, latest FROM ("
         "SELECT m.run_id, m.step, " +
         value + " AS metric_value, " + first_by("") + " AS first_min, " + first_by(" DESC") +
         " AS first_max, row_number() OVER (PARTITION BY m.run_id ORDER BY m.step DESC, "
         "m.progress DESC) AS latest FROM metrics m WHERE m.run_id IN (" +
         run_ids + ") AND " + value +
         " IS NOT NULL) AS ranked WHERE first_min = 1 OR first_max = 1 OR latest = 1";
}

std::int64_t integer_of(const db::Value& value) {
  if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
  if (const auto* real = std::get_if<double>(&value)) return static_cast<std::int64_t>(*real);
  if (const auto* text = std::get_if<std::string>(&value)) {
    std::int64_t parsed = 0;
    std::from_chars(text->data(), text->data() + text->size(), parsed);
    return parsed;
  }
  return 0;
}

ComparedMetric read_compared_metric(db::Database& db, const MetricColumn& column,
                                    std::span<const std::int64_t> ids) {
  ComparedMetric metric{column.name, holds_numbers(column), {}};
  metric.runs.resize(ids.size());
  const IdList list = id_list(ids);
  db.stream(
      metric_extremes_sql(db.engine(), column, metric.numeric, list.placeholders), list.params,
      [](const std::vector<std::string>&) {},
      [&](std::span<const db::Value> row) {
        auto at = std::find(ids.begin(), ids.end(), integer_of(row[0]));
        if (at == ids.end()) return;
        auto& run = metric.runs[static_cast<std::size_t>(at - ids.begin())];
        if (!run) run.emplace();
        const ValueAtStep point{normalized_metric_value(column, row[2]), integer_of(row[1])};
        if (integer_of(row[3]) == 1) run->min = point;
        if (integer_of(row[4]) == 1) run->max = point;
        if (integer_of(row[5]) == 1) run->last = point;
      });
  return metric;
}

// An option: "-x", "--name", "--name=value"; not "-", "--" or a negative number.
bool is_option(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return false;
  double number = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), number);
  return ec != std::errc() || end != arg.data() + arg.size();
}

// The argument as a shell reads it back: as it is when it holds only characters no shell
// treats specially, else in single quotes.
std::string shell_word(const std::string& arg) {
  constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";
  if (!arg.empty() && arg.find_first_not_of(kPlain) == std::string::npos) return arg;
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The tag keys of every run, sorted.
std::vector<std::string> all_tag_keys(const std::vector<ComparedRun>& runs) {
  std::set<std::string> keys;
  for (const auto& run : runs) {
    for (const auto& [key, value] : run.tags.items()) keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace

RunComparison read_run_comparison(db::Database& db, std::span<const std::int64_t> run_ids) {
  std::vector<std::int64_t> ids;
  for (auto id : run_ids) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  RunComparison comparison;
  comparison.runs = read_runs(db, ids);
  std::vector<std::vector<std::string>> items;
  std::vector<nlohmann::json> envs;
  for (const auto& run : comparison.runs) {
    items.push_back(command_line_items(run.args));
    envs.push_back(run.env);
  }
  auto only_here = items_not_shared(items);
  for (std::size_t r = 0; r < comparison.runs.size(); ++r) {
    comparison.args_differ =
        comparison.args_differ || comparison.runs[r].args != comparison.runs[0].args;
    comparison.runs[r].args_only_here = std::move(only_here[r]);
  }
  comparison.tag_keys = all_tag_keys(comparison.runs);
  comparison.differing_env = differing_names(envs);
  for (const auto& column : columns_with_values(db, metric_columns_in_order(db), ids)) {
    comparison.metrics.push_back(read_compared_metric(db, column, ids));
  }
  return comparison;
}

std::vector<std::string> command_line_items(const nlohmann::json& args) {
  std::vector<std::string> items;
  if (!args.is_array()) return items;
  bool option_waits_for_value = false;
  for (const auto& arg : args) {
    const std::string text = arg.is_string() ? arg.get<std::string>() : arg.dump();
    const bool option = is_option(text);
    if (option_waits_for_value && !option && text != "--") {
      items.back() += " " + shell_word(text);
      option_waits_for_value = false;
      continue;
    }
    items.push_back(shell_word(text));
    option_waits_for_value = option && text.find('=') == std::string::npos;
  }
  return items;
}

std::vector<std::vector<std::string>> items_not_shared(
    const std::vector<std::vector<std::string>>& lists) {
  // How often every list has each item: what they share.
  std::map<std::string, std::size_t> shared;
  for (std::size_t l = 0; l < lists.size(); ++l) {
    std::map<std::string, std::size_t> counts;
    for (const auto& item : lists[l]) ++counts[item];
    if (l == 0) {
      shared = std::move(counts);
      continue;
    }
    for (auto& [item, count] : shared) count = std::min(count, counts[item]);
  }
  std::vector<std::vector<std::string>> only;
  for (const auto& list : lists) {
    std::map<std::string, std::size_t> seen;
    auto& own = only.emplace_back();
    for (const auto& item : list) {
      auto it = shared.find(item);
      if (++seen[item] > (it == shared.end() ? 0 : it->second)) own.push_back(item);
    }
  }
  return only;
}

std::vector<std::string> differing_names(const std::vector<nlohmann::json>& objects) {
  std::vector<const nlohmann::json*> recorded;
  for (const auto& object : objects) {
    if (object.is_object()) recorded.push_back(&object);
  }
  std::set<std::string> names;
  if (recorded.size() < 2) return {};
  for (const auto* object : recorded) {
    for (const auto& [name, value] : object->items()) {
      for (const auto* other : recorded) {
        auto it = other->find(name);
        if (it == other->end() || *it != value) {
          names.insert(name);
          break;
        }
      }
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace sqltrack
