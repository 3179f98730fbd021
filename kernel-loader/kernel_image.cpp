#include "kernel-loader/kernel_image.h"

namespace hl::kernel_loader {

Status LoadedKernel::load(EFI_HANDLE self, const char* path, const efi::FileContents& file) {
  if (handle_ != nullptr) return Error::make("a kernel is already loaded");

  EFI_LOADED_IMAGE* own = nullptr;
  EFI_STATUS status =
      BS->HandleProtocol(self, &LoadedImageProtocol, reinterpret_cast<void**>(&own));
  if (EFI_ERROR(status)) return efi::firmware_error("finding hiberload's loaded image", status);
  CHAR16 wide_path[256];
  if (!efi::ascii_to_char16(path, wide_path, sizeof wide_path / sizeof wide_path[0])) {
    return Error::make("{}: path too long or not ASCII", path);
  }
  // gnu-efi's FileDevicePath: the ESP's device path plus a file path node,
  // in pool memory. LoadImage copies it.
  EFI_DEVICE_PATH* device_path = FileDevicePath(own->DeviceHandle, wide_path);
  if (device_path == nullptr) return Error::make("out of memory building {}'s device path", path);

  EFI_HANDLE handle = nullptr;
  status = BS->LoadImage(FALSE, self, device_path, file.data, file.size, &handle);
  BS->FreePool(device_path);
  switch (status) {
    case EFI_SUCCESS:
      handle_ = handle;
      return ok_status();
    case EFI_SECURITY_VIOLATION:
    case EFI_ACCESS_DENIED:
      // UEFI 2.10, 7.4.1: with EFI_SECURITY_VIOLATION the image was loaded
      // and must be unloaded; it may not be started.
      if (handle != nullptr) BS->UnloadImage(handle);
      return Error::make("Secure Boot refused {}: it is not signed by a key this machine "
                         "trusts (sign it, enroll the key, or turn Secure Boot off)", path);
    case EFI_UNSUPPORTED:
    case EFI_LOAD_ERROR:
      return Error::make("the firmware cannot load {} as an EFI image ({})", path,
                         efi::status_text(status));
    default:
      return efi::firmware_error("LoadImage", status).with_context("{}", path);
  }
}

Status LoadedKernel::set_command_line(const char* ascii) {
  if (handle_ == nullptr) return Error::make("no kernel loaded");
  EFI_LOADED_IMAGE* loaded = nullptr;
  EFI_STATUS status =
      BS->HandleProtocol(handle_, &LoadedImageProtocol, reinterpret_cast<void**>(&loaded));
  if (EFI_ERROR(status)) return efi::firmware_error("finding the kernel's loaded image", status);

  size_t length = 0;
  while (ascii[length] != '\0') ++length;
  const size_t bytes = (length + 1) * sizeof(CHAR16);
  if (options_ != nullptr) BS->FreePool(options_);
  options_ = nullptr;
  status = BS->AllocatePool(EfiLoaderData, bytes, reinterpret_cast<void**>(&options_));
  if (EFI_ERROR(status)) return efi::firmware_error("allocating the command line", status);
  if (!efi::ascii_to_char16(ascii, options_, length + 1)) {
    return Error::make("the kernel command line is not 7-bit ASCII");
  }
  // The size includes the terminating NUL, as the EFI stub expects
  // (efi_convert_cmdline counts characters up to it or to the size).
  loaded->LoadOptions = options_;
  loaded->LoadOptionsSize = static_cast<UINT32>(bytes);
  return ok_status();
}

Status LoadedKernel::start() {
  if (handle_ == nullptr) return Error::make("no kernel loaded");
  UINTN exit_data_size = 0;
  CHAR16* exit_data = nullptr;
  EFI_STATUS status = BS->StartImage(handle_, &exit_data_size, &exit_data);
  // Only reached if the kernel did not take over the machine. A returned
  // image is already unloaded by the firmware when it called Exit.
  if (exit_data != nullptr) BS->FreePool(exit_data);
  handle_ = nullptr;
  return Error::make("the kernel returned to the firmware: {} (status {x})",
                     efi::status_text(status), static_cast<uint64_t>(status));
}

void LoadedKernel::unload() {
  if (handle_ != nullptr) BS->UnloadImage(handle_);
  handle_ = nullptr;
  if (options_ != nullptr) BS->FreePool(options_);
  options_ = nullptr;
}

}  // namespace hl::kernel_loader
