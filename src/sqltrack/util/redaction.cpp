#include "sqltrack/util/redaction.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "sqltrack/util/utf8_text.hpp"

namespace sqltrack {
namespace {

using Span = std::pair<std::size_t, std::size_t>;  // [begin, end) of a text to redact

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_upper(c) || is_lower(c) || is_digit(c);
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char ascii_upper(char c) {
  return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
  return out;
}

bool equals_ignoring_case(std::string_view text, std::size_t at, std::string_view word) {
  if (at + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (ascii_upper(text[at + i]) != ascii_upper(word[i])) return false;
  }
  return true;
}

// ---- names ----

// The words of a name: split at _ - . and where a lower-case letter or digit meets an
// upper-case one; upper-cased.
std::vector<std::string> name_words(std::string_view name) {
  std::vector<std::string> words;
  std::string current;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool separator = c == '_' || c == '-' || c == '.';
    const bool camel = i > 0 && is_upper(c) && (is_lower(name[i - 1]) || is_digit(name[i - 1]));
    if ((separator || camel) && !current.empty()) words.push_back(std::move(current));
    if (separator || camel) current.clear();
    if (!separator) current += ascii_upper(c);
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

bool contains(const std::string& word, std::string_view part) {
  return word.find(part) != std::string::npos;
}

template <class List>
bool one_of(const std::string& word, const List& list) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

bool one_of(const std::string& word, std::initializer_list<std::string_view> list) {
  return one_of<std::initializer_list<std::string_view>>(word, list);
}

// KEY after a word that says what the key opens; APIKEY and the like as one word.
bool names_secret_key(const std::vector<std::string>& words, NameKind kind) {
  static constexpr std::array<std::string_view, 16> kQualifiers = {
      "API", "ACCESS", "PRIVATE", "SECRET", "AUTH",    "MASTER",  "SIGNING", "ENCRYPTION",
      "SSH", "CLIENT", "SERVICE", "DEPLOY", "LICENSE", "ACCOUNT", "HMAC",    "JWT"};
  for (std::size_t i = 0; i < words.size(); ++i) {
    for (std::string_view qualifier : kQualifiers) {
      if (words[i] == std::string(qualifier) + "KEY") return true;
    }
    if ((words[i] == "KEY" || words[i] == "KEYS") && i > 0 && one_of(words[i - 1], kQualifiers)) {
      return true;
    }
  }
  // STRIPE_KEY: variables are named by services; options named key are mostly dict keys.
  return kind == NameKind::variable && words.size() >= 2 && words.back() == "KEY";
}

bool names_secret_session(const std::vector<std::string>& words) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] != "SESSION") continue;
    if (i + 1 == words.size()) return true;
    if (one_of(words[i + 1], {"ID", "KEY", "TOKEN", "SECRET", "COOKIE"})) return true;
  }
  return false;
}

