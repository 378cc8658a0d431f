#pragma once
// SQLite relies on POSIX advisory locks and, in WAL mode, on shared memory
// (the -shm file mapped by every process): neither works reliably across the
// machines of a network or cluster filesystem, so concurrent wrappers there
// can corrupt the database. We refuse such a location up front.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sqltrack::db {

// The name of the network or cluster filesystem with this statfs(2) f_type
// (the kernel's magic number), e.g. "NFS", "Lustre"; nullopt for a local one.
// FUSE (0x65735546) is only one when fuse_subtype, the mount's type after
// "fuse." in /proc/self/mountinfo, names a network filesystem (glusterfs,
// sshfs, ...); FUSE with another or an unknown subtype counts as local.
std::optional<std::string> filesystem_kind(unsigned long f_type,
                                           std::string_view fuse_subtype = {});

// What statfs(2) (and for FUSE /proc/self/mountinfo) says about where a
// database file is or will be.
struct FilesystemFacts {
  unsigned long f_type = 0;
  std::string fuse_subtype;  // only for FUSE mounts, e.g. "glusterfs"; may be empty
};

// The facts for the file at path when it exists (symlinks followed, as SQLite
// does), else for the directory that will hold it; nullopt when neither can
// be examined (SQLite then reports its own error on open).
std::optional<FilesystemFacts> examine_filesystem(const std::filesystem::path& path);

// The decision: throws ConfigError, one line naming the path, the filesystem,
// why and the way out, when facts name a network filesystem. Separate from
// examine_filesystem so that tests can give it any f_type.
void check_sqlite_filesystem(const std::filesystem::path& path, const FilesystemFacts& facts);

// examine_filesystem then check_sqlite_filesystem; used by open_sqlite.
void check_sqlite_location(const std::filesystem::path& path);

}  // namespace sqltrack::db
