#pragma once
// `sqltrack compare`: two or more runs side by side, one column per run: what they ran as, how
// they ended, what sets them apart (tags, command lines, environment) and where their metrics
// went (last value, smallest and largest with the step each was reached at). As lines of text
// or as one JSON object.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/db/database.hpp"

namespace sqltrack {

// A metric value and the step of its row. Booleans are bool and times their stored text on
// both engines.
struct ValueAtStep {
  db::Value value;
  std::int64_t step = 0;
};

struct RunMetric {
  ValueAtStep last;  // at the largest (step, progress) where the column is not NULL
  // For columns that hold numbers: the first row, in (step, progress) order, that has the
  // smallest (largest) value. NaN counts only when every value is NaN.
  std::optional<ValueAtStep> min;
  std::optional<ValueAtStep> max;
};

struct ComparedMetric {
  std::string name;
  bool numeric = false;                        // holds numbers: min and max are given
  std::vector<std::optional<RunMetric>> runs;  // as RunComparison::runs; empty: no value
};

struct ComparedRun {
  std::int64_t id = 0;
  std::string experiment;
  std::string status;
  std::optional<std::string> time_started;  // "2026-11-23 10:15:30.123456+00:00" (UTC)
  std::optional<std::string> time_ended;
  std::optional<double> duration_seconds;  // time_ended - time_started, once it has ended
  std::optional<std::string> host;
  std::optional<std::string> comment;
  nlohmann::json tags = nlohmann::json::object();
  nlohmann::json args = nlohmann::json::array();
  nlohmann::json env;  // the recorded environment (secrets as stored: redacted); null: none
  nlohmann::json git;  // runs.git: commit, branch, dirty, remote; null outside a work tree
  // The items of its command line (command_line_items) that not every run has.
  std::vector<std::string> args_only_here;
};

struct RunComparison {
  std::vector<ComparedRun> runs;  // in the order asked for
  bool args_differ = false;
  std::vector<std::string> tag_keys;       // every key of the runs' tags, sorted
  std::vector<std::string> differing_env;  // variables not the same in every run, sorted
  std::vector<ComparedMetric> metrics;     // columns any of the runs has a value in, in order
};

// Reads the runs (each id once, in the order given) and their metrics. Throws Error naming
// the first id without a run.
RunComparison read_run_comparison(db::Database& db, std::span<const std::int64_t> run_ids);

// The comparison as a table: a header line with the run ids, then one line per fact, tag,
// differing variable and metric, cells cut at a width that fits a terminal. Text from the
// database has its control characters replaced.
std::vector<std::string> comparison_table_lines(const RunComparison& comparison);

// {"runs": [{"run_id", "experiment", "status", "time_started", "time_ended",
// "duration_seconds", "host", "comment", "git", "tags", "args", "args_only_here", "env" (the
// differing variables; null when none were recorded), "metrics": {NAME: {"last", "min",
// "max"} or null}}], "args_differ", "tag_keys", "differing_env", "metrics"}; each of last,
// min and max is {"value", "step"} or null.
nlohmann::json comparison_to_json(const RunComparison& comparison);

// The pure parts.

// A command line (a JSON array of strings) as the items a comparison lines up: an option with
// its value ("--lr 0.1") is one item, any other argument one of its own; arguments are written
// as a shell would need them ('two words'). A value is an argument that is not an option: it
// does not start with '-', or is a number ("-1").
std::vector<std::string> command_line_items(const nlohmann::json& args);

// For each list, its items that not every list has, in its order; an item a list has more
// often than some other list counts as many times as it is in excess.
std::vector<std::vector<std::string>> items_not_shared(
    const std::vector<std::vector<std::string>>& lists);

// The names, sorted, whose values are not the same in every object: absent from one of them,
// or with another value. Entries that are not objects (no environment recorded) are left out;
// with fewer than two objects nothing differs.
std::vector<std::string> differing_names(const std::vector<nlohmann::json>& objects);

}  // namespace sqltrack
