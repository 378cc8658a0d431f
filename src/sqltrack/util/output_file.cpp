#include "sqltrack/util/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

#include "sqltrack/util/capture.hpp"

namespace sqltrack {
namespace {

std::string not_yours(uid_t owner) {
  return "it belongs to " + describe_user(owner) + ", not to you, " + describe_user(::geteuid()) +
         ": refused";
}

// The kernel's protected_symlinks rule for the link `link` (lstat) found in `dir`.
std::optional<std::string> protected_link_refusal(const std::filesystem::path& dir,
                                                  const struct stat& link) {
  struct stat parent {};
  if (::stat(dir.c_str(), &parent) != 0) return std::nullopt;
  const bool shared = (parent.st_mode & S_ISVTX) != 0 && (parent.st_mode & S_IWOTH) != 0;
  if (!shared || link.st_uid == ::geteuid() || link.st_uid == parent.st_uid) return std::nullopt;
  return "it is a symbolic link of " + describe_user(link.st_uid) + " in " + dir.string() +
         ", a sticky directory that others may write: refused";
}

bool in_users_groups(gid_t gid) {
  if (gid == ::getegid()) return true;
  const int count = ::getgroups(0, nullptr);
  if (count <= 0) return false;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  const int found = ::getgroups(count, groups.data());
  return found > 0 &&
         std::find(groups.begin(), groups.begin() + found, gid) != groups.begin() + found;
}

// The reason an existing name cannot be opened, after open(O_NOFOLLOW) failed with `error`.
std::string open_failure(const std::filesystem::path& path, int error) {
  struct stat info {};
  if (error == ELOOP || error == ENXIO) {
    // ELOOP: a symbolic link; ENXIO: a FIFO without a reader, or a socket.
    if (::lstat(path.c_str(), &info) == 0) {
      if (auto refusal = refusal_of(info, Owners::user)) return *refusal;
    }
  }
  return std::strerror(error);
}

// An existing file, opened without following a link or blocking on a FIFO, then checked.
OutputFile open_existing(const std::filesystem::path& path, int access, IfExists if_exists) {
  const int fd = ::open(path.c_str(), access | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) throw OutputFileError(path, open_failure(path, errno));
  struct stat info {};
  std::optional<std::string> refusal;
  if (::fstat(fd, &info) != 0) {
    refusal = std::strerror(errno);
  } else {
    refusal = refusal_of(info, Owners::user);
  }
  if (!refusal && if_exists == IfExists::overwrite && ::ftruncate(fd, 0) != 0) {
    refusal = std::strerror(errno);
  }
  if (refusal) {
    ::close(fd);
    throw OutputFileError(path, *refusal);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return {fd, false};
}

}  // namespace

OutputFileError::OutputFileError(const std::filesystem::path& path, std::string reason)
    : Error("cannot write '" + path.string() + "': " + reason), reason_(std::move(reason)) {}

std::string describe_user(uid_t uid) {
  std::string name = user_name(uid);
  return name.empty() ? "uid " + std::to_string(uid) : name + " (uid " + std::to_string(uid) + ")";
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::optional<std::string> refusal_of(const struct stat& info, Owners owners) {
  if (S_ISLNK(info.st_mode)) {
    return "it is a symbolic link of " + describe_user(info.st_uid) + ": refused";
  }
  if (!S_ISREG(info.st_mode)) {
    return "it is not a regular file (" + file_kind(info.st_mode) + "): refused";
  }
  if (info.st_uid == ::geteuid()) return std::nullopt;
  if (owners == Owners::user_or_group && (info.st_mode & S_IWGRP) != 0 &&
      in_users_groups(info.st_gid)) {
    return std::nullopt;
  }
  return not_yours(info.st_uid);
}

std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

FollowedPath follow_protected_links(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path dir =
      path.is_absolute() ? path.root_path() : std::filesystem::current_path(ec);
  if (ec) return {};
  const std::filesystem::path relative = path.relative_path();
  std::deque<std::filesystem::path> rest(relative.begin(), relative.end());
  for (int links = 0; !rest.empty();) {
    const std::filesystem::path name = rest.front();
    rest.pop_front();
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      dir = dir.parent_path();
      continue;
    }
    struct stat info {};
    if (::lstat((dir / name).c_str(), &info) != 0) return {};
    if (!S_ISLNK(info.st_mode)) {
      dir /= name;
      continue;
    }
    if (++links > 40) return {std::nullopt, "too many levels of symbolic links"};
    if (auto refusal = protected_link_refusal(dir, info)) return {std::nullopt, refusal};
    const std::filesystem::path target = std::filesystem::read_symlink(dir / name, ec);
    if (ec) return {};
    if (target.is_absolute()) dir = target.root_path();
    const std::filesystem::path inside = target.relative_path();
    rest.insert(rest.begin(), inside.begin(), inside.end());
  }
  struct stat info {};
  if (::lstat(dir.c_str(), &info) != 0) return {};
  return {info, std::nullopt};
}

OutputFile open_output_file(const std::filesystem::path& path, int access, IfExists if_exists,
                            mode_t mode) {
  // A new file is created exclusively: nothing another user put there is used, and a link
  // (even one to nowhere) makes it exist.
  const int fd = ::open(path.c_str(), access | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd >= 0) {
    // Exactly `mode`: the umask may have taken bits that file_mode grants on purpose.
    if (::fchmod(fd, mode) != 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw OutputFileError(path, std::strerror(error));
    }
    return {fd, true};
  }
  if (errno != EEXIST) throw OutputFileError(path, std::strerror(errno));
  return open_existing(path, access, if_exists);
}

void create_private_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw OutputFileError(dir, ec.message());
  struct stat info {};
  if (::lstat(dir.c_str(), &info) != 0) throw OutputFileError(dir, std::strerror(errno));
  // The user's (or root's) own link is where they keep it on purpose; nobody else's is: made
  // 0700, it would lock its owner out of their directory (for root: any directory).
  if (S_ISLNK(info.st_mode) && info.st_uid != ::geteuid() && info.st_uid != 0) {
    throw OutputFileError(dir, *refusal_of(info));
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw OutputFileError(dir, std::strerror(errno));
  std::optional<std::string> refusal;
  if (::fstat(fd, &info) != 0) {
    refusal = std::strerror(errno);
  } else if (info.st_uid != ::geteuid()) {
    refusal = not_yours(info.st_uid);
  } else if ((info.st_mode & 07777) != 0700 && ::fchmod(fd, 0700) != 0) {
    refusal = std::strerror(errno);
  }
  ::close(fd);
  if (refusal) throw OutputFileError(dir, *refusal);
}

OutputFileStream::Buffer::Buffer(int fd) : fd_(fd), block_(64 * 1024) {
  setp(block_.data(), block_.data() + block_.size());
}

bool OutputFileStream::Buffer::write_out() {
  const char* data = pbase();
  std::size_t left = static_cast<std::size_t>(pptr() - pbase());
  while (left > 0 && error_ == 0) {
    const ssize_t n = ::write(fd_, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = n < 0 ? errno : ENOSPC;
      break;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  setp(block_.data(), block_.data() + block_.size());
  return error_ == 0;
}

OutputFileStream::Buffer::int_type OutputFileStream::Buffer::overflow(int_type c) {
  if (!write_out()) return traits_type::eof();
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
  }
  return traits_type::not_eof(c);
}

int OutputFileStream::Buffer::sync() {
  return write_out() ? 0 : -1;
}

OutputFileStream::OutputFileStream(const std::filesystem::path& path, mode_t mode)
    : path_(path),
      file_(open_output_file(path, O_WRONLY, IfExists::overwrite, mode)),
      buffer_(file_.fd),
      stream_(&buffer_) {}

OutputFileStream::~OutputFileStream() {
  if (buffer_.fd() >= 0) ::close(buffer_.fd());
}

void OutputFileStream::close() {
  stream_.flush();
  int error = buffer_.error();
  if (::close(buffer_.fd()) != 0 && error == 0) error = errno;
  buffer_.release();
  if (error != 0) throw OutputFileError(path_, std::strerror(error));
}

void OutputFileStream::discard() noexcept {
  if (buffer_.fd() >= 0) ::close(buffer_.fd());
  buffer_.release();
  // The user's own file (it was checked when opened), now holding part of what was asked.
  ::unlink(path_.c_str());
}

}  // namespace sqltrack
