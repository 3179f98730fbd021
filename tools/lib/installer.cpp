#include "tools/lib/installer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/key_value.h"

namespace hl {
namespace {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::make("{}: {}", path.c_str(), strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      close(fd);
      return Error::make("{}: {}", path.c_str(), strerror(saved));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  close(fd);
  return bytes;
}

Status write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string temporary = path + ".hiberload-new";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::make("{}: {}", temporary.c_str(), strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = n < 0 ? errno : ENOSPC;
      close(fd);
      unlink(temporary.c_str());
      return Error::make("writing {}: {}", path.c_str(), strerror(saved));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    const int saved = errno;
    unlink(temporary.c_str());
    return Error::make("writing {}: {}", path.c_str(), strerror(saved));
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    unlink(temporary.c_str());
    return Error::make("writing {}: {}", path.c_str(), strerror(saved));
  }
  return ok_status();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Creates the directories of `relative` under `root`; remembers new ones.
Status make_parent_dirs(const std::string& root, const std::string& relative,
                        std::vector<std::string>* created) {
  size_t at = 0;
  while ((at = relative.find('/', at)) != std::string::npos) {
    const std::string dir = root + "/" + relative.substr(0, at);
    if (mkdir(dir.c_str(), 0755) == 0) {
      created->push_back(dir);
    } else if (errno != EEXIST) {
      return Error::make("cannot create {}: {}", dir.c_str(), strerror(errno));
    }
    ++at;
  }
  return ok_status();
}

// Files and variables written by one command, with what to put back.
class Undo {
 public:
  explicit Undo(EfiVars& vars) : vars_(vars) {}

  Status put_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    FileUndo undo{path, file_exists(path), {}};
    if (undo.existed) {
      auto old = read_file_bytes(path);
      if (!old) return old.error();
      undo.old = std::move(*old);
    }
    HL_TRY(write_file_atomically(path, bytes));
    files_.push_back(std::move(undo));
    return ok_status();
  }
  Status delete_file(const std::string& path) {
    if (!file_exists(path)) return ok_status();
    auto old = read_file_bytes(path);
    if (!old) return old.error();
    if (unlink(path.c_str()) != 0) return Error::make("cannot delete {}: {}", path.c_str(), strerror(errno));
    files_.push_back(FileUndo{path, true, std::move(*old)});
    return ok_status();
  }
  void created_dirs(const std::vector<std::string>& dirs) {
    dirs_.insert(dirs_.end(), dirs.begin(), dirs.end());
  }

  Status put_variable(const std::string& name, const Guid& vendor,
                      const std::vector<uint8_t>& data, size_t max_bytes = kMaxEfiVariableBytes) {
    auto old = vars_.read(name, vendor);
    if (!old) return old.error();
    HL_TRY(vars_.write(name, vendor, kEfiVarDefaultAttributes, data, max_bytes));
    vars_undo_.push_back(VarUndo{name, vendor, *old});
    return ok_status();
  }
  Status delete_variable(const std::string& name, const Guid& vendor) {
    auto old = vars_.read(name, vendor);
    if (!old) return old.error();
    if (!old->found) return ok_status();
    HL_TRY(vars_.remove(name, vendor));
    vars_undo_.push_back(VarUndo{name, vendor, *old});
    return ok_status();
  }

  // Puts everything back, newest first. Best effort: a failure here is
  // reported by the caller's error already.
  void roll_back() {
    for (auto it = vars_undo_.rbegin(); it != vars_undo_.rend(); ++it) {
      if (it->old.found) {
        (void)vars_.write(it->name, it->vendor, it->old.attributes, it->old.data);
      } else {
        (void)vars_.remove(it->name, it->vendor);
      }
    }
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
      if (it->existed) {
        (void)write_file_atomically(it->path, it->old);
      } else {
        unlink(it->path.c_str());
      }
    }
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) rmdir(it->c_str());
  }

 private:
  struct FileUndo {
    std::string path;
    bool existed;
    std::vector<uint8_t> old;
  };
  struct VarUndo {
    std::string name;
    Guid vendor;
    EfiVariable old;
  };
  EfiVars& vars_;
  std::vector<FileUndo> files_;
  std::vector<std::string> dirs_;
  std::vector<VarUndo> vars_undo_;
};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return text;
}

std::vector<uint8_t> text_bytes(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::string boot_entry_name(uint16_t number) { return boot_variable_name(number); }

}  // namespace

