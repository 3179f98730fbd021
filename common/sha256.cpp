#include "common/sha256.h"

#include <mbedtls/sha256.h>
#include <string.h>

namespace hl {
namespace {

static_assert(sizeof(mbedtls_sha256_context) <= 128, "grow Sha256::context_");

mbedtls_sha256_context* as_context(uint8_t* storage) {
  return reinterpret_cast<mbedtls_sha256_context*>(storage);
}

}  // namespace

bool Sha256Digest::operator==(const Sha256Digest& other) const {
  // Not secret data (integrity of the stored image), so memcmp is fine.
  return memcmp(bytes, other.bytes, sizeof bytes) == 0;
}

Sha256::Sha256() {
  mbedtls_sha256_init(as_context(context_));
  // With a valid context and is224 = 0 these cannot fail (mbedTLS 2.28).
  (void)mbedtls_sha256_starts_ret(as_context(context_), 0);
}

Sha256::~Sha256() { mbedtls_sha256_free(as_context(context_)); }

void Sha256::update(const void* data, size_t length) {
  (void)mbedtls_sha256_update_ret(as_context(context_), static_cast<const uint8_t*>(data),
                                  length);
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest;
  (void)mbedtls_sha256_finish_ret(as_context(context_), digest.bytes);
  return digest;
}

Sha256Digest sha256(const void* data, size_t length) {
  Sha256 hasher;
  hasher.update(data, length);
  return hasher.finish();
}

}  // namespace hl
