// The hibernation image's on-disk structures (format version 1).
//
// docs/image-format.md is the specification; this header is its C++ form and
// the only place the layout is written down in code. The writer
// (tools/lib/image_writer) fills these structs, the reader and validator
// (common/image_reader, common/image_validate) check them, so the two cannot
// drift apart.
//
// Layout of an image in its storage (a partition or a file), in 4096-byte
// blocks:
//
//   block 0   CommitRecord   the only block ever rewritten in place
//   block 1   ImageHeader    immutable once committed
//   block 2   auth section   signature/MAC over the header digest (reserved)
//   block 3.. data           chunk payloads, each starting on a block boundary
//   then      metadata       memory map, runtime map, scratch ranges,
//                            segment table, chunk table; each table starts on a
//                            block boundary; header.metadata_sha256 covers it
//
// Every integer is little-endian. The structs below are read and written by
// memcpy on x86_64 (the only target), which is little-endian; the
// static_asserts pin every size and field offset to the specification, so a
// port to a big-endian machine has to add explicit decoding here, nowhere else.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace hl::image {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the image structs are decoded by memcpy: little-endian hosts only");

// ---------------------------------------------------------------- constants

inline constexpr uint32_t kFormatVersion = 1;
// The alignment unit of everything in the storage, independent of the
// device's logical block size (512 or 4096), so an image is the same bytes on
// either.
inline constexpr uint64_t kBlockSize = 4096;

inline constexpr uint64_t kCommitRecordOffset = 0;
inline constexpr uint64_t kHeaderOffset = 1 * kBlockSize;
inline constexpr uint64_t kAuthSectionOffset = 2 * kBlockSize;
inline constexpr uint64_t kDataOffset = 3 * kBlockSize;
// Smallest storage that can hold an image (no data, one block of metadata).
inline constexpr uint64_t kMinImageSize = kDataOffset + kBlockSize;

// A chunk's raw (decoded) length is at most this; the header records the
// writer's choice (chunk_raw_size_max), which must be a multiple of the page
// size in [page_size, kMaxChunkRawSize].
inline constexpr uint32_t kMaxChunkRawSize = 64u << 20;
inline constexpr uint32_t kDefaultChunkRawSize = 1u << 20;

inline constexpr char kCommitMagic[8] = {'H', 'L', 'C', 'O', 'M', 'M', 'I', 'T'};
inline constexpr char kHeaderMagic[8] = {'H', 'L', 'I', 'M', 'A', 'G', 'E', '1'};

enum class ImageState : uint32_t {
  kNone = 0,      // Never written by a writer; a zeroed record means "no image".
  kValid = 1,     // Committed, never resumed.
  kConsumed = 2,  // A loader started resuming it: never resume again.
};

// header.required_flags: a reader that does not implement a set bit must
// refuse the image. header.optional_flags: a reader may ignore a set bit it
// does not implement. Bits not listed are unknown: unknown required bits are
// rejected, unknown optional bits ignored.
inline constexpr uint64_t kRequiredFlagEncrypted = 1u << 0;  // Chunks use AEAD encodings.
inline constexpr uint64_t kKnownRequiredFlags = kRequiredFlagEncrypted;
inline constexpr uint64_t kOptionalFlagAuthSection = 1u << 0;  // Block 2 holds a signature.

enum class ChunkEncoding : uint8_t {
  kZero = 0,  // All raw bytes are zero; nothing stored.
  kRaw = 1,   // Stored bytes are the raw bytes.
  kZlib = 2,  // Stored bytes are one complete zlib stream (RFC 1950).
  // Reserved for encrypted images (kRequiredFlagEncrypted): AES-256-GCM over
  // the raw bytes (3) or over their zlib stream (4); the stored bytes are
  // ciphertext followed by the 16-byte tag. Not produced or accepted by
  // version-1 readers without encryption support.
  kAes256GcmRaw = 3,
  kAes256GcmZlib = 4,
};

enum class AuthType : uint32_t {
  kNone = 0,
  // Reserved: the auth section (block 2) holds a signature or MAC over the
  // 32-byte SHA-256 of the header block (CommitRecord::header_sha256).
  kHmacSha256 = 1,
  kEcdsaP256Sha256 = 2,
  kRsaPssSha256 = 3,
};

enum class Cipher : uint32_t {
  kNone = 0,
  kAes256Gcm = 1,  // Reserved (see ChunkEncoding::kAes256Gcm*).
};

