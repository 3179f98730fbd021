#include "kernel-loader/initrd_loadfile2.h"

#include <string.h>

#include "efi/console.h"

namespace hl::kernel_loader {
namespace {

// EFI_LOAD_FILE2_PROTOCOL_GUID (UEFI 2.10, 13.2): same interface as
// LoadFile, but never for booting (BootPolicy must be FALSE).
EFI_GUID load_file2_guid = {0x4006c0c1, 0xfcb3, 0x403e,
                            {0x99, 0x6d, 0x4a, 0x6c, 0x87, 0x24, 0xe0, 0x6d}};

// LINUX_EFI_INITRD_MEDIA_GUID (include/linux/efi.h).
constexpr EFI_GUID kLinuxInitrdMediaGuid = {0x5568e427, 0x68fc, 0x4f3d,
                                            {0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68}};

struct InitrdDevicePath {
  VENDOR_DEVICE_PATH vendor;
  EFI_DEVICE_PATH end;
};
static_assert(sizeof(InitrdDevicePath) == 24, "vendor node (20) + end node (4), unpadded");

// One device path for the whole program: the firmware compares it by
// content, and at most one initrd device exists at a time.
InitrdDevicePath initrd_device_path = {
    {{MEDIA_DEVICE_PATH, MEDIA_VENDOR_DP, {sizeof(VENDOR_DEVICE_PATH), 0}},
     kLinuxInitrdMediaGuid},
    {END_DEVICE_PATH_TYPE, END_ENTIRE_DEVICE_PATH_SUBTYPE, {END_DEVICE_PATH_LENGTH, 0}},
};

}  // namespace

EFI_STATUS EFIAPI InitrdDevice::load_file(EFI_LOAD_FILE_PROTOCOL* self, EFI_DEVICE_PATH*,
                                          BOOLEAN boot_policy, UINTN* buffer_size,
                                          VOID* buffer) {
  if (self == nullptr || buffer_size == nullptr) return EFI_INVALID_PARAMETER;
  if (boot_policy) return EFI_UNSUPPORTED;  // LoadFile2 never boots.
  InitrdDevice* device = reinterpret_cast<Protocol*>(self)->owner;
  if (device == nullptr || device->data_ == nullptr) return EFI_NOT_FOUND;
  if (buffer == nullptr || *buffer_size < device->size_) {
    *buffer_size = device->size_;
    return EFI_BUFFER_TOO_SMALL;
  }
  memcpy(buffer, device->data_, device->size_);
  *buffer_size = device->size_;
  ++device->deliveries_;
  efi::say("initrd: the kernel loaded {} bytes through LoadFile2 (LINUX_EFI_INITRD_MEDIA_GUID) "
           "to {x}", device->size_, reinterpret_cast<uint64_t>(buffer));
  return EFI_SUCCESS;
}

Status InitrdDevice::install(const void* data, size_t size) {
  if (handle_ != nullptr) return Error::make("an initrd is already installed");

  // Another initrd device (left by a loader that ran before) would be the
  // one the kernel finds: refuse rather than boot the wrong initrd.
  EFI_DEVICE_PATH* remaining = &initrd_device_path.vendor.Header;
  EFI_HANDLE existing = nullptr;
  if (!EFI_ERROR(BS->LocateDevicePath(&load_file2_guid, &remaining, &existing)) &&
      IsDevicePathEnd(remaining)) {
    return Error::make("another initrd device (LINUX_EFI_INITRD_MEDIA_GUID) is already "
                       "installed by an earlier loader");
  }

  protocol_.interface.LoadFile = &InitrdDevice::load_file;
  protocol_.owner = this;
  data_ = data;
  size_ = size;
  deliveries_ = 0;

  EFI_STATUS status = BS->InstallProtocolInterface(&handle_, &DevicePathProtocol,
                                                   EFI_NATIVE_INTERFACE, &initrd_device_path);
  if (EFI_ERROR(status)) {
    handle_ = nullptr;
    return efi::firmware_error("installing the initrd device path", status);
  }
  device_path_installed_ = true;
  status = BS->InstallProtocolInterface(&handle_, &load_file2_guid, EFI_NATIVE_INTERFACE,
                                        &protocol_.interface);
  if (EFI_ERROR(status)) {
    uninstall();
    return efi::firmware_error("installing LoadFile2 for the initrd", status);
  }
  load_file_installed_ = true;
  return ok_status();
}

void InitrdDevice::uninstall() {
  if (handle_ == nullptr) return;
  // Uninstalling the last protocol frees the handle.
  if (load_file_installed_) {
    BS->UninstallProtocolInterface(handle_, &load_file2_guid, &protocol_.interface);
    load_file_installed_ = false;
  }
  if (device_path_installed_) {
    BS->UninstallProtocolInterface(handle_, &DevicePathProtocol, &initrd_device_path);
    device_path_installed_ = false;
  }
  handle_ = nullptr;
  protocol_.owner = nullptr;
  data_ = nullptr;
  size_ = 0;
}

}  // namespace hl::kernel_loader
