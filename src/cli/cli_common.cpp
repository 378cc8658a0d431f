#include "cli_common.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iostream>

#include "sqltrack/db/sqlite_database.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack_version.hpp"

namespace sqltrack::cli {

po::options_description connection_options() {
  po::options_description options("Database connection");
  options.add_options()("user,u", po::value<std::string>(), "PostgreSQL user")(
      "host,a", po::value<std::string>(), "PostgreSQL host[:port] or socket directory[:port]")(
      "database,d", po::value<std::string>(), "PostgreSQL database name")(
      "schema,s", po::value<std::string>(), "PostgreSQL schema (search_path)")(
      "config-path,c", po::value<std::string>(),
      "config file (default ./sqltrack.conf or ./sqltrack.yaml)")(
      "engine", po::value<std::string>(),
      "postgres or sqlite (default: sqlite unless "
      "PostgreSQL settings are given)");
  return options;
}

nlohmann::json parse_tags(const po::variables_map& vm) {
  nlohmann::json tags = nlohmann::json::object();
  if (!vm.count("tag")) return tags;
  for (const auto& tag : vm["tag"].as<std::vector<std::string>>()) {
    auto eq = tag.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError("--tag expects KEY=VALUE, got '" + tag + "'");
    }
    tags[tag.substr(0, eq)] = tag.substr(eq + 1);
  }
  return tags;
}

std::vector<RunStatus> parse_statuses(const po::variables_map& vm) {
  std::vector<RunStatus> statuses;
  if (!vm.count("status")) return statuses;
  for (const auto& given : vm["status"].as<std::vector<std::string>>()) {
    std::string name = given;
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto status = parse_run_status(name);
    if (!status) {
      throw UsageError("--status expects a run status such as COMPLETED, FAILED or RUNNING, got '" +
                       given + "'");
    }
    statuses.push_back(*status);
  }
  return statuses;
}

CommandLineSettings connection_flags(const po::variables_map& vm) {
  CommandLineSettings flags;
  auto get = [&](const char* name) -> std::optional<std::string> {
    if (vm.count(name)) return vm[name].as<std::string>();
    return std::nullopt;
  };
  flags.user = get("user");
  flags.host = get("host");
  flags.database = get("database");
  flags.schema = get("schema");
  flags.engine = get("engine");
  if (auto path = get("config-path")) flags.config_path = *path;
  return flags;
}

bool connection_flag_with_separate_value(std::string_view arg) {
  static constexpr std::array<std::string_view, 11> kFlags = {
      "-u", "--user",   "-a", "--host",        "-d",      "--database",
      "-s", "--schema", "-c", "--config-path", "--engine"};
  return std::find(kFlags.begin(), kFlags.end(), arg) != kFlags.end();
}

namespace {

// A connection flag with its value in the same argument: --host=HOST, -aHOST.
bool connection_flag_with_joined_value(std::string_view arg) {
  for (std::string_view name :
       {"--user=", "--host=", "--database=", "--schema=", "--config-path=", "--engine="}) {
    if (arg.starts_with(name)) return true;
  }
  return arg.size() > 2 && arg[0] == '-' &&
         std::string_view("uadsc").find(arg[1]) != std::string_view::npos;
}

}  // namespace

std::size_t skip_connection_flags(const std::vector<std::string>& args) {
  std::size_t at = 0;
  while (at < args.size()) {
    if (connection_flag_with_separate_value(args[at])) {
      at += 2;
    } else if (connection_flag_with_joined_value(args[at])) {
      at += 1;
    } else {
      break;
    }
  }
  return std::min(at, args.size());
}

std::string version_text(std::string_view program) {
  std::string text(program);
  text.append(" ").append(kVersion).append(" (commit ").append(kSourceCommit).append(")\n");
  text += "engines: sqlite " + db::sqlite_library_version() +
          " (built in), postgresql (libpq, loaded at run time)\n";
  return text;
}

Settings resolve_connection(const po::variables_map& vm, const Environment& env,
                            std::string_view program) {
  Settings settings = resolve_settings(connection_flags(vm), env);
  for (const auto& warning : settings.warnings) {
    std::cerr << program << ": warning: " << warning << '\n';
  }
  return settings;
}

int report_error(std::string_view program, const std::exception& error,
                 std::string_view help_command) {
  std::string message = error.what();
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::cerr << program << ": error: " << message << '\n';
  bool usage = dynamic_cast<const UsageError*>(&error) != nullptr ||
               dynamic_cast<const po::error*>(&error) != nullptr;
  if (usage) {
    std::cerr << "Try '" << (help_command.empty() ? program : help_command)
              << " --help' for more information.\n";
  }
  return usage ? 2 : 1;
}

}  // namespace sqltrack::cli
