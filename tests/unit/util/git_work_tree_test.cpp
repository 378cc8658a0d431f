// read_git_state against real repositories that git itself made in a temporary directory:
// what it reads from .git must be what git says (rev-parse, symbolic-ref, config).

#include "sqltrack/util/git_work_tree.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "sqltrack/util/redaction.hpp"
#include "support/git_repository.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

namespace fs = std::filesystem;
using test::git;

class GitWorkTreeTest : public ::testing::Test {
 protected:
  void SetUp() override { test::make_repository(repo_); }

  // HEAD's commit as git resolves it.
  std::string head_commit(const fs::path& dir) const { return git(dir, {"rev-parse", "HEAD"}); }

  test::TempDir temp_;
  fs::path repo_ = temp_ / "repo";
};

TEST_F(GitWorkTreeTest, ARepositoryOnABranchFromASubdirectory) {
  fs::create_directories(repo_ / "src" / "models");
  auto state = read_git_state(repo_ / "src" / "models");
  ASSERT_TRUE(state) << "no state inside " << repo_;
  EXPECT_EQ(state->commit, head_commit(repo_));
  EXPECT_EQ(state->commit.size(), 40u);
  EXPECT_EQ(state->branch, "main");
  EXPECT_EQ(state->remote, std::nullopt) << "no origin configured";
  EXPECT_EQ(state->dirty, std::nullopt) << "dirty is set by git_work_tree_dirty only";
  EXPECT_EQ(state->work_tree, repo_);
  EXPECT_EQ(state->to_json(false),
            (nlohmann::json{{"commit", state->commit}, {"branch", "main"}, {"remote", nullptr}}));
}

TEST_F(GitWorkTreeTest, ABranchNameWithSlashesAndANewCommit) {
  git(repo_, {"checkout", "--quiet", "-b", "feature/lr-sweep"});
  test::write_file(repo_ / "train.py", "print('step=1 loss=0.4')\n");
  git(repo_, {"commit", "--quiet", "-am", "second"});
  auto state = read_git_state(repo_);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->branch, "feature/lr-sweep");
  EXPECT_EQ(state->commit, head_commit(repo_));
}

TEST_F(GitWorkTreeTest, ADetachedHeadHasNoBranch) {
  const std::string first = head_commit(repo_);
  test::write_file(repo_ / "train.py", "print('step=1 loss=0.4')\n");
  git(repo_, {"commit", "--quiet", "-am", "second"});
  git(repo_, {"checkout", "--quiet", "--detach", first});
  auto state = read_git_state(repo_);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->commit, first);
  EXPECT_EQ(state->branch, std::nullopt);
  EXPECT_EQ(state->to_json(false)["branch"], nullptr);
}

TEST_F(GitWorkTreeTest, PackedRefsAfterPackRefsAll) {
  git(repo_, {"branch", "other"});
  git(repo_, {"pack-refs", "--all"});
  ASSERT_FALSE(fs::exists(repo_ / ".git" / "refs" / "heads" / "main")) << "the ref is packed";
  auto state = read_git_state(repo_);
  ASSERT_TRUE(state) << test::read_file(repo_ / ".git" / "packed-refs");
  EXPECT_EQ(state->commit, head_commit(repo_));
  EXPECT_EQ(state->branch, "main");

  // A new commit writes a loose ref again, which wins over the packed one.
  test::write_file(repo_ / "train.py", "print('step=1 loss=0.4')\n");
  git(repo_, {"commit", "--quiet", "-am", "second"});
  EXPECT_EQ(read_git_state(repo_)->commit, head_commit(repo_));
}