bool is_secret_by_words(const std::vector<std::string>& words, NameKind kind) {
  if (words.empty()) return false;
  const std::string& last = words.back();
  if (one_of(last, {"FILE", "FILES", "PATH", "DIR", "DIRECTORY"})) return false;
  if (kind == NameKind::option && words.front() == "NO") return false;
  for (const auto& word : words) {
    for (std::string_view part :
         {"PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "CREDENTIAL", "COOKIE"}) {
      if (contains(word, part)) return true;
    }
  }
  if (last.ends_with("TOKEN")) return true;
  if (last == "AUTH" || last == "AUTHORIZATION") return true;
  if (words.size() >= 2 && one_of(last, {"PAT", "PASS", "PWD"})) return true;
  return names_secret_key(words, kind) || names_secret_session(words);
}

bool is_glob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// Case-insensitive: both sides in upper case, so [a-z] in a pattern still means letters.
bool matches_pattern(const std::string& upper_name, std::string_view pattern) {
  if (pattern.empty()) return false;
  std::string upper_pattern = upper(pattern);
  if (is_glob(upper_pattern)) return fnmatch(upper_pattern.c_str(), upper_name.c_str(), 0) == 0;
  return upper_name.find(upper_pattern) != std::string::npos;
}

// An option word alone ("--password", "-passwd"): dashes, a letter, then name characters.
bool is_option_word(std::string_view word) {
  std::size_t dashes = 0;
  while (dashes < word.size() && dashes < 2 && word[dashes] == '-') ++dashes;
  if (dashes == 0 || dashes >= word.size() || !(is_upper(word[dashes]) || is_lower(word[dashes]))) {
    return false;
  }
  return std::all_of(word.begin() + static_cast<long>(dashes), word.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

bool is_secret_option_word(std::string_view word, const std::vector<std::string>& extra) {
  return is_option_word(word) && is_secret_name(word, extra, NameKind::option);
}

// ---- values: spans to redact ----

// A text's whitespace-separated words, with shell quoting: '...' and "..." (with \ escapes)
// and \ outside quotes keep a word together.
std::vector<Span> shell_words(std::string_view text) {
  std::vector<Span> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i == text.size()) break;
    const std::size_t begin = i;
    while (i < text.size() && !is_space(text[i])) {
      const char c = text[i];
      if (c == '\\') {
        i += 2;
      } else if (c == '\'' || c == '"') {
        ++i;
        while (i < text.size() && text[i] != c) i += (c == '"' && text[i] == '\\') ? 2 : 1;
        ++i;
      } else {
        ++i;
      }
    }
    i = std::min(i, text.size());
    words.emplace_back(begin, i);
  }
  return words;
}

// The word after a secret option inside a command line: "--password 'a b'".
void find_option_values(std::string_view text, const std::vector<std::string>& extra,
                        std::vector<Span>& spans) {
  const std::vector<Span> words = shell_words(text);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const auto [begin, end] = words[i];
    if (!is_secret_option_word(text.substr(begin, end - begin), extra)) continue;
    const auto [value_begin, value_end] = words[i + 1];
    if (is_option_word(text.substr(value_begin, value_end - value_begin))) continue;
    spans.emplace_back(value_begin, value_end);
    ++i;
  }
}

bool is_url_end(std::string_view text, std::size_t i) {
  return is_space(text[i]) || text[i] == '"' || text[i] == '\'' || text.compare(i, 3, "://") == 0;
}

bool is_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

// Where the user info of a URL (after "scheme://") ends, or npos.
std::size_t user_info_end(std::string_view url, std::string_view authority) {
  // RFC 3986: user info is the authority up to its last '@'. A password with a raw '/', '?'
  // or '#' pushes the '@' past the authority; unless what follows the ':' is a port, the
  // first '@' after it ends the user info.
  std::size_t end = authority.rfind('@');
  if (end != std::string_view::npos) return end;
  const std::size_t colon = authority.find(':');
  const std::size_t at = url.find('@', authority.size());
  if (colon != std::string_view::npos && at != std::string_view::npos &&
      !is_digits(authority.substr(colon + 1))) {
    return at;
  }
  return std::string_view::npos;
}

// A webhook's URL carries its credential in the path (hooks.slack.com/services/T/B/secret).
bool is_webhook(std::string_view host, std::string_view path) {
  const std::string upper_host = upper(host);
  const std::string upper_path = upper(path);
  return upper_host.starts_with("HOOKS.") || contains(upper_host, "WEBHOOK") ||
         contains(upper_path, "/WEBHOOK") || contains(upper_path, "/HOOKS/");
}

// URL passwords (scheme://user:password@host) and webhook paths.
void find_url_secrets(std::string_view text, std::vector<Span>& spans) {
  std::size_t search = 0;
  while (true) {
    const std::size_t scheme_end = text.find("://", search);
    if (scheme_end == std::string_view::npos) return;
    const std::size_t start = scheme_end + 3;
    std::size_t end = start;
    while (end < text.size() && !is_url_end(text, end)) ++end;
    search = end;
    const std::string_view url = text.substr(start, end - start);
    const std::string_view authority = url.substr(0, url.find_first_of("/?#"));
    const std::size_t info_end = user_info_end(url, authority);
    std::size_t host_begin = 0;
    if (info_end != std::string_view::npos) {
      host_begin = info_end + 1;
      const std::size_t colon = url.substr(0, info_end).find(':');
      if (colon != std::string_view::npos && colon + 1 < info_end) {
        spans.emplace_back(start + colon + 1, start + info_end);
      }
    }
    const std::size_t path_begin = std::max(host_begin, authority.size());
    const std::size_t slash = url.find('/', path_begin);
    if (slash != std::string_view::npos && slash + 1 < url.size() &&
        is_webhook(url.substr(host_begin, path_begin - host_begin), url.substr(slash))) {
      spans.emplace_back(start + slash + 1, end);
    }
  }
}

