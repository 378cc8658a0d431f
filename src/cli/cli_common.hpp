#pragma once
// Flag parsing and printing shared by `sqltrack` and `sqltrack-run`.

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/config/config.hpp"
#include "sqltrack/store/run_status.hpp"

namespace sqltrack::cli {

namespace po = boost::program_options;

// -u -a -d -s -c --engine, as in sqltrack 0.1.3.
po::options_description connection_options();
CommandLineSettings connection_flags(const po::variables_map& vm);

// Whether `arg` is a connection flag whose value is the next argument (-a HOST, --host HOST).
bool connection_flag_with_separate_value(std::string_view arg);
// Where the connection flags at the start of `args` end (-a HOST, --host=HOST, -aHOST): the
// index of the first argument that is neither one of them nor the value of one.
std::size_t skip_connection_flags(const std::vector<std::string>& args);

// What --version prints: "PROGRAM VERSION (commit ABC1234)" and the engines built in.
std::string version_text(std::string_view program);

// resolve_settings for the connection flags in `vm`; its warnings are printed on stderr as
// "PROGRAM: warning: ...".
Settings resolve_connection(const po::variables_map& vm, const Environment& env,
                            std::string_view program);

// Parses a subcommand's flags (`options` plus the connection flags) and its positional
// arguments, all of them under `positional_name` (a std::vector<VALUE> option).
template <class Value>
po::variables_map parse_with_positionals(const std::vector<std::string>& args,
                                         const po::options_description& options,
                                         const char* positional_name) {
  po::options_description hidden;
  hidden.add_options()(positional_name, po::value<std::vector<Value>>());
  po::options_description all;
  all.add(options).add(connection_options()).add(hidden);
  po::positional_options_description positional;
  positional.add(positional_name, -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  po::notify(vm);
  return vm;
}

// --tag KEY=VALUE (repeatable) as a JSON object; UsageError for a tag without '='.
nlohmann::json parse_tags(const po::variables_map& vm);

// --status NAME (repeatable, any case) as run states; UsageError for a name that is not one.
std::vector<RunStatus> parse_statuses(const po::variables_map& vm);

// Prints "PROGRAM: error: MESSAGE" on one line and returns the exit status:
// 2 for usage errors, which also get "Try 'HELP_COMMAND --help' ..." (default: PROGRAM; a
// subcommand's usage error names the subcommand, "sqltrack export"), 1 for everything else.
int report_error(std::string_view program, const std::exception& error,
                 std::string_view help_command = {});

}  // namespace sqltrack::cli