TEST_F(GitWorkTreeTest, ALinkedWorktreeReadsRefsAndConfigFromTheCommonDirectory) {
  git(repo_, {"remote", "add", "origin", "https://example.com/lab/models.git"});
  const fs::path linked = temp_ / "linked";
  git(repo_, {"worktree", "add", "--quiet", "-b", "experiment", linked.string()});
  test::write_file(linked / "train.py", "print('step=1 loss=0.3')\n");
  git(linked, {"commit", "--quiet", "-am", "in the worktree"});
  git(repo_, {"pack-refs", "--all"});
  ASSERT_TRUE(fs::is_regular_file(linked / ".git")) << "a linked worktree has a .git file";

  auto state = read_git_state(linked);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->commit, head_commit(linked));
  EXPECT_NE(state->commit, head_commit(repo_));
  EXPECT_EQ(state->branch, "experiment");
  EXPECT_EQ(state->remote, "https://example.com/lab/models.git");
  EXPECT_EQ(state->work_tree, linked);
  EXPECT_EQ(read_git_state(repo_)->branch, "main") << "the main work tree keeps its own HEAD";
}

TEST_F(GitWorkTreeTest, ASubmoduleIsReadThroughItsGitdirFile) {
  const fs::path library = temp_ / "library";
  test::make_repository(library);
  git(repo_, {"-c", "protocol.file.allow=always", "submodule", "--quiet", "add", library.string(),
              "third_party/library"});
  const fs::path submodule = repo_ / "third_party" / "library";
  ASSERT_TRUE(fs::is_regular_file(submodule / ".git"));
  EXPECT_TRUE(test::read_file(submodule / ".git").starts_with("gitdir: ../../.git/modules/"))
      << "a relative gitdir: " << test::read_file(submodule / ".git");

  auto state = read_git_state(submodule);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->commit, head_commit(submodule));
  EXPECT_EQ(state->remote, library.string()) << "the submodule's own origin";
  EXPECT_EQ(state->work_tree, submodule);
  EXPECT_EQ(read_git_state(repo_ / "third_party")->work_tree, repo_);
}

TEST_F(GitWorkTreeTest, CredentialsInTheRemoteUrlAreNotKept) {
  git(repo_,
      {"remote", "add", "origin", "https://alice:ghp_s3cr3tT0ken@github.com/lab/models.git"});
  auto state = read_git_state(repo_);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->remote, "https://github.com/lab/models.git");
  EXPECT_EQ(state->to_json(false)["remote"], "https://github.com/lab/models.git");
}

TEST_F(GitWorkTreeTest, TheRemoteUrlIsReadAsGitWritesIt) {
  // git quotes a value with ';' or '#' in its config file; the first url is the one git shows.
  git(repo_, {"remote", "add", "origin", "/srv/git/models;v2#main"});
  git(repo_, {"config", "--add", "remote.origin.url", "/srv/git/mirror"});
  git(repo_, {"remote", "add", "upstream", "https://example.com/upstream.git"});
  auto state = read_git_state(repo_);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->remote, git(repo_, {"remote", "get-url", "origin"}));
  EXPECT_EQ(state->remote, "/srv/git/models;v2#main");
}

TEST_F(GitWorkTreeTest, OutsideAnyRepositoryThereIsNoState) {
  test::TempDir elsewhere;
  fs::create_directories(elsewhere / "a" / "b");
  test::CommandOptions options;
  options.env = test::git_environment();
  auto inside = test::run_command(
      {"git", "-C", (elsewhere / "a" / "b").string(), "rev-parse", "--is-inside-work-tree"},
      options);
  ASSERT_NE(inside.exit_code, 0) << "the temporary directory is inside a work tree: "
                                 << elsewhere.path();
  EXPECT_EQ(read_git_state(elsewhere / "a" / "b"), std::nullopt);
  EXPECT_EQ(read_git_state(elsewhere / "missing"), std::nullopt);
  EXPECT_EQ(read_git_state("/"), std::nullopt);
}

TEST_F(GitWorkTreeTest, ARepositoryWithoutACommitHasNoState) {
  const fs::path empty = temp_ / "empty";
  fs::create_directories(empty);
  git(empty, {"init", "--quiet", "--initial-branch=main"});
  EXPECT_EQ(read_git_state(empty), std::nullopt);
}

