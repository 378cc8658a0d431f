#include "sqltrack_commands.hpp"

#include <iostream>

#include "sqltrack/util/error.hpp"
#include "status_command.hpp"

namespace sqltrack::cli {

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> table = {
      {"setup", "[SCRIPT.sql ...]",
       "create the schema if missing, then apply user migration scripts once each, in the\n"
       "order given",
       false, setup_command},
      {"enqueue", "-e NAME [--tag K=V] [--from-file FILE] [-- COMMAND [ARGS]]",
       "store commands as PENDING runs for `sqltrack-run --next`", true, enqueue_command},
      {"requeue-stale", "[-e NAME] [--max-attempts N]",
       "put queued runs whose worker died back in the queue", false, requeue_stale_command},
      {"mark-stale", "[-e NAME] [--older-than SECONDS]",
       "end FAILED the runs outside Slurm whose wrapper died", false, mark_stale_command},
      {"sync", "[DIR] [--store-unidentified]",
       "store the runs that wrappers journaled while the database was away, each only into\n"
       "its own database (DIR: journal_dir, else ~/.local/state/sqltrack)",
       false, sync_command},
      {"slurm-sync", "[--job ID] [--since DURATION] [--wait SECONDS]",
       "give runs that are not terminal the state Slurm reports", false, slurm_sync_command},
      {"submit", "[-e NAME] [--comment TEXT] [--tag K=V] -- sbatch [ARGS] SCRIPT",
       "submit a job whose run exists as PENDING from now on", true, submit_command},
      {"status", kStatusSynopsis, kStatusSummary, false, status_subcommand},
      {"export",
       "[-e NAME]... [--status S]... [--format csv|json] [--metrics last|min|max|all] [-o FILE]",
       "one row per run (or every metric row) as CSV or JSON lines", false, export_command},
      {"report", "-e NAME [--metric COLUMN]... [-o FILE]",
       "write one experiment's runs and learning curves as a self-contained HTML file\n"
       "(default report.html)",
       false, report_command},
      {"compare", "RUN RUN... [--json]",
       "runs side by side: how they ended, their tags, the arguments and environment variables\n"
       "that differ, and the last, smallest and largest value of each metric",
       false, compare_command},
      {"rm", "RUN... [--yes] [--force]",
       "remove runs with their metrics, status history and resource samples", false, rm_command},
      {"edit", "RUN [--comment TEXT] [--tag K=V]... [--untag K]...",
       "set a run's comment, add or change its tags, remove tags", false, edit_command},
      {"doctor", "",
       "check the settings, the database and its schema, the journal directory, Slurm and its\n"
       "epilog, one line each with what to do when a check fails",
       false, doctor_command},
  };
  return table;
}

const Subcommand* find_subcommand(std::string_view name) {
  for (const Subcommand& sub : subcommands()) {
    if (sub.name == name) return &sub;
  }
  return nullptr;
}

std::string command_line(const Subcommand& sub) {
  std::string line(sub.name);
  if (!sub.synopsis.empty()) line += " " + std::string(sub.synopsis);
  return line;
}

void print_command_help(std::string_view name, const po::options_description& options) {
  const Subcommand* sub = find_subcommand(name);
  std::cout << "Usage: sqltrack [CONNECTION FLAGS] ";
  if (sub != nullptr) {
    std::cout << command_line(*sub) << "\n\n" << sub->summary;
  } else {
    std::cout << name;
  }
  std::cout << "\n\n" << options << connection_options();
}

po::variables_map parse_subcommand(const Arguments& args, const po::options_description& options) {
  po::options_description all;
  all.add(options).add(connection_options());
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).run(), vm);
  po::notify(vm);
  return vm;
}

}  // namespace sqltrack::cli