bool is_item_key_char(char c) {
  return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

bool starts_item(char c) {
  return is_space(c) || c == '?' || c == '&' || c == ';' || c == ',' || c == '"' || c == '\'';
}

// NAME=value with NAME in upper case reads as an environment variable; anything else (a
// conninfo keyword, --option=, a query parameter) as an option.
NameKind item_kind(std::string_view key) {
  const bool variable =
      !key.empty() && !key.starts_with("-") && std::none_of(key.begin(), key.end(), is_lower);
  return variable ? NameKind::variable : NameKind::option;
}

// The end of an item's value: up to whitespace, & or ;, and past a '...' quoted part (libpq
// conninfo, with \' and \\) that may hold them. What follows a closing quote up to the next
// separator goes too: left behind, it would read as a value of its own next time.
std::size_t item_value_end(std::string_view text, std::size_t begin) {
  std::size_t end = begin;
  if (begin < text.size() && text[begin] == '\'') {
    end = begin + 1;
    while (end < text.size() && text[end] != '\'') end += text[end] == '\\' ? 2 : 1;
    end = std::min(end + 1, text.size());
  }
  while (end < text.size() && !is_space(text[end]) && text[end] != '&' && text[end] != ';') ++end;
  return end;
}

// key=value items whose key is a secret name.
void find_secret_items(std::string_view text, const std::vector<std::string>& extra,
                       std::vector<Span>& spans) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (i > 0 && !starts_item(text[i - 1])) {
      ++i;
      continue;
    }
    std::size_t key_end = i;
    while (key_end < text.size() && is_item_key_char(text[key_end])) ++key_end;
    const std::string_view key = text.substr(i, key_end - i);
    if (key.empty() || key_end >= text.size() || text[key_end] != '=' ||
        !is_secret_name(key, extra, item_kind(key))) {
      i = std::max(key_end, i + 1);
      continue;
    }
    const std::size_t value_end = item_value_end(text, key_end + 1);
    if (value_end > key_end + 1) spans.emplace_back(key_end + 1, value_end);
    i = std::max(value_end, key_end + 1);
  }
}

bool is_token68_char(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    unsigned value = is_upper(c)   ? static_cast<unsigned>(c - 'A')
                     : is_lower(c) ? static_cast<unsigned>(c - 'a' + 26)
                     : is_digit(c) ? static_cast<unsigned>(c - '0' + 52)
                     : c == '+'    ? 62u
                     : c == '/'    ? 63u
                                   : 64u;
    if (value == 64) return std::nullopt;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

bool starts_word(std::string_view text, std::size_t i) {
  return i == 0 || is_space(text[i - 1]) || text[i - 1] == ':' || text[i - 1] == '=' ||
         text[i - 1] == '"' || text[i - 1] == '\'';
}

// "Bearer <token>", "Basic <base64 of user:password>", "Authorization: <scheme> <credentials>".
void find_authorization(std::string_view text, std::vector<Span>& spans) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!starts_word(text, i)) continue;
    const bool header = equals_ignoring_case(text, i, "authorization:");
    const bool bearer = equals_ignoring_case(text, i, "bearer ");
    const bool basic = equals_ignoring_case(text, i, "basic ");
    if (!header && !bearer && !basic) continue;
    std::size_t begin = text.find(header ? ':' : ' ', i) + 1;
    while (begin < text.size() && is_space(text[begin])) ++begin;
    if (header) {
      // The scheme word, then the credentials.
      while (begin < text.size() && !is_space(text[begin])) ++begin;
      while (begin < text.size() && is_space(text[begin])) ++begin;
    }
    std::size_t end = begin;
    while (end < text.size() && is_token68_char(text[end])) ++end;
    const std::string_view credentials = text.substr(begin, end - begin);
    bool secret = header ? !credentials.empty() : bearer ? credentials.size() >= 8 : false;
    if (basic) {
      auto decoded = base64_decode(credentials);
      secret = credentials.size() >= 4 && decoded && decoded->find(':') != std::string::npos;
    }
    if (secret) spans.emplace_back(begin, end);
    i = std::max(i, end);
  }
}