TEST_F(GitWorkTreeTest, OddFilesUnderGitGiveNoState) {
  const fs::path odd = temp_ / "odd";
  fs::create_directories(odd);
  test::write_file(odd / ".git", "not a gitdir line\n");
  EXPECT_EQ(read_git_state(odd), std::nullopt) << "a .git file without gitdir:";
  test::write_file(odd / ".git", "gitdir: " + (temp_ / "nowhere").string() + "\n");
  EXPECT_EQ(read_git_state(odd), std::nullopt) << "a gitdir that does not exist";

  test::write_file(repo_ / ".git" / "HEAD", "ref: refs/heads/../../../../etc/passwd\n");
  EXPECT_EQ(read_git_state(repo_), std::nullopt) << "a ref outside refs/";
  test::write_file(repo_ / ".git" / "HEAD", "something else\n");
  EXPECT_EQ(read_git_state(repo_), std::nullopt) << "HEAD neither a ref nor a hash";
  fs::remove(repo_ / ".git" / "HEAD");
  fs::create_directory(repo_ / ".git" / "HEAD");
  EXPECT_EQ(read_git_state(repo_), std::nullopt) << "HEAD a directory";
}

TEST_F(GitWorkTreeTest, DirtyIsAskedOfGitStatusForTrackedFilesOnly) {
  const auto timeout = std::chrono::seconds(20);
  EXPECT_EQ(git_work_tree_dirty(repo_, timeout), false) << "a clean work tree";
  test::write_file(repo_ / "notes.txt", "untracked\n");
  EXPECT_EQ(git_work_tree_dirty(repo_, timeout), false) << "untracked files do not count";
  test::write_file(repo_ / "train.py", "print('changed')\n");
  EXPECT_EQ(git_work_tree_dirty(repo_, timeout), true) << "a tracked file changed";

  auto state = read_git_state(repo_);
  ASSERT_TRUE(state);
  state->dirty = true;
  EXPECT_EQ(state->to_json(true)["dirty"], true);
  state->dirty.reset();
  EXPECT_EQ(state->to_json(true)["dirty"], nullptr) << "asked, but git could not tell";
  EXPECT_FALSE(state->to_json(false).contains("dirty"));

  test::TempDir elsewhere;
  EXPECT_EQ(git_work_tree_dirty(elsewhere.path(), timeout), std::nullopt) << "not a work tree";
}

TEST(UrlWithoutCredentials, UserInfoIsDroppedAndOtherFormsKept) {
  EXPECT_EQ(url_without_credentials("https://user:token@host.example/org/repo.git"),
            "https://host.example/org/repo.git");
  EXPECT_EQ(url_without_credentials("https://oauth2:glpat-abcdefghij0123456789@gitlab.com/a/b"),
            "https://gitlab.com/a/b");
  EXPECT_EQ(url_without_credentials("https://x-access-token@github.com/a/b.git"),
            "https://github.com/a/b.git")
      << "a token without a password";
  EXPECT_EQ(url_without_credentials("ssh://git@host.example:2222/org/repo.git"),
            "ssh://host.example:2222/org/repo.git");
  EXPECT_EQ(url_without_credentials("https://host.example/org/repo.git"),
            "https://host.example/org/repo.git");
  EXPECT_EQ(url_without_credentials("git@github.com:org/repo.git"), "git@github.com:org/repo.git")
      << "an scp-like address names a login, not a secret";
  EXPECT_EQ(url_without_credentials("/srv/git/repo.git"), "/srv/git/repo.git");
  EXPECT_EQ(url_without_credentials("https://host.example/repo.git?access_token=abc"),
            "https://host.example/repo.git?access_token=" + std::string(kRedactedMarker));
}

}  // namespace
}  // namespace sqltrack
