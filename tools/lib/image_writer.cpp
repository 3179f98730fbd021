#include "tools/lib/image_writer.h"

#include <sys/random.h>
#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "common/image_validate.h"
#include "common/sha256.h"

namespace hl::image {
namespace {

// Zero pages are found on this grid whatever the kernel's page size: it is
// the x86 page and the format's block.
constexpr uint64_t kElisionPage = 4096;

// A piece of memory one worker turns into chunks; never crosses a range.
struct Window {
  uint64_t base;
  uint64_t size;
  uint32_t segment;
};

// A chunk ready to be written: its entry (storage_offset not yet known) and
// its stored bytes, padded with zeros to a block multiple.
struct PendingChunk {
  ChunkEntry entry;
  std::vector<uint8_t> stored;
};

struct WindowResult {
  std::vector<PendingChunk> chunks;
  std::optional<Error> error;
};

std::vector<Window> plan_windows(const std::vector<PhysicalRange>& ranges, uint32_t chunk_size) {
  std::vector<Window> windows;
  for (uint32_t s = 0; s < ranges.size(); ++s) {
    uint64_t at = ranges[s].base;
    const uint64_t end = ranges[s].end();
    while (at < end) {
      // Next multiple of chunk_size above `at`, clipped to the range.
      const uint64_t grid_end = (at / chunk_size + 1) * chunk_size;
      const uint64_t window_end = std::min(end, grid_end == 0 ? end : grid_end);
      windows.push_back({at, window_end - at, s});
      at = window_end;
    }
  }
  return windows;
}

bool is_zero(const uint8_t* p, size_t length) {
  // Word-at-a-time; buffers come from std::vector (16-byte aligned) at
  // page-grid offsets, the tail bytewise.
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word != 0) return false;
  }
  for (; i < length; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

PendingChunk encode_run(const uint8_t* data, uint64_t destination, uint32_t length,
                        uint32_t segment, int zlib_level, std::vector<uint8_t>* scratch) {
  PendingChunk chunk = {};
  chunk.entry.destination = destination;
  chunk.entry.raw_length = length;
  chunk.entry.segment = segment;
  bool compressed = false;
  if (zlib_level > 0) {
    uLongf size = compressBound(length);
    scratch->resize(size);
    if (compress2(scratch->data(), &size, data, length, zlib_level) == Z_OK && size < length) {
      chunk.entry.encoding = static_cast<uint8_t>(ChunkEncoding::kZlib);
      chunk.entry.stored_length = static_cast<uint32_t>(size);
      chunk.stored.assign(scratch->begin(), scratch->begin() + size);
      compressed = true;
    }
  }
  if (!compressed) {
    chunk.entry.encoding = static_cast<uint8_t>(ChunkEncoding::kRaw);
    chunk.entry.stored_length = length;
    chunk.stored.assign(data, data + length);
  }
  const Sha256Digest digest = sha256(chunk.stored.data(), chunk.stored.size());
  std::memcpy(chunk.entry.sha256, digest.bytes, sizeof digest.bytes);
  chunk.stored.resize(align_up(chunk.stored.size(), kBlockSize), 0);
  return chunk;
}

// A run of pages of one kind inside a window.
struct Run {
  uint64_t base;
  uint64_t size;
  bool zero;
};

// Cuts a window into runs of zero and non-zero pages on the 4 KiB grid. Zero
// runs shorter than min_zero_run join the data around them: a stored chunk
// costs a table entry and up to a block of padding, while zlib turns a few
// zero pages inside a data run into a few bytes.
std::vector<Run> page_runs(const uint8_t* data, uint64_t base, uint64_t size,
                           uint64_t min_zero_run) {
  std::vector<Run> runs;
  const uint64_t end = base + size;
  for (uint64_t page = base; page < end;) {
    const uint64_t page_end = std::min(end, (page / kElisionPage + 1) * kElisionPage);
    const bool zero = is_zero(data + (page - base), page_end - page);
    if (!runs.empty() && runs.back().zero == zero) {
      runs.back().size += page_end - page;
    } else {
      runs.push_back({page, page_end - page, zero});
    }
    page = page_end;
  }
  if (runs.size() == 1) return runs;
  std::vector<Run> merged;
  for (Run run : runs) {
    if (run.zero && run.size < min_zero_run) run.zero = false;
    if (!merged.empty() && merged.back().zero == run.zero) {
      merged.back().size += run.size;
    } else {
      merged.push_back(run);
    }
  }
  return merged;
}

// Reads one window and turns it into chunks.
WindowResult encode_window(const MemorySource& memory, const Window& window,
                           const WriterOptions& options, std::vector<uint8_t>* buffer,
                           std::vector<uint8_t>* scratch) {
  WindowResult result;
  buffer->resize(window.size);
  if (auto s = memory.read(window.base, buffer->data(), window.size); !s) {
    result.error = s.error();
    return result;
  }
  for (const Run& run : page_runs(buffer->data(), window.base, window.size, options.min_zero_run)) {
    const auto length = static_cast<uint32_t>(run.size);
    if (run.zero) {
      PendingChunk chunk = {};
      chunk.entry.destination = run.base;
      chunk.entry.raw_length = length;
      chunk.entry.encoding = static_cast<uint8_t>(ChunkEncoding::kZero);
      chunk.entry.segment = window.segment;
      result.chunks.push_back(std::move(chunk));
    } else {
      result.chunks.push_back(encode_run(buffer->data() + (run.base - window.base), run.base,
                                         length, window.segment, options.zlib_level, scratch));
    }
  }
  return result;
}

// Runs encode_window over all windows on a pool of threads and hands the
// results to `consume` in window order, with a bounded number in flight.
class EncodePipeline {
 public:
  EncodePipeline(const MemorySource& memory, const std::vector<Window>& windows,
                 const WriterOptions& options, unsigned threads)
      : memory_(memory), windows_(windows), options_(options),
        results_(windows.size()), max_in_flight_(4 * threads) {
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }

  ~EncodePipeline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_available_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  // Blocks until window `index` is encoded, then takes its result.
  WindowResult take(size_t index) {
    std::unique_lock<std::mutex> lock(mutex_);
    result_ready_.wait(lock, [&] { return results_[index].has_value(); });
    WindowResult result = std::move(*results_[index]);
    results_[index].reset();
    next_to_take_ = index + 1;
    lock.unlock();
    work_available_.notify_all();
    return result;
  }

 private:
  void work() {
    std::vector<uint8_t> buffer, scratch;
    for (;;) {
      size_t index;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_available_.wait(lock, [&] {
          return stopping_ ||
                 (next_to_start_ < windows_.size() && next_to_start_ < next_to_take_ + max_in_flight_);
        });
        if (stopping_) return;
        index = next_to_start_++;
      }
      WindowResult result = encode_window(memory_, windows_[index], options_, &buffer, &scratch);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        results_[index] = std::move(result);
      }
      result_ready_.notify_all();
    }
  }

