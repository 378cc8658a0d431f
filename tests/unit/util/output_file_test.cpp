// Opening a file for writing: a new file gets exactly its mode, an existing one is used only
// when it is a regular file of the user, and a symbolic link is never followed. Real files in
// a temporary directory.
#include "sqltrack/util/output_file.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;

mode_t mode_of(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

std::string refusal_of(const std::filesystem::path& path) {
  try {
    ::close(open_output_file(path, O_WRONLY | O_APPEND, IfExists::append, 0600).fd);
  } catch (const OutputFileError& e) {
    return e.reason();
  }
  return "(opened)";
}

TEST(OutputFile, NewFileGetsExactlyItsModeWhateverTheUmask) {
  TempDir dir;
  const mode_t old_umask = ::umask(077);
  OutputFile file = open_output_file(dir / "team", O_WRONLY, IfExists::append, 0660);
  ::umask(old_umask);
  ::close(file.fd);
  EXPECT_TRUE(file.created);
  EXPECT_EQ(octal_mode(mode_of(dir / "team")), "0660");
}

TEST(OutputFile, SymbolicLinkIsNeverFollowed) {
  TempDir dir;
  test::write_file(dir / "target", "keep\n");
  std::filesystem::create_symlink(dir / "target", dir / "link");
  std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
  EXPECT_NE(refusal_of(dir / "link").find("it is a symbolic link of root (uid 0): refused"),
            std::string::npos)
      << refusal_of(dir / "link");
  EXPECT_NE(refusal_of(dir / "dangling").find("symbolic link"), std::string::npos);
  EXPECT_EQ(test::read_file(dir / "target"), "keep\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "nowhere")) << "created through a dangling link";
}

TEST(OutputFile, FifoOrDirectoryIsRefusedWithoutWaiting) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  std::filesystem::create_directory(dir / "sub");
  EXPECT_EQ(refusal_of(dir / "fifo"), "it is not a regular file (a FIFO): refused");
  EXPECT_EQ(refusal_of(dir / "sub"), "Is a directory");
}

TEST(OutputFile, AnotherUsersFileIsRefused) {
  ASSERT_EQ(::geteuid(), 0u) << "this test gives a file to another user: run it as root";
  TempDir dir;
  test::write_file(dir / "theirs", "theirs\n");
  std::filesystem::permissions(dir / "theirs", std::filesystem::perms(0666));
  ASSERT_EQ(::chown((dir / "theirs").c_str(), 65534, 65534), 0);
  EXPECT_NE(refusal_of(dir / "theirs").find("it belongs to "), std::string::npos)
      << refusal_of(dir / "theirs");
  EXPECT_NE(refusal_of(dir / "theirs").find("uid 65534), not to you, root (uid 0): refused"),
            std::string::npos)
      << refusal_of(dir / "theirs");
  EXPECT_EQ(test::read_file(dir / "theirs"), "theirs\n");
}

TEST(OutputFile, OwnFileIsAppendedToOrEmptied) {
  TempDir dir;
  test::write_file(dir / "mine", "one\n");
  std::filesystem::permissions(dir / "mine", std::filesystem::perms(0644));
  OutputFile appended = open_output_file(dir / "mine", O_WRONLY | O_APPEND, IfExists::append, 0);
  EXPECT_FALSE(appended.created);
  ASSERT_EQ(::write(appended.fd, "two\n", 4), 4);
  ::close(appended.fd);
  EXPECT_EQ(test::read_file(dir / "mine"), "one\ntwo\n");
  EXPECT_EQ(octal_mode(mode_of(dir / "mine")), "0644") << "an existing file keeps its mode";
  OutputFile emptied = open_output_file(dir / "mine", O_WRONLY, IfExists::overwrite, 0);
  ::close(emptied.fd);
  EXPECT_EQ(test::read_file(dir / "mine"), "");
}

TEST(OutputFile, StreamWritesThroughAndDiscardRemoves) {
  TempDir dir;
  {
    OutputFileStream out(dir / "kept.csv", 0600);
    out.stream() << std::string(200000, 'x') << '\n';
    out.close();
  }
  EXPECT_EQ(std::filesystem::file_size(dir / "kept.csv"), 200001u);
  {
    OutputFileStream out(dir / "failed.csv", 0600);
    out.stream() << "half";
    out.discard();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "failed.csv"));
  std::filesystem::create_symlink(dir / "kept.csv", dir / "link.csv");
  EXPECT_THROW(OutputFileStream(dir / "link.csv", 0600), OutputFileError);
}

