// UEFI boot entries: the EFI_LOAD_OPTION in a Boot#### variable and the
// BootOrder list (UEFI 2.10, 3.1.3 and 3.3), encoded and decoded the way
// efibootmgr does, so that `efibootmgr -v` shows hiberload's entry as
//
//   Boot0004* hiberload	HD(1,GPT,<PARTUUID>,0x800,0x1f800)/File(\EFI\hiberload\hiberload.efi)
//
//   hl::LoadOption option;
//   option.attributes = hl::kLoadOptionActive;
//   option.description = u"hiberload";
//   option.device_path = hl::hard_drive_file_path(esp, "\\EFI\\hiberload\\hiberload.efi");
//   std::vector<uint8_t> bytes = hl::encode_load_option(option);
//
// Pure functions over bytes: the variables themselves are efivars.h's.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/guids.h"

namespace hl {

inline constexpr uint32_t kLoadOptionActive = 0x1;

// An EFI_LOAD_OPTION. device_path is the whole FilePathList (one device
// path ending in an End node, as every boot manager writes it).
struct LoadOption {
  uint32_t attributes = 0;
  std::u16string description;
  std::vector<uint8_t> device_path;
  std::vector<uint8_t> optional_data;
};

std::vector<uint8_t> encode_load_option(const LoadOption& option);
// Refuses truncated data, an unterminated description and a FilePathList
// longer than the variable.
Result<LoadOption> decode_load_option(const std::vector<uint8_t>& data);

// The partition a Hard Drive media device path node names (UEFI 10.3.5.1),
// GPT flavour: signature type 2, the signature is the unique partition GUID.
struct HardDrivePartition {
  uint32_t number = 0;      // 1-based, as Linux counts.
  uint64_t start_lba = 0;   // In the disk's logical blocks.
  uint64_t size_lba = 0;
  Guid partuuid = {};
};

// HD(...)/File(path)/End. path uses backslashes ("\EFI\hiberload\hiberload.efi").
std::vector<uint8_t> hard_drive_file_path(const HardDrivePartition& partition,
                                          const std::string& path);

// The text form efibootmgr -v prints, for the nodes this tool writes and
// reads back: HD(1,GPT,guid,0x800,0x1f800)/File(\EFI\...); other nodes as
// Path(type,subtype).
std::string device_path_to_text(const std::vector<uint8_t>& device_path);

// The file path of the first File() node ("" when there is none), and the
// partition of the first HD() node (false when there is none).
std::string device_path_file(const std::vector<uint8_t>& device_path);
bool device_path_partition(const std::vector<uint8_t>& device_path, HardDrivePartition* out);

std::string utf16_to_utf8(const std::u16string& text);
std::u16string utf8_to_utf16(const std::string& text);

// "Boot0004" for 4.
std::string boot_variable_name(uint16_t number);
// 4 for "Boot0004"; false for anything else (BootOrder, Boot00zz, Boot12345).
bool parse_boot_variable_name(const std::string& name, uint16_t* number);

// BootOrder: an array of little-endian UINT16.
Result<std::vector<uint16_t>> decode_boot_order(const std::vector<uint8_t>& data);
std::vector<uint8_t> encode_boot_order(const std::vector<uint16_t>& order);
// "0004,0001,0002" (efibootmgr's notation), "(empty)" for none.
std::string boot_order_text(const std::vector<uint16_t>& order);
// Parses boot_order_text's output (not "(empty)"; "" is the empty list).
bool parse_boot_order_text(const std::string& text, std::vector<uint16_t>* out);

// `number` first, every other entry kept in its order, duplicates dropped.
std::vector<uint16_t> boot_order_put_first(const std::vector<uint16_t>& order, uint16_t number);
std::vector<uint16_t> boot_order_without(const std::vector<uint16_t>& order, uint16_t number);
// What `remove` writes: `saved` (the order before install) without entries
// that no longer exist and without `removed`, followed by any entries of
// `current` added since, in their order.
std::vector<uint16_t> boot_order_restore(const std::vector<uint16_t>& saved,
                                         const std::vector<uint16_t>& current, uint16_t removed,
                                         const std::vector<uint16_t>& existing);

// The lowest Boot#### number not in `used` (efibootmgr's choice). False when
// all 65536 are taken.
bool first_free_boot_number(const std::vector<uint16_t>& used, uint16_t* out);

}  // namespace hl
