#include "sqltrack/util/git_work_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <vector>

#include "sqltrack/util/helper_process.hpp"
#include "sqltrack/util/redaction.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/util/utf8_text.hpp"

namespace sqltrack {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSmallFileLimit = 4096;               // HEAD, a loose ref, a .git file
constexpr std::size_t kConfigLimit = std::size_t{1} << 20;  // .git/config
// packed-refs grows with tags and branches; a repository with a million of them is past it.
constexpr std::size_t kPackedRefsLimit = std::size_t{64} << 20;
// A symbolic ref may point to another; git itself gives up after five.
constexpr int kMostRefHops = 5;

// The bytes of a regular file of at most `limit` bytes; nullopt for anything else (missing,
// unreadable, a directory, a FIFO, too large).
std::optional<std::string> read_small_file(const fs::path& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> bytes;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<std::size_t>(info.st_size) <= limit) {
    std::string text(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    bytes = std::move(text);
  }
  ::close(fd);
  return bytes;
}

enum class EntryKind { missing, directory, file, other };

EntryKind entry_kind(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    // Anything but "not there" (a directory we may not search) ends the search.
    return errno == ENOENT || errno == ENOTDIR ? EntryKind::missing : EntryKind::other;
  }
  if (S_ISDIR(info.st_mode)) return EntryKind::directory;
  if (S_ISREG(info.st_mode)) return EntryKind::file;
  return EntryKind::other;
}

// A path named inside a file of .git: relative ones are relative to that file's directory.
fs::path path_from(const fs::path& base, std::string_view text) {
  fs::path path{std::string(text)};
  return (path.is_absolute() ? path : base / path).lexically_normal();
}

struct GitDirs {
  fs::path work_tree;
  fs::path git_dir;     // HEAD
  fs::path common_dir;  // refs, packed-refs, config: git_dir but in a linked worktree
};

// Where a .git file ("gitdir: PATH") points.
std::optional<fs::path> git_dir_of_file(const fs::path& file) {
  auto text = read_small_file(file, kSmallFileLimit);
  constexpr std::string_view kPrefix = "gitdir:";
  if (!text || !text->starts_with(kPrefix)) return std::nullopt;
  std::string_view target = trim(std::string_view(*text).substr(kPrefix.size()));
  if (target.empty()) return std::nullopt;
  return path_from(file.parent_path(), target);
}

std::optional<GitDirs> git_dirs_at(const fs::path& work_tree, EntryKind kind) {
  GitDirs dirs;
  dirs.work_tree = work_tree;
  if (kind == EntryKind::directory) {
    dirs.git_dir = work_tree / ".git";
  } else {
    auto git_dir = git_dir_of_file(work_tree / ".git");
    if (!git_dir) return std::nullopt;
    dirs.git_dir = *git_dir;
  }
  dirs.common_dir = dirs.git_dir;
  const fs::path commondir_file = dirs.git_dir / "commondir";
  if (entry_kind(commondir_file) != EntryKind::missing) {
    auto text = read_small_file(commondir_file, kSmallFileLimit);
    if (!text || trim(*text).empty()) return std::nullopt;
    dirs.common_dir = path_from(dirs.git_dir, trim(*text));
  }
  return dirs;
}

// The nearest .git from `start` upwards, to the root of the file system.
std::optional<GitDirs> find_git_dirs(const fs::path& start) {
  for (fs::path dir = start;; dir = dir.parent_path()) {
    const EntryKind kind = entry_kind(dir / ".git");
    if (kind == EntryKind::directory || kind == EntryKind::file) return git_dirs_at(dir, kind);
    if (kind == EntryKind::other) return std::nullopt;
    if (dir == dir.parent_path()) return std::nullopt;
  }
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// An object name: SHA-1 (40 digits) or SHA-256 (64), lower case as git writes them.
bool is_object_name(std::string_view text) {
  return (text.size() == 40 || text.size() == 64) &&
         std::all_of(text.begin(), text.end(), is_hex_digit);
}

// A ref name that stays inside the git directory when read as a path.
bool is_safe_ref_name(std::string_view name) {
  if (!name.starts_with("refs/") || name.ends_with("/")) return false;
  if (name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) {
    return false;
  }
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

// The object name packed-refs gives `name`: lines "<hash> <name>"; '#' starts the header and
// '^' a peeled tag's target.
std::optional<std::string> packed_ref(const fs::path& common_dir, std::string_view name) {
  auto text = read_small_file(common_dir / "packed-refs", kPackedRefsLimit);
  if (!text) return std::nullopt;
  std::string_view rest(*text);
  while (!rest.empty()) {
    const std::size_t end = std::min(rest.find('\n'), rest.size());
    const std::string_view line = trim(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || line.substr(space + 1) != name) continue;
    const std::string_view hash = line.substr(0, space);
    if (is_object_name(hash)) return std::string(hash);
    return std::nullopt;
  }
  return std::nullopt;
}

// The object name a ref points to: its loose file (which may name another ref), else
// packed-refs.
std::optional<std::string> resolve_ref(const GitDirs& dirs, std::string name) {
  for (int hop = 0; hop < kMostRefHops; ++hop) {
    if (!is_safe_ref_name(name)) return std::nullopt;
    auto loose = read_small_file(dirs.common_dir / name, kSmallFileLimit);
    if (!loose) return packed_ref(dirs.common_dir, name);
    const std::string_view value = trim(*loose);
    if (is_object_name(value)) return std::string(value);
    if (!value.starts_with("ref:")) return std::nullopt;
    name = std::string(trim(value.substr(4)));
  }
  return std::nullopt;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A config section: [remote "origin"] is {"remote", "origin"}; the old [remote.origin] too.
struct ConfigSection {
  std::string name;
  std::string subsection;
};

// Reads the header at the start of `line` ('[' ... ']') and leaves `line` after it: git allows
// a key on the same line. nullopt for a header it cannot read.
std::optional<ConfigSection> read_section_header(std::string_view& line) {
  std::size_t i = 1;
  while (i < line.size() && line[i] != ']' && line[i] != '"' &&
         !std::isspace(static_cast<unsigned char>(line[i]))) {
    ++i;
  }
  ConfigSection section{lower(line.substr(1, i - 1)), ""};
  if (auto dot = section.name.find('.'); dot != std::string::npos) {
    section.subsection = section.name.substr(dot + 1);
    section.name.resize(dot);
  }
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  if (i < line.size() && line[i] == '"') {
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      section.subsection.push_back(line[i]);
    }
    ++i;
  }
  if (i >= line.size() || line[i] != ']') return std::nullopt;
  line.remove_prefix(i + 1);
  return section;
}

// A value as git reads it: double quotes group, \" \\ \n \t \b escape, an unquoted # or ;
// starts a comment, blanks around it go.
std::string read_config_value(std::string_view text) {
  std::string value;
  std::size_t kept = 0;  // value's length up to its last character that is not a blank
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!quoted && (c == '#' || c == ';')) break;
    if (c == '"') {
      quoted = !quoted;
      kept = value.size();
      continue;
    }
    if (c == '\\' && i + 1 < text.size()) {
      c = text[++i];
      c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'b' ? '\b' : c;
    } else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
      if (!value.empty()) value.push_back(c);
      continue;
    }
    value.push_back(c);
    kept = value.size();
  }
  value.resize(kept);
  return value;
}

