// sqltrack-run: runs a command as a recorded run, or shows where runs stand.
#include <algorithm>
#include <iostream>

#include "cli_common.hpp"
#include "sqltrack/config/numeric_ranges.hpp"
#include "sqltrack/launcher/launcher.hpp"
#include "sqltrack/monitor/resource_monitor.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/wrapper/queue_worker.hpp"
#include "sqltrack/wrapper/run_session.hpp"
#include "status_command.hpp"

namespace {

using namespace sqltrack;
namespace po = boost::program_options;

constexpr const char* kUsage =
    "Usage: sqltrack-run [CONNECTION FLAGS] [OPTIONS] -- COMMAND [ARGS...]\n"
    "       sqltrack-run [CONNECTION FLAGS] [OPTIONS] --next -e NAME [--loop]\n"
    "       sqltrack-run [CONNECTION FLAGS] status [RUN_ID...] [-e NAME] ...\n"
    "           (sqltrack-run status --help shows its flags)\n";

po::options_description wrap_options() {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("version", "show the version and exit")(
      "experiment,e", po::value<std::string>(),
      "experiment name (default: $SQLTRACK_EXPERIMENT, $SLURM_JOB_NAME, the script an "
      "interpreter runs, the command's name)")(
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
      "add-columns",
      "add unknown metric keys as new columns of metrics (default: on for SQLite, off for "
      "PostgreSQL; setting add_columns)")("no-add-columns", "never add columns to metrics")(
      "capture-git", po::value<std::string>(),
      "off|on|full: record the git commit, branch and origin of the working directory (on, "
      "the default), also whether tracked files were changed (full), or nothing (off); "
      "setting capture_git")("next",
                             "run the next queued run of the experiment (-e) instead of a command")(
      "loop", "with --next: keep taking queued runs until the queue is empty");
  return options;
}

int wrap_command(const std::vector<std::string>& flags, const std::vector<std::string>& command) {
  const po::options_description options = wrap_options();
  po::options_description all;
  all.add(options).add(cli::connection_options());
  po::variables_map vm;
  po::store(po::command_line_parser(flags).options(all).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  if (vm.count("version")) {
    std::cout << cli::version_text("sqltrack-run");
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
  wrap.heartbeat_seconds = checked_flag("--heartbeat", vm["heartbeat"].as<double>());
  if (vm.count("metrics-file")) wrap.metrics_file = vm["metrics-file"].as<std::string>();
  if (vm.count("metrics-fd")) {
    wrap.metrics_fd = static_cast<int>(checked_flag("--metrics-fd", vm["metrics-fd"].as<int>()));
  }
  wrap.metrics = vm.count("no-metrics") == 0;
  if (vm.count("add-columns") && vm.count("no-add-columns")) {
    throw UsageError("--add-columns and --no-add-columns cannot be combined");
  }
  if (vm.count("add-columns")) wrap.add_columns = true;
  if (vm.count("no-add-columns")) wrap.add_columns = false;
  if (!wrap.metrics && (wrap.metrics_file || wrap.metrics_fd)) {
    throw UsageError("--no-metrics cannot be combined with --metrics-file or --metrics-fd");
  }
  Environment env = current_environment();
  Settings settings = cli::resolve_connection(vm, env, "sqltrack-run");
  wrap.sample_seconds = sample_interval(
      vm.count("sample") ? std::optional(vm["sample"].as<double>()) : std::nullopt, settings);
  wrap.capture_git = git_capture(
      vm.count("capture-git") ? std::optional(vm["capture-git"].as<std::string>()) : std::nullopt,
      settings);
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

// Without `--`: only --help, --version and --next need no command.
int without_command(const std::vector<std::string>& flags) {
  for (const auto& flag : flags) {
    if (flag == "--help" || flag == "-h" || flag == "--version" || flag == "--next") {
      return wrap_command(flags, {});
    }
  }
  if (std::find(flags.begin(), flags.end(), "status") != flags.end()) {
    throw UsageError(
        "only connection flags (-u -a -d -s -c --engine) may come before 'status'; put the "
        "others after it");
  }
  throw UsageError(flags.empty() ? "no command given: sqltrack-run [OPTIONS] -- COMMAND"
                                 : "put -- between sqltrack-run's options and the command");
}

// `help_command` becomes "sqltrack-run status" once the arguments are status's: usage errors
// point to its help.
int run(const std::vector<std::string>& args, std::string& help_command) {
  // Connection flags may come before the word `status` or after it.
  std::size_t at = cli::skip_connection_flags(args);
  if (at < args.size() && args[at] == "status") {
    help_command = "sqltrack-run status";
    std::vector<std::string> status_args(args.begin(), args.begin() + static_cast<long>(at));
    status_args.insert(status_args.end(), args.begin() + static_cast<long>(at) + 1, args.end());
    return cli::status_command(status_args, "sqltrack-run");
  }
  auto separator = std::find(args.begin(), args.end(), "--");
  std::vector<std::string> flags(args.begin(), separator);
  if (separator == args.end()) return without_command(flags);
  return wrap_command(flags, std::vector<std::string>(separator + 1, args.end()));
}

}  // namespace

int main(int argc, char** argv) {
  // The launcher's helper processes are this executable too (launcher.hpp).
  if (auto code = sqltrack::launcher::run_helper(argc, argv)) return *code;
  std::string help_command = "sqltrack-run";
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc), help_command);
  } catch (const std::exception& e) {
    return sqltrack::cli::report_error("sqltrack-run", e, help_command);
  }
}
