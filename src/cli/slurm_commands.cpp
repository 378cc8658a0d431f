// sqltrack slurm-sync and submit: runs and the Slurm jobs they belong to.
#include "sqltrack_commands.hpp"

#include <iostream>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/slurm/slurm_submit.hpp"
#include "sqltrack/slurm/slurm_sync.hpp"
#include "sqltrack/util/capture.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack::cli {
namespace {

std::string status_change(const SyncedRun& run) {
  std::string text = std::string(to_string(run.before));
  if (run.after) text += " -> " + std::string(to_string(*run.after));
  return text;
}

}  // namespace

int slurm_sync_command(const Arguments& args, const Arguments& /*command*/) {
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
    print_command_help("slurm-sync", options);
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

  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  // From an epilog, with no database configured: never leave an empty SQLite file behind.
  if (settings.engine == db::Engine::sqlite && !std::filesystem::exists(settings.sqlite_path())) {
    std::cout << "slurm-sync: no database at " << settings.sqlite_path().string()
              << "; nothing to do\n";
    return 0;
  }
  auto db = open_for_writing(settings);
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
  std::cout << "slurm-sync: " << counted(runs.size(), "run") << " checked, " << changed
            << " changed, " << unknown << " unknown to Slurm, " << errors << " not checked\n";
  return errors > 0 ? 1 : 0;
}

int submit_command(const Arguments& flags, const Arguments& sbatch) {
  po::options_description options("submit options");
  options.add_options()("help,h", "show this help")(
      "experiment,e", po::value<std::string>(),
      "experiment name (default: $SQLTRACK_EXPERIMENT, else the script's name)")(
      "comment", po::value<std::string>(), "a comment stored with the run")(
      "tag", po::value<std::vector<std::string>>()->composing(), "KEY=VALUE, repeatable");
  auto vm = parse_subcommand(flags, options);
  if (vm.count("help")) {
    print_command_help("submit", options);
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
  HostFacts host = capture_host_facts();
  submission.hostname = host.hostname;
  submission.username = host.user;
  submission.cwd = host.cwd;

  // The database first: a job that cannot be recorded is better not submitted.
  Settings settings = cli::resolve_connection(vm, env, "sqltrack");
  submission.args =
      capture_args(sbatch, split_redact_patterns(settings.get("env_redact").value_or("")));
  auto db = open_for_writing(settings);
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

}  // namespace sqltrack::cli
