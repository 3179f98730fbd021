// hiberload: install, configure and inspect hiberload on a running Linux
// system, in the manner of bootctl (systemd-boot) and efibootmgr.
//
//   hiberload install [--esp PATH] [--kernel FILE] [--initrd FILE] [--cmdline TEXT] ...
//   hiberload status
//   hiberload config show | set KEY=VALUE... | unset KEY...
//   hiberload partition prepare DEVICE
//   hiberload discard
//   hiberload remove
//
// The work is in tools/lib (installer, efivars, boot_entries, block_devices,
// image_status); this file parses arguments and prints. docs/user-guide.md
// is the user's documentation.
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/format.h"
#include "common/gpt.h"
#include "tools/lib/block_devices.h"
#include "tools/lib/boot_entries.h"
#include "tools/lib/efivars.h"
#include "tools/lib/file_storage.h"
#include "tools/lib/gpt_writer.h"
#include "tools/lib/heap_allocator.h"
#include "tools/lib/image_status.h"
#include "tools/lib/installer.h"
#include "tools/lib/resume_inputs.h"

namespace {

using namespace hl;

const char kUsage[] =
    "usage: hiberload [--efivarfs DIR] COMMAND [options]\n"
    "\n"
    "Installs and configures hiberload, the firmware-side resume for Linux\n"
    "hibernation, and shows its state. Run as root.\n"
    "\n"
    "commands:\n"
    "  install               copy hiberload.efi to the ESP, create its Boot#### entry and put\n"
    "                        it first in BootOrder, write the configuration variable\n"
    "      --esp PATH        the ESP's mount point (default: found at /efi, /boot, /boot/efi)\n"
    "      --efi FILE        the hiberload.efi to install (default: next to this program)\n"
    "      --kernel FILE     the Linux kernel hiberload boots (copied to \\EFI\\hiberload\\vmlinuz\n"
    "                        unless it is on the ESP already; default /boot/vmlinuz-$(uname -r)\n"
    "                        if present, else the kernel the configuration names)\n"
    "      --initrd FILE     its initramfs (copied to \\EFI\\hiberload\\initrd.img); --no-initrd\n"
    "      --cmdline TEXT    the kernel command line (default: this kernel's /proc/cmdline on a\n"
    "                        first install)\n"
    "      --partition DEV|PARTUUID|auto   the hibernation partition\n"
    "      --scratch BASE+SIZE  --mode auto|direct|fallback|off  --timeout SECONDS\n"
    "      --set KEY=VALUE   any configuration key (docs/configuration.md)\n"
    "  remove [--esp PATH] [--keep-config]\n"
    "                        undo install: restore the BootOrder from before install, delete\n"
    "                        the boot entry, the files install created and the configuration\n"
    "  status [--esp PATH] [--disk FILE]...\n"
    "                        installed version, boot entry and its place in BootOrder, the\n"
    "                        configuration, and the hibernation partition's image\n"
    "  config show           print the configuration variable (or the defaults in effect)\n"
    "  config set KEY=VALUE...   validate every value, then write the variable\n"
    "  config unset KEY...   reset keys to their defaults\n"
    "  partition prepare DEVICE [--yes] [--force]\n"
    "                        give a GPT partition hiberload's partition type\n"
    "                        (182aad0a-d5e4-4b60-b136-a6c091f30d90); refuses one holding a\n"
    "                        file system unless --force\n"
    "  discard [--yes] [--disk FILE]...\n"
    "                        mark the image on the hibernation partition consumed: the next\n"
    "                        boot is a normal boot\n"
    "  version\n"
    "\n"
    "  --efivarfs DIR        EFI variables directory (default /sys/firmware/efi/efivars,\n"
    "                        or $HIBERLOAD_EFIVARFS)\n"
    "\n"
    "exit status: 0 done, 1 failed (nothing was changed), 2 usage error\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "hiberload: %s\n(see 'hiberload --help')\n", message.c_str());
  std::exit(2);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "hiberload: %s\n", message.c_str());
  return 1;
}
int fail(const Error& error) { return fail(std::string(error.reason())); }

