// sqltrack: sets up and migrates the database, reconciles runs with Slurm,
// submits Slurm jobs as PENDING runs.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "sqltrack/capture.hpp"
#include "sqltrack/error.hpp"
#include "sqltrack/export.hpp"
#include "sqltrack/journal_replay.hpp"
#include "sqltrack/report.hpp"
#include "sqltrack/run_queue.hpp"
#include "sqltrack/schema.hpp"
#include "sqltrack/slurm_submit.hpp"
#include "sqltrack/slurm_sync.hpp"
#include "sqltrack/summary_views.hpp"

namespace {

using namespace sqltrack;
namespace po = boost::program_options;

constexpr const char* kUsage =
    "Usage: sqltrack [CONNECTION FLAGS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  setup [SCRIPT.sql ...]   create the schema if missing, then apply user migration\n"
    "                           scripts once each, in the order given\n"
    "  enqueue -e NAME [--tag K=V] [--from-file FILE] [-- COMMAND [ARGS]]\n"
    "                           store commands as PENDING runs for `sqltrack-run --next`\n"
    "  requeue-stale [-e NAME] [--max-attempts N]\n"
    "                           put queued runs whose worker died back in the queue\n"
    "  sync [DIR]               store the runs that wrappers journaled while the database was\n"
    "                           away (DIR: journal_dir, else ~/.local/state/sqltrack)\n"
    "  slurm-sync [--job ID] [--since DURATION] [--wait SECONDS]\n"
    "                           give runs that are not terminal the state Slurm reports\n"
    "  submit [-e NAME] [--comment TEXT] [--tag K=V] -- sbatch [ARGS] SCRIPT\n"
    "                           submit a job whose run exists as PENDING from now on\n"
    "  export [-e NAME]... [--status S]... [--format csv|json] [--metrics last|min|max|all]\n"
    "         [-o FILE]         one row per run (or every metric row) as CSV or JSON lines\n"
    "  report -e NAME [--metric COLUMN]... [-o FILE]\n"
    "                           write one experiment's runs and learning curves as a\n"
    "                           self-contained HTML file (default report.html)\n";

// Options of the connection flags that take a value (to find the command word after them).
const std::vector<std::string> kConnectionValueFlags = {
    "-u", "--user",   "-a", "--host",        "-d",      "--database",
    "-s", "--schema", "-c", "--config-path", "--engine"};

std::string read_script(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read migration script '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view outcome_text(MigrationOutcome outcome) {
  switch (outcome) {
    case MigrationOutcome::applied:
      return "applied";
    case MigrationOutcome::already_applied:
      return "already applied";
    case MigrationOutcome::adopted:
      return "adopted (schema made by sqltrack 0.1.3, data kept)";
  }
  return "";
}

int setup(const Settings& settings, const std::vector<std::string>& paths) {
  // Read every script before touching the database: a typo in a path changes nothing.
  std::vector<MigrationScript> scripts;
  for (const auto& path : paths) {
    scripts.push_back({std::filesystem::path(path).filename().string(), read_script(path)});
  }
  auto db = open_database(settings);
  auto reports = ensure_schema(*db, settings.get("schema"));
  auto user_reports = apply_user_migrations(*db, scripts);
  // Also after a column was added by hand (psql, sqlite3): the views follow it now.
  refresh_summary_views(*db);
  reports.insert(reports.end(), user_reports.begin(), user_reports.end());
  bool changed = false;
  std::cout << "database: " << db->describe() << '\n';
  for (const auto& report : reports) {
    std::cout << "  " << report.name << ": " << outcome_text(report.outcome) << '\n';
    changed = changed || report.outcome != MigrationOutcome::already_applied;
  }
  if (!changed) std::cout << "nothing to do: the schema and every script were applied before\n";
  return 0;
}

po::variables_map parse_subcommand(const std::vector<std::string>& args,
                                   const po::options_description& options) {
  po::options_description all;
  all.add(options).add(cli::connection_options());
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).run(), vm);
  po::notify(vm);
  return vm;
}

std::string status_change(const SyncedRun& run) {
  std::string text = std::string(to_string(run.before));
  if (run.after) text += " -> " + std::string(to_string(*run.after));
  return text;
}