TEST(OutputFile, PrivateDirectoryIsTheUsersOnly) {
  TempDir dir;
  create_private_directory(dir / "a" / "state");
  EXPECT_EQ(octal_mode(mode_of(dir / "a" / "state")), "0700");
}

TEST(OutputFile, PrivateDirectoryIsNeverAnotherUsersLinkOrDirectory) {
  ASSERT_EQ(::geteuid(), 0u) << "this test gives files to another user: run it as root";
  TempDir dir;
  std::filesystem::create_directory(dir / "theirs");
  std::filesystem::permissions(dir / "theirs", std::filesystem::perms(0755));
  ASSERT_EQ(::chown((dir / "theirs").c_str(), 65534, 65534), 0);
  std::filesystem::create_directory(dir / "mine");
  std::filesystem::create_symlink(dir / "mine", dir / "link");
  ASSERT_EQ(::lchown((dir / "link").c_str(), 65534, 65534), 0);
  EXPECT_THROW(create_private_directory(dir / "theirs"), OutputFileError);
  EXPECT_THROW(create_private_directory(dir / "link"), OutputFileError);
  EXPECT_EQ(octal_mode(mode_of(dir / "theirs")), "0755") << "another user's directory changed";
  std::filesystem::create_symlink(dir / "mine", dir / "own-link");
  create_private_directory(dir / "own-link");
  EXPECT_EQ(octal_mode(mode_of(dir / "mine")), "0700") << "the user's own link is theirs";
}

// As the kernel with fs.protected_symlinks on: in a sticky directory others may write, only a
// link of the user or of the directory's owner is followed.
TEST(OutputFile, LinkOfAnotherUserInAStickyDirectoryIsNotFollowed) {
  ASSERT_EQ(::geteuid(), 0u) << "this test gives links to another user: run it as root";
  TempDir dir;
  test::write_file(dir / "target", "x\n");
  std::filesystem::create_directory(dir / "tmp");
  std::filesystem::permissions(dir / "tmp", std::filesystem::perms(01777));
  std::filesystem::create_directory(dir / "private");
  std::filesystem::permissions(dir / "private", std::filesystem::perms(0777));
  for (const char* name : {"tmp/theirs", "private/theirs"}) {
    std::filesystem::create_symlink(dir / "target", dir / name);
    ASSERT_EQ(::lchown((dir / name).c_str(), 65534, 65534), 0);
  }
  std::filesystem::create_symlink("../target", dir / "tmp" / "mine");
  FollowedPath theirs = follow_protected_links(dir / "tmp" / "theirs");
  ASSERT_TRUE(theirs.refusal.has_value());
  EXPECT_NE(theirs.refusal->find("it is a symbolic link of "), std::string::npos);
  EXPECT_NE(theirs.refusal->find(" in " + (dir / "tmp").string() +
                                 ", a sticky directory that others may write: refused"),
            std::string::npos)
      << *theirs.refusal;
  EXPECT_FALSE(theirs.file.has_value());
  // Through a link to the sticky directory, and back out of it with "..".
  std::filesystem::create_symlink(dir / "tmp", dir / "via");
  EXPECT_TRUE(follow_protected_links(dir / "via" / "theirs").refusal.has_value());
  for (const auto& allowed : {dir / "tmp" / "mine", dir / "private" / "theirs",
                              dir / "via" / ".." / "target", dir / "target"}) {
    FollowedPath found = follow_protected_links(allowed);
    EXPECT_FALSE(found.refusal.has_value()) << allowed << ": " << found.refusal.value_or("");
    ASSERT_TRUE(found.file.has_value()) << allowed;
    EXPECT_TRUE(S_ISREG(found.file->st_mode)) << allowed;
  }
  FollowedPath missing = follow_protected_links(dir / "tmp" / "later");
  EXPECT_FALSE(missing.file.has_value());
  EXPECT_FALSE(missing.refusal.has_value());
}

}  // namespace
}  // namespace sqltrack