struct Args {
  std::vector<std::string> items;
  size_t at = 0;
  bool empty() const { return at >= items.size(); }
  const std::string& peek() const { return items[at]; }
  std::string take() { return items[at++]; }
  // "--name VALUE" or "--name=VALUE".
  bool option(const char* name, std::string* value) {
    if (empty()) return false;
    const std::string& a = peek();
    const std::string prefix = std::string(name) + "=";
    if (a == name) {
      if (at + 1 >= items.size()) usage_error(std::string(name) + " needs a value");
      value->assign(items[at + 1]);
      at += 2;
      return true;
    }
    if (a.compare(0, prefix.size(), prefix) == 0) {
      value->assign(a.substr(prefix.size()));
      ++at;
      return true;
    }
    return false;
  }
  bool flag(const char* name) {
    if (!empty() && peek() == name) {
      ++at;
      return true;
    }
    return false;
  }
};

std::string g_efivarfs;

EfiVars make_vars() { return EfiVars(g_efivarfs.empty() ? EfiVars::default_dir() : g_efivarfs); }

int require_root(const char* command) {
  if (geteuid() != 0) {
    return fail(std::string("'hiberload ") + command +
                "' must be run as root (it changes EFI variables and the ESP)");
  }
  return 0;
}

std::string guid_text(const Guid& guid) {
  char text[37];
  guid_to_string(guid, text);
  return text;
}

std::string size_text(uint64_t bytes) {
  char text[32];
  format_size(text, sizeof text, bytes);
  return text;
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string self_dir() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  path[n] = '\0';
  std::string text = path;
  return text.substr(0, text.rfind('/'));
}

std::string default_loader() {
  const std::string dir = self_dir();
  for (const std::string& candidate :
       {dir + "/../hiberload.efi", dir + "/hiberload.efi", dir + "/../lib/hiberload/hiberload.efi",
        std::string("/usr/lib/hiberload/hiberload.efi")}) {
    if (exists(candidate)) return candidate;
  }
  return "";
}

// /proc/cmdline without what a boot loader adds for itself.
std::string running_cmdline() {
  auto text = read_text_file("/proc/cmdline");
  if (!text) return "";
  std::string out;
  size_t at = 0;
  const std::string& t = *text;
  while (at < t.size()) {
    while (at < t.size() && (t[at] == ' ' || t[at] == '\n')) ++at;
    size_t end = at;
    bool quoted = false;
    while (end < t.size() && (quoted || (t[end] != ' ' && t[end] != '\n'))) {
      if (t[end] == '"') quoted = !quoted;
      ++end;
    }
    const std::string word = t.substr(at, end - at);
    at = end;
    if (word.empty() || word.compare(0, 11, "BOOT_IMAGE=") == 0 ||
        word.compare(0, 7, "initrd=") == 0 || word.compare(0, 10, "hiberload.") == 0) {
      continue;
    }
    if (!out.empty()) out += " ";
    out += word;
  }
  return out;
}

// A --partition value: a block device becomes its PARTUUID.
Result<std::string> partition_setting(const std::string& value) {
  if (value.compare(0, 5, "/dev/") != 0) return value;
  auto info = partition_of_device(value);
  if (!info) return info.error();
  if (!(info->entry.type == kHibernationPartitionType)) {
    return Error::make("{} is not a hiberload hibernation partition (type {}): run 'hiberload "
                       "partition prepare {}' first",
                       value.c_str(), guid_text(info->entry.type).c_str(), value.c_str());
  }
  return guid_text(info->entry.unique);
}

// ---------------------------------------------------------------- the image
struct HibernationPartition {
  PartitionInfo info;
  std::string how;  // "by PARTUUID from the configuration" / "by type"
};

