#include "efi/selftest.h"

#include <string.h>

#include "common/format.h"
#include "common/key_value.h"
#include "common/sha256.h"
#include "common/zlib_inflate.h"
#include "efi/console.h"
#include "efi/esp_files.h"
#include "efi/pool_allocator.h"

namespace hl::efi {
namespace {

Status expect_digest(const char* what, const Sha256Digest& actual, const char* expected_hex) {
  char actual_hex[65];
  format_hex(actual_hex, sizeof actual_hex, actual.bytes, sizeof actual.bytes);
  if (strcmp(actual_hex, expected_hex) != 0) {
    return Error::make("{}: got {}, expected {}", what, actual_hex, expected_hex);
  }
  say("self-test: {}: {} ok", what, actual_hex);
  return ok_status();
}

Status check_sha256(const TestControl& control) {
  const Sha256Digest digest = sha256(control.sha256_input, strlen(control.sha256_input));
  return expect_digest("SHA-256 (mbedTLS)", digest, control.sha256_expect);
}

Status check_inflate(EFI_HANDLE image, const TestControl& control) {
  auto stream = read_esp_file(image, control.inflate_file, 16 << 20);
  if (!stream) return stream.error();
  PoolAllocator allocator;
  uint8_t* raw = static_cast<uint8_t*>(allocator.allocate(control.inflate_size));
  if (raw == nullptr) {
    free_file(&*stream);
    return Error::make("inflate: out of memory for {} bytes", control.inflate_size);
  }
  Status status = inflate_exact(stream->data, stream->size, raw, control.inflate_size, allocator);
  if (status) {
    say("self-test: inflate (zlib): {} -> {} bytes", stream->size, control.inflate_size);
    status = expect_digest("SHA-256 of the inflated stream", sha256(raw, control.inflate_size),
                           control.inflate_sha256);
  }
  allocator.release(raw);
  free_file(&*stream);
  return status;
}

}  // namespace

Status run_library_selftest(EFI_HANDLE image, const TestControl& control) {
  say("self-test: mbedTLS and zlib built for EFI");
  if (control.sha256_expect[0] == '\0' || control.inflate_file[0] == '\0') {
    return Error::make("self-test: the test-control file lacks the expected values");
  }
  HL_TRY(check_sha256(control));
  HL_TRY(check_inflate(image, control));
  say("self-test: all library checks passed");
  return ok_status();
}

}  // namespace hl::efi
