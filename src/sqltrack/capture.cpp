#include "sqltrack/capture.hpp"

#include <fnmatch.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <new>
#include <system_error>

namespace sqltrack {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// The length of the well-formed sequence at text[i], or 0 with `valid_prefix`
// set to the length of its maximal ill-formed subpart (at least 1).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i, std::size_t& valid_prefix) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    valid_prefix = 1;
    return 0;
  }

  valid_prefix = 1;
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) return 0;
    const auto byte = static_cast<unsigned char>(text[i + k]);
    const bool ok = k == 1 ? (byte >= second_min && byte <= second_max) : is_continuation(byte);
    if (!ok) return 0;
    ++valid_prefix;
  }
  return length;
}

char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
  return out;
}

bool is_glob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// Case-insensitive: both sides in upper case, so [a-z] in a pattern still
// means letters.
bool matches_pattern(const std::string& upper_name, std::string_view pattern) {
  if (pattern.empty()) return false;
  std::string upper_pattern = upper(pattern);
  if (is_glob(upper_pattern)) return fnmatch(upper_pattern.c_str(), upper_name.c_str(), 0) == 0;
  return upper_name.find(upper_pattern) != std::string::npos;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// scheme://user:password@host → scheme://user:<redacted>@host, for each URL.
std::string redact_url_passwords(std::string_view value) {
  std::string out;
  std::size_t copied = 0;
  std::size_t search = 0;
  while (true) {
    std::size_t scheme_end = value.find("://", search);
    if (scheme_end == std::string_view::npos) break;
    const std::size_t start = scheme_end + 3;
    search = start;

    // This URL ends at whitespace, a quote or the next URL.
    std::size_t end = start;
    while (end < value.size() && !is_space(value[end]) && value[end] != '"' && value[end] != '\'' &&
           value.compare(end, 3, "://") != 0) {
      ++end;
    }
    const std::string_view url = value.substr(start, end - start);
    const std::string_view authority = url.substr(0, url.find_first_of("/?#"));

    // RFC 3986: user info is the authority up to its last '@'. A password with
    // a raw '/', '?' or '#' pushes the '@' past the authority; unless what
    // follows the ':' is a port, the first '@' after it ends the user info.
    std::size_t user_info_end = authority.rfind('@');
    if (user_info_end == std::string_view::npos) {
      const std::size_t colon = authority.find(':');
      const std::size_t at = url.find('@', authority.size());
      if (colon != std::string_view::npos && at != std::string_view::npos &&
          !is_digits(authority.substr(colon + 1))) {
        user_info_end = at;
      }
    }
    if (user_info_end == std::string_view::npos) continue;
    const std::size_t colon = url.substr(0, user_info_end).find(':');
    if (colon == std::string_view::npos || colon + 1 == user_info_end) continue;

    out.append(value.substr(copied, start + colon + 1 - copied));
    out.append(kRedactedMarker);
    copied = start + user_info_end;
    search = copied;
  }
  out.append(value.substr(copied));
  return out;
}

bool is_item_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool starts_item(char c) {
  return is_space(c) || c == '?' || c == '&' || c == ';' || c == ',';
}

// key=value items inside a value whose key is a secret name.
std::string redact_secret_items(std::string_view value,
                                const std::vector<std::string>& extra_patterns) {
  std::string out;
  std::size_t copied = 0;
  std::size_t i = 0;
  while (i < value.size()) {
    if (i > 0 && !starts_item(value[i - 1])) {
      ++i;
      continue;
    }
    std::size_t key_end = i;
    while (key_end < value.size() && is_item_key_char(value[key_end])) ++key_end;
    if (key_end == i || key_end >= value.size() || value[key_end] != '=' ||
        !is_secret_name(value.substr(i, key_end - i), extra_patterns)) {
      i = std::max(key_end, i + 1);
      continue;
    }

    const std::size_t value_begin = key_end + 1;
    std::size_t value_end = value_begin;
    if (value_begin < value.size() && value[value_begin] == '\'') {
      // libpq conninfo quoting: '...' with \' and \\ escapes.
      value_end = value_begin + 1;
      while (value_end < value.size() && value[value_end] != '\'') {
        value_end += value[value_end] == '\\' ? 2 : 1;
      }
      value_end = std::min(value_end + 1, value.size());
    } else {
      while (value_end < value.size() && !is_space(value[value_end]) && value[value_end] != '&' &&
             value[value_end] != ';') {
        ++value_end;
      }
    }
    if (value_end > value_begin) {
      out.append(value.substr(copied, value_begin - copied));
      out.append(kRedactedMarker);
      copied = value_end;
    }
    i = std::max(value_end, value_begin);
  }
  out.append(value.substr(copied));
  return out;
}

}  // namespace

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t valid_prefix = 0;
    const std::size_t length = utf8_sequence_length(bytes, i, valid_prefix);
    if (length > 0) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out.append(kReplacementCharacter);
      i += valid_prefix;
    }
  }
  return out;
}

nlohmann::json capture_args(const std::vector<std::string>& argv) {
  nlohmann::json args = nlohmann::json::array();
  for (const auto& arg : argv) args.push_back(to_valid_utf8(arg));
  return args;
}

const std::vector<std::string>& default_redact_patterns() {
  // PGPASSWORD and SQLTRACK_DSN_PASSWORD fall under PASSWORD; *_PWD is MySQL's
  // (PWD itself is the working directory); ACCESS_KEY and *_KEY catch key ids
  // and keys whose names say nothing more.
  static const std::vector<std::string> patterns{
      "PASSWORD", "PASSWD", "PASSPHRASE",  "*_PASS",     "*_PWD", "SECRET",     "TOKEN",
      "API_KEY",  "APIKEY", "PRIVATE_KEY", "ACCESS_KEY", "*_KEY", "CREDENTIAL",
  };
  return patterns;
}

std::vector<std::string> split_redact_patterns(std::string_view setting) {
  std::vector<std::string> patterns;
  std::string current;
  for (char c : setting) {
    if (c == ',' || is_space(c)) {
      if (!current.empty()) patterns.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) patterns.push_back(std::move(current));
  return patterns;
}

bool is_secret_name(std::string_view name, const std::vector<std::string>& extra_patterns) {
  const std::string upper_name = upper(name);
  auto matches = [&upper_name](const std::string& pattern) {
    return matches_pattern(upper_name, pattern);
  };
  return std::any_of(default_redact_patterns().begin(), default_redact_patterns().end(), matches) ||
         std::any_of(extra_patterns.begin(), extra_patterns.end(), matches);
}

std::string redact_secrets_in_value(std::string_view value,
                                    const std::vector<std::string>& extra_patterns) {
  return redact_secret_items(redact_url_passwords(value), extra_patterns);
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

namespace {

std::string user_name(uid_t uid) {
  long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::size_t size = suggested > 0 ? static_cast<std::size_t>(suggested) : 16384;
  // Large NSS entries (LDAP groups) answer ERANGE: grow the buffer, up to 1 MiB.
  while (size <= (std::size_t{1} << 20)) {
    std::vector<char> buffer(size);
    passwd entry{};
    passwd* found = nullptr;
    int rc = getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE) {
      size *= 2;
      continue;
    }
    if (rc != 0 || found == nullptr || found->pw_name == nullptr) return {};
    return found->pw_name;
  }
  return {};
}

}  // namespace

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