  const MemorySource& memory_;
  const std::vector<Window>& windows_;
  const WriterOptions& options_;
  std::vector<std::optional<WindowResult>> results_;
  const size_t max_in_flight_;
  std::mutex mutex_;
  std::condition_variable work_available_, result_ready_;
  size_t next_to_start_ = 0;
  size_t next_to_take_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

template <typename Entry>
void append_table(std::vector<uint8_t>* metadata, uint64_t metadata_offset,
                  const std::vector<Entry>& entries, TableRef* ref) {
  metadata->resize(align_up(metadata->size(), kBlockSize), 0);
  ref->offset = metadata_offset + metadata->size();
  ref->count = static_cast<uint32_t>(entries.size());
  ref->entry_size = sizeof(Entry);
  const auto* bytes = reinterpret_cast<const uint8_t*>(entries.data());
  metadata->insert(metadata->end(), bytes, bytes + entries.size() * sizeof(Entry));
}

void copy_string(char* out, size_t capacity, const std::string& text) {
  std::memset(out, 0, capacity);
  std::memcpy(out, text.data(), std::min(text.size(), capacity - 1));
}

Status check_inputs(const MemorySource& memory, const ResumeData& resume,
                    const WriterOptions& options) {
  if (memory.ranges().empty()) return Error::make("no memory to save");
  if (resume.page_size < 4096 || (resume.page_size & (resume.page_size - 1)) != 0) {
    return Error::make("page size {} is not a power of two >= 4096", resume.page_size);
  }
  if (options.chunk_size < resume.page_size || options.chunk_size > kMaxChunkRawSize ||
      options.chunk_size % resume.page_size != 0) {
    return Error::make("chunk size {} must be a multiple of the page size up to {}",
                       options.chunk_size, kMaxChunkRawSize);
  }
  if (options.min_zero_run == 0 || options.min_zero_run % kElisionPage != 0) {
    return Error::make("minimum zero run {} is not a positive multiple of {}", options.min_zero_run,
                       kElisionPage);
  }
  if (options.zlib_level < 0 || options.zlib_level > 9) {
    return Error::make("zlib level {} is not in 0..9", options.zlib_level);
  }
  // The full rules run before the commit; these catch bad options before
  // minutes of compression rather than after.
  for (const ScratchRange& scratch : resume.scratch) {
    for (const PhysicalRange& range : memory.ranges()) {
      if (scratch.base < range.end() && range.base < scratch.base + scratch.size) {
        return Error::make("scratch range {x}+{x} overlaps saved memory {x}+{x}", scratch.base,
                           scratch.size, range.base, range.size);
      }
    }
  }
  if (resume.kernel_release.size() >= kKernelReleaseSize) {
    return Error::make("kernel release '{}' is longer than {} bytes",
                       resume.kernel_release.c_str(), kKernelReleaseSize - 1);
  }
  return ok_status();
}

}  // namespace

