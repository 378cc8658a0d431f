// sqltrack-run: runs a command as a recorded run, or shows where runs stand.
#include <ctime>
#include <iomanip>
#include <iostream>

#include "cli_common.hpp"
#include "sqltrack/error.hpp"
#include "sqltrack/run_listing.hpp"
#include "sqltrack/run_session.hpp"
#include "sqltrack/schema.hpp"
#include "sqltrack/timestamp.hpp"

namespace {

using namespace sqltrack;
namespace po = boost::program_options;

constexpr const char* kUsage =
    "Usage: sqltrack-run [CONNECTION FLAGS] [OPTIONS] -- COMMAND [ARGS...]\n"
    "       sqltrack-run status [RUN_ID...] [-e NAME] [--job ID] [--limit N] [--json]\n";

std::string local_time(const std::optional<std::string>& stored) {
  if (!stored) return "-";
  auto time = parse_timestamp(*stored);
  if (!time) return *stored;
  std::time_t t = Clock::to_time_t(*time);
  std::tm local{};
  localtime_r(&t, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &local);
  return buffer;
}

std::string cell_text(const db::ResultSet& runs, std::size_t row, const char* column) {
  return runs.rows[row][runs.column(column)].value_or("");
}

void print_table(const db::ResultSet& runs) {
  auto now = Clock::now();
  std::vector<std::vector<std::string>> table{{"RUN", "EXPERIMENT", "STATUS", "STARTED", "UPDATED",
                                               "DURATION", "EXIT", "JOB", "HOST", "STEP"}};
  for (std::size_t r = 0; r < runs.size(); ++r) {
    auto started = parse_timestamp(cell_text(runs, r, "time_started"));
    auto updated = parse_timestamp(cell_text(runs, r, "time_updated"));
    auto ended = parse_timestamp(cell_text(runs, r, "time_ended"));
    std::string status = cell_text(runs, r, "status");
    if (is_stale(runs, r, now)) status += " (stale)";
    std::string exit = cell_text(runs, r, "exit_code");
    if (exit.empty() && !cell_text(runs, r, "signal").empty()) {
      exit = "sig " + cell_text(runs, r, "signal");
    }
    std::string duration = "-";
    if (started) duration = format_duration((ended ? *ended : now) - *started);
    table.push_back({cell_text(runs, r, "id"), cell_text(runs, r, "experiment"), status,
                     local_time(runs.rows[r][runs.column("time_started")]),
                     updated ? format_age(now - *updated) : "-", duration,
                     exit.empty() ? "-" : exit, slurm_job_label(runs, r),
                     cell_text(runs, r, "hostname"), cell_text(runs, r, "last_step")});
  }
  std::vector<std::size_t> widths(table[0].size(), 0);
  for (const auto& row : table) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : table) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::string text = row[c].empty() ? "-" : row[c];
      line += text;
      if (c + 1 < row.size()) line += std::string(widths[c] - text.size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
}

int status_command(const std::vector<std::string>& args) {
  po::options_description options("Status options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "only runs of this experiment")(
      "job", po::value<std::string>(),
      "only runs of this Slurm job (12, or 12_3 for an array task)")(
      "limit", po::value<std::size_t>()->default_value(50), "show at most N runs")(
      "json", "one JSON object per run, all columns");
  po::options_description hidden;
  hidden.add_options()("run-ids", po::value<std::vector<std::int64_t>>());
  po::options_description all;
  all.add(options).add(cli::connection_options()).add(hidden);
  po::positional_options_description positional;
  positional.add("run-ids", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  RunFilter filter;
  if (vm.count("run-ids")) filter.run_ids = vm["run-ids"].as<std::vector<std::int64_t>>();
  if (vm.count("experiment")) filter.experiment = vm["experiment"].as<std::string>();
  if (vm.count("job")) filter.slurm_job = vm["job"].as<std::string>();
  filter.limit = vm["limit"].as<std::size_t>();
  Settings settings = resolve_settings(cli::connection_flags(vm), current_environment());
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  auto runs = list_runs(*db, filter);
  if (vm.count("json")) {
    for (std::size_t r = 0; r < runs.size(); ++r) {
      std::cout << run_to_json(runs, r).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace)
                << '\n';
    }
  } else {
    print_table(runs);
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
      "metrics-file", po::value<std::string>(),
      "also read metric lines the command appends to this file")(
      "metrics-fd", po::value<int>(),
      "also give the command a pipe for metric lines on this descriptor ($SQLTRACK_METRICS_FD)")(
      "no-metrics", "do not ingest metrics ($SQLTRACK_METRICS is /dev/null)")(
      "add-columns", "add unknown metric keys as new columns of metrics");
  po::options_description all;
  all.add(options).add(cli::connection_options());
  po::variables_map vm;
  po::store(po::command_line_parser(flags).options(all).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  if (command.empty()) throw UsageError("no command given: put it after --");
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
      if (flag == "--help" || flag == "-h") return wrap_command(flags, command);
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
