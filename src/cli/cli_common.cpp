#include "cli_common.hpp"

#include <iostream>

#include "sqltrack/error.hpp"

namespace sqltrack::cli {

po::options_description connection_options() {
  po::options_description options("Database connection");
  options.add_options()("user,u", po::value<std::string>(), "PostgreSQL user")(
      "host,a", po::value<std::string>(), "PostgreSQL host[:port] or socket directory")(
      "database,d", po::value<std::string>(), "PostgreSQL database name")(
      "schema,s", po::value<std::string>(), "PostgreSQL schema (search_path)")(
      "config-path,c", po::value<std::string>(),
      "config file (default ./sqltrack.conf or ./sqltrack.yaml)")(
      "engine", po::value<std::string>(),
      "postgres or sqlite (default: sqlite unless "
      "PostgreSQL settings are given)");
  return options;
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

int report_error(std::string_view program, const std::exception& error) {
  std::string message = error.what();
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::cerr << program << ": error: " << message << '\n';
  bool usage = dynamic_cast<const UsageError*>(&error) != nullptr ||
               dynamic_cast<const po::error*>(&error) != nullptr;
  if (usage) std::cerr << "Try '" << program << " --help' for more information.\n";
  return usage ? 2 : 1;
}

}  // namespace sqltrack::cli