uint64_t max_image_size(const MemorySource& memory, const ResumeData& resume,
                        uint32_t chunk_size) {
  uint64_t data = 0, chunks = 0;
  for (const Window& w : plan_windows(memory.ranges(), chunk_size)) {
    data += align_up(w.size, kBlockSize) + 2 * kBlockSize;
    chunks += w.size / kElisionPage + 2;
  }
  const uint64_t tables = resume.memory_map.size() * sizeof(MemoryMapEntry) +
                          resume.runtime_map.size() * sizeof(RuntimeMapEntry) +
                          resume.scratch.size() * sizeof(ScratchRange) +
                          memory.ranges().size() * sizeof(SegmentEntry) +
                          chunks * sizeof(ChunkEntry);
  // Five tables, each padded to a block.
  return kDataOffset + data + align_up(tables, kBlockSize) + 5 * kBlockSize;
}

Status invalidate_image(Storage& out) {
  static const uint8_t kZeroBlock[kBlockSize] = {};
  if (out.size() < kBlockSize) return Error::make("storage of {} bytes is too small", out.size());
  HL_TRY(out.write(kCommitRecordOffset, kZeroBlock, sizeof kZeroBlock));
  if (auto s = out.flush(); !s) return s.error().with_context("invalidating the old image");
  return ok_status();
}