int slurm_sync_command(const std::vector<std::string>& args) {
  po::options_description options("slurm-sync options");
  options.add_options()("help,h", "show this help")(
      "job", po::value<std::string>(),
      "only runs of this Slurm job (12, or 12_3 for an array task)")(
      "since", po::value<std::string>(),
      "only runs updated within this time: 90s, 15m, 2h, 7d (default: all)")(
      "wait", po::value<double>()->default_value(0),
      "while Slurm still says COMPLETING (during the epilog), ask again every second for up to "
      "this many seconds")("timeout", po::value<double>()->default_value(10),
                           "seconds each Slurm command may take");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  SlurmSyncOptions sync;
  if (vm.count("job")) sync.job = vm["job"].as<std::string>();
  if (vm.count("since")) {
    sync.since = parse_sync_duration(vm["since"].as<std::string>());
    if (!sync.since) {
      throw UsageError("--since expects a duration like 90s, 15m, 2h or 7d, got '" +
                       vm["since"].as<std::string>() + "'");
    }
  }
  double wait = vm["wait"].as<double>(), timeout = vm["timeout"].as<double>();
  if (!(wait >= 0) || !(timeout > 0)) throw UsageError("--wait and --timeout take seconds >= 0");
  sync.wait = std::chrono::seconds(static_cast<long>(wait));
  sync.timeout = std::chrono::milliseconds(static_cast<long>(timeout * 1000));

  Settings settings = resolve_settings(cli::connection_flags(vm), current_environment());
  // From an epilog, with no database configured: never leave an empty SQLite file behind.
  if (settings.engine == db::Engine::sqlite && !std::filesystem::exists(settings.sqlite_path())) {
    std::cout << "slurm-sync: no database at " << settings.sqlite_path().string()
              << "; nothing to do\n";
    return 0;
  }
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  auto runs = slurm_sync(*db, sync);
  int changed = 0, errors = 0, unknown = 0;
  for (const auto& run : runs) {
    std::cout << "run " << run.run_id << " (job " << run.job << "): ";
    switch (run.action) {
      case SyncedRun::Action::written:
        ++changed;
        std::cout << status_change(run) << ": " << run.detail << '\n';
        break;
      case SyncedRun::Action::error:
        ++errors;
        std::cout << "left " << to_string(run.before) << ": cannot ask Slurm: " << run.detail
                  << '\n';
        break;
      case SyncedRun::Action::unknown:
        ++unknown;
        std::cout << run.detail << '\n';
        break;
      case SyncedRun::Action::left:
      case SyncedRun::Action::raced:
        std::cout << run.detail << '\n';
        break;
    }
  }
  std::cout << "slurm-sync: " << runs.size() << " run(s) checked, " << changed << " changed, "
            << unknown << " unknown to Slurm, " << errors << " not checked\n";
  return errors > 0 ? 1 : 0;
}

nlohmann::json parse_tags(const po::variables_map& vm) {
  nlohmann::json tags = nlohmann::json::object();
  if (!vm.count("tag")) return tags;
  for (const auto& tag : vm["tag"].as<std::vector<std::string>>()) {
    auto eq = tag.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError("--tag expects KEY=VALUE, got '" + tag + "'");
    }
    tags[tag.substr(0, eq)] = tag.substr(eq + 1);
  }
  return tags;
}

int enqueue_command(const std::vector<std::string>& flags,
                    const std::vector<std::string>& command) {
  po::options_description options("enqueue options");
  options.add_options()("help,h", "show this help")(
      "experiment,e", po::value<std::string>(),
      "the experiment whose queue gets the runs (default: $SQLTRACK_EXPERIMENT)")(
      "comment", po::value<std::string>(), "a comment stored with each run")(
      "tag", po::value<std::vector<std::string>>()->composing(), "KEY=VALUE, repeatable")(
      "from-file", po::value<std::string>(),
      "one command per line, run by /bin/sh -c (blank lines and # comments skipped)");
  auto vm = parse_subcommand(flags, options);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  Environment env = current_environment();
  QueueRequest request;
  if (vm.count("experiment")) {
    request.experiment = vm["experiment"].as<std::string>();
  } else if (auto name = lookup(env, "SQLTRACK_EXPERIMENT"); name && !name->empty()) {
    request.experiment = *name;
  } else {
    throw UsageError("enqueue needs the experiment: -e NAME");
  }
  if (vm.count("comment")) request.comment = vm["comment"].as<std::string>();
  request.tags = parse_tags(vm);
  if (!command.empty()) request.commands.push_back(command);
  if (vm.count("from-file")) {
    std::string path = vm["from-file"].as<std::string>();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read '" + path + "': " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    auto lines = parse_queue_file(text.str());
    request.commands.insert(request.commands.end(), lines.begin(), lines.end());
  }
  if (request.commands.empty()) {
    throw UsageError("nothing to enqueue: give a command after -- or --from-file FILE");
  }
  HostFacts host = capture_host_facts();
  request.hostname = host.hostname;
  request.username = host.user;
  request.cwd = host.cwd;
  Settings settings = resolve_settings(cli::connection_flags(vm), env);
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  auto ids = enqueue_runs(*db, request);
  std::cout << "enqueued " << ids.size() << " run(s) in experiment '" << request.experiment
            << "': " << (ids.size() == 1 ? "run " : "runs ") << ids.front();
  if (ids.size() > 1) std::cout << " to " << ids.back();
  std::cout << " (PENDING)\n";
  return 0;
}