Result<HibernationPartition> find_hibernation_partition(const Config& config,
                                                        const std::vector<std::string>& disks_given) {
  const std::vector<std::string> disks = disks_given.empty() ? list_disks() : disks_given;
  std::string problems;
  for (const std::string& disk : disks) {
    auto partitions = gpt_partitions_of_disk(disk);
    if (!partitions) {
      if (!disks_given.empty()) problems += std::string("; ") + partitions.error().reason();
      continue;
    }
    for (const PartitionInfo& p : *partitions) {
      if (config.has_partition ? p.entry.unique == config.partition
                               : p.entry.type == kHibernationPartitionType) {
        return HibernationPartition{p, config.has_partition ? "by PARTUUID, from the configuration"
                                                            : "the first of hiberload's type"};
      }
    }
  }
  if (config.has_partition) {
    return Error::make("no partition with PARTUUID {} on {} disk(s){}",
                       guid_text(config.partition).c_str(), disks.size(), problems.c_str());
  }
  return Error::make("no partition of hiberload's type {} on {} disk(s){}: create one and run "
                     "'hiberload partition prepare DEVICE'",
                     guid_text(kHibernationPartitionType).c_str(), disks.size(), problems.c_str());
}

// Storage over the partition: the partition's device node when there is one,
// else a window of the disk (an image file).
struct OpenPartition {
  std::unique_ptr<FileStorage> file;
  std::unique_ptr<WindowStorage> window;
  Storage* storage = nullptr;
};

Result<bool> open_partition(const PartitionInfo& p, FileStorage::Mode mode, OpenPartition* out) {
  const std::string path = p.device.empty() ? p.disk : p.device;
  auto opened = FileStorage::open(path, mode);
  if (!opened) return opened.error();
  out->file.reset(*opened);
  out->storage = out->file.get();
  if (p.device.empty()) {
    if (!range_inside(p.offset_bytes(), p.size_bytes(), out->file->size())) {
      return Error::make("partition {} lies outside {}", p.number, p.disk.c_str());
    }
    out->window = std::make_unique<WindowStorage>(*out->file, p.offset_bytes(), p.size_bytes());
    out->storage = out->window.get();
  }
  return true;
}

std::string partition_text(const PartitionInfo& p) {
  return (p.device.empty() ? "" : p.device + " ") + "(partition " + std::to_string(p.number) +
         " of " + p.disk + ", " +
         size_text(p.size_bytes()) + ", PARTUUID " + guid_text(p.entry.unique) + ")";
}

bool confirm(const std::string& question, bool yes) {
  if (yes) return true;
  if (!isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "hiberload: %s\nhiberload: stdin is not a terminal: give --yes to confirm\n",
                 question.c_str());
    return false;
  }
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  char answer[16] = "";
  if (std::fgets(answer, sizeof answer, stdin) == nullptr) return false;
  return answer[0] == 'y' || answer[0] == 'Y';
}

// ---------------------------------------------------------------- commands
int cmd_install(Args& args) {
  std::string esp_path, efi, value;
  InstallOptions options;
  bool kernel_given = false;
  std::string cmdline;
  bool cmdline_given = false;
  while (!args.empty()) {
    if (args.option("--esp", &esp_path)) continue;
    if (args.option("--efi", &efi)) continue;
    if (args.option("--kernel", &options.kernel_source)) { kernel_given = true; continue; }
    if (args.option("--initrd", &options.initrd_source)) continue;
    if (args.flag("--no-initrd")) { options.no_initrd = true; continue; }
    if (args.option("--cmdline", &cmdline)) { cmdline_given = true; continue; }
    if (args.option("--partition", &value)) {
      auto setting = partition_setting(value);
      if (!setting) return fail(setting.error());
      options.settings.push_back("partition=" + *setting);
      continue;
    }
    if (args.option("--scratch", &value)) { options.settings.push_back("scratch=" + value); continue; }
    if (args.option("--mode", &value)) { options.settings.push_back("mode=" + value); continue; }
    if (args.option("--timeout", &value)) { options.settings.push_back("timeout=" + value); continue; }
    if (args.option("--set", &value)) { options.settings.push_back(value); continue; }
    usage_error("install: unknown argument '" + args.peek() + "'");
  }
  if (int rc = require_root("install")) return rc;
  EfiVars vars = make_vars();
  if (Status s = vars.check_writable(); !s) return fail(s.error());
  auto esp = find_esp(esp_path);
  if (!esp) return fail(esp.error());
  options.loader_source = efi.empty() ? default_loader() : efi;
  if (options.loader_source.empty()) {
    return fail("cannot find hiberload.efi next to this program or in /usr/lib/hiberload: give --efi FILE");
  }
  auto stored = read_stored_config(vars);
  if (!stored) return fail(stored.error());
  if (!kernel_given) {
    utsname u;
    if (uname(&u) == 0) {
      const std::string kernel = std::string("/boot/vmlinuz-") + u.release;
      const std::string initrd = std::string("/boot/initrd.img-") + u.release;
      if (exists(kernel)) {
        options.kernel_source = kernel;
        if (options.initrd_source.empty() && !options.no_initrd && exists(initrd)) {
          options.initrd_source = initrd;
        }
      }
    }
  }
  if (cmdline_given) {
    options.settings.insert(options.settings.begin(), "cmdline=" + cmdline);
  } else if (!stored->found || !stored->valid) {
    options.settings.insert(options.settings.begin(), "cmdline=" + running_cmdline());
  }
  Report report;
  Status done = install(vars, *esp, options, &report);
  for (const std::string& line : report) std::printf("%s\n", line.c_str());
  if (!done) return fail(done.error());
  std::printf("hiberload is installed on the ESP at %s and is the first boot entry.\n"
              "Check with 'hiberload status'.\n",
              esp->mount_point.c_str());
  return 0;
}

