#pragma once
// What the wrapper records about a run besides its metrics: the command line,
// the environment with secrets redacted, and the host it ran on. Everything
// returned is valid UTF-8, so any later dump() of the JSON cannot throw.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/environment.hpp"

namespace sqltrack {

// Replaces a secret's value; the variable's name is kept.
inline constexpr std::string_view kRedactedMarker = "<redacted>";

// The text with every ill-formed UTF-8 sequence (stray continuation bytes,
// truncated or overlong sequences, surrogates, > U+10FFFF) replaced by U+FFFD,
// one per maximal ill-formed subpart as Unicode recommends. Valid text is
// returned unchanged. argv, environment and paths are bytes, not text: a
// Latin-1 file name must not make the run unrecordable.
std::string to_valid_utf8(std::string_view bytes);

// argv as a JSON array of strings, in order, byte-exact for valid UTF-8
// (spaces, quotes, empty strings); invalid bytes become U+FFFD.
nlohmann::json capture_args(const std::vector<std::string>& argv);

// Name patterns that mark an environment variable as secret. Case never matters.
//  * a plain word matches names that contain it: TOKEN matches GITHUB_TOKEN,
//    hf_token and also TOKENIZERS_PARALLELISM (redacting too much is the safe side);
//  * a pattern with *, ? or [...] is a shell glob (fnmatch) over the whole name:
//    AWS_* matches AWS_REGION, *_KEY matches SSH_KEY but not KEYRING.
// Built in: PASSWORD PASSWD PASSPHRASE *_PASS *_PWD SECRET TOKEN API_KEY APIKEY
// PRIVATE_KEY ACCESS_KEY *_KEY CREDENTIAL. The config key `env_redact` adds
// patterns, never removes one.
const std::vector<std::string>& default_redact_patterns();

// The patterns of an `env_redact` setting: words or globs separated by commas
// and/or whitespace ("AWS_*, *_KEY MY_SITE_PIN"); empty items are dropped.
std::vector<std::string> split_redact_patterns(std::string_view setting);

// Whether the variable `name` matches a built-in or an extra pattern.
bool is_secret_name(std::string_view name, const std::vector<std::string>& extra_patterns);

// A value with the secrets inside it redacted, for variables whose names are
// harmless (DATABASE_URL, PIP_INDEX_URL, a libpq DSN):
//  * the password of a URL: postgres://user:pw@host/db → postgres://user:<redacted>@host/db
//    (a URL without user:password, or with only a user, is kept);
//  * `key=value` items whose key is a secret name (password=pw in a conninfo,
//    ?access_token=... in a query): the value up to whitespace, & or ; or a
//    '...' quoted value.
std::string redact_secrets_in_value(std::string_view value,
                                    const std::vector<std::string>& extra_patterns = {});

// The environment as a JSON object name → value. Variables whose names match a
// pattern (built-in or extra) get kRedactedMarker as value; the others have
// the secrets inside their values redacted.
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

// Reads the facts of this process. Never throws: a fact that cannot be read is
// left empty.
HostFacts capture_host_facts();

}  // namespace sqltrack