// ---------------------------------------------------------------- config

Result<StoredConfig> read_stored_config(const EfiVars& vars) {
  auto variable = vars.read(kConfigVariableName, kVendorGuid);
  if (!variable) return variable.error();
  StoredConfig stored;
  if (!variable->found) {
    stored.valid = true;
    return stored;
  }
  stored.found = true;
  stored.text.assign(variable->data.begin(), variable->data.end());
  auto parsed = parse_config(stored.text.data(), stored.text.size());
  if (parsed) {
    stored.valid = true;
    stored.config = *parsed;
  } else {
    stored.error = parsed.error().reason();
  }
  return stored;
}

Status apply_settings(Config* config, const std::vector<std::string>& settings) {
  for (const std::string& setting : settings) {
    const size_t equals = setting.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Error::make("'{}': expected KEY=VALUE", setting.c_str());
    }
    std::string key = setting.substr(0, equals);
    std::string value = setting.substr(equals + 1);
    if (value.find('\n') != std::string::npos || value.find('\r') != std::string::npos) {
      return Error::make("{}: the value must be one line", key.c_str());
    }
    Status applied =
        apply_config_setting(config, key.data(), key.size(), value.data(), value.size());
    if (!applied) return applied;
  }
  return ok_status();
}

Status unset_setting(Config* config, const std::string& key) {
  char text[kMaxConfigBytes + 1];
  auto length = serialize_config(default_config(), text, sizeof text);
  if (!length) return length.error();
  KeyValueReader reader(text, *length);
  KeyValue kv;
  while (reader.next(&kv)) {
    if (kv.key.size == key.size() && memcmp(kv.key.data, key.data(), key.size()) == 0) {
      return apply_config_setting(config, kv.key.data, kv.key.size, kv.value.data, kv.value.size);
    }
  }
  return Error::make("unknown key '{}'", key.c_str());
}

Result<std::vector<uint8_t>> config_variable_bytes(const Config& config) {
  std::vector<char> text(kMaxConfigBytes * 2);
  auto length = serialize_config(config, text.data(), text.size());
  if (!length) return length.error();
  if (*length > kMaxConfigBytes) {
    return Error::make("the configuration would be {} bytes, more than the {} the firmware reads",
                       *length, kMaxConfigBytes);
  }
  auto reparsed = parse_config(text.data(), *length);
  if (!reparsed) return reparsed.error().with_context("internal: the written text does not parse");
  return std::vector<uint8_t>(text.begin(), text.begin() + static_cast<long>(*length));
}

Status write_config(EfiVars& vars, const Config& config) {
  auto bytes = config_variable_bytes(config);
  if (!bytes) return bytes.error();
  return vars.write(kConfigVariableName, kVendorGuid, kEfiVarDefaultAttributes, *bytes,
                    kMaxConfigBytes);
}

// ---------------------------------------------------------------- state

std::string encode_install_state(const InstallState& state) {
  std::string text;
  if (state.has_boot_entry) text += "boot-entry=" + boot_order_text({state.boot_entry}) + "\n";
  text += "previous-boot-order=" +
          (state.had_boot_order ? (state.previous_boot_order.empty()
                                       ? std::string()
                                       : boot_order_text(state.previous_boot_order))
                                : std::string("none")) +
          "\n";
  for (const std::string& file : state.files) text += "file=" + file + "\n";
  return text;
}

Result<InstallState> decode_install_state(const std::string& text) {
  InstallState state;
  state.found = true;
  KeyValueReader reader(text.data(), text.size());
  KeyValue kv;
  while (reader.next(&kv)) {
    const std::string key(kv.key.data, kv.key.size);
    const std::string value(kv.value.data, kv.value.size);
    if (key == "boot-entry") {
      std::vector<uint16_t> one;
      if (!parse_boot_order_text(value, &one) || one.size() != 1) {
        return Error::make("{}: line {}: bad boot-entry '{}'", kInstallStateVariableName, kv.line,
                           value.c_str());
      }
      state.has_boot_entry = true;
      state.boot_entry = one[0];
    } else if (key == "previous-boot-order") {
      if (value == "none") {
        state.had_boot_order = false;
      } else if (!parse_boot_order_text(value, &state.previous_boot_order)) {
        return Error::make("{}: line {}: bad previous-boot-order '{}'", kInstallStateVariableName,
                           kv.line, value.c_str());
      } else {
        state.had_boot_order = true;
      }
    } else if (key == "file") {
      if (value.empty() || value[0] == '/' || value.find("..") != std::string::npos) {
        return Error::make("{}: line {}: bad file '{}'", kInstallStateVariableName, kv.line,
                           value.c_str());
      }
      state.files.push_back(value);
    }  // Unknown keys: written by a newer version; ignored.
  }
  if (!reader.status()) return reader.status().error().with_context("{}", kInstallStateVariableName);
  return state;
}