int cmd_remove(Args& args) {
  std::string esp_path;
  RemoveOptions options;
  while (!args.empty()) {
    if (args.option("--esp", &esp_path)) continue;
    if (args.flag("--keep-config")) { options.keep_config = true; continue; }
    usage_error("remove: unknown argument '" + args.peek() + "'");
  }
  if (int rc = require_root("remove")) return rc;
  EfiVars vars = make_vars();
  if (Status s = vars.check_writable(); !s) return fail(s.error());
  auto esp = find_esp(esp_path);
  if (!esp) return fail(esp.error());
  Report report;
  Status done = remove_installation(vars, *esp, options, &report);
  for (const std::string& line : report) std::printf("%s\n", line.c_str());
  if (!done) return fail(done.error());
  return 0;
}

std::string installed_version(const std::string& path) {
  // hiberload.efi carries "hiberload-version: VERSION REV" (efi/boot_menu.cpp).
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string bytes;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) bytes.append(buffer, static_cast<size_t>(n));
  close(fd);
  const std::string marker = "hiberload-version: ";
  const size_t at = bytes.find(marker);
  if (at == std::string::npos) return "unknown version";
  const size_t end = bytes.find('\0', at);
  return bytes.substr(at + marker.size(), end - at - marker.size());
}

std::string ordinal(size_t n) {
  const char* suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th"
                       : n % 10 == 1                   ? "st"
                       : n % 10 == 2                   ? "nd"
                       : n % 10 == 3                   ? "rd"
                                                       : "th";
  return std::to_string(n) + suffix;
}

void print_config_lines(const Config& config, const char* indent) {
  auto text = config_variable_bytes(config);
  if (!text) return;
  std::string s(text->begin(), text->end());
  size_t at = 0;
  while (at < s.size()) {
    size_t end = s.find('\n', at);
    if (end == std::string::npos) end = s.size();
    std::printf("%s%s\n", indent, s.substr(at, end - at).c_str());
    at = end + 1;
  }
}

