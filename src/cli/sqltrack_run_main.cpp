// sqltrack-run: runs a command as a recorded run, or shows where runs stand.
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <iomanip>
#include <iostream>

#include "cli_common.hpp"
#include "sqltrack/error.hpp"
#include "sqltrack/resource_monitor.hpp"
#include "sqltrack/run_listing.hpp"
#include "sqltrack/run_queue.hpp"
#include "sqltrack/run_session.hpp"
#include "sqltrack/schema.hpp"
#include "sqltrack/status_table.hpp"
#include "sqltrack/status_watch.hpp"
#include "sqltrack/timestamp.hpp"

namespace {

using namespace sqltrack;
namespace po = boost::program_options;

constexpr const char* kUsage =
    "Usage: sqltrack-run [CONNECTION FLAGS] [OPTIONS] -- COMMAND [ARGS...]\n"
    "       sqltrack-run [CONNECTION FLAGS] [OPTIONS] --next -e NAME [--loop]\n"
    "       sqltrack-run status [RUN_ID...] [-e NAME] [--job ID] [--limit N] [--json]\n"
    "                           [--metric COLUMN] [--watch [--interval SECONDS]]\n";

int status_command(const std::vector<std::string>& args) {
  po::options_description options("Status options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "only runs of this experiment")(
      "job", po::value<std::string>(),
      "only runs of this Slurm job (12, or 12_3 for an array task)")(
      "limit", po::value<std::size_t>()->default_value(50), "show at most N runs")(
      "json", "one JSON object per run, all columns")(
      "metric", po::value<std::string>(),
      "add a column with a sparkline of this metric over steps and its last value")(
      "watch", "redraw the table in place every few seconds until Ctrl-C")(
      "interval", po::value<double>(), "seconds between refreshes with --watch (default 2)");
  auto vm = cli::parse_with_positionals<std::int64_t>(args, options, "run-ids");
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  RunFilter filter;
  if (vm.count("run-ids")) filter.run_ids = vm["run-ids"].as<std::vector<std::int64_t>>();
  if (vm.count("experiment")) filter.experiment = vm["experiment"].as<std::string>();
  if (vm.count("job")) filter.slurm_job = vm["job"].as<std::string>();
  filter.limit = vm["limit"].as<std::size_t>();
  const bool watch = vm.count("watch") > 0, json = vm.count("json") > 0;
  if (json && (watch || vm.count("metric"))) {
    throw UsageError("--json cannot be combined with --watch or --metric");
  }
  if (vm.count("interval") && !watch) throw UsageError("--interval needs --watch");
  double interval = vm.count("interval") ? vm["interval"].as<double>() : 2.0;
  if (!(interval >= 0.1 && interval <= 86400)) {
    throw UsageError("--interval takes seconds between 0.1 and 86400");
  }
  Settings settings = resolve_settings(cli::connection_flags(vm), current_environment());
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  std::optional<MetricColumn> metric;
  if (vm.count("metric")) metric = plottable_metric_column(*db, vm["metric"].as<std::string>());
  if (watch) {
    StatusWatchOptions watching{filter, metric,
                                std::chrono::milliseconds(std::lround(interval * 1000))};
    return watch_status(
        std::move(db), [&] { return open_database(settings); }, watching, STDOUT_FILENO);
  }
  if (!json) {
    for (const auto& line : read_status_table(*db, filter, metric, Clock::now())) {
      std::cout << line << '\n';
    }
    return 0;
  }
  auto runs = list_runs(*db, filter);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    std::cout << run_to_json(runs, r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  }
  return 0;
}

int wrap_command(const std::vector<std::string>& flags, const std::vector<std::string>& command) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")(
      "experiment,e", po::value<std::string>(),
      "experiment name (default: $SQLTRACK_EXPERIMENT, $SLURM_JOB_NAME, the command's name)")(
      "run-id", po::value<std::int64_t>(), "attach to this existing run instead of creating one")(
      "comment", po::value<std::string>(), "a comment stored with the run")(
      "tag", po::value<std::vector<std::string>>()->composing(), "KEY=VALUE, repeatable")(
      "heartbeat", po::value<double>()->default_value(30), "seconds between heartbeats")(
      "sample", po::value<double>(),
      "seconds between samples of CPU, memory, I/O and GPU use (default 10, setting "
      "sample_interval; 0: off)")("metrics-file", po::value<std::string>(),
                                  "also read metric lines the command appends to this file")(
      "metrics-fd", po::value<int>(),
      "also give the command a pipe for metric lines on this descriptor ($SQLTRACK_METRICS_FD)")(
      "no-metrics", "do not ingest metrics ($SQLTRACK_METRICS is /dev/null)")(
      "add-columns", "add unknown metric keys as new columns of metrics")(
      "next", "run the next queued run of the experiment (-e) instead of a command")(
      "loop", "with --next: keep taking queued runs until the queue is empty");
  po::options_description all;
  all.add(options).add(cli::connection_options());
  po::variables_map vm;
  po::store(po::command_line_parser(flags).options(all).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  const bool next = vm.count("next") > 0;
  if (vm.count("loop") && !next) throw UsageError("--loop goes with --next");
  if (next && !command.empty()) {
    throw UsageError("--next runs the queued command: give no command after --");
  }
  if (next && vm.count("run-id")) throw UsageError("--next and --run-id cannot be combined");
  if (!next && command.empty()) throw UsageError("no command given: put it after --");
  WrapOptions wrap;
  wrap.command = command;
  if (vm.count("experiment")) wrap.experiment = vm["experiment"].as<std::string>();
  if (vm.count("run-id")) wrap.run_id = vm["run-id"].as<std::int64_t>();
  if (vm.count("comment")) wrap.comment = vm["comment"].as<std::string>();
  if (vm.count("tag")) {
    for (const auto& tag : vm["tag"].as<std::vector<std::string>>()) {
      auto eq = tag.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw UsageError("--tag expects KEY=VALUE, got '" + tag + "'");
      }
      wrap.tags.emplace_back(tag.substr(0, eq), tag.substr(eq + 1));
    }
  }
  wrap.heartbeat_seconds = vm["heartbeat"].as<double>();
  if (!(wrap.heartbeat_seconds > 0))
    throw UsageError("--heartbeat must be a positive number of seconds");
  if (vm.count("metrics-file")) wrap.metrics_file = vm["metrics-file"].as<std::string>();
  if (vm.count("metrics-fd")) wrap.metrics_fd = vm["metrics-fd"].as<int>();
  wrap.metrics = vm.count("no-metrics") == 0;
  wrap.add_columns = vm.count("add-columns") > 0;
  if (!wrap.metrics && (wrap.metrics_file || wrap.metrics_fd)) {
    throw UsageError("--no-metrics cannot be combined with --metrics-file or --metrics-fd");
  }
  Environment env = current_environment();
  Settings settings = resolve_settings(cli::connection_flags(vm), env);
  wrap.sample_seconds = sample_interval(
      vm.count("sample") ? std::optional(vm["sample"].as<double>()) : std::nullopt, settings);
  if (next) {
    if (!wrap.experiment) {
      if (auto name = lookup(env, "SQLTRACK_EXPERIMENT"); name && !name->empty()) {
        wrap.experiment = *name;
      }
    }
    return run_queued(wrap, settings, env, vm.count("loop") > 0);
  }
  return run_wrapped(wrap, settings, env);
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "status") {
    return status_command(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  auto separator = std::find(args.begin(), args.end(), "--");
  std::vector<std::string> flags(args.begin(), separator);
  std::vector<std::string> command;
  if (separator != args.end()) command.assign(separator + 1, args.end());
  if (separator == args.end()) {
    for (const auto& flag : flags) {
      if (flag == "--help" || flag == "-h" || flag == "--next") return wrap_command(flags, command);
    }
    throw UsageError(flags.empty() ? "no command given: sqltrack-run [OPTIONS] -- COMMAND"
                                   : "put -- between sqltrack-run's options and the command");
  }
  return wrap_command(flags, command);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return sqltrack::cli::report_error("sqltrack-run", e);
  }
}