// Linux's e820 type numbers, as /sys/firmware/memmap/N/type names them.
enum class MemoryType : uint32_t {
  kRam = 1,              // "System RAM"
  kReserved = 2,         // "Reserved"
  kAcpi = 3,             // "ACPI Tables"
  kAcpiNvs = 4,          // "ACPI Non-volatile Storage"
  kUnusable = 5,         // "Unusable memory"
  kPersistentLegacy = 12,  // "Persistent Memory (legacy)"
  kPersistent = 7,       // "Persistent Memory"
  kSoftReserved = 0xefffffff,  // "Soft Reserved"
};

// ---------------------------------------------------------------- block 0

// Commit record: 512 bytes at offset 0 (the rest of block 0 is zero). It fits
// in the first logical sector of any device, so its one in-place update is
// atomic at the sector level even when the 4096-byte block write is not.
struct CommitRecord {
  char magic[8];               // kCommitMagic
  uint32_t format_version;     // kFormatVersion
  uint32_t state;              // ImageState: kValid or kConsumed
  uint8_t image_id[16];        // Random; equals ImageHeader::image_id.
  uint64_t header_offset;      // kHeaderOffset
  uint64_t header_size;        // kBlockSize
  uint64_t image_size;         // Equals ImageHeader::image_size.
  uint64_t reserved0;          // Zero.
  uint8_t header_sha256[32];   // SHA-256 of the header block (4096 bytes).
  uint8_t reserved[384];       // Zero.
  uint8_t record_sha256[32];   // SHA-256 of bytes [0, 480) of this record.
};
static_assert(sizeof(CommitRecord) == 512);
static_assert(offsetof(CommitRecord, state) == 12);
static_assert(offsetof(CommitRecord, header_sha256) == 64);
static_assert(offsetof(CommitRecord, record_sha256) == 480);

// ---------------------------------------------------------------- block 1

// Where a table lives: `count` entries of `entry_size` bytes at `offset`
// (bytes from the start of the storage).
struct TableRef {
  uint64_t offset;
  uint32_t count;
  uint32_t entry_size;
};
static_assert(sizeof(TableRef) == 16);

struct AuthDescriptor {
  uint32_t type;          // AuthType
  uint32_t reserved0;     // Zero.
  uint64_t offset;        // kAuthSectionOffset when type != kNone, else 0.
  uint64_t length;        // (0, kBlockSize] when type != kNone, else 0.
  uint8_t key_id[32];     // Which key signed (e.g. SHA-256 of the public key).
  uint64_t reserved1;     // Zero.
};
static_assert(sizeof(AuthDescriptor) == 64);

struct EncryptionDescriptor {
  uint32_t cipher;           // Cipher
  uint32_t reserved0;        // Zero.
  uint8_t key_id[32];        // Which key encrypts (e.g. a TPM-sealed key's name).
  uint8_t nonce_prefix[8];   // Chunk i's 96-bit nonce: prefix || i (u32 LE).
  uint8_t reserved1[16];     // Zero.
};
static_assert(sizeof(EncryptionDescriptor) == 64);

inline constexpr size_t kKernelReleaseSize = 128;
inline constexpr size_t kWriterNameSize = 64;

struct ImageHeader {
  char magic[8];                   // kHeaderMagic
  uint32_t format_version;         // kFormatVersion
  uint32_t header_size;            // kBlockSize
  uint64_t required_flags;
  uint64_t optional_flags;
  uint8_t image_id[16];
  uint64_t creation_time;          // Seconds since 1970-01-01 UTC.
  uint64_t image_size;             // Bytes of storage the image occupies.
  uint64_t jump_back_entry;        // kexec_jump_back_entry of the hibernated kernel.
  uint32_t page_size;              // The hibernated kernel's page size.
  uint32_t chunk_raw_size_max;
  uint64_t data_offset;            // kDataOffset
  uint64_t data_size;              // Block-aligned bytes of chunk payloads.
  uint64_t metadata_offset;        // data_offset + data_size
  uint64_t metadata_size;          // image_size - metadata_offset
  uint8_t metadata_sha256[32];     // SHA-256 of [metadata_offset, image_size).
  TableRef memory_map;             // MemoryMapEntry
  TableRef runtime_map;            // RuntimeMapEntry
  TableRef scratch_ranges;         // ScratchRange
  TableRef segments;               // SegmentEntry
  TableRef chunks;                 // ChunkEntry
  uint64_t total_raw_bytes;        // Sum of segment sizes.
  uint64_t total_stored_bytes;     // Sum of chunk stored lengths.
  uint8_t memory_map_sha256[32];   // Fingerprint: SHA-256 of the memory map table.
  AuthDescriptor auth;
  EncryptionDescriptor encryption;
  char kernel_release[kKernelReleaseSize];  // NUL-terminated (uname -r).
  char writer[kWriterNameSize];             // NUL-terminated, informative.
  uint8_t reserved[3504];                   // Zero.
};
static_assert(sizeof(ImageHeader) == kBlockSize);
static_assert(offsetof(ImageHeader, jump_back_entry) == 64);
static_assert(offsetof(ImageHeader, metadata_sha256) == 112);
static_assert(offsetof(ImageHeader, memory_map) == 144);
static_assert(offsetof(ImageHeader, chunks) == 208);
static_assert(offsetof(ImageHeader, memory_map_sha256) == 240);
static_assert(offsetof(ImageHeader, auth) == 272);
static_assert(offsetof(ImageHeader, encryption) == 336);
static_assert(offsetof(ImageHeader, kernel_release) == 400);
static_assert(offsetof(ImageHeader, writer) == 528);
static_assert(offsetof(ImageHeader, reserved) == 592);

