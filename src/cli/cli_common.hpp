#pragma once
// Flag parsing and printing shared by `sqltrack` and `sqltrack-run`.

#include <boost/program_options.hpp>

#include <exception>
#include <string>
#include <string_view>

#include "sqltrack/config.hpp"

namespace sqltrack::cli {

namespace po = boost::program_options;

// -u -a -d -s -c --engine, as in sqltrack 0.1.3.
po::options_description connection_options();
CommandLineSettings connection_flags(const po::variables_map& vm);

// Prints "PROGRAM: error: MESSAGE" on one line and returns the exit status:
// 2 for usage errors, 1 for everything else.
int report_error(std::string_view program, const std::exception& error);

}  // namespace sqltrack::cli