// The first url of [remote "origin"] in a git config file's text.
std::optional<std::string> origin_url(std::string_view config) {
  ConfigSection section;
  while (!config.empty()) {
    const std::size_t end = std::min(config.find('\n'), config.size());
    std::string_view line = trim(config.substr(0, end));
    config.remove_prefix(std::min(end + 1, config.size()));
    if (line.starts_with("[")) {
      auto header = read_section_header(line);
      if (!header) return std::nullopt;
      section = std::move(*header);
      line = trim(line);
    }
    if (section.name != "remote" || section.subsection != "origin") continue;
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos || lower(trim(line.substr(0, equals))) != "url") continue;
    return read_config_value(trim(line.substr(equals + 1)));
  }
  return std::nullopt;
}

std::optional<GitState> read_state(const fs::path& dir) {
  std::error_code ec;
  const fs::path start = fs::absolute(dir, ec).lexically_normal();
  if (ec) return std::nullopt;
  auto dirs = find_git_dirs(start);
  if (!dirs) return std::nullopt;
  auto head = read_small_file(dirs->git_dir / "HEAD", kSmallFileLimit);
  if (!head) return std::nullopt;
  GitState state;
  state.work_tree = dirs->work_tree;
  state.git_dir = dirs->git_dir;
  const std::string_view head_value = trim(*head);
  if (head_value.starts_with("ref:")) {
    const std::string ref(trim(head_value.substr(4)));
    auto commit = resolve_ref(*dirs, ref);
    if (!commit) return std::nullopt;  // no commit yet, or refs git keeps elsewhere (reftable)
    state.commit = std::move(*commit);
    constexpr std::string_view kBranches = "refs/heads/";
    if (ref.starts_with(kBranches)) state.branch = to_valid_utf8(ref.substr(kBranches.size()));
  } else if (is_object_name(head_value)) {
    state.commit = std::string(head_value);
  } else {
    return std::nullopt;
  }
  if (auto config = read_small_file(dirs->common_dir / "config", kConfigLimit)) {
    if (auto url = origin_url(*config)) state.remote = to_valid_utf8(url_without_credentials(*url));
  }
  return state;
}

}  // namespace

nlohmann::json GitState::to_json(bool with_dirty) const {
  nlohmann::json object = {{"commit", commit},
                           {"branch", branch ? nlohmann::json(*branch) : nlohmann::json()},
                           {"remote", remote ? nlohmann::json(*remote) : nlohmann::json()}};
  if (with_dirty) object["dirty"] = dirty ? nlohmann::json(*dirty) : nlohmann::json();
  return object;
}

std::optional<GitState> read_git_state(const fs::path& dir) {
  try {
    return read_state(dir);
  } catch (...) {
    // Out of memory and the like: a run is recorded without its git state, never refused.
    return std::nullopt;
  }
}

std::optional<bool> git_work_tree_dirty(const fs::path& work_tree,
                                        std::chrono::milliseconds timeout) {
  try {
    HelperOutput status = run_helper({"git", "--no-optional-locks", "-C", work_tree.string(),
                                      "status", "--porcelain", "--untracked-files=no"},
                                     timeout);
    if (!status.succeeded()) return std::nullopt;
    return !trim(status.out).empty();
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace sqltrack
