#include "sqltrack/util/capture.hpp"

#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <new>
#include <system_error>

namespace sqltrack {

nlohmann::json capture_args(const std::vector<std::string>& argv,
                            const std::vector<std::string>& extra_patterns) {
  nlohmann::json args = nlohmann::json::array();
  for (const auto& arg : redact_args(argv, extra_patterns)) args.push_back(to_valid_utf8(arg));
  return args;
}

nlohmann::json capture_environment(const Environment& env,
                                   const std::vector<std::string>& extra_patterns) {
  nlohmann::json captured = nlohmann::json::object();
  for (const auto& [name, value] : env) {
    std::string key = to_valid_utf8(name);
    if (is_secret_name(name, extra_patterns)) {
      captured[key] = kRedactedMarker;
    } else {
      captured[key] = to_valid_utf8(redact_secrets_in_value(value, extra_patterns));
    }
  }
  return captured;
}

nlohmann::json HostFacts::to_json() const {
  return nlohmann::json{
      {"hostname", to_valid_utf8(hostname)},
      {"pid", pid},
      {"ppid", ppid},
      {"cwd", to_valid_utf8(cwd)},
      {"uid", uid},
      {"gid", gid},
      {"user", user.empty() ? nlohmann::json(nullptr) : nlohmann::json(to_valid_utf8(user))},
      {"os", to_valid_utf8(os)},
      {"machine", to_valid_utf8(machine)},
  };
}

std::string user_name(unsigned uid) {
  long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::size_t size = suggested > 0 ? static_cast<std::size_t>(suggested) : 16384;
  // Large NSS entries (LDAP groups) answer ERANGE: grow the buffer, up to 1 MiB.
  while (size <= (std::size_t{1} << 20)) {
    std::vector<char> buffer(size);
    passwd entry{};
    passwd* found = nullptr;
    int rc = getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE) {
      size *= 2;
      continue;
    }
    if (rc != 0 || found == nullptr || found->pw_name == nullptr) return {};
    return found->pw_name;
  }
  return {};
}

HostFacts capture_host_facts() {
  HostFacts facts;

  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) facts.hostname = host;

  facts.pid = static_cast<long>(getpid());
  facts.ppid = static_cast<long>(getppid());

  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  if (!ec) facts.cwd = cwd.string();

  facts.uid = static_cast<unsigned>(getuid());
  facts.gid = static_cast<unsigned>(getgid());
  try {
    facts.user = user_name(getuid());
  } catch (const std::bad_alloc&) {
    facts.user.clear();
  }

  utsname names{};
  if (uname(&names) == 0) {
    facts.os = std::string(names.sysname) + " " + names.release;
    facts.machine = names.machine;
  }
  return facts;
}

}  // namespace sqltrack
