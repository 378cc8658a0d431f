#include "status_command.hpp"

#include <unistd.h>

#include <cmath>
#include <iostream>

#include "cli_common.hpp"
#include "sqltrack/config/numeric_ranges.hpp"
#include "sqltrack/connect/connect.hpp"
#include "sqltrack/read/status_table.hpp"
#include "sqltrack/read/status_watch.hpp"
#include "sqltrack/store/run_listing.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack::cli {
namespace {

po::options_description status_options() {
  po::options_description options("status options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "only runs of this experiment")(
      "job", po::value<std::string>(),
      "only runs of this Slurm job (12, or 12_3 for an array task)")(
      "status", po::value<std::vector<std::string>>()->composing(),
      "only runs with this status (RUNNING, FAILED, ...), repeatable")(
      "tag", po::value<std::vector<std::string>>()->composing(),
      "only runs with this tag KEY=VALUE, repeatable (all must match)")(
      "since", po::value<std::string>(),
      "only runs created in the last DURATION (90s, 15m, 2h, 3d, 1w)")(
      "limit", po::value<std::size_t>()->default_value(50), "show at most N runs")(
      "json", "one JSON object per run, all columns")(
      "metric", po::value<std::string>(),
      "add columns with a sparkline of this metric over steps, its last and its best value")(
      "sort", po::value<std::string>(),
      "order by a metric's last value, COLUMN[:asc|desc] (a leaderboard; runs without it last)")(
      "watch", "redraw the table in place every few seconds until Ctrl-C")(
      "interval", po::value<double>(), "seconds between refreshes with --watch (default 2)");
  return options;
}

RunFilter run_filter(const po::variables_map& vm) {
  RunFilter filter;
  if (vm.count("run-ids")) filter.run_ids = vm["run-ids"].as<std::vector<std::int64_t>>();
  if (vm.count("experiment")) filter.experiment = vm["experiment"].as<std::string>();
  if (vm.count("job")) filter.slurm_job = vm["job"].as<std::string>();
  filter.statuses = parse_statuses(vm);
  const nlohmann::json tags = parse_tags(vm);
  for (const auto& [key, value] : tags.items()) {
    filter.tags.emplace_back(key, value.get<std::string>());
  }
  if (vm.count("since")) {
    const auto& text = vm["since"].as<std::string>();
    auto span = parse_duration(text);
    if (!span) {
      throw UsageError("--since expects a duration like 90s, 15m, 2h or 3d, got '" + text + "'");
    }
    filter.created_since = Clock::now() - *span;
  }
  filter.limit = vm["limit"].as<std::size_t>();
  return filter;
}

// The metric to show and the order: `--sort m` alone shows m as well.
void add_metric_view(const po::variables_map& vm, db::Database& db, StatusQuery& query) {
  if (vm.count("sort")) {
    query.order = parse_metric_order(vm["sort"].as<std::string>());
    query.order->column = plottable_metric_column(db, query.order->column).name;
  }
  if (vm.count("metric")) {
    query.metric = plottable_metric_column(db, vm["metric"].as<std::string>());
  } else if (query.order) {
    query.metric = plottable_metric_column(db, query.order->column);
  }
}

void print_json_lines(db::Database& db, const StatusQuery& query) {
  auto runs = list_runs(db, query.filter, query.order);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    std::cout << run_to_json(runs, r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  }
}

}  // namespace

int status_command(const std::vector<std::string>& args, std::string_view program) {
  const po::options_description options = status_options();
  auto vm = parse_with_positionals<std::int64_t>(args, options, "run-ids");
  if (vm.count("help")) {
    std::cout << "Usage: " << program << " [CONNECTION FLAGS] status " << kStatusSynopsis << "\n\n"
              << kStatusSummary << "\n\n"
              << options << connection_options();
    return 0;
  }
  StatusQuery query{run_filter(vm), std::nullopt, std::nullopt};
  const bool watch = vm.count("watch") > 0, json = vm.count("json") > 0;
  if (json && (watch || vm.count("metric"))) {
    throw UsageError("--json cannot be combined with --watch or --metric");
  }
  if (vm.count("interval") && !watch) throw UsageError("--interval needs --watch");
  double interval =
      vm.count("interval") ? checked_flag("--interval", vm["interval"].as<double>()) : 2.0;
  Settings settings = resolve_connection(vm, current_environment(), program);
  // Only reads: never creates a SQLite file, never migrates (a role may only SELECT).
  auto open_to_read = [&settings] { return open_for_reading(settings); };
  auto db = open_to_read();
  // A mistyped name is an error, not an empty table.
  if (query.filter.experiment) experiment_id_named(*db, *query.filter.experiment);
  add_metric_view(vm, *db, query);
  if (watch) {
    StatusWatchOptions watching{query, std::chrono::milliseconds(std::lround(interval * 1000))};
    return watch_status(std::move(db), open_to_read, watching, STDOUT_FILENO);
  }
  if (json) {
    print_json_lines(*db, query);
    return 0;
  }
  for (const auto& line : read_status_table(*db, query, Clock::now())) std::cout << line << '\n';
  return 0;
}

}  // namespace sqltrack::cli
