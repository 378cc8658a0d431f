// sqltrack: sets up and migrates the database.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "sqltrack/error.hpp"
#include "sqltrack/schema.hpp"

namespace {

using namespace sqltrack;
namespace po = boost::program_options;

constexpr const char* kUsage =
    "Usage: sqltrack [CONNECTION FLAGS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  setup [SCRIPT.sql ...]   create the schema if missing, then apply user migration\n"
    "                           scripts once each, in the order given\n";

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

int run(int argc, char** argv) {
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

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return sqltrack::cli::report_error("sqltrack", e);
  }
}
