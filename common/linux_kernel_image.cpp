#include "common/linux_kernel_image.h"

namespace hl {
namespace {

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

const char* machine_name(uint16_t machine) {
  switch (machine) {
    case 0x014c: return "i386 (32-bit x86)";
    case 0x01c2: return "ARM Thumb";
    case 0xaa64: return "arm64";
    case 0x5064: return "RISC-V 64";
    case 0x6264: return "LoongArch 64";
    default: return "an unknown machine";
  }
}

// PE/COFF offsets (Microsoft PE format specification).
constexpr size_t kDosLfanewOffset = 0x3c;
constexpr size_t kCoffMachineOffset = 4;          // After "PE\0\0".
constexpr size_t kOptionalHeaderOffset = 24;      // Signature + COFF header.
constexpr size_t kSubsystemOffset = 68;           // In the PE32+ optional header.
constexpr uint16_t kMachineX64 = 0x8664;
constexpr uint16_t kPe32PlusMagic = 0x20b;
constexpr uint16_t kSubsystemEfiApplication = 10;
// x86 boot protocol offsets.
constexpr size_t kSetupHeaderMagicOffset = 0x202;  // "HdrS"
constexpr size_t kBootProtocolOffset = 0x206;
constexpr size_t kKernelVersionOffset = 0x20e;     // Pointer, less 0x200.

}  // namespace

Result<KernelImageInfo> inspect_kernel_image(const uint8_t* data, size_t size) {
  if (size < 0x40 || data[0] != 'M' || data[1] != 'Z') {
    return Error::make("not an EFI executable (no 'MZ' header): is it a Linux kernel built "
                       "with CONFIG_EFI_STUB?");
  }
  const uint32_t pe = le32(data + kDosLfanewOffset);
  if (pe > size || size - pe < kOptionalHeaderOffset + kSubsystemOffset + 2) {
    return Error::make("not a PE image (PE header offset {x} outside the {} byte file)", pe,
                       size);
  }
  if (data[pe] != 'P' || data[pe + 1] != 'E' || data[pe + 2] != 0 || data[pe + 3] != 0) {
    return Error::make("not a PE image (no 'PE' signature at {x}): an old kernel without "
                       "CONFIG_EFI_STUB?", pe);
  }
  const uint16_t machine = le16(data + pe + kCoffMachineOffset);
  if (machine != kMachineX64) {
    return Error::make("a PE image for {} (machine {x}), not x86_64", machine_name(machine),
                       machine);
  }
  const uint8_t* optional = data + pe + kOptionalHeaderOffset;
  if (le16(optional) != kPe32PlusMagic) {
    return Error::make("not a PE32+ image (optional header magic {x})", le16(optional));
  }
  const uint16_t subsystem = le16(optional + kSubsystemOffset);
  if (subsystem != kSubsystemEfiApplication) {
    return Error::make("a PE image with subsystem {}, not an EFI application (10)", subsystem);
  }

  KernelImageInfo info;
  if (size >= kKernelVersionOffset + 2 && le32(data + kSetupHeaderMagicOffset) == 0x53726448) {
    info.linux_setup_header = true;
    info.boot_protocol = le16(data + kBootProtocolOffset);
    const size_t version_at = static_cast<size_t>(le16(data + kKernelVersionOffset)) + 0x200;
    if (info.boot_protocol >= 0x200 && le16(data + kKernelVersionOffset) != 0 &&
        version_at < size) {
      size_t n = 0;
      for (size_t i = version_at; i < size && n + 1 < sizeof info.version; ++i) {
        const uint8_t c = data[i];
        if (c == 0) break;
        info.version[n++] = (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
      }
      info.version[n] = '\0';
    }
  }
  return info;
}

}  // namespace hl
