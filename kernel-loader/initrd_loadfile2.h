// The initrd, handed to the Linux EFI stub through the LoadFile2 protocol on
// the LINUX_EFI_INITRD_MEDIA_GUID vendor media device path.
//
// Since Linux 5.8 the EFI stub (drivers/firmware/efi/libstub/efi-stub-helper.c,
// efi_load_initrd_dev_path) looks for a handle carrying exactly this device
// path, asks its LoadFile2 for the size, allocates memory where it wants the
// initrd (below its initrd_addr_max) and asks again for the bytes. The loader
// keeps the initrd and decides nothing about its placement; no initrd= on the
// command line and no file-system access by the kernel. systemd-boot's
// initrd.c does the same.
//
//   InitrdDevice initrd;
//   HL_TRY(initrd.install(data, size));     // before StartImage
//   ... StartImage ...
//   initrd.uninstall();                     // if the kernel returns
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "efi/firmware.h"

namespace hl::kernel_loader {

class InitrdDevice {
 public:
  InitrdDevice() = default;
  ~InitrdDevice() { uninstall(); }
  InitrdDevice(const InitrdDevice&) = delete;
  InitrdDevice& operator=(const InitrdDevice&) = delete;

  // Installs the device path and LoadFile2 on a new handle. `data` must stay
  // valid until uninstall(). Fails if another loader already installed one
  // (the kernel would take that initrd instead).
  Status install(const void* data, size_t size);
  // Removes both protocols again; safe to call when not installed.
  void uninstall();

  // How often the kernel asked for the bytes (not the size): the test log
  // shows that the initrd really went through LoadFile2.
  uint32_t deliveries() const { return deliveries_; }

 private:
  // The interface the firmware hands back to load_file(), and the way from
  // it to this object.
  struct Protocol {
    EFI_LOAD_FILE_PROTOCOL interface;  // First member: same address.
    InitrdDevice* owner;
  };
  static EFI_STATUS EFIAPI load_file(EFI_LOAD_FILE_PROTOCOL* self, EFI_DEVICE_PATH* path,
                                     BOOLEAN boot_policy, UINTN* buffer_size, VOID* buffer);

  Protocol protocol_ = {};
  EFI_HANDLE handle_ = nullptr;
  const void* data_ = nullptr;
  size_t size_ = 0;
  uint32_t deliveries_ = 0;
  bool device_path_installed_ = false;
  bool load_file_installed_ = false;
};

}  // namespace hl::kernel_loader
