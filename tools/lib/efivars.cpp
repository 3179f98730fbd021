#include "tools/lib/efivars.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>

namespace hl {
namespace {

constexpr char kRealDir[] = "/sys/firmware/efi/efivars";
constexpr long kEfivarfsMagic = 0xde5e81e4;  // include/uapi/linux/magic.h

std::string guid_text(const Guid& guid) {
  char text[37];
  guid_to_string(guid, text);
  return text;
}

// Clears FS_IMMUTABLE_FL on fd and remembers whether it was set, so that
// restore() puts it back. Directories that are not efivarfs (tests) may not
// support the flags at all: then nothing is done.
class ImmutableGuard {
 public:
  explicit ImmutableGuard(int fd) : fd_(fd) {}
  Status clear() {
    int flags = 0;
    if (ioctl(fd_, FS_IOC_GETFLAGS, &flags) != 0) return ok_status();
    if ((flags & FS_IMMUTABLE_FL) == 0) return ok_status();
    flags &= ~FS_IMMUTABLE_FL;
    if (ioctl(fd_, FS_IOC_SETFLAGS, &flags) != 0) {
      return Error::make("cannot clear the immutable attribute: {}",
                         efivarfs_error_text(errno).c_str());
    }
    cleared_ = true;
    return ok_status();
  }
  void restore() {
    if (!cleared_) return;
    int flags = 0;
    if (ioctl(fd_, FS_IOC_GETFLAGS, &flags) == 0) {
      flags |= FS_IMMUTABLE_FL;
      (void)ioctl(fd_, FS_IOC_SETFLAGS, &flags);
    }
    cleared_ = false;
  }

