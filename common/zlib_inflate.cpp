#include "common/zlib_inflate.h"

#include <zlib.h>

namespace hl {
namespace {

voidpf zlib_alloc(voidpf opaque, uInt items, uInt size) {
  // zlib asks for small blocks (its state, at most its window); refuse
  // anything whose byte count overflows.
  if (size != 0 && items > static_cast<uInt>(-1) / size) return Z_NULL;
  return static_cast<Allocator*>(opaque)->allocate(static_cast<size_t>(items) * size);
}

void zlib_free(voidpf opaque, voidpf address) {
  static_cast<Allocator*>(opaque)->release(address);
}

}  // namespace

Status inflate_exact(const uint8_t* in, size_t in_length, uint8_t* out, size_t out_length,
                     Allocator& allocator) {
  // zlib's counters are 32-bit; chunks are far smaller (the format caps them).
  if (in_length > 0xffffffffu || out_length > 0xffffffffu) {
    return Error::make("zlib stream too large for one inflate call");
  }
  z_stream stream = {};
  stream.zalloc = zlib_alloc;
  stream.zfree = zlib_free;
  stream.opaque = &allocator;
  stream.next_in = const_cast<Bytef*>(in);
  stream.avail_in = static_cast<uInt>(in_length);
  stream.next_out = out;
  stream.avail_out = static_cast<uInt>(out_length);
  if (inflateInit(&stream) != Z_OK) return Error::make("zlib: out of memory for inflate state");
  const int result = inflate(&stream, Z_FINISH);
  const size_t produced = out_length - stream.avail_out;
  const size_t unused_input = stream.avail_in;
  const char* message = stream.msg ? stream.msg : "no detail";
  inflateEnd(&stream);
  if (result == Z_STREAM_END) {
    if (produced != out_length) {
      return Error::make("zlib stream ended after {} of {} bytes", produced, out_length);
    }
    if (unused_input != 0) {
      return Error::make("zlib stream has {} trailing bytes", unused_input);
    }
    return ok_status();
  }
  if (result == Z_BUF_ERROR || result == Z_OK) {
    return stream.avail_out == 0
               ? Error::make("zlib stream inflates to more than {} bytes", out_length)
               : Error::make("zlib stream is truncated after {} bytes of output", produced);
  }
  return Error::make("zlib stream is corrupt ({})", message);
}

}  // namespace hl