int requeue_stale_command(const std::vector<std::string>& args) {
  po::options_description options("requeue-stale options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "only runs of this experiment")(
      "max-attempts", po::value<int>()->default_value(3),
      "a run claimed this many times already ends FAILED instead");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  int max_attempts = vm["max-attempts"].as<int>();
  if (max_attempts < 1) throw UsageError("--max-attempts must be 1 or more");
  std::optional<std::string> experiment;
  if (vm.count("experiment")) experiment = vm["experiment"].as<std::string>();
  Settings settings = resolve_settings(cli::connection_flags(vm), current_environment());
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  auto runs = requeue_stale_runs(*db, experiment, max_attempts);
  for (const auto& run : runs) {
    std::cout << "run " << run.run_id << ": " << to_string(run.status) << ": " << run.detail
              << '\n';
  }
  std::cout << "requeue-stale: " << runs.size() << " run(s) whose worker was gone\n";
  return 0;
}

int sync_command(const std::vector<std::string>& args) {
  po::options_description options("sync options");
  options.add_options()("help,h", "show this help");
  auto vm = cli::parse_with_positionals<std::string>(args, options, "dir");
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  if (vm.count("dir") && vm["dir"].as<std::vector<std::string>>().size() > 1) {
    throw UsageError("sync takes one journal directory");
  }
  Environment env = current_environment();
  Settings settings = resolve_settings(cli::connection_flags(vm), env);
  std::filesystem::path dir;
  if (vm.count("dir")) {
    dir = vm["dir"].as<std::vector<std::string>>().front();
  } else if (auto configured = settings.get("journal_dir"); configured && !configured->empty()) {
    dir = *configured;
  } else {
    dir = default_journal_dir(env);
  }
  auto journals = list_journals(dir);
  if (journals.empty()) {
    std::cout << "sync: no journals in " << dir.string() << "; nothing to do\n";
    return 0;
  }
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  RejectLog rejects(dir / "sqltrack-sync.rejects");
  std::size_t stored = 0, in_use = 0, failed = 0;
  for (const auto& path : journals) {
    JournalSyncReport report = sync_journal(*db, path, rejects);
    std::cout << path.filename().string() << ": ";
    switch (report.outcome) {
      case JournalSyncReport::Outcome::stored:
        ++stored;
        std::cout << "run " << report.run_id << ": " << report.counts.events << " status records, "
                  << report.counts.rows << " metric rows (" << report.counts.rows_stored
                  << " after merging per step) stored\n";
        break;
      case JournalSyncReport::Outcome::in_use:
        ++in_use;
        std::cout << "left alone: " << report.error << '\n';
        break;
      case JournalSyncReport::Outcome::unreadable:
      case JournalSyncReport::Outcome::failed:
        ++failed;
        std::cout << "not stored: " << report.error << '\n';
        break;
    }
    for (const auto& problem : report.problems) std::cout << "  " << problem << '\n';
  }
  std::cout << "sync: " << stored << " journal(s) stored into " << db->describe() << ", " << in_use
            << " in use, " << failed << " failed\n";
  rejects.print_summary();
  return failed > 0 ? 1 : 0;
}

