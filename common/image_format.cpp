#include "common/image_format.h"

#include <string.h>

#include "common/sha256.h"

namespace hl::image {

const char* image_state_name(uint32_t state) {
  switch (static_cast<ImageState>(state)) {
    case ImageState::kNone: return "none";
    case ImageState::kValid: return "valid";
    case ImageState::kConsumed: return "consumed";
  }
  return "unknown";
}

const char* chunk_encoding_name(uint8_t encoding) {
  switch (static_cast<ChunkEncoding>(encoding)) {
    case ChunkEncoding::kZero: return "zero";
    case ChunkEncoding::kRaw: return "raw";
    case ChunkEncoding::kZlib: return "zlib";
    case ChunkEncoding::kAes256GcmRaw: return "aes256gcm-raw";
    case ChunkEncoding::kAes256GcmZlib: return "aes256gcm-zlib";
  }
  return "unknown";
}

const char* memory_type_name(uint32_t type) {
  switch (static_cast<MemoryType>(type)) {
    case MemoryType::kRam: return "System RAM";
    case MemoryType::kReserved: return "Reserved";
    case MemoryType::kAcpi: return "ACPI Tables";
    case MemoryType::kAcpiNvs: return "ACPI Non-volatile Storage";
    case MemoryType::kUnusable: return "Unusable memory";
    case MemoryType::kPersistentLegacy: return "Persistent Memory (legacy)";
    case MemoryType::kPersistent: return "Persistent Memory";
    case MemoryType::kSoftReserved: return "Soft Reserved";
  }
  return "unknown";
}

const char* auth_type_name(uint32_t type) {
  switch (static_cast<AuthType>(type)) {
    case AuthType::kNone: return "none";
    case AuthType::kHmacSha256: return "hmac-sha256";
    case AuthType::kEcdsaP256Sha256: return "ecdsa-p256-sha256";
    case AuthType::kRsaPssSha256: return "rsa-pss-sha256";
  }
  return "unknown";
}

void seal_commit_record(CommitRecord* record) {
  const Sha256Digest digest = sha256(record, offsetof(CommitRecord, record_sha256));
  memcpy(record->record_sha256, digest.bytes, sizeof digest.bytes);
}

bool commit_record_checksum_ok(const CommitRecord& record) {
  const Sha256Digest digest = sha256(&record, offsetof(CommitRecord, record_sha256));
  return memcmp(record.record_sha256, digest.bytes, sizeof digest.bytes) == 0;
}

}  // namespace hl::image