int cmd_status(Args& args) {
  std::string esp_path, disk;
  std::vector<std::string> disks;
  while (!args.empty()) {
    if (args.option("--esp", &esp_path)) continue;
    if (args.option("--disk", &disk)) { disks.push_back(disk); continue; }
    usage_error("status: unknown argument '" + args.peek() + "'");
  }
  int problems = 0;
  EfiVars vars = make_vars();
  if (Status s = vars.check_present(); !s) return fail(s.error());

  std::printf("hiberload %s (%s)\n\n", HL_VERSION, HL_GIT_REV);
  std::printf("Installation:\n");
  auto esp = find_esp(esp_path);
  if (esp) {
    std::printf("          ESP: %s (%s, PARTUUID %s)\n", esp->mount_point.c_str(),
                esp->partition.device.c_str(), guid_text(esp->partition.entry.unique).c_str());
    const std::string loader = esp->mount_point + "/" + kEspLoaderPath;
    if (exists(loader)) {
      std::printf("    Installed: hiberload %s at %s\n", installed_version(loader).c_str(),
                  esp_path_to_firmware(kEspLoaderPath).c_str());
    } else {
      std::printf("    Installed: no (%s is missing): run 'hiberload install'\n",
                  esp_path_to_firmware(kEspLoaderPath).c_str());
    }
  } else {
    std::printf("          ESP: not found: %s\n", esp.error().reason());
    ++problems;
  }

  bool has_order = false;
  auto order = read_boot_order(vars, &has_order);
  auto entries = read_boot_entries(vars);
  if (!order || !entries) {
    std::printf("   Boot entry: cannot read: %s\n",
                (!order ? order.error() : entries.error()).reason());
    ++problems;
  } else {
    bool any = false;
    for (const BootEntry& e : *entries) {
      if (!is_hiberload_entry(e)) continue;
      any = true;
      size_t position = 0;
      for (size_t i = 0; i < order->size(); ++i) {
        if ((*order)[i] == e.number) position = i + 1;
      }
      std::printf("   Boot entry: %s \"%s\"%s %s\n", boot_variable_name(e.number).c_str(),
                  utf16_to_utf8(e.option.description).c_str(),
                  (e.option.attributes & kLoadOptionActive) ? "" : " (inactive)",
                  device_path_to_text(e.option.device_path).c_str());
      if (position == 0) {
        std::printf("     Position: not in BootOrder (%s): the firmware will not start it\n",
                    boot_order_text(*order).c_str());
      } else {
        std::printf("     Position: %s of %zu in BootOrder (%s)%s\n", ordinal(position).c_str(),
                    order->size(), boot_order_text(*order).c_str(),
                    position == 1 ? ", the default" : "");
      }
    }
    if (!any) {
      std::printf("   Boot entry: none (BootOrder %s): run 'hiberload install'\n",
                  boot_order_text(*order).c_str());
    }
    auto current = vars.read("BootCurrent", kEfiGlobalVariableGuid);
    if (current && current->found && current->data.size() == 2) {
      const uint16_t n = static_cast<uint16_t>(current->data[0] | (current->data[1] << 8));
      std::string what;
      for (const BootEntry& e : *entries) {
        if (e.number == n) what = " \"" + utf16_to_utf8(e.option.description) + "\"";
      }
      std::printf("  BootCurrent: %s%s (the entry this boot started from)\n",
                  boot_order_text({n}).c_str(), what.c_str());
    }
  }

  std::printf("\nConfiguration (EFI variable %s-%s):\n", kConfigVariableName,
              guid_text(kVendorGuid).c_str());
  Config config = default_config();
  auto stored = read_stored_config(vars);
  if (!stored) {
    std::printf("    cannot read: %s\n", stored.error().reason());
    ++problems;
  } else if (!stored->found) {
    std::printf("    not set: hiberload uses the defaults (run 'hiberload install' or 'hiberload config set'):\n");
    print_config_lines(config, "      ");
  } else if (!stored->valid) {
    std::printf("    MALFORMED: %s\n    hiberload ignores it and uses the defaults; fix it with "
                "'hiberload config set KEY=VALUE'\n",
                stored->error.c_str());
    ++problems;
  } else {
    config = stored->config;
    print_config_lines(config, "    ");
  }

  std::printf("\nHibernation partition:\n");
  auto partition = find_hibernation_partition(config, disks);
  if (!partition) {
    std::printf("    Partition: none: %s\n", partition.error().reason());
  } else {
    std::printf("    Partition: %s, %s\n", partition_text(partition->info).c_str(),
                partition->how.c_str());
    OpenPartition opened;
    auto ok = open_partition(partition->info, FileStorage::Mode::kReadOnly, &opened);
    if (!ok) {
      std::printf("        Image: cannot read the partition: %s\n", ok.error().reason());
      ++problems;
    } else {
      const ImageStatus image = image_status(*opened.storage);
      std::printf("        Image: %s\n", image.text.c_str());
      if (image.kind == ImageStatus::Kind::kValid) {
        std::printf("               the next boot resumes it (mode=%s)\n", resume_mode_name(config.mode));
      }
    }
  }
  return problems == 0 ? 0 : 1;
}

