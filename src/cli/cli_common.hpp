#pragma once
// Flag parsing and printing shared by `sqltrack` and `sqltrack-run`.

#include <boost/program_options.hpp>

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/config.hpp"

namespace sqltrack::cli {

namespace po = boost::program_options;

// -u -a -d -s -c --engine, as in sqltrack 0.1.3.
po::options_description connection_options();
CommandLineSettings connection_flags(const po::variables_map& vm);

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

// Prints "PROGRAM: error: MESSAGE" on one line and returns the exit status:
// 2 for usage errors, 1 for everything else.
int report_error(std::string_view program, const std::exception& error);

}  // namespace sqltrack::cli
