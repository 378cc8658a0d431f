#pragma once
// The subcommands of `sqltrack`, in one table (sqltrack_commands.cpp). Each handler gets its
// flags (with the connection flags given before the command word) and what follows `--`.

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "cli_common.hpp"

namespace sqltrack::cli {

using Arguments = std::vector<std::string>;
using CommandHandler = int (*)(const Arguments& flags, const Arguments& command);

struct Subcommand {
  std::string_view name;
  std::string_view synopsis;  // the arguments after the name, as in the usage line
  std::string_view summary;   // what it does, one or two lines
  bool takes_command;         // `--` is followed by a command (enqueue, submit)
  CommandHandler handler;
};

// Every subcommand, in the order `sqltrack --help` lists them.
const std::vector<Subcommand>& subcommands();
// The subcommand of this name; nullptr for none.
const Subcommand* find_subcommand(std::string_view name);
// "NAME SYNOPSIS" as the usage lines show it ("NAME" alone when it takes no arguments).
std::string command_line(const Subcommand& sub);

// "Usage: sqltrack [CONNECTION FLAGS] NAME SYNOPSIS", the summary, then `options` and the
// connection flags: the help of one subcommand.
void print_command_help(std::string_view name, const po::options_description& options);

// A subcommand's flags: `options` plus the connection flags.
po::variables_map parse_subcommand(const Arguments& args, const po::options_description& options);

int setup_command(const Arguments& flags, const Arguments& command);
int enqueue_command(const Arguments& flags, const Arguments& command);
int requeue_stale_command(const Arguments& flags, const Arguments& command);
int mark_stale_command(const Arguments& flags, const Arguments& command);
int sync_command(const Arguments& flags, const Arguments& command);
int slurm_sync_command(const Arguments& flags, const Arguments& command);
int submit_command(const Arguments& flags, const Arguments& command);
// `sqltrack status`, the same command as `sqltrack-run status` (status_command.hpp).
int status_subcommand(const Arguments& flags, const Arguments& command);
int export_command(const Arguments& flags, const Arguments& command);
int report_command(const Arguments& flags, const Arguments& command);
int compare_command(const Arguments& flags, const Arguments& command);
int rm_command(const Arguments& flags, const Arguments& command);
int edit_command(const Arguments& flags, const Arguments& command);
int doctor_command(const Arguments& flags, const Arguments& command);

}  // namespace sqltrack::cli