struct TokenPrefix {
  std::string_view prefix;
  bool (*body_char)(char);
  std::size_t min_body;
  std::size_t max_body;  // 0: any length
  bool needs_digit;
};

bool alnum_body(char c) {
  return is_alnum(c);
}
bool alnum_underscore_body(char c) {
  return is_alnum(c) || c == '_';
}
bool alnum_dash_body(char c) {
  return is_alnum(c) || c == '-' || c == '_';
}
bool upper_digit_body(char c) {
  return is_upper(c) || is_digit(c);
}
bool letter_body(char c) {
  return is_upper(c) || is_lower(c);
}
bool jwt_body(char c) {
  return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

// Tokens that are credentials whatever they are called, by the prefix their issuer gives them.
constexpr std::array<TokenPrefix, 24> kTokenPrefixes{{
    {"ghp_", alnum_body, 30, 0, false},        {"gho_", alnum_body, 30, 0, false},
    {"ghu_", alnum_body, 30, 0, false},        {"ghs_", alnum_body, 30, 0, false},
    {"ghr_", alnum_body, 30, 0, false},        {"github_pat_", alnum_underscore_body, 20, 0, false},
    {"glpat-", alnum_dash_body, 20, 0, false}, {"xoxb-", alnum_dash_body, 10, 0, false},
    {"xoxp-", alnum_dash_body, 10, 0, false},  {"xoxa-", alnum_dash_body, 10, 0, false},
    {"xoxr-", alnum_dash_body, 10, 0, false},  {"xoxs-", alnum_dash_body, 10, 0, false},
    {"xoxe-", alnum_dash_body, 10, 0, false},  {"sk-", alnum_dash_body, 20, 0, true},
    {"sk_live_", alnum_body, 10, 0, false},    {"sk_test_", alnum_body, 10, 0, false},
    {"rk_live_", alnum_body, 10, 0, false},    {"AKIA", upper_digit_body, 16, 16, false},
    {"ASIA", upper_digit_body, 16, 16, false}, {"hf_", letter_body, 30, 0, false},
    {"npm_", alnum_body, 30, 0, false},        {"pypi-", alnum_dash_body, 50, 0, false},
    {"AIza", alnum_dash_body, 35, 35, false},  {"eyJ", jwt_body, 30, 0, false},
}};

bool is_token_char(char c) {
  return is_alnum(c) || c == '_' || c == '-';
}

// The end of a prefixed token at text[i], or npos.
std::size_t prefixed_token_end(std::string_view text, std::size_t i, const TokenPrefix& token) {
  if (text.compare(i, token.prefix.size(), token.prefix) != 0) return std::string_view::npos;
  std::size_t end = i + token.prefix.size();
  bool digit = false;
  for (; end < text.size() && token.body_char(text[end]); ++end) {
    if (is_digit(text[end])) digit = true;
  }
  const std::size_t body = end - i - token.prefix.size();
  if (body < token.min_body || (token.max_body > 0 && body > token.max_body)) {
    return std::string_view::npos;
  }
  if (end < text.size() && is_token_char(text[end])) return std::string_view::npos;
  if (token.needs_digit && !digit) return std::string_view::npos;
  // A JWT is three base64url parts: header.payload.signature.
  if (token.prefix == "eyJ" && std::count(text.begin() + static_cast<long>(i),
                                          text.begin() + static_cast<long>(end), '.') != 2) {
    return std::string_view::npos;
  }
  return end;
}

void find_prefixed_tokens(std::string_view text, std::vector<Span>& spans) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && is_token_char(text[i - 1])) continue;
    for (const auto& token : kTokenPrefixes) {
      const std::size_t end = prefixed_token_end(text, i, token);
      if (end == std::string_view::npos) continue;
      spans.emplace_back(i, end);
      i = end - 1;
      break;
    }
  }
}