int submit_command(const std::vector<std::string>& flags, const std::vector<std::string>& sbatch) {
  po::options_description options("submit options");
  options.add_options()("help,h", "show this help")(
      "experiment,e", po::value<std::string>(),
      "experiment name (default: $SQLTRACK_EXPERIMENT, else the script's name)")(
      "comment", po::value<std::string>(), "a comment stored with the run")(
      "tag", po::value<std::vector<std::string>>()->composing(), "KEY=VALUE, repeatable");
  auto vm = parse_subcommand(flags, options);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  if (sbatch.empty()) throw UsageError("no sbatch command given: sqltrack submit -- sbatch SCRIPT");
  Environment env = current_environment();
  RunSubmission submission;
  if (vm.count("experiment")) {
    submission.experiment = vm["experiment"].as<std::string>();
  } else if (auto name = lookup(env, "SQLTRACK_EXPERIMENT"); name && !name->empty()) {
    submission.experiment = *name;
  } else {
    submission.experiment = std::filesystem::path(sbatch.back()).filename().string();
  }
  if (vm.count("comment")) submission.comment = vm["comment"].as<std::string>();
  submission.tags = parse_tags(vm);
  submission.args = capture_args(sbatch);
  HostFacts host = capture_host_facts();
  submission.hostname = host.hostname;
  submission.username = host.user;
  submission.cwd = host.cwd;

  // The database first: a job that cannot be recorded is better not submitted.
  Settings settings = resolve_settings(cli::connection_flags(vm), env);
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  RunStore store(*db);
  auto result = submit_job(store, submission, sbatch);
  std::cerr << result.sbatch.err;
  if (!result.sbatch.started) throw Error("cannot run " + sbatch[0] + ": " + result.sbatch.error);
  if (!result.sbatch.succeeded()) {
    std::cerr << "sqltrack: error: sbatch failed (" << result.sbatch.describe()
              << "); no run was created\n";
    return result.sbatch.exit_code > 0 ? result.sbatch.exit_code : 1;
  }
  for (const auto& warning : result.warnings) std::cerr << "sqltrack: warning: " << warning << '\n';
  for (std::size_t i = 0; i < result.run_ids.size(); ++i) {
    const auto& job = result.jobs[i];
    std::cout << "run " << result.run_ids[i] << ": Slurm job " << job.job_id;
    if (job.array_task_id) std::cout << '_' << *job.array_task_id;
    std::cout << " (PENDING)\n";
  }
  return 0;
}

int report_command(const std::vector<std::string>& args) {
  po::options_description options("report options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "the experiment to report on (required)")(
      "metric", po::value<std::vector<std::string>>()->composing(),
      "a metric column to chart, repeatable (default: every numeric column with values, at "
      "most 6)")("output,o", po::value<std::string>()->default_value("report.html"),
                 "the HTML file to write");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  if (!vm.count("experiment")) throw UsageError("report needs -e NAME");
  ReportOptions report;
  report.experiment = vm["experiment"].as<std::string>();
  if (vm.count("metric")) report.metrics = vm["metric"].as<std::vector<std::string>>();
  std::string output = vm["output"].as<std::string>();
  Settings settings = resolve_settings(cli::connection_flags(vm), current_environment());
  auto db = open_database(settings);
  ensure_schema(*db, settings.get("schema"));
  ReportData data = read_report(*db, report, Clock::now());
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << render_report_html(data);
  out.close();
  if (!out) throw Error("cannot write " + output);
  for (const auto& note : data.notes) std::cerr << "sqltrack: note: " << note << '\n';
  std::cout << "report: " << output << " (" << data.runs.size() << " runs, " << data.charts.size()
            << " charts)\n";
  return 0;
}

int export_command(const std::vector<std::string>& args) {
  po::options_description options("export options");
  options.add_options()("help,h", "show this help")(
      "experiment,e", po::value<std::vector<std::string>>()->composing(),
      "only runs of this experiment, repeatable (default: every experiment)")(
      "status", po::value<std::vector<std::string>>()->composing(),
      "only runs with this status (COMPLETED, FAILED, ...), repeatable")(
      "format", po::value<std::string>()->default_value("csv"), "csv, or json for JSON lines")(
      "metrics", po::value<std::string>()->default_value("last"),
      "result.<metric> per run: its last, min or max value; all: every metric row instead")(
      "output,o", po::value<std::string>(), "write to this file instead of standard output");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << options << cli::connection_options();
    return 0;
  }
  ExportOptions request;
  if (vm.count("experiment")) request.experiments = vm["experiment"].as<std::vector<std::string>>();
  if (vm.count("status")) {
    for (const auto& given : vm["status"].as<std::vector<std::string>>()) {
      std::string name = given;
      for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto status = parse_run_status(name);
      if (!status) {
        throw UsageError(
            "--status expects a run status such as COMPLETED, FAILED or RUNNING, got '" + given +
            "'");
      }
      request.statuses.push_back(*status);
    }
  }
  auto format = parse_export_format(vm["format"].as<std::string>());
  if (!format) {
    throw UsageError("--format expects csv or json, got '" + vm["format"].as<std::string>() + "'");
  }
  request.format = *format;
  auto metrics = parse_metric_summary(vm["metrics"].as<std::string>());
  if (!metrics) {
    throw UsageError("--metrics expects last, min, max or all, got '" +
                     vm["metrics"].as<std::string>() + "'");
  }
  request.metrics = *metrics;

  // The file first: a path that cannot be written fails before the database is asked.
  std::optional<std::string> path;
  std::ofstream file;
  if (vm.count("output")) {
    path = vm["output"].as<std::string>();
    file.open(*path, std::ios::binary | std::ios::trunc);
    if (!file) throw Error("cannot write '" + *path + "': " + std::strerror(errno));
  }
  try {
    Settings settings = resolve_settings(cli::connection_flags(vm), current_environment());
    // Reading never creates a database: a mistyped path is an error, not an empty export.
    if (settings.engine == db::Engine::sqlite && !std::filesystem::exists(settings.sqlite_path())) {
      throw Error("no database at " + settings.sqlite_path().string());
    }
    auto db = open_database(settings);
    ensure_schema(*db, settings.get("schema"));
    std::size_t rows =
        export_runs(*db, request, path ? static_cast<std::ostream&>(file) : std::cout);
    if (path) std::cout << "export: " << rows << " rows written to " << *path << '\n';
  } catch (...) {
    // No half-written file that looks like a complete export.
    if (path) {
      file.close();
      std::error_code ignored;
      std::filesystem::remove(*path, ignored);
    }
    throw;
  }
  return 0;
}

