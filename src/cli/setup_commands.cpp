// sqltrack setup and sqltrack sync: the database's schema, and the runs journaled while it was
// away.
#include "sqltrack_commands.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/connect/database_identity.hpp"
#include "sqltrack/journal/journal_replay.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/schema/summary_views.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack::cli {
namespace {

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

struct SyncCounts {
  std::size_t stored = 0, in_use = 0, elsewhere = 0, failed = 0;
};

// One line per journal: what `sqltrack sync` did with it.
void print_sync_report(const JournalSyncReport& report, SyncCounts& counts) {
  std::cout << report.path.filename().string() << ": ";
  switch (report.outcome) {
    case JournalSyncReport::Outcome::stored:
      ++counts.stored;
      std::cout << "run " << report.run_id << ": " << counted(report.counts.events, "status record")
                << ", " << counted(report.counts.rows, "metric row") << " ("
                << report.counts.rows_stored << " after merging per step) stored\n";
      break;
    case JournalSyncReport::Outcome::in_use:
      ++counts.in_use;
      std::cout << "left alone: " << report.error << '\n';
      break;
    case JournalSyncReport::Outcome::elsewhere:
      ++counts.elsewhere;
      std::cout << "not stored: " << report.error << '\n';
      break;
    case JournalSyncReport::Outcome::empty:
      std::cout << "removed: empty (its wrapper could not write to it), nothing to store\n";
      break;
    case JournalSyncReport::Outcome::unreadable:
    case JournalSyncReport::Outcome::failed:
      ++counts.failed;
      std::cout << "not stored: " << report.error << '\n';
      break;
  }
  for (const auto& problem : report.problems) std::cout << "  " << problem << '\n';
}

}  // namespace

int setup_command(const Arguments& flags, const Arguments& /*command*/) {
  po::options_description options("setup options");
  options.add_options()("help,h", "show this help");
  auto vm = parse_with_positionals<std::string>(flags, options, "scripts");
  if (vm.count("help")) {
    print_command_help("setup", options);
    return 0;
  }
  std::vector<std::string> scripts;
  if (vm.count("scripts")) scripts = vm["scripts"].as<std::vector<std::string>>();
  Settings settings = resolve_connection(vm, current_environment(), "sqltrack");
  return setup(settings, scripts);
}

int sync_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("sync options");
  options.add_options()("help,h", "show this help")(
      "store-unidentified",
      "also store journals that do not say which database they belong to (written by an "
      "earlier sqltrack) into this database");
  auto vm = cli::parse_with_positionals<std::string>(args, options, "dir");
  if (vm.count("help")) {
    print_command_help("sync", options);
    return 0;
  }
  if (vm.count("dir") && vm["dir"].as<std::vector<std::string>>().size() > 1) {
    throw UsageError("sync takes one journal directory");
  }
  Environment env = current_environment();
  Settings settings = cli::resolve_connection(vm, env, "sqltrack");
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
  std::unique_ptr<db::Database> db;
  try {
    // Journals go only into the database they belong to: never into a new one.
    db = open_database(settings, db::WalOnClose::checkpoint, db::OpenMode::existing);
  } catch (const DatabaseError&) {
    for (const auto& path : journals) {
      std::cout << path.filename().string() << ": belongs to " << journal_destination(path) << '\n';
    }
    throw;
  }
  ensure_schema(*db, settings.get("schema"));
  SyncDestination destination{configured_identity(settings, env),
                              vm.count("store-unidentified") > 0};
  add_server_identity(*db, destination.identity);
  // As a run's: in reject_dir, else next to the journals; named for the database.
  auto reject_dir = settings.get("reject_dir");
  RejectLog rejects(
      {(reject_dir && !reject_dir->empty() ? std::filesystem::path(*reject_dir) : dir) /
           ("sqltrack-sync-" + identity_tag(destination.identity) + ".rejects"),
       settings.file_mode()});
  SyncCounts counts;
  for (const auto& path : journals)
    print_sync_report(sync_journal(*db, destination, path, rejects), counts);
  std::cout << "sync: " << counted(counts.stored, "journal") << " stored into " << db->describe()
            << ", " << counts.in_use << " in use, " << counts.elsewhere << " for other databases, "
            << counts.failed << " failed\n";
  rejects.print_summary();
  return counts.failed + counts.elsewhere > 0 ? 1 : 0;
}

}  // namespace sqltrack::cli