// -----BEGIN ... PRIVATE KEY----- through its END line (or the end of the text).
void find_private_keys(std::string_view text, std::vector<Span>& spans) {
  std::size_t search = 0;
  while (true) {
    const std::size_t begin = text.find("-----BEGIN ", search);
    if (begin == std::string_view::npos) return;
    const std::size_t header_end = text.find("-----", begin + 11);
    if (header_end == std::string_view::npos) return;
    search = header_end + 5;
    if (text.substr(begin, header_end - begin).find("PRIVATE KEY") == std::string_view::npos) {
      continue;
    }
    const std::size_t footer = text.find("-----END ", search);
    const std::size_t footer_end =
        footer == std::string_view::npos ? std::string_view::npos : text.find("-----", footer + 9);
    const std::size_t end = footer_end == std::string_view::npos ? text.size() : footer_end + 5;
    spans.emplace_back(begin, end);
    search = end;
  }
}

// The text with the spans replaced by the marker; overlapping spans become one.
std::string replace_spans(std::string_view text, std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end());
  std::string out;
  std::size_t copied = 0;
  for (const auto& [begin, end] : spans) {
    if (end <= copied) continue;
    if (begin >= copied) {
      out.append(text.substr(copied, begin - copied));
      out.append(kRedactedMarker);
    }
    copied = end;
  }
  out.append(text.substr(std::min(copied, text.size())));
  return out;
}

}  // namespace

bool is_secret_name(std::string_view name, const std::vector<std::string>& extra_patterns,
                    NameKind kind) {
  std::string_view bare = name;
  if (kind == NameKind::option) {
    while (bare.starts_with("-")) bare.remove_prefix(1);
  }
  if (is_secret_by_words(name_words(bare), kind)) return true;
  std::string upper_name = upper(bare);
  if (kind == NameKind::option) std::replace(upper_name.begin(), upper_name.end(), '-', '_');
  return std::any_of(
      extra_patterns.begin(), extra_patterns.end(),
      [&upper_name](const std::string& pattern) { return matches_pattern(upper_name, pattern); });
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

std::string redact_secrets_in_value(std::string_view value,
                                    const std::vector<std::string>& extra_patterns) {
  // A redacted span can take a stray quote with it, and the words around it then read
  // differently: look again until nothing more is found (found by queue_file_fuzzer).
  constexpr int kMostPasses = 8;
  std::string text(value);
  for (int pass = 0; pass < kMostPasses; ++pass) {
    std::vector<Span> spans;
    find_option_values(text, extra_patterns, spans);
    find_url_secrets(text, spans);
    find_secret_items(text, extra_patterns, spans);
    find_authorization(text, spans);
    find_prefixed_tokens(text, spans);
    find_private_keys(text, spans);
    std::string redacted = spans.empty() ? text : replace_spans(text, std::move(spans));
    if (redacted == text) break;
    text = std::move(redacted);
  }
  return text;
}

std::string url_without_credentials(std::string_view url) {
  std::string text(url);
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::size_t start = scheme_end + 3;
    const std::string_view rest = url.substr(start);
    const std::size_t info_end = user_info_end(rest, rest.substr(0, rest.find_first_of("/?#")));
    if (info_end != std::string_view::npos) {
      text = std::string(url.substr(0, start)) + std::string(rest.substr(info_end + 1));
    }
  }
  return redact_secrets_in_value(text);
}

std::string text_for_message(std::string_view text) {
  constexpr std::size_t kLongest = 300;
  std::string shown = escape_for_terminal(redact_secrets_in_value(text));
  if (shown.size() <= kLongest) return shown;
  std::size_t cut = kLongest;
  while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
  return shown.substr(0, cut) + "...";
}

std::vector<std::string> redact_args(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& extra_patterns) {
  std::vector<std::string> recorded;
  recorded.reserve(argv.size());
  bool value_is_secret = false;
  for (const auto& arg : argv) {
    if (value_is_secret && !is_option_word(arg)) {
      recorded.emplace_back(kRedactedMarker);
      value_is_secret = false;
      continue;
    }
    recorded.push_back(redact_secrets_in_value(arg, extra_patterns));
    value_is_secret = is_secret_option_word(arg, extra_patterns);
  }
  return recorded;
}

}  // namespace sqltrack
