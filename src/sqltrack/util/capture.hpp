#pragma once
// What the wrapper records about a run besides its metrics: the command line and
// the environment with secrets redacted (redaction.hpp), and the host it ran on. Everything
// returned is valid UTF-8, so any later dump() of the JSON cannot throw.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/util/environment.hpp"
#include "sqltrack/util/redaction.hpp"
#include "sqltrack/util/utf8_text.hpp"

namespace sqltrack {

// argv as a JSON array of strings, in order, byte-exact for valid UTF-8 (spaces, quotes,
// empty strings) except for secrets, redacted by redact_args; invalid bytes become U+FFFD.
nlohmann::json capture_args(const std::vector<std::string>& argv,
                            const std::vector<std::string>& extra_patterns = {});

// The environment as a JSON object name → value. Variables whose names are secret
// (is_secret_name, with the extra patterns of env_redact) get kRedactedMarker as
// value; the others have the secrets inside their values redacted.
nlohmann::json capture_environment(const Environment& env,
                                   const std::vector<std::string>& extra_patterns);

// Where and as whom the wrapper runs.
struct HostFacts {
  std::string hostname;  // gethostname
  long pid = 0;
  long ppid = 0;
  std::string cwd;  // empty when it cannot be read (directory removed)
  unsigned uid = 0;
  unsigned gid = 0;
  std::string user;     // passwd name; empty when the uid has none (containers)
  std::string os;       // uname sysname and release: "Linux 6.1.0-18-amd64"
  std::string machine;  // uname machine: "x86_64"

  // An object of these fields; user is null when empty.
  nlohmann::json to_json() const;
};

// The passwd name of a user id; empty when it has none (containers) or cannot be read.
std::string user_name(unsigned uid);

// Reads the facts of this process. Never throws: a fact that cannot be read is
// left empty.
HostFacts capture_host_facts();

}  // namespace sqltrack