 private:
  int fd_;
  bool cleared_ = false;
};

}  // namespace

std::string efivarfs_error_text(int error_number) {
  std::string text = strerror(error_number);
  switch (error_number) {
    case EACCES:
    case EPERM:
      text += " (EFI variables can only be changed by root)";
      break;
    case EROFS:
      text += " (efivarfs is mounted read-only: mount -o remount,rw /sys/firmware/efi/efivars)";
      break;
    case ENOSPC:
      text += " (the firmware's variable store is full)";
      break;
    case EINVAL:
      text += " (the firmware refused the variable: bad attributes, name or size)";
      break;
    case EIO:
      text += " (the firmware failed to write its variable store)";
      break;
    default:
      break;
  }
  return text;
}

std::string EfiVars::default_dir() {
  const char* override_dir = getenv("HIBERLOAD_EFIVARFS");
  if (override_dir != nullptr && override_dir[0] != '\0') return override_dir;
  return kRealDir;
}

std::string EfiVars::path(const std::string& name, const Guid& vendor) const {
  return dir_ + "/" + name + "-" + guid_text(vendor);
}

Status EfiVars::check_present() const {
  struct stat st;
  if (stat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    if (dir_ == kRealDir) {
      if (stat("/sys/firmware/efi", &st) != 0) {
        return Error::make("no EFI variables: this system did not boot through UEFI "
                           "(/sys/firmware/efi is missing)");
      }
    }
    return Error::make("no efivarfs at {}: mount it with 'mount -t efivarfs efivarfs {}'",
                       dir_.c_str(), dir_.c_str());
  }
  if (dir_ == kRealDir) {
    struct statfs fs;
    if (statfs(dir_.c_str(), &fs) != 0 || static_cast<long>(fs.f_type) != kEfivarfsMagic) {
      return Error::make("no efivarfs at {}: mount it with 'mount -t efivarfs efivarfs {}'",
                         dir_.c_str(), dir_.c_str());
    }
  }
  return ok_status();
}

Status EfiVars::check_writable() const {
  HL_TRY(check_present());
  struct statvfs vfs;
  if (statvfs(dir_.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0) {
    return Error::make("{} is mounted read-only: mount -o remount,rw {}", dir_.c_str(),
                       dir_.c_str());
  }
  if (access(dir_.c_str(), W_OK) != 0) {
    return Error::make("cannot write EFI variables in {}: {}", dir_.c_str(),
                       efivarfs_error_text(errno).c_str());
  }
  return ok_status();
}

Result<EfiVariable> EfiVars::read(const std::string& name, const Guid& vendor) const {
  const std::string file = path(name, vendor);
  EfiVariable variable;
  const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return variable;
    return Error::make("cannot read EFI variable {}: {}", name.c_str(),
                       efivarfs_error_text(errno).c_str());
  }
  std::vector<uint8_t> bytes(4 + kMaxEfiVariableBytes + 1);
  size_t total = 0;
  // efivarfs returns the whole variable in one read; loop for other files.
  while (total < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + total, bytes.size() - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      close(fd);
      return Error::make("cannot read EFI variable {}: {}", name.c_str(),
                         efivarfs_error_text(saved).c_str());
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  close(fd);
  if (total < 4) {
    // efivarfs shows a variable deleted behind its back as an empty file.
    if (total == 0) return variable;
    return Error::make("EFI variable {} is {} bytes: shorter than its attributes", name.c_str(),
                       total);
  }
  if (total > 4 + kMaxEfiVariableBytes) {
    return Error::make("EFI variable {} is larger than {} bytes", name.c_str(),
                       kMaxEfiVariableBytes);
  }
  variable.found = true;
  memcpy(&variable.attributes, bytes.data(), 4);
  variable.data.assign(bytes.begin() + 4, bytes.begin() + static_cast<long>(total));
  return variable;
}

Status EfiVars::write(const std::string& name, const Guid& vendor, uint32_t attributes,
                      const std::vector<uint8_t>& data, size_t max_data_bytes) {
  if (data.size() > max_data_bytes) {
    return Error::make("EFI variable {} would be {} bytes, more than the {} allowed", name.c_str(),
                       data.size(), max_data_bytes);
  }
  const std::string file = path(name, vendor);
  std::vector<uint8_t> bytes(4 + data.size());
  memcpy(bytes.data(), &attributes, 4);
  if (!data.empty()) memcpy(bytes.data() + 4, data.data(), data.size());

  // An existing variable: clear the immutable flag first, through an fd that
  // does not truncate (efivarfs ignores O_TRUNC; a plain directory does not).
  int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
  bool existed = fd >= 0;
  if (fd < 0 && errno != ENOENT) {
    return Error::make("cannot write EFI variable {}: {}", name.c_str(),
                       efivarfs_error_text(errno).c_str());
  }
  if (!existed) {
    fd = open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Error::make("cannot create EFI variable {}: {}", name.c_str(),
                         efivarfs_error_text(errno).c_str());
    }
  }
  ImmutableGuard guard(fd);
  if (Status cleared = guard.clear(); !cleared) {
    close(fd);
    return cleared.error().with_context("EFI variable {}", name.c_str());
  }
  // On a plain directory, drop the old content (efivarfs replaces anyway).
  struct statfs fs;
  if (fstatfs(fd, &fs) == 0 && static_cast<long>(fs.f_type) != kEfivarfsMagic) {
    if (ftruncate(fd, 0) != 0) {
      const int saved = errno;
      guard.restore();
      close(fd);
      return Error::make("cannot write EFI variable {}: {}", name.c_str(),
                         efivarfs_error_text(saved).c_str());
    }
  }
  const ssize_t written = ::write(fd, bytes.data(), bytes.size());
  const int saved = errno;
  guard.restore();
  close(fd);
  if (written != static_cast<ssize_t>(bytes.size())) {
    if (!existed) (void)unlink(file.c_str());
    if (written < 0) {
      return Error::make("cannot write EFI variable {}: {}", name.c_str(),
                         efivarfs_error_text(saved).c_str());
    }
    return Error::make("cannot write EFI variable {}: short write ({} of {} bytes)", name.c_str(),
                       static_cast<size_t>(written), bytes.size());
  }
  return ok_status();
}

Status EfiVars::remove(const std::string& name, const Guid& vendor) {
  const std::string file = path(name, vendor);
  const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return ok_status();
    return Error::make("cannot delete EFI variable {}: {}", name.c_str(),
                       efivarfs_error_text(errno).c_str());
  }
  ImmutableGuard guard(fd);
  Status cleared = guard.clear();
  close(fd);
  if (!cleared) return cleared.error().with_context("EFI variable {}", name.c_str());
  if (unlink(file.c_str()) != 0 && errno != ENOENT) {
    const int saved = errno;
    // Put the flag back: the variable is still there.
    const int again = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (again >= 0) {
      int flags = 0;
      if (ioctl(again, FS_IOC_GETFLAGS, &flags) == 0) {
        flags |= FS_IMMUTABLE_FL;
        (void)ioctl(again, FS_IOC_SETFLAGS, &flags);
      }
      close(again);
    }
    return Error::make("cannot delete EFI variable {}: {}", name.c_str(),
                       efivarfs_error_text(saved).c_str());
  }
  return ok_status();
}

Result<std::vector<std::string>> EfiVars::list(const Guid& vendor) const {
  DIR* dir = opendir(dir_.c_str());
  if (dir == nullptr) {
    return Error::make("cannot list EFI variables in {}: {}", dir_.c_str(), strerror(errno));
  }
  const std::string suffix = "-" + guid_text(vendor);
  std::vector<std::string> names;
  while (const dirent* entry = readdir(dir)) {
    const std::string file = entry->d_name;
    if (file.size() > suffix.size() &&
        file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace hl
