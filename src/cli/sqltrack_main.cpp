// sqltrack: sets up and migrates the database, stores journaled runs, drives the run queue,
// reconciles runs with Slurm, submits Slurm jobs as PENDING runs, shows, exports and reports.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "sqltrack/util/error.hpp"
#include "sqltrack_commands.hpp"

namespace {

using namespace sqltrack;
using namespace sqltrack::cli;

// The list of subcommands, from the table: "  NAME SYNOPSIS" then the summary, indented.
std::string usage() {
  std::ostringstream text;
  text << "Usage: sqltrack [CONNECTION FLAGS] COMMAND [ARGS]\n\nCommands:\n";
  for (const Subcommand& sub : subcommands()) {
    text << "  " << command_line(sub) << '\n';
    std::istringstream summary{std::string(sub.summary)};
    for (std::string line; std::getline(summary, line);) text << "      " << line << '\n';
  }
  text << "\n'sqltrack COMMAND --help' shows the flags of one command.\n";
  return text.str();
}

// The index of the command word: the first argument that is neither a flag nor a flag's value.
std::size_t command_word(const Arguments& args) {
  std::size_t at = 0;
  while (at < args.size() && args[at].starts_with("-") && args[at] != "--") {
    at += connection_flag_with_separate_value(args[at]) ? 2 : 1;
  }
  return at;
}

// No command word: --help shows the usage, --version the version; anything else is a usage
// error.
int without_command(const Arguments& args) {
  po::options_description general("Options");
  general.add_options()("help,h", "show this help")("version", "show the version and exit");
  po::variables_map vm = parse_subcommand(args, general);
  if (vm.count("help")) {
    std::cout << usage() << '\n' << general << connection_options();
    return 0;
  }
  if (vm.count("version")) {
    std::cout << version_text("sqltrack");
    return 0;
  }
  throw UsageError("no command given (try 'sqltrack setup')");
}

// `help_command` becomes "sqltrack NAME" once the subcommand is known: its usage errors point
// to its own help.
int run(const Arguments& args, std::string& help_command) {
  std::size_t at = command_word(args);
  if (at >= args.size() || args[at] == "--") return without_command(args);
  const Subcommand* sub = find_subcommand(args[at]);
  if (sub == nullptr) throw UsageError("unknown command '" + args[at] + "'");
  help_command = "sqltrack " + std::string(sub->name);
  // Connection flags may come before the command word or after it.
  Arguments flags(args.begin(), args.begin() + static_cast<long>(at));
  auto rest = args.begin() + static_cast<long>(at) + 1;
  auto separator = std::find(rest, args.end(), "--");
  flags.insert(flags.end(), rest, separator);
  Arguments command;
  if (separator != args.end()) {
    if (!sub->takes_command) {
      throw UsageError(std::string(sub->name) + " takes no command after --");
    }
    command.assign(separator + 1, args.end());
  }
  return sub->handler(flags, command);
}

}  // namespace

int main(int argc, char** argv) {
  std::string help_command = "sqltrack";
  try {
    return run(Arguments(argv + 1, argv + argc), help_command);
  } catch (const std::exception& e) {
    return sqltrack::cli::report_error("sqltrack", e, help_command);
  }
}
