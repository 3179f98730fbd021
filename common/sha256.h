// SHA-256 over mbedTLS (Debian's library on the host, the EFI build of the
// same 2.28 sources in firmware), behind one small interface.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace hl {

struct Sha256Digest {
  uint8_t bytes[32];

  bool operator==(const Sha256Digest& other) const;
  bool operator!=(const Sha256Digest& other) const { return !(*this == other); }
};

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t length);
  Sha256Digest finish();

 private:
  // Opaque storage for mbedtls_sha256_context (checked by static_assert in
  // sha256.cpp), so this header does not pull in mbedTLS's.
  alignas(8) uint8_t context_[128];
};

Sha256Digest sha256(const void* data, size_t length);

}  // namespace hl