Result<InstallState> read_install_state(const EfiVars& vars) {
  auto variable = vars.read(kInstallStateVariableName, kVendorGuid);
  if (!variable) return variable.error();
  if (!variable->found) return InstallState{};
  return decode_install_state(std::string(variable->data.begin(), variable->data.end()));
}

// ---------------------------------------------------------------- entries

Result<std::vector<BootEntry>> read_boot_entries(const EfiVars& vars) {
  auto names = vars.list(kEfiGlobalVariableGuid);
  if (!names) return names.error();
  std::vector<BootEntry> entries;
  for (const std::string& name : *names) {
    uint16_t number;
    if (!parse_boot_variable_name(name, &number)) continue;
    auto variable = vars.read(name, kEfiGlobalVariableGuid);
    if (!variable) return variable.error();
    if (!variable->found) continue;
    auto option = decode_load_option(variable->data);
    if (!option) continue;  // Someone else's broken entry: not ours to judge.
    BootEntry entry;
    entry.number = number;
    entry.option = *option;
    entry.file = device_path_file(option->device_path);
    entries.push_back(entry);
  }
  return entries;
}

Result<std::vector<uint16_t>> read_boot_order(const EfiVars& vars, bool* found) {
  auto variable = vars.read("BootOrder", kEfiGlobalVariableGuid);
  if (!variable) return variable.error();
  *found = variable->found;
  if (!variable->found) return std::vector<uint16_t>{};
  return decode_boot_order(variable->data);
}

bool is_hiberload_entry(const BootEntry& entry) {
  return lower(entry.file) == lower(esp_path_to_firmware(kEspLoaderPath));
}

std::string esp_path_to_firmware(const std::string& relative) {
  std::string path = "\\" + relative;
  std::replace(path.begin(), path.end(), '/', '\\');
  return path;
}

std::string path_on_esp(const std::string& mount_point, const std::string& host_path) {
  char resolved[PATH_MAX], root[PATH_MAX];
  if (realpath(host_path.c_str(), resolved) == nullptr ||
      realpath(mount_point.c_str(), root) == nullptr) {
    return "";
  }
  const std::string file = resolved, base = root;
  if (file.size() <= base.size() + 1 || file.compare(0, base.size(), base) != 0 ||
      file[base.size()] != '/') {
    return "";
  }
  return file.substr(base.size() + 1);
}

// ---------------------------------------------------------------- install