Result<WriteStats> write_image(Storage& out, const MemorySource& memory, const ResumeData& resume,
                               const WriterOptions& options) {
  HL_TRY(check_inputs(memory, resume, options));
  if (out.size() < kMinImageSize) {
    return Error::make("output of {} bytes is smaller than the smallest image ({} bytes)",
                       out.size(), kMinImageSize);
  }
  HL_TRY(invalidate_image(out));

  // 2. Chunk payloads, in order.
  const std::vector<PhysicalRange>& ranges = memory.ranges();
  const std::vector<Window> windows = plan_windows(ranges, options.chunk_size);
  uint64_t total_raw = 0;
  for (const PhysicalRange& r : ranges) total_raw += r.size;
  const unsigned threads =
      options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());

  WriteStats stats;
  std::vector<ChunkEntry> chunks;
  std::vector<SegmentEntry> segments(ranges.size());
  for (size_t s = 0; s < ranges.size(); ++s) {
    segments[s] = {ranges[s].base, ranges[s].size, 0, 0, 0};
  }
  uint64_t storage_offset = kDataOffset;
  {
    EncodePipeline pipeline(memory, windows, options, threads);
    for (size_t w = 0; w < windows.size(); ++w) {
      WindowResult result = pipeline.take(w);
      if (result.error) {
        return result.error->with_context("window {x}+{x}", windows[w].base, windows[w].size);
      }
      for (PendingChunk& chunk : result.chunks) {
        ChunkEntry& e = chunk.entry;
        SegmentEntry& segment = segments[e.segment];
        if (segment.chunk_count == 0) segment.first_chunk = static_cast<uint32_t>(chunks.size());
        ++segment.chunk_count;
        if (e.encoding != static_cast<uint8_t>(ChunkEncoding::kZero)) {
          if (!range_inside(storage_offset, chunk.stored.size(), out.size())) {
            return Error::make("the image does not fit: {} bytes of output, and the data alone "
                               "already needs more than {x}",
                               out.size(), storage_offset);
          }
          e.storage_offset = storage_offset;
          HL_TRY(out.write(storage_offset, chunk.stored.data(), chunk.stored.size()));
          storage_offset += chunk.stored.size();
        }
        chunks.push_back(e);
        stats.stored_bytes += e.stored_length;
        switch (static_cast<ChunkEncoding>(e.encoding)) {
          case ChunkEncoding::kZero: ++stats.zero_chunks; stats.zero_bytes += e.raw_length; break;
          case ChunkEncoding::kRaw: ++stats.raw_chunks; stats.raw_chunk_bytes += e.raw_length; break;
          default: ++stats.zlib_chunks; stats.zlib_raw_bytes += e.raw_length; break;
        }
      }
      stats.raw_bytes += windows[w].size;
      if (options.progress) options.progress(stats.raw_bytes, total_raw);
    }
  }
  if (chunks.size() > UINT32_MAX) return Error::make("too many chunks ({})", chunks.size());

  // 3. Metadata, header, commit record — validated with the reader's rules
  // before anything of it is written.
  ImageHeader header = {};
  std::memcpy(header.magic, kHeaderMagic, sizeof header.magic);
  header.format_version = kFormatVersion;
  header.header_size = kBlockSize;
  if (options.image_id) {
    std::memcpy(header.image_id, options.image_id->data(), sizeof header.image_id);
  } else if (getrandom(header.image_id, sizeof header.image_id, 0) !=
             static_cast<ssize_t>(sizeof header.image_id)) {
    return Error::make("getrandom failed for the image id");
  }
  header.creation_time =
      options.creation_time != 0 ? options.creation_time : static_cast<uint64_t>(std::time(nullptr));
  header.jump_back_entry = resume.jump_back_entry;
  header.page_size = resume.page_size;
  header.chunk_raw_size_max = options.chunk_size;
  header.data_offset = kDataOffset;
  header.data_size = storage_offset - kDataOffset;
  header.metadata_offset = storage_offset;
  header.total_raw_bytes = stats.raw_bytes;
  header.total_stored_bytes = stats.stored_bytes;
  copy_string(header.kernel_release, sizeof header.kernel_release, resume.kernel_release);
  copy_string(header.writer, sizeof header.writer, options.writer_name);

  std::vector<uint8_t> metadata;
  append_table(&metadata, header.metadata_offset, resume.memory_map, &header.memory_map);
  append_table(&metadata, header.metadata_offset, resume.runtime_map, &header.runtime_map);
  append_table(&metadata, header.metadata_offset, resume.scratch, &header.scratch_ranges);
  append_table(&metadata, header.metadata_offset, segments, &header.segments);
  append_table(&metadata, header.metadata_offset, chunks, &header.chunks);
  metadata.resize(align_up(metadata.size(), kBlockSize), 0);
  header.metadata_size = metadata.size();
  header.image_size = header.metadata_offset + header.metadata_size;
  const Sha256Digest memory_map_digest = sha256(
      resume.memory_map.data(), resume.memory_map.size() * sizeof(MemoryMapEntry));
  std::memcpy(header.memory_map_sha256, memory_map_digest.bytes, 32);
  const Sha256Digest metadata_digest = sha256(metadata.data(), metadata.size());
  std::memcpy(header.metadata_sha256, metadata_digest.bytes, 32);

  CommitRecord record = {};
  std::memcpy(record.magic, kCommitMagic, sizeof record.magic);
  record.format_version = kFormatVersion;
  record.state = static_cast<uint32_t>(ImageState::kValid);
  std::memcpy(record.image_id, header.image_id, sizeof record.image_id);
  record.header_offset = kHeaderOffset;
  record.header_size = kBlockSize;
  record.image_size = header.image_size;
  const Sha256Digest header_digest = sha256(&header, sizeof header);
  std::memcpy(record.header_sha256, header_digest.bytes, 32);
  seal_commit_record(&record);

  if (header.image_size > out.size()) {
    return Error::make("the image does not fit: it needs {} bytes, the output has {}",
                       header.image_size, out.size());
  }
  if (auto s = validate_commit_record(record, out.size()); !s) {
    return s.error().with_context("internal error, refusing to commit");
  }
  if (auto s = validate_header(header, record, out.size()); !s) {
    return s.error().with_context("internal error, refusing to commit");
  }
  if (auto s = validate_metadata(header, metadata.data(), metadata.size()); !s) {
    return s.error().with_context("refusing to commit");
  }

  HL_TRY(out.write(header.metadata_offset, metadata.data(), metadata.size()));
  static const uint8_t kEmptyAuthBlock[kBlockSize] = {};
  HL_TRY(out.write(kAuthSectionOffset, kEmptyAuthBlock, sizeof kEmptyAuthBlock));
  HL_TRY(out.write(kHeaderOffset, &header, sizeof header));
  // 4.–6. Everything durable before the record that makes it valid.
  if (auto s = out.flush(); !s) return s.error().with_context("flushing the image");
  uint8_t record_block[kBlockSize] = {};
  std::memcpy(record_block, &record, sizeof record);
  HL_TRY(out.write(kCommitRecordOffset, record_block, sizeof record_block));
  if (auto s = out.flush(); !s) return s.error().with_context("flushing the commit record");
  stats.image_size = header.image_size;
  return stats;
}

}  // namespace hl::image