int cmd_config(Args& args) {
  if (args.empty()) usage_error("config: expected show, set or unset");
  const std::string what = args.take();
  EfiVars vars = make_vars();
  if (what == "show") {
    if (!args.empty()) usage_error("config show: unexpected argument '" + args.peek() + "'");
    if (Status s = vars.check_present(); !s) return fail(s.error());
    auto stored = read_stored_config(vars);
    if (!stored) return fail(stored.error());
    if (!stored->found) {
      std::printf("# %s is not set: these defaults are in effect\n", kConfigVariableName);
      print_config_lines(default_config(), "");
      return 0;
    }
    std::fwrite(stored->text.data(), 1, stored->text.size(), stdout);
    if (!stored->text.empty() && stored->text.back() != '\n') std::printf("\n");
    if (!stored->valid) {
      return fail("the configuration is malformed (" + stored->error +
                  "); hiberload uses the defaults until it is fixed");
    }
    return 0;
  }
  if (what != "set" && what != "unset") usage_error("config: expected show, set or unset, not '" + what + "'");
  std::vector<std::string> items;
  while (!args.empty()) items.push_back(args.take());
  if (items.empty()) usage_error("config " + what + ": expected " + (what == "set" ? "KEY=VALUE" : "KEY"));
  if (int rc = require_root(what == "set" ? "config set" : "config unset")) return rc;
  if (Status s = vars.check_writable(); !s) return fail(s.error());
  auto stored = read_stored_config(vars);
  if (!stored) return fail(stored.error());
  Config config = stored->config;
  if (stored->found && !stored->valid) {
    std::fprintf(stderr, "hiberload: the configuration was malformed (%s): starting from the defaults\n",
                 stored->error.c_str());
  }
  if (what == "set") {
    for (std::string& item : items) {
      if (item.compare(0, 10, "partition=") == 0) {
        auto setting = partition_setting(item.substr(10));
        if (!setting) return fail(setting.error());
        item = "partition=" + *setting;
      }
    }
    if (Status s = apply_settings(&config, items); !s) {
      return fail(s.error().with_context("nothing written"));
    }
  } else {
    for (const std::string& key : items) {
      if (Status s = unset_setting(&config, key); !s) return fail(s.error().with_context("nothing written"));
    }
  }
  if (Status s = write_config(vars, config); !s) return fail(s.error());
  print_config_lines(config, "");
  return 0;
}

int cmd_partition(Args& args) {
  if (args.empty() || args.take() != "prepare") usage_error("partition: expected 'prepare DEVICE'");
  bool yes = false, force = false;
  std::string device;
  while (!args.empty()) {
    if (args.flag("--yes") || args.flag("-y")) { yes = true; continue; }
    if (args.flag("--force")) { force = true; continue; }
    if (args.peek()[0] == '-') usage_error("partition prepare: unknown option '" + args.peek() + "'");
    if (!device.empty()) usage_error("partition prepare: expected one DEVICE");
    device = args.take();
  }
  if (device.empty()) usage_error("partition prepare: expected a DEVICE such as /dev/sda3");
  if (int rc = require_root("partition prepare")) return rc;
  auto info = partition_of_device(device);
  if (!info) return fail(info.error());
  if (info->entry.type == kHibernationPartitionType) {
    std::printf("%s is already a hiberload hibernation partition\n", partition_text(*info).c_str());
    return 0;
  }
  if (info->entry.type == kEspPartitionType) {
    return fail(device + " is the EFI system partition: refusing to change its type");
  }
  // Mounted? Never, even with --force.
  struct stat st;
  if (stat(device.c_str(), &st) == 0) {
    auto text = read_text_file("/proc/self/mountinfo");
    if (text) {
      for (const MountEntry& m : parse_mountinfo(*text)) {
        if (makedev(m.major, m.minor) == st.st_rdev) {
          return fail(device + " is mounted at " + m.mount_point + ": refusing");
        }
      }
    }
  }
  {
    auto opened = FileStorage::open(device, FileStorage::Mode::kReadOnly);
    if (!opened) return fail(opened.error());
    std::unique_ptr<FileStorage> part(*opened);
    std::vector<uint8_t> head(std::min<uint64_t>(kFilesystemProbeBytes, part->size()));
    if (Status s = part->read(0, head.data(), head.size()); !s) return fail(s.error());
    const std::string fs = detect_filesystem(head.data(), head.size());
    if (!fs.empty() && !force) {
      return fail(device + " holds a file system or data (" + fs +
                  "): refusing; hibernation would overwrite it. Use --force if it is unused");
    }
    if (!fs.empty()) std::fprintf(stderr, "hiberload: %s holds %s; --force given\n", device.c_str(), fs.c_str());
  }
  if (!confirm("Make " + partition_text(*info) + " hiberload's hibernation partition (type " +
                   guid_text(kHibernationPartitionType) + ")? Hibernating overwrites its contents.",
               yes)) {
    return fail("not confirmed: nothing changed");
  }
  auto disk = FileStorage::open(info->disk, FileStorage::Mode::kReadWrite);
  if (!disk) return fail(disk.error());
  std::unique_ptr<FileStorage> storage(*disk);
  HeapAllocator allocator;
  if (Status s = set_gpt_partition_type(*storage, allocator, info->number - 1, kHibernationPartitionType);
      !s) {
    return fail(s.error().with_context("changing the type of {}", device.c_str()));
  }
  std::printf("%s now has hiberload's partition type %s\n", device.c_str(),
              guid_text(kHibernationPartitionType).c_str());
  std::printf("configure it with: hiberload config set partition=%s\n",
              guid_text(info->entry.unique).c_str());
  return 0;
}

