// What `hiberload install`, `remove`, `config` and `status` do, on an
// EfiVars directory and an ESP given by the caller (so host tests run them
// against a fake efivarfs directory and a temporary ESP directory).
//
// Every command first reads and computes everything it will write, checks it,
// and only then writes; a write that fails undoes the earlier writes of the
// same command (files and variables restored to their old bytes), so a
// failed command changes nothing.
//
// State kept for `remove`: the HiberloadInstall variable (hiberload's vendor
// GUID, key=value text) names the boot entry install created, the BootOrder
// before the first install, and the ESP files install created:
//
//   boot-entry=0004
//   previous-boot-order=0001,0002      ("none": there was no BootOrder)
//   file=EFI/hiberload/hiberload.efi
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "tools/lib/block_devices.h"
#include "tools/lib/boot_entries.h"
#include "tools/lib/efivars.h"

namespace hl {

inline constexpr char kInstallStateVariableName[] = "HiberloadInstall";
inline constexpr char kBootEntryDescription[] = "hiberload";
// Where install puts things on the ESP (relative to its mount point, '/').
inline constexpr char kEspLoaderPath[] = "EFI/hiberload/hiberload.efi";
inline constexpr char kEspKernelPath[] = "EFI/hiberload/vmlinuz";
inline constexpr char kEspInitrdPath[] = "EFI/hiberload/initrd.img";

// ---------------------------------------------------------------- config
// The configuration variable as found.
struct StoredConfig {
  bool found = false;
  std::string text;    // The variable's bytes, as text.
  bool valid = false;  // parse_config accepted it.
  std::string error;   // Why not, when !valid.
  Config config = default_config();  // The parsed variable, or the defaults.
};
Result<StoredConfig> read_stored_config(const EfiVars& vars);

// Applies "KEY=VALUE" settings in order with apply_config_setting; the
// error names the setting.
Status apply_settings(Config* config, const std::vector<std::string>& settings);
// Resets KEY to its default.
Status unset_setting(Config* config, const std::string& key);
// The variable's bytes: serialize_config, at most kMaxConfigBytes, and
// parsed back to the same configuration (nothing is written that the
// firmware would refuse).
Result<std::vector<uint8_t>> config_variable_bytes(const Config& config);
Status write_config(EfiVars& vars, const Config& config);

// ---------------------------------------------------------------- install
struct InstallState {
  bool found = false;
  bool has_boot_entry = false;
  uint16_t boot_entry = 0;
  bool had_boot_order = false;
  std::vector<uint16_t> previous_boot_order;
  std::vector<std::string> files;
};
std::string encode_install_state(const InstallState& state);
Result<InstallState> decode_install_state(const std::string& text);
Result<InstallState> read_install_state(const EfiVars& vars);

struct InstallOptions {
  std::string loader_source;  // hiberload.efi on the host.
  // Host files to copy to the default places on the ESP; "" keeps what the
  // configuration names; a file already on the ESP is referenced, not copied.
  std::string kernel_source;
  std::string initrd_source;
  bool no_initrd = false;
  // Applied to the existing configuration (or the defaults), in order.
  std::vector<std::string> settings;
};

// Lines for the user ("copied ...", "created Boot0004 ...").
using Report = std::vector<std::string>;

Status install(EfiVars& vars, const Esp& esp, const InstallOptions& options, Report* report);

struct RemoveOptions {
  bool keep_config = false;
};
Status remove_installation(EfiVars& vars, const Esp& esp, const RemoveOptions& options,
                           Report* report);

// ---------------------------------------------------------------- entries
struct BootEntry {
  uint16_t number = 0;
  LoadOption option;
  std::string file;  // device_path_file(option.device_path)
};
// Every Boot#### that decodes, by number.
Result<std::vector<BootEntry>> read_boot_entries(const EfiVars& vars);
Result<std::vector<uint16_t>> read_boot_order(const EfiVars& vars, bool* found);
// Is this entry hiberload's (its file is \EFI\hiberload\hiberload.efi)?
bool is_hiberload_entry(const BootEntry& entry);

// "\EFI\hiberload\vmlinuz" for "EFI/hiberload/vmlinuz".
std::string esp_path_to_firmware(const std::string& relative);
// The ESP-relative path of `host_path` if it lies on the ESP mounted at
// `mount_point` ("" if not).
std::string path_on_esp(const std::string& mount_point, const std::string& host_path);

}  // namespace hl
