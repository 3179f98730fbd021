// EFI variables from Linux, through efivarfs (Documentation/filesystems/efivarfs.rst).
//
// Each variable is a file NAME-GUID in the efivarfs mount; its content is
// the 4-byte little-endian attributes followed by the data. A write replaces
// the whole variable (one write() call: the kernel passes it to SetVariable
// as it is). efivarfs marks most files immutable (FS_IMMUTABLE_FL, what
// `chattr -i` clears) so that a stray `rm -rf /` or `cat > file` cannot brick
// the firmware; write() and remove() clear the flag for the one operation and
// set it again afterwards.
//
//   hl::EfiVars vars(hl::EfiVars::default_dir());
//   HL_TRY(vars.check_writable());             // before changing anything
//   auto order = vars.read("BootOrder", hl::kEfiGlobalVariableGuid);
//   if (!order) return order.error();          // unreadable
//   if (order->found) ...order->data...
//   HL_TRY(vars.write("BootOrder", hl::kEfiGlobalVariableGuid, hl::kEfiVarDefaultAttributes, data));
//
// The directory need not be efivarfs: host tests and a user trying the tool
// point it at an ordinary directory (`--efivarfs DIR`, HIBERLOAD_EFIVARFS),
// where the immutable flag is absent and every write succeeds.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/guids.h"

namespace hl {

// EFI_GLOBAL_VARIABLE: Boot####, BootOrder, BootCurrent (UEFI 2.10, 3.3).
inline constexpr Guid kEfiGlobalVariableGuid = {
    0x8be4df61, 0x93ca, 0x11d2, {0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c}};

inline constexpr uint32_t kEfiVariableNonVolatile = 0x1;
inline constexpr uint32_t kEfiVariableBootserviceAccess = 0x2;
inline constexpr uint32_t kEfiVariableRuntimeAccess = 0x4;
// NV + BS + RT: what Boot####, BootOrder and HiberloadConfig use.
inline constexpr uint32_t kEfiVarDefaultAttributes = 0x7;

// A generous bound: the largest variable any hiberload command reads.
inline constexpr size_t kMaxEfiVariableBytes = 64 * 1024;

struct EfiVariable {
  bool found = false;
  uint32_t attributes = 0;
  std::vector<uint8_t> data;
};

class EfiVars {
 public:
  // /sys/firmware/efi/efivars, or $HIBERLOAD_EFIVARFS when set.
  static std::string default_dir();

  explicit EfiVars(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // The file of a variable: DIR/NAME-GUID.
  std::string path(const std::string& name, const Guid& vendor) const;

  // The directory exists and holds EFI variables. On the real path it must
  // be an efivarfs mount: the error says how to mount it, or that the system
  // did not boot through UEFI.
  Status check_present() const;
  // check_present(), and writable: not mounted read-only, and we are root.
  Status check_writable() const;

  // found = false when the variable does not exist.
  Result<EfiVariable> read(const std::string& name, const Guid& vendor) const;

  // Creates or replaces the variable. data.size() must not exceed
  // max_data_bytes (a per-variable limit checked before the firmware is
  // asked: the error then names the variable and both sizes).
  Status write(const std::string& name, const Guid& vendor, uint32_t attributes,
               const std::vector<uint8_t>& data, size_t max_data_bytes = kMaxEfiVariableBytes);

  // Deletes the variable; absent is not an error.
  Status remove(const std::string& name, const Guid& vendor);

  // Names of the variables of `vendor` (without the -GUID suffix), sorted.
  Result<std::vector<std::string>> list(const Guid& vendor) const;

 private:
  std::string dir_;
};

// Message for a failed efivarfs system call: the errno in words plus what a
// user can do about it (EROFS: remount; ENOSPC: variable store full ...).
std::string efivarfs_error_text(int error_number);

}  // namespace hl