int setup_command(int argc, char** argv) {
  po::options_description general("Options");
  general.add_options()("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())(
      "args", po::value<std::vector<std::string>>()->default_value({}, ""));
  po::options_description all;
  all.add(general).add(cli::connection_options()).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << '\n' << general << cli::connection_options();
    return 0;
  }
  if (!vm.count("command")) throw UsageError("no command given (try 'sqltrack setup')");
  std::string command = vm["command"].as<std::string>();
  auto args = vm["args"].as<std::vector<std::string>>();
  Settings settings = resolve_settings(cli::connection_flags(vm), current_environment());
  if (command == "setup") return setup(settings, args);
  throw UsageError("unknown command '" + command + "'");
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // The command word: the first argument that is neither a flag nor a flag's value.
  std::size_t at = 0;
  while (at < args.size() && args[at].starts_with("-") && args[at] != "--") {
    bool takes_value = std::find(kConnectionValueFlags.begin(), kConnectionValueFlags.end(),
                                 args[at]) != kConnectionValueFlags.end();
    at += takes_value ? 2 : 1;
  }
  if (at < args.size() && args[at] == "export") {
    std::vector<std::string> flags(args.begin(), args.begin() + static_cast<long>(at));
    flags.insert(flags.end(), args.begin() + static_cast<long>(at) + 1, args.end());
    return export_command(flags);
  }
  if (at < args.size() && args[at] == "sync") {
    std::vector<std::string> flags(args.begin(), args.begin() + static_cast<long>(at));
    flags.insert(flags.end(), args.begin() + static_cast<long>(at) + 1, args.end());
    return sync_command(flags);
  }
  if (at < args.size() && args[at] == "report") {
    std::vector<std::string> flags(args.begin(), args.begin() + static_cast<long>(at));
    flags.insert(flags.end(), args.begin() + static_cast<long>(at) + 1, args.end());
    return report_command(flags);
  }
  if (at < args.size() && args[at] == "requeue-stale") {
    std::vector<std::string> flags(args.begin(), args.begin() + static_cast<long>(at));
    flags.insert(flags.end(), args.begin() + static_cast<long>(at) + 1, args.end());
    return requeue_stale_command(flags);
  }
  if (at < args.size() &&
      (args[at] == "slurm-sync" || args[at] == "submit" || args[at] == "enqueue")) {
    // Connection flags may come before the command word or after it.
    std::vector<std::string> flags(args.begin(), args.begin() + static_cast<long>(at));
    auto rest = args.begin() + static_cast<long>(at) + 1;
    auto separator = std::find(rest, args.end(), "--");
    flags.insert(flags.end(), rest, separator);
    if (args[at] == "slurm-sync") {
      if (separator != args.end()) throw UsageError("slurm-sync takes no command after --");
      return slurm_sync_command(flags);
    }
    std::vector<std::string> command;
    if (separator != args.end()) command.assign(separator + 1, args.end());
    if (args[at] == "enqueue") return enqueue_command(flags, command);
    return submit_command(flags, command);
  }
  return setup_command(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return sqltrack::cli::report_error("sqltrack", e);
  }
}
