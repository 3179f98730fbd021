#include "efi/esp_files.h"

namespace hl::efi {
namespace {

// Opens the root directory of the volume hiberload itself was loaded from.
Result<EFI_FILE_HANDLE> open_esp_root(EFI_HANDLE image) {
  EFI_LOADED_IMAGE* loaded = nullptr;
  EFI_STATUS status = BS->HandleProtocol(image, &LoadedImageProtocol,
                                         reinterpret_cast<void**>(&loaded));
  if (EFI_ERROR(status)) return firmware_error("finding hiberload's loaded image", status);
  EFI_FILE_IO_INTERFACE* volume = nullptr;
  status = BS->HandleProtocol(loaded->DeviceHandle, &FileSystemProtocol,
                              reinterpret_cast<void**>(&volume));
  if (EFI_ERROR(status)) return firmware_error("opening the ESP's file system", status);
  EFI_FILE_HANDLE root = nullptr;
  status = volume->OpenVolume(volume, &root);
  if (EFI_ERROR(status)) return firmware_error("opening the ESP's root directory", status);
  return root;
}

Result<EFI_FILE_HANDLE> open_file(EFI_HANDLE image, const char* path) {
  CHAR16 wide_path[256];
  if (!ascii_to_char16(path, wide_path, sizeof wide_path / sizeof wide_path[0])) {
    return Error::make("{}: path too long or not ASCII", path);
  }
  auto root = open_esp_root(image);
  if (!root) return root.error();
  EFI_FILE_HANDLE file = nullptr;
  EFI_STATUS status = (*root)->Open(*root, &file, wide_path, EFI_FILE_MODE_READ, 0);
  (*root)->Close(*root);
  if (status == EFI_NOT_FOUND) return Error::make("{}: not found on the ESP", path);
  if (EFI_ERROR(status)) return firmware_error(path, status);
  return file;
}

}  // namespace

Result<FileContents> read_esp_file(EFI_HANDLE image, const char* path, size_t max_size) {
  auto opened = open_file(image, path);
  if (!opened) return opened.error();
  EFI_FILE_HANDLE file = *opened;

  // EFI_FILE_INFO ends in the variable-length file name; 512 bytes is
  // plenty for names under \EFI.
  alignas(8) uint8_t info_buffer[512];
  UINTN info_size = sizeof info_buffer;
  EFI_STATUS status = file->GetInfo(file, &GenericFileInfo, &info_size, info_buffer);
  if (EFI_ERROR(status)) {
    file->Close(file);
    return firmware_error("reading file information", status).with_context("{}", path);
  }
  const uint64_t size = reinterpret_cast<EFI_FILE_INFO*>(info_buffer)->FileSize;
  if (size > max_size) {
    file->Close(file);
    return Error::make("{}: {} bytes, more than the {} expected", path, size, max_size);
  }

  FileContents contents;
  contents.size = static_cast<size_t>(size);
  // Pool allocations of size 0 are allowed to fail; ask for at least 1 byte.
  status = BS->AllocatePool(EfiLoaderData, contents.size ? contents.size : 1,
                            reinterpret_cast<void**>(&contents.data));
  if (EFI_ERROR(status)) {
    file->Close(file);
    return firmware_error("allocating memory for a file", status).with_context("{}", path);
  }
  UINTN read_size = contents.size;
  status = file->Read(file, &read_size, contents.data);
  file->Close(file);
  if (EFI_ERROR(status) || read_size != contents.size) {
    free_file(&contents);
    if (EFI_ERROR(status)) return firmware_error("reading", status).with_context("{}", path);
    return Error::make("{}: short read ({} of {} bytes)", path, read_size, size);
  }
  return contents;
}

void free_file(FileContents* file) {
  if (file->data != nullptr) BS->FreePool(file->data);
  file->data = nullptr;
  file->size = 0;
}

bool esp_file_exists(EFI_HANDLE image, const char* path) {
  auto opened = open_file(image, path);
  if (!opened) return false;
  (*opened)->Close(*opened);
  return true;
}

}  // namespace hl::efi
