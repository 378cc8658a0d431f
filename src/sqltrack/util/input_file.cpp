#include "sqltrack/util/input_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/output_file.hpp"

namespace sqltrack {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// Reads up to limit + 1 bytes: one more than allowed tells that the file is too large.
std::string read_bounded(int fd, std::size_t limit, const std::string& description) {
  std::string bytes;
  char buffer[65536];
  while (bytes.size() <= limit) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot read " + description + ": " + std::strerror(errno));
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  throw Error(description + " is larger than " + describe_size(limit) + ": refused");
}

}  // namespace

std::string describe_size(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024;
  if (bytes >= kKiB * kKiB && bytes % (kKiB * kKiB) == 0) {
    return std::to_string(bytes / (kKiB * kKiB)) + " MiB";
  }
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + " bytes";
}

InputFile read_input_file(const std::filesystem::path& path, const std::string& description,
                          std::size_t limit) {
  // Non-blocking only to open: a FIFO without a writer or a device must not hang the open.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) throw Error("cannot read " + description + ": " + std::strerror(errno));
  InputFile file;
  if (::fstat(fd.get(), &file.info) != 0) {
    throw Error("cannot read " + description + ": " + std::strerror(errno));
  }
  if (S_ISDIR(file.info.st_mode)) throw Error(description + " is a directory, not a file");
  if (!S_ISREG(file.info.st_mode) && !S_ISFIFO(file.info.st_mode)) {
    throw Error(description + " is not a regular file (" + file_kind(file.info.st_mode) + ")");
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  file.bytes = read_bounded(fd.get(), limit, description);
  return file;
}

}  // namespace sqltrack