Status install(EfiVars& vars, const Esp& esp, const InstallOptions& options, Report* report) {
  // 1. Read everything.
  auto stored = read_stored_config(vars);
  if (!stored) return stored.error();
  auto state = read_install_state(vars);
  if (!state) return state.error();
  bool had_order = false;
  auto order = read_boot_order(vars, &had_order);
  if (!order) return order.error();
  auto entries = read_boot_entries(vars);
  if (!entries) return entries.error();
  auto loader = read_file_bytes(options.loader_source);
  if (!loader) return loader.error().with_context("the EFI application to install");

  // 2. What goes on the ESP.
  struct Copy {
    std::string source;
    std::string relative;
  };
  std::vector<Copy> copies{{options.loader_source, kEspLoaderPath}};
  Config config = stored->config;
  if (stored->found && !stored->valid) {
    report->push_back("the existing configuration is malformed (" + stored->error +
                      "): starting from the defaults");
  }
  auto place = [&](const std::string& source, const char* default_relative, const char* what) -> Status {
    if (!file_exists(source)) return Error::make("{} {}: no such file", what, source.c_str());
    std::string relative = path_on_esp(esp.mount_point, source);
    if (relative.empty()) {
      relative = default_relative;
      copies.push_back({source, relative});
    }
    const std::string firmware_path = esp_path_to_firmware(relative);
    return apply_config_setting(&config, what, strlen(what), firmware_path.data(),
                                firmware_path.size());
  };
  if (!options.kernel_source.empty()) {
    HL_TRY(place(options.kernel_source, kEspKernelPath, "kernel"));
  }
  if (options.no_initrd) {
    config.initrd[0] = '\0';
  } else if (!options.initrd_source.empty()) {
    HL_TRY(place(options.initrd_source, kEspInitrdPath, "initrd"));
  }
  HL_TRY(apply_settings(&config, options.settings));
  auto config_bytes = config_variable_bytes(config);
  if (!config_bytes) return config_bytes.error();

  // The kernel must be on the ESP (copied now or already there).
  {
    std::string kernel_relative = config.kernel + 1;
    std::replace(kernel_relative.begin(), kernel_relative.end(), '\\', '/');
    const bool copied = std::any_of(copies.begin(), copies.end(),
                                    [&](const Copy& c) { return lower(c.relative) == lower(kernel_relative); });
    if (!copied && !file_exists(esp.mount_point + "/" + kernel_relative)) {
      return Error::make("no kernel: {} is not on the ESP at {}; give --kernel PATH",
                         config.kernel, esp.mount_point.c_str());
    }
  }

  // 3. The boot entry: the one a previous install made, an equivalent one
  // (efibootmgr-made), or the lowest free number.
  std::vector<uint16_t> used;
  for (const BootEntry& e : *entries) used.push_back(e.number);
  HardDrivePartition hd;
  hd.number = esp.partition.number;
  hd.start_lba = esp.partition.entry.first_lba;
  hd.size_lba = esp.partition.entry.block_count();
  hd.partuuid = esp.partition.entry.unique;
  LoadOption option;
  option.attributes = kLoadOptionActive;
  option.description = utf8_to_utf16(kBootEntryDescription);
  option.device_path = hard_drive_file_path(hd, esp_path_to_firmware(kEspLoaderPath));
  bool reuse = false;
  uint16_t number = 0;
  for (const BootEntry& e : *entries) {
    if (state->found && state->has_boot_entry && e.number == state->boot_entry &&
        is_hiberload_entry(e)) {
      reuse = true;
      number = e.number;
    }
  }
  if (!reuse) {
    for (const BootEntry& e : *entries) {
      if (e.option.device_path == option.device_path) {
        reuse = true;
        number = e.number;
        break;
      }
    }
  }
  if (!reuse && !first_free_boot_number(used, &number)) {
    return Error::make("no free Boot#### number: all 65536 are in use");
  }
  const std::vector<uint16_t> new_order = boot_order_put_first(*order, number);

  InstallState new_state;
  new_state.found = true;
  new_state.has_boot_entry = true;
  new_state.boot_entry = number;
  if (state->found) {
    new_state.had_boot_order = state->had_boot_order;
    new_state.previous_boot_order = state->previous_boot_order;
    new_state.files = state->files;
  } else {
    new_state.had_boot_order = had_order;
    new_state.previous_boot_order = boot_order_without(*order, number);
  }
  for (const Copy& c : copies) {
    const bool known = std::find(new_state.files.begin(), new_state.files.end(), c.relative) !=
                       new_state.files.end();
    if (!known && !file_exists(esp.mount_point + "/" + c.relative)) new_state.files.push_back(c.relative);
  }

  // 4. Write, undoing everything on the first failure.
  Undo undo(vars);
  auto fail = [&](const Error& error) {
    undo.roll_back();
    return error.with_context("install failed, nothing was changed");
  };
  for (const Copy& c : copies) {
    std::vector<std::string> dirs;
    if (Status s = make_parent_dirs(esp.mount_point, c.relative, &dirs); !s) return fail(s.error());
    undo.created_dirs(dirs);
    std::vector<uint8_t> bytes;
    if (c.source == options.loader_source) {
      bytes = *loader;
    } else {
      auto read = read_file_bytes(c.source);
      if (!read) return fail(read.error());
      bytes = std::move(*read);
    }
    if (Status s = undo.put_file(esp.mount_point + "/" + c.relative, bytes); !s) return fail(s.error());
    report->push_back("copied " + c.source + " to " + esp.mount_point + "/" + c.relative);
  }
  if (Status s = undo.put_variable(kInstallStateVariableName, kVendorGuid,
                                   text_bytes(encode_install_state(new_state)));
      !s) {
    return fail(s.error());
  }
  if (Status s = undo.put_variable(boot_entry_name(number), kEfiGlobalVariableGuid,
                                   encode_load_option(option));
      !s) {
    return fail(s.error());
  }
  report->push_back(std::string(reuse ? "updated " : "created ") + boot_entry_name(number) +
                    " \"" + kBootEntryDescription + "\": " + device_path_to_text(option.device_path));
  if (Status s = undo.put_variable("BootOrder", kEfiGlobalVariableGuid, encode_boot_order(new_order));
      !s) {
    return fail(s.error());
  }
  report->push_back("BootOrder: " + boot_order_text(*order) + " -> " + boot_order_text(new_order));
  if (Status s = undo.put_variable(kConfigVariableName, kVendorGuid, *config_bytes, kMaxConfigBytes);
      !s) {
    return fail(s.error());
  }
  report->push_back(std::string("wrote the configuration (EFI variable ") + kConfigVariableName +
                    ", " + std::to_string(config_bytes->size()) + " bytes)");
  return ok_status();
}

