#pragma once
// The one rule for secrets in what sqltrack records or prints: the environment, a command's
// argv (sqltrack-run, sqltrack enqueue, sqltrack submit), and the config lines, connection
// strings and URIs that messages quote. Everyone who can read the database, an export or a
// report sees a run's record, so what looks like a credential is replaced by kRedactedMarker.

#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {

// Replaces a secret's value; the variable's, option's or key's name is kept.
inline constexpr std::string_view kRedactedMarker = "<redacted>";

// An environment variable's name ("GITHUB_TOKEN") or a command-line option's ("--api-key",
// "apiKey", without the value). They differ in one place: a variable whose name ends in _KEY
// (STRIPE_KEY) is secret, an option needs a word that says which key (--api-key is secret,
// --task-key and --sort-key are not).
enum class NameKind { variable, option };

// Whether a variable or option named `name` holds a secret. Case never matters; the name is
// read as words (split at _ - . and lower-to-upper case changes: authToken is AUTH TOKEN).
// Secret when a word contains PASSWORD, PASSWD, PASSPHRASE, SECRET, CREDENTIAL or COOKIE; the
// last word ends in TOKEN (not TOKENS, TOKENIZER); a KEY word follows API, ACCESS, PRIVATE,
// AUTH, SSH, SIGNING, ... (or APIKEY, ACCESSKEY, ...); the last word is SESSION (or SESSION is
// followed by ID, KEY, TOKEN); the last word is AUTH or AUTHORIZATION, or it is PAT, PASS or
// PWD after another word (GITHUB_PAT, SMTP_PASS, MYSQL_PWD; not PWD, BYPASS, PYTHONPATH). A
// name whose last word is FILE, PATH or DIR names where a secret is, not the secret
// (--password-file). An option --no-... is a switch. `extra_patterns` (the setting
// env_redact) add names: a plain word matches names that contain it, a pattern with *, ? or
// [...] is a shell glob over the whole name (an option's name without its dashes, - read as _).
bool is_secret_name(std::string_view name, const std::vector<std::string>& extra_patterns,
                    NameKind kind = NameKind::variable);

// The patterns of an `env_redact` setting: words or globs separated by commas and/or
// whitespace ("AWS_*, *_KEY MY_SITE_PIN"); empty items are dropped.
std::vector<std::string> split_redact_patterns(std::string_view setting);

// A text with the secrets inside it redacted, whatever names surround it:
//  * the password of a URL: postgres://user:pw@host/db → postgres://user:<redacted>@host/db,
//    and the path of a webhook URL (https://hooks.slack.com/<redacted>);
//  * `key=value` items whose key is a secret name (password=pw in a conninfo, ?access_token=
//    in a query, --token=abc, API_KEY=k): the value up to whitespace, & or ; or a '...'
//    quoted value;
//  * the word after a secret option inside a command line ("--password 'a b'");
//  * credentials whatever their name: Bearer tokens, Basic credentials (base64 of
//    user:password), the value of an Authorization header, private keys in PEM form and
//    tokens with a well-known prefix (ghp_, github_pat_, glpat-, xoxb-, sk-..., AKIA..., hf_,
//    npm_, pypi-, AIza, JWTs).
std::string redact_secrets_in_value(std::string_view value,
                                    const std::vector<std::string>& extra_patterns = {});

// A URL as it may be recorded: the user info of scheme://user:token@host/... is dropped
// (https://host/...), the other secrets in it redacted as above. An scp-like git@host:path
// and a local path are kept.
std::string url_without_credentials(std::string_view url);

// An argv as it may be recorded: each argument redacted as a value, and the argument after an
// option whose name is secret (--password hunter2) replaced whole. The command that runs
// keeps its real argv; only the record is redacted.
std::vector<std::string> redact_args(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& extra_patterns = {});

// A text from the user (a config line, a value, a connection string, a command) as a message
// quotes it: secrets redacted as above, control characters and bytes that are not UTF-8
// written as \xNN (escape_for_terminal), and at most 300 bytes of it, then "...".
std::string text_for_message(std::string_view text);

}  // namespace sqltrack
