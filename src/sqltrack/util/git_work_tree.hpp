#pragma once
// Which code a run ran: the commit, branch and origin of the git work tree a directory is in,
// read from the files under .git without starting git (a start must stay cheap), and whether
// tracked files differ from that commit, which only `git status` can tell.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sqltrack {

struct GitState {
  std::filesystem::path work_tree;    // the directory that holds .git
  std::filesystem::path git_dir;      // .git, or where a .git file points (worktree, submodule)
  std::string commit;                 // the full hash HEAD resolves to
  std::optional<std::string> branch;  // "main"; none when HEAD is detached
  std::optional<std::string> remote;  // remote "origin"'s URL, url_without_credentials
  std::optional<bool> dirty;          // set by git_work_tree_dirty only

  // {"commit": ..., "branch": ... or null, "remote": ... or null}, and "dirty" when it was
  // asked (null when git could not tell).
  nlohmann::json to_json(bool with_dirty) const;
};

// The state of the work tree `dir` is in: the nearest .git upwards from `dir` (a directory, or
// a file "gitdir: PATH" as linked worktrees and submodules have; refs and config then come from
// its common directory), HEAD resolved through loose refs, then packed-refs. nullopt outside a
// work tree, before the first commit, and for anything unreadable or unexpected: the caller
// records nothing then. Never throws, never starts a process.
std::optional<GitState> read_git_state(const std::filesystem::path& dir);

// Whether tracked files of the work tree differ from HEAD or the index, by `git status
// --porcelain --untracked-files=no` (without optional locks: a run never blocks the user's
// own git). nullopt when git is missing, fails or takes longer than `timeout`.
std::optional<bool> git_work_tree_dirty(const std::filesystem::path& work_tree,
                                        std::chrono::milliseconds timeout);

}  // namespace sqltrack
