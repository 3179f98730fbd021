// hiberload's configuration: what the HiberloadConfig EFI variable holds.
//
// The variable's data is UTF-8 text in the key=value syntax of key_value.h
// (docs/configuration.md has the keys, their defaults and an example written
// with efivarfs). Text rather than a binary struct: a user can read and write
// it with standard tools, and unknown versions fail with a readable message.
//
// parse_config() validates every value; any error yields a message and the
// caller falls back to default_config(), which boots the kernel found at the
// documented default location on the ESP.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/guids.h"

namespace hl {

// Name of the EFI variable, under kVendorGuid.
inline constexpr char kConfigVariableName[] = "HiberloadConfig";
// Upper bound on the variable's data: keeps the firmware's read bounded.
inline constexpr size_t kMaxConfigBytes = 4096;

enum class ResumeMode : uint8_t {
  kAuto,          // Direct restore when possible, else the fallback kernel.
  kDirectOnly,    // Direct restore or a normal boot; never the fallback.
  kFallbackOnly,  // Always restore through the memory-restricted kernel.
  kOff,           // Never resume; always a normal boot (image left alone).
};

const char* resume_mode_name(ResumeMode mode);

struct MemoryRange {
  uint64_t base = 0;
  uint64_t size = 0;
  uint64_t end() const { return base + size; }  // Valid ranges never overflow.
};

struct Config {
  static constexpr size_t kMaxPath = 256;
  static constexpr size_t kMaxCmdline = 1024;

  // Hibernation partition by its unique GPT partition GUID; when absent,
  // hiberload uses the first partition with kHibernationPartitionType.
  bool has_partition = false;
  Guid partition = {};
  // Kernel and initrd paths on the ESP hiberload was loaded from.
  char kernel[kMaxPath] = "\\EFI\\hiberload\\vmlinuz";
  char initrd[kMaxPath] = "\\EFI\\hiberload\\initrd.img";
  char cmdline[kMaxCmdline] = "";
  // RAM kept out of the normal kernel's memory: where a hibernating kernel
  // runs and where hiberload stages data at resume. size 0: none configured.
  MemoryRange scratch = {};
  ResumeMode mode = ResumeMode::kAuto;
  // Seconds the boot menu waits for a key before the default action.
  uint32_t timeout_seconds = 0;
};

inline Config default_config() { return Config{}; }

// Parses and validates the variable's text. Never reads past length.
Result<Config> parse_config(const char* text, size_t length);

// Writes the text form of config (the inverse of parse_config) into out.
// Returns the length, or an error if out is too small.
Result<size_t> serialize_config(const Config& config, char* out, size_t capacity);

// Validates one key=value pair and applies it to config (used by the parser
// and by `hiberload config set`).
Status apply_config_setting(Config* config, const char* key, size_t key_length,
                            const char* value, size_t value_length);

}  // namespace hl