int cmd_discard(Args& args) {
  bool yes = false;
  std::vector<std::string> disks;
  std::string disk;
  while (!args.empty()) {
    if (args.flag("--yes") || args.flag("-y")) { yes = true; continue; }
    if (args.option("--disk", &disk)) { disks.push_back(disk); continue; }
    usage_error("discard: unknown argument '" + args.peek() + "'");
  }
  if (int rc = require_root("discard")) return rc;
  EfiVars vars = make_vars();
  Config config = default_config();
  if (vars.check_present()) {
    auto stored = read_stored_config(vars);
    if (stored && stored->valid) config = stored->config;
  }
  auto partition = find_hibernation_partition(config, disks);
  if (!partition) return fail(partition.error());
  OpenPartition opened;
  auto ok = open_partition(partition->info, FileStorage::Mode::kReadWrite, &opened);
  if (!ok) return fail(ok.error());
  const ImageStatus image = image_status(*opened.storage);
  if (image.kind != ImageStatus::Kind::kValid) {
    std::printf("nothing to discard on %s: %s\n", partition_text(partition->info).c_str(), image.text.c_str());
    return 0;
  }
  if (!confirm("Discard the " + image.text + "? The hibernated system's unsaved work is lost.", yes)) {
    return fail("not confirmed: nothing changed");
  }
  if (Status s = discard_image(*opened.storage); !s) return fail(s.error());
  std::printf("discarded: the image is marked consumed; the next boot is a normal boot\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) args.items.push_back(argv[i]);
  while (!args.empty() && args.peek()[0] == '-') {
    if (args.flag("-h") || args.flag("--help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.flag("--version")) {
      std::printf("hiberload %s (%s)\n", HL_VERSION, HL_GIT_REV);
      return 0;
    }
    if (args.option("--efivarfs", &g_efivarfs)) continue;
    usage_error("unknown option '" + args.peek() + "'");
  }
  if (args.empty()) usage_error("expected a command: install, remove, status, config, partition, discard");
  const std::string command = args.take();
  // Global options may also follow the command.
  std::vector<std::string> rest;
  while (!args.empty()) {
    std::string value;
    if (args.option("--efivarfs", &g_efivarfs)) continue;
    rest.push_back(args.take());
  }
  Args sub;
  sub.items = rest;
  if (command == "install") return cmd_install(sub);
  if (command == "remove") return cmd_remove(sub);
  if (command == "status") return cmd_status(sub);
  if (command == "config") return cmd_config(sub);
  if (command == "partition") return cmd_partition(sub);
  if (command == "discard") return cmd_discard(sub);
  if (command == "version") {
    std::printf("hiberload %s (%s)\n", HL_VERSION, HL_GIT_REV);
    return 0;
  }
  if (command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  usage_error("unknown command '" + command + "'");
}