Status remove_installation(EfiVars& vars, const Esp& esp, const RemoveOptions& options,
                           Report* report) {
  auto state = read_install_state(vars);
  if (!state) return state.error();
  bool had_order = false;
  auto order = read_boot_order(vars, &had_order);
  if (!order) return order.error();
  auto entries = read_boot_entries(vars);
  if (!entries) return entries.error();
  auto stored = read_stored_config(vars);
  if (!stored) return stored.error();

  // Our entries: the recorded one, and any other pointing at hiberload.efi.
  std::vector<uint16_t> ours;
  std::vector<uint16_t> existing;
  for (const BootEntry& e : *entries) {
    existing.push_back(e.number);
    if (is_hiberload_entry(e) || (state->has_boot_entry && e.number == state->boot_entry &&
                                  is_hiberload_entry(e))) {
      ours.push_back(e.number);
    }
  }
  std::vector<std::string> files = state->files;
  if (!state->found && file_exists(esp.mount_point + "/" + kEspLoaderPath)) {
    files.push_back(kEspLoaderPath);
  }
  if (!state->found && ours.empty() && files.empty() && !stored->found) {
    report->push_back("hiberload is not installed: nothing to remove");
    return ok_status();
  }

  std::vector<uint16_t> new_order = *order;
  if (state->found && state->had_boot_order) {
    std::vector<uint16_t> still;
    for (uint16_t n : existing) {
      if (std::find(ours.begin(), ours.end(), n) == ours.end()) still.push_back(n);
    }
    new_order = boot_order_restore(state->previous_boot_order, *order,
                                   state->has_boot_entry ? state->boot_entry : 0xffff, still);
  }
  for (uint16_t n : ours) new_order = boot_order_without(new_order, n);

  Undo undo(vars);
  auto fail = [&](const Error& error) {
    undo.roll_back();
    return error.with_context("remove failed, nothing was changed");
  };
  if (had_order) {
    Status s = (state->found && !state->had_boot_order && new_order.empty())
                   ? undo.delete_variable("BootOrder", kEfiGlobalVariableGuid)
                   : undo.put_variable("BootOrder", kEfiGlobalVariableGuid,
                                       encode_boot_order(new_order));
    if (!s) return fail(s.error());
    report->push_back("BootOrder: " + boot_order_text(*order) + " -> " + boot_order_text(new_order));
  }
  for (uint16_t n : ours) {
    if (Status s = undo.delete_variable(boot_entry_name(n), kEfiGlobalVariableGuid); !s) {
      return fail(s.error());
    }
    report->push_back("deleted " + boot_entry_name(n));
  }
  for (const std::string& file : files) {
    if (Status s = undo.delete_file(esp.mount_point + "/" + file); !s) return fail(s.error());
    report->push_back("deleted " + esp.mount_point + "/" + file);
  }
  if (!options.keep_config) {
    if (Status s = undo.delete_variable(kConfigVariableName, kVendorGuid); !s) return fail(s.error());
    if (stored->found) report->push_back(std::string("deleted the configuration (") + kConfigVariableName + ")");
  }
  if (Status s = undo.delete_variable(kInstallStateVariableName, kVendorGuid); !s) {
    return fail(s.error());
  }
  // Empty directories install left behind (EFI/hiberload); never EFI itself.
  const std::string dir = esp.mount_point + "/EFI/hiberload";
  if (rmdir(dir.c_str()) == 0) report->push_back("deleted " + dir + "/");
  return ok_status();
}

}  // namespace hl