// ---------------------------------------------------------------- metadata

// One range of the memory map the hibernated kernel ran with (its e820 /
// /sys/firmware/memmap). Sorted by base, non-overlapping.
struct MemoryMapEntry {
  uint64_t base;
  uint64_t size;
  uint32_t type;      // MemoryType (other values are kept as-is).
  uint32_t reserved;  // Zero.
};
static_assert(sizeof(MemoryMapEntry) == 24);

// One EFI runtime region as Linux exposes it under
// /sys/firmware/efi/runtime-map/N/, in Linux's order (the order matters to
// SetVirtualAddressMap only through the values, but is kept for fidelity).
struct RuntimeMapEntry {
  uint64_t physical_address;
  uint64_t virtual_address;
  uint64_t page_count;   // 4 KiB EFI pages.
  uint64_t attribute;    // EFI_MEMORY_* bits.
  uint32_t type;         // EFI_MEMORY_TYPE.
  uint32_t reserved;     // Zero.
};
static_assert(sizeof(RuntimeMapEntry) == 40);

// RAM that no segment covers and that a loader may use as working space.
// Sorted, non-overlapping, disjoint from every segment.
struct ScratchRange {
  uint64_t base;
  uint64_t size;
};
static_assert(sizeof(ScratchRange) == 16);

// A contiguous range of physical memory the image restores. Sorted by
// physical_address, non-overlapping. Its chunks are
// [first_chunk, first_chunk + chunk_count) and tile it exactly, in order.
struct SegmentEntry {
  uint64_t physical_address;
  uint64_t size;
  uint32_t first_chunk;
  uint32_t chunk_count;
  uint64_t reserved;  // Zero.
};
static_assert(sizeof(SegmentEntry) == 32);

struct ChunkEntry {
  uint64_t destination;     // Physical address of the first raw byte.
  uint64_t storage_offset;  // Where the stored bytes begin (0 for kZero).
  uint32_t raw_length;      // (0, chunk_raw_size_max]
  uint32_t stored_length;   // 0 for kZero, raw_length for kRaw, (0, raw_length] for kZlib.
  uint8_t encoding;         // ChunkEncoding
  uint8_t flags;            // Zero (no chunk flags defined in version 1).
  uint16_t reserved;        // Zero.
  uint32_t segment;         // Index of the segment the chunk belongs to.
  uint8_t sha256[32];       // SHA-256 of the stored bytes (all zero for kZero).
};
static_assert(sizeof(ChunkEntry) == 64);
static_assert(offsetof(ChunkEntry, sha256) == 32);

// ---------------------------------------------------------------- helpers

constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
  // Callers guarantee value + alignment does not overflow (bounded sizes).
  return (value + alignment - 1) / alignment * alignment;
}

constexpr bool is_aligned(uint64_t value, uint64_t alignment) {
  return value % alignment == 0;
}

const char* image_state_name(uint32_t state);
const char* chunk_encoding_name(uint8_t encoding);
const char* memory_type_name(uint32_t type);
const char* auth_type_name(uint32_t type);

// Computes record->record_sha256 over the record's other bytes.
void seal_commit_record(CommitRecord* record);
// True if record->record_sha256 matches its other bytes.
bool commit_record_checksum_ok(const CommitRecord& record);

}  // namespace hl::image
