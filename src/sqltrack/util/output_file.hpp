#pragma once
// Files the programs write: reject files, the spill file, journals, export and report files,
// and the SQLite database with its -wal and -shm. A name in a shared directory may be a link
// or a file that another user put there, so what a program writes never goes through a
// symbolic link, nor into anything but a regular file of the user who runs it (root too).

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "sqltrack/util/error.hpp"

namespace sqltrack {

// Journals and spill files always; reject files, exports, reports and the SQLite database
// unless the setting file_mode says otherwise: they hold the same data.
inline constexpr mode_t kPrivateFileMode = 0600;

// A file that may not be written: what() says "cannot write 'PATH': REASON"; reason() is the
// part after the colon, for messages that name the file their own way.
class OutputFileError : public Error {
 public:
  OutputFileError(const std::filesystem::path& path, std::string reason);
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

enum class IfExists { append, overwrite };

struct OutputFile {
  int fd = -1;  // the caller's to close
  bool created = false;
};

// Opens `path` for writing; `access` is O_WRONLY or O_RDWR, with O_APPEND where wanted. A
// missing file is created (O_EXCL) with exactly `mode`, whatever the umask. An existing one
// is appended to or emptied, and only when it is a regular file of the user who runs the
// program; a symbolic link is never followed. Throws OutputFileError.
OutputFile open_output_file(const std::filesystem::path& path, int access, IfExists if_exists,
                            mode_t mode);

// Whose files a program may use. user_or_group: also another user's file whose group is one
// of the user's and may write it (a SQLite file a team shares on purpose).
enum class Owners { user, user_or_group };

// Why this user must not use the file `info` describes (found with lstat or fstat) to write
// into, or to read into their runs: "it is a symbolic link of eve (uid 1002): refused", "it
// belongs to eve (uid 1002), not to you, alice (uid 1001): refused", "it is not a regular
// file (a FIFO): refused"; nullopt when it may.
std::optional<std::string> refusal_of(const struct stat& info, Owners owners = Owners::user);

// A file that a program reads into the user's runs (--metrics-file), found by following its
// symbolic links as the kernel does with fs.protected_symlinks on, which not every machine
// turns on: a link in a sticky directory that others may write (/tmp) is followed only when it
// belongs to the user or to that directory's owner.
struct FollowedPath {
  std::optional<struct stat> file;     // what the path names (never a link); none when missing
  std::optional<std::string> refusal;  // "it is a symbolic link of eve (uid 1002) in ..."
};
FollowedPath follow_protected_links(const std::filesystem::path& path);

// "a FIFO", "a directory", "a character device": what a file that is not a regular one is.
std::string file_kind(mode_t mode);

// Creates `dir` and its parents; `dir` itself becomes the user's only (0700). A `dir` that
// another user's symbolic link names, or that belongs to another user, is refused (and left
// as it is): OutputFileError.
void create_private_directory(const std::filesystem::path& dir);

// "alice (uid 1000)", or "uid 1000" for a user without a name.
std::string describe_user(uid_t uid);

// "0644": a file's permission bits as chmod takes them.
std::string octal_mode(mode_t mode);

// A file opened with open_output_file, written through a std::ostream (an export, a report).
// Writes go out in 64 KiB blocks; close() says whether all of them reached the file.
class OutputFileStream {
 public:
  OutputFileStream(const std::filesystem::path& path, mode_t mode);  // throws OutputFileError
  ~OutputFileStream();
  OutputFileStream(const OutputFileStream&) = delete;
  OutputFileStream& operator=(const OutputFileStream&) = delete;

  std::ostream& stream() noexcept { return stream_; }
  // Flushes and closes; throws Error "cannot write 'PATH': REASON" when that failed.
  void close();
  // After a failure: closes and removes the file, so no part of it passes for the whole.
  void discard() noexcept;

 private:
  class Buffer : public std::streambuf {
   public:
    explicit Buffer(int fd);
    int fd() const noexcept { return fd_; }
    int error() const noexcept { return error_; }
    void release() noexcept { fd_ = -1; }

   protected:
    int_type overflow(int_type c) override;
    int sync() override;

   private:
    bool write_out();
    int fd_;
    int error_ = 0;
    std::vector<char> block_;
  };

  std::filesystem::path path_;
  OutputFile file_;
  Buffer buffer_;
  std::ostream stream_;
};

}  // namespace sqltrack
