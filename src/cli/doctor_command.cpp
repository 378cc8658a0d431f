// sqltrack doctor: one line per check of the setup, and what to do about each that failed.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "sqltrack/doctor/doctor.hpp"
#include "sqltrack_commands.hpp"

namespace sqltrack::cli {
namespace {

std::string_view label(CheckVerdict verdict) {
  switch (verdict) {
    case CheckVerdict::ok:
      return "ok  ";
    case CheckVerdict::failed:
      return "FAIL";
    case CheckVerdict::skipped:
      return "skip";
    case CheckVerdict::warning:
      return "warn";
  }
  return "    ";
}

// "ok   NAME  FINDING", the names padded to one column; details and the remedy under the
// finding.
void print_results(const std::vector<CheckResult>& results) {
  std::size_t width = 0;
  for (const auto& result : results) width = std::max(width, result.name.size());
  const std::string indent(4 + 1 + width + 2, ' ');
  std::size_t failed = 0;
  for (const auto& result : results) {
    std::cout << label(result.verdict) << ' ' << result.name
              << std::string(width - result.name.size() + 2, ' ') << result.finding << '\n';
    for (const auto& detail : result.details) std::cout << indent << detail << '\n';
    const bool wrong =
        result.verdict == CheckVerdict::failed || result.verdict == CheckVerdict::warning;
    if (wrong && !result.remedy.empty()) std::cout << indent << "fix: " << result.remedy << '\n';
    if (result.verdict == CheckVerdict::failed) ++failed;
  }
  if (failed == 0) {
    std::cout << "doctor: every check passed\n";
  } else {
    std::cout << "doctor: " << failed << " of " << results.size() << " checks failed\n";
  }
}

}  // namespace

int doctor_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("doctor options");
  options.add_options()("help,h", "show this help");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    print_command_help("doctor", options);
    return 0;
  }
  DoctorRequest request{connection_flags(vm), current_environment(),
                        std::filesystem::current_path()};
  auto results = run_doctor_checks(request);
  print_results(results);
  return all_passed(results) ? 0 : 1;
}

}  // namespace sqltrack::cli
