#include "common/config.h"

#include <string.h>

#include "common/key_value.h"

namespace hl {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint32_t kMaxTimeoutSeconds = 600;

struct ModeName {
  ResumeMode mode;
  const char* name;
};
constexpr ModeName kModeNames[] = {
    {ResumeMode::kAuto, "auto"},
    {ResumeMode::kDirectOnly, "direct"},
    {ResumeMode::kFallbackOnly, "fallback"},
    {ResumeMode::kOff, "off"},
};

bool printable_ascii(TextView text) {
  for (size_t i = 0; i < text.size; ++i) {
    const unsigned char c = static_cast<unsigned char>(text.data[i]);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// An ESP path: absolute, backslash-separated, printable, no ".." component
// (the firmware's file system would resolve it; refusing is simpler to audit).
Status parse_esp_path(TextView value, char* out, const char* key) {
  if (value.size == 0 || value.data[0] != '\\') {
    return Error::make("{}: path must start with a backslash, like \\EFI\\Linux\\vmlinuz", key);
  }
  if (!printable_ascii(value)) return Error::make("{}: path must be printable ASCII", key);
  for (size_t i = 0; i + 1 < value.size; ++i) {
    if (value.data[i] == '.' && value.data[i + 1] == '.') {
      return Error::make("{}: path must not contain '..'", key);
    }
    if (value.data[i] == '/') return Error::make("{}: use backslashes in ESP paths", key);
  }
  if (!value.copy_to(out, Config::kMaxPath)) {
    return Error::make("{}: path longer than {} characters", key, Config::kMaxPath - 1);
  }
  return ok_status();
}

// "BASE+SIZE" (both decimal or 0x-hex, or with a K/M/G suffix on SIZE),
// page-aligned, non-empty, not wrapping around.
Status parse_scratch(TextView value, MemoryRange* out) {
  if (value.equals("none")) {
    *out = MemoryRange{};
    return ok_status();
  }
  const char* plus = static_cast<const char*>(memchr(value.data, '+', value.size));
  if (plus == nullptr) return Error::make("scratch: expected BASE+SIZE, like 0x1000000+256M");
  TextView base_text{value.data, static_cast<size_t>(plus - value.data)};
  TextView size_text{plus + 1, value.size - base_text.size - 1};
  uint64_t multiplier = 1;
  if (size_text.size > 0) {
    switch (size_text.data[size_text.size - 1]) {
      case 'K': multiplier = 1ull << 10; break;
      case 'M': multiplier = 1ull << 20; break;
      case 'G': multiplier = 1ull << 30; break;
      default: break;
    }
    if (multiplier != 1) --size_text.size;
  }
  uint64_t base = 0;
  uint64_t size = 0;
  if (!parse_u64(base_text, &base) || !parse_u64(size_text, &size)) {
    return Error::make("scratch: BASE and SIZE must be numbers");
  }
  if (size > UINT64_MAX / multiplier) return Error::make("scratch: size too large");
  size *= multiplier;
  if (size == 0) return Error::make("scratch: size must not be zero");
  if (base % kPageSize != 0 || size % kPageSize != 0) {
    return Error::make("scratch: base and size must be multiples of 4 KiB");
  }
  if (base > UINT64_MAX - size) return Error::make("scratch: range wraps around");
  *out = MemoryRange{base, size};
  return ok_status();
}

}  // namespace

const char* resume_mode_name(ResumeMode mode) {
  for (const ModeName& m : kModeNames) {
    if (m.mode == mode) return m.name;
  }
  return "?";
}

Status apply_config_setting(Config* config, const char* key_data, size_t key_length,
                            const char* value_data, size_t value_length) {
  const TextView key{key_data, key_length};
  const TextView value{value_data, value_length};
  if (key.equals("version")) {
    uint64_t version = 0;
    if (!parse_u64(value, &version) || version != 1) {
      return Error::make("version: this hiberload reads configuration version 1");
    }
    return ok_status();
  }
  if (key.equals("partition")) {
    char text[40];
    if (value.equals("auto")) {
      config->has_partition = false;
      return ok_status();
    }
    if (!value.copy_to(text, sizeof text) || !guid_from_string(text, &config->partition)) {
      return Error::make("partition: expected a PARTUUID like 0fc63daf-8483-4772-8e79-3d69d8477de4 or auto");
    }
    config->has_partition = true;
    return ok_status();
  }
  if (key.equals("kernel")) return parse_esp_path(value, config->kernel, "kernel");
  if (key.equals("initrd")) {
    if (value.equals("none")) {
      config->initrd[0] = '\0';
      return ok_status();
    }
    return parse_esp_path(value, config->initrd, "initrd");
  }
  if (key.equals("cmdline")) {
    if (!printable_ascii(value)) return Error::make("cmdline: must be printable ASCII");
    if (!value.copy_to(config->cmdline, sizeof config->cmdline)) {
      return Error::make("cmdline: longer than {} characters", Config::kMaxCmdline - 1);
    }
    return ok_status();
  }
  if (key.equals("scratch")) return parse_scratch(value, &config->scratch);
  if (key.equals("mode")) {
    for (const ModeName& m : kModeNames) {
      if (value.equals(m.name)) {
        config->mode = m.mode;
        return ok_status();
      }
    }
    return Error::make("mode: expected auto, direct, fallback or off");
  }
  if (key.equals("timeout")) {
    uint64_t seconds = 0;
    if (!parse_u64(value, &seconds) || seconds > kMaxTimeoutSeconds) {
      return Error::make("timeout: expected seconds from 0 to {}", kMaxTimeoutSeconds);
    }
    config->timeout_seconds = static_cast<uint32_t>(seconds);
    return ok_status();
  }
  char name[32];
  if (!key.copy_to(name, sizeof name)) return Error::make("unknown key (too long)");
  return Error::make("unknown key '{}'", name);
}

Result<Config> parse_config(const char* text, size_t length) {
  if (length > kMaxConfigBytes) {
    return Error::make("configuration is {} bytes, more than the {} allowed", length,
                       kMaxConfigBytes);
  }
  Config config = default_config();
  KeyValueReader reader(text, length);
  KeyValue kv;
  while (reader.next(&kv)) {
    Status applied =
        apply_config_setting(&config, kv.key.data, kv.key.size, kv.value.data, kv.value.size);
    if (!applied) return applied.error().with_context("line {}", kv.line);
  }
  if (!reader.status()) return reader.status().error();
  return config;
}

Result<size_t> serialize_config(const Config& config, char* out, size_t capacity) {
  char partition[37] = "auto";
  if (config.has_partition) guid_to_string(config.partition, partition);
  char scratch[48] = "none";
  if (config.scratch.size != 0) {
    format_to(scratch, sizeof scratch, "{x}+{x}", config.scratch.base, config.scratch.size);
  }
  const size_t needed = format_to(
      out, capacity,
      "version=1\npartition={}\nkernel={}\ninitrd={}\ncmdline={}\nscratch={}\nmode={}\n"
      "timeout={}\n",
      partition, config.kernel, config.initrd[0] ? config.initrd : "none", config.cmdline,
      scratch, resume_mode_name(config.mode), config.timeout_seconds);
  if (needed + 1 >= capacity) return Error::make("configuration text does not fit");
  return needed;
}

}  // namespace hl
