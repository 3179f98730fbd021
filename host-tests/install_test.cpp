// hiberload's Linux command: boot entries, BootOrder, efivarfs files, the
// configuration editing, and install/remove against a fake efivarfs
// directory and a temporary ESP directory.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/config.h"
#include "tools/lib/block_devices.h"
#include "tools/lib/boot_entries.h"
#include "tools/lib/efivars.h"
#include "tools/lib/installer.h"

namespace {

using hl::Guid;

// 0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9
constexpr Guid kEspPartuuid = {0x0a1b2c3d, 0x4e5f, 0x6071, {0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9}};

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/hl-install-test.XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { (void)!system(("rm -rf '" + path + "'").c_str()); }
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::vector<uint8_t> bytes(std::initializer_list<int> list) {
  std::vector<uint8_t> out;
  for (int b : list) out.push_back(static_cast<uint8_t>(b));
  return out;
}

hl::Esp fake_esp(const std::string& dir) {
  hl::Esp esp;
  esp.mount_point = dir;
  esp.partition.device = "/dev/vda1";
  esp.partition.disk = "/dev/vda";
  esp.partition.number = 1;
  esp.partition.entry.type = hl::kEspPartitionType;
  esp.partition.entry.unique = kEspPartuuid;
  esp.partition.entry.first_lba = 0x800;
  esp.partition.entry.last_lba = 0x800 + 0x1f800 - 1;
  return esp;
}

// A Boot#### of another OS, as efibootmgr would have made it.
void add_entry(hl::EfiVars& vars, uint16_t number, const std::string& description,
               const std::string& file) {
  hl::HardDrivePartition hd{1, 0x800, 0x1f800, kEspPartuuid};
  hl::LoadOption option;
  option.attributes = hl::kLoadOptionActive;
  option.description = hl::utf8_to_utf16(description);
  option.device_path = hl::hard_drive_file_path(hd, file);
  REQUIRE(vars.write(hl::boot_variable_name(number), hl::kEfiGlobalVariableGuid, 7,
                     hl::encode_load_option(option)));
}

std::vector<uint16_t> boot_order(hl::EfiVars& vars) {
  bool found = false;
  auto order = hl::read_boot_order(vars, &found);
  REQUIRE(order.ok());
  return *order;
}

}  // namespace

TEST_CASE("a load option encodes to the bytes efibootmgr writes") {
  hl::LoadOption option;
  option.attributes = hl::kLoadOptionActive;
  option.description = u"hl";
  option.device_path = hl::hard_drive_file_path({1, 0x800, 0x1f800, kEspPartuuid}, "\\A");
  const std::vector<uint8_t> expected = bytes({
      0x01, 0x00, 0x00, 0x00,  // Attributes: LOAD_OPTION_ACTIVE
      0x38, 0x00,              // FilePathListLength: 42 + 10 + 4 = 56
      'h', 0, 'l', 0, 0, 0,    // Description, UTF-16, NUL-terminated
      // HD: media (4), hard drive (1), length 42
      0x04, 0x01, 0x2a, 0x00,
      0x01, 0x00, 0x00, 0x00,                          // partition number 1
      0x00, 0x08, 0, 0, 0, 0, 0, 0,                    // start LBA 0x800
      0x00, 0xf8, 0x01, 0, 0, 0, 0, 0,                 // size 0x1f800 blocks
      0x3d, 0x2c, 0x1b, 0x0a, 0x5f, 0x4e, 0x71, 0x60,  // GUID, mixed-endian
      0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9,
      0x02, 0x02,  // MBR type GPT, signature type GUID
      // File path: media (4), file (4), length 4 + 2 * 3
      0x04, 0x04, 0x0a, 0x00, '\\', 0, 'A', 0, 0, 0,
      // End of the device path
      0x7f, 0xff, 0x04, 0x00,
  });
  CHECK(hl::encode_load_option(option) == expected);

  auto decoded = hl::decode_load_option(expected);
  REQUIRE(decoded.ok());
  CHECK(decoded->attributes == 1);
  CHECK(decoded->description == u"hl");
  CHECK(decoded->device_path == option.device_path);
  CHECK(decoded->optional_data.empty());
  CHECK(hl::device_path_to_text(decoded->device_path) ==
        "HD(1,GPT,0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9,0x800,0x1f800)/File(\\A)");
  CHECK(hl::device_path_file(decoded->device_path) == "\\A");
  hl::HardDrivePartition hd;
  REQUIRE(hl::device_path_partition(decoded->device_path, &hd));
  CHECK(hd.number == 1);
  CHECK(hd.start_lba == 0x800);
  CHECK(hd.size_lba == 0x1f800);
  CHECK(hd.partuuid == kEspPartuuid);
}

TEST_CASE("malformed load options are refused") {
  CHECK_FALSE(hl::decode_load_option(bytes({1, 0, 0, 0, 4})).ok());
  // Unterminated description.
  CHECK_FALSE(hl::decode_load_option(bytes({1, 0, 0, 0, 0, 0, 'a', 0})).ok());
  // Device path longer than the variable.
  CHECK_FALSE(hl::decode_load_option(bytes({1, 0, 0, 0, 0x40, 0, 0, 0, 0x7f, 0xff, 4, 0})).ok());
  // Optional data after the path is kept.
  auto with_data = hl::decode_load_option(bytes({1, 0, 0, 0, 4, 0, 0, 0, 0x7f, 0xff, 4, 0, 'x'}));
  REQUIRE(with_data.ok());
  CHECK(with_data->optional_data == bytes({'x'}));
}

TEST_CASE("Boot#### names and BootOrder editing follow efibootmgr") {
  uint16_t n = 0;
  CHECK(hl::boot_variable_name(0x1a) == "Boot001A");
  CHECK(hl::parse_boot_variable_name("Boot001A", &n));
  CHECK(n == 0x1a);
  CHECK_FALSE(hl::parse_boot_variable_name("BootOrder", &n));
  CHECK_FALSE(hl::parse_boot_variable_name("Boot001a", &n));
  CHECK_FALSE(hl::parse_boot_variable_name("Boot00001", &n));

  const std::vector<uint16_t> order{1, 2, 3};
  CHECK(hl::boot_order_put_first(order, 4) == std::vector<uint16_t>{4, 1, 2, 3});
  CHECK(hl::boot_order_put_first(order, 2) == std::vector<uint16_t>{2, 1, 3});
  CHECK(hl::boot_order_without(order, 2) == std::vector<uint16_t>{1, 3});
  CHECK(hl::boot_order_text({4, 1, 0x1f}) == "0004,0001,001F");
  CHECK(hl::boot_order_text({}) == "(empty)");
  std::vector<uint16_t> parsed;
  CHECK(hl::parse_boot_order_text("0004,0001,001F", &parsed));
  CHECK(parsed == std::vector<uint16_t>{4, 1, 0x1f});
  CHECK_FALSE(hl::parse_boot_order_text("4,1", &parsed));
  CHECK(hl::encode_boot_order({4, 0x0102}) == bytes({4, 0, 2, 1}));
  CHECK(*hl::decode_boot_order(bytes({4, 0, 2, 1})) == std::vector<uint16_t>{4, 0x0102});
  CHECK_FALSE(hl::decode_boot_order(bytes({4, 0, 2})).ok());

  // restore: the saved order, minus what disappeared, plus what was added since.
  CHECK(hl::boot_order_restore({1, 2, 3}, {4, 1, 2, 3}, 4, {1, 2, 3}) == std::vector<uint16_t>{1, 2, 3});
  CHECK(hl::boot_order_restore({1, 2, 3}, {4, 5, 1, 3}, 4, {1, 3, 5}) == std::vector<uint16_t>{1, 3, 5});

  uint16_t free_number = 0;
  CHECK(hl::first_free_boot_number({0, 1, 3}, &free_number));
  CHECK(free_number == 2);
}

TEST_CASE("efivarfs files carry the attributes before the data") {
  TempDir dir;
  hl::EfiVars vars(dir.path);
  REQUIRE(vars.check_present());
  REQUIRE(vars.write("Test", hl::kVendorGuid, 7, bytes({'a', 'b'})));
  CHECK(read_file(dir.path + "/Test-7046435b-270f-4f8c-b50c-ec76266272b9") ==
        std::string("\x07\x00\x00\x00" "ab", 6));
  auto read = vars.read("Test", hl::kVendorGuid);
  REQUIRE(read.ok());
  CHECK(read->found);
  CHECK(read->attributes == 7);
  CHECK(read->data == bytes({'a', 'b'}));
  // Rewriting a shorter value replaces the whole variable.
  REQUIRE(vars.write("Test", hl::kVendorGuid, 7, bytes({'c'})));
  CHECK(vars.read("Test", hl::kVendorGuid)->data == bytes({'c'}));
  CHECK(*vars.list(hl::kVendorGuid) == std::vector<std::string>{"Test"});
  // Too large: refused before anything is written.
  auto too_large = vars.write("Test", hl::kVendorGuid, 7, std::vector<uint8_t>(5000), 4096);
  REQUIRE_FALSE(too_large.ok());
  CHECK(std::string(too_large.error().reason()).find("more than the 4096 allowed") != std::string::npos);
  CHECK(vars.read("Test", hl::kVendorGuid)->data == bytes({'c'}));
  REQUIRE(vars.remove("Test", hl::kVendorGuid));
  CHECK_FALSE(vars.read("Test", hl::kVendorGuid)->found);
  CHECK(vars.remove("Test", hl::kVendorGuid));  // Absent is fine.
  CHECK_FALSE(hl::EfiVars(dir.path + "/missing").check_present().ok());
}

TEST_CASE("config set validates every value before anything is written") {
  hl::Config config = hl::default_config();
  REQUIRE(hl::apply_settings(&config, {"mode=direct", "timeout=5", "cmdline=root=/dev/vda3 quiet"}));
  CHECK(config.mode == hl::ResumeMode::kDirectOnly);
  CHECK(config.timeout_seconds == 5);
  CHECK(std::string(config.cmdline) == "root=/dev/vda3 quiet");

  auto bad = hl::apply_settings(&config, {"timeout=601"});
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.error().reason()).find("timeout") != std::string::npos);
  CHECK_FALSE(hl::apply_settings(&config, {"nokey"}).ok());
  CHECK_FALSE(hl::apply_settings(&config, {"kernel=/boot/vmlinuz"}).ok());
  CHECK_FALSE(hl::apply_settings(&config, {"colour=blue"}).ok());
  CHECK_FALSE(hl::apply_settings(&config, {"cmdline=a\nb"}).ok());

  REQUIRE(hl::unset_setting(&config, "mode"));
  CHECK(config.mode == hl::ResumeMode::kAuto);
  REQUIRE(hl::unset_setting(&config, "cmdline"));
  CHECK(config.cmdline[0] == '\0');
  CHECK_FALSE(hl::unset_setting(&config, "colour").ok());

  auto variable = hl::config_variable_bytes(config);
  REQUIRE(variable.ok());
  const std::string text(variable->begin(), variable->end());
  CHECK(text.find("timeout=5\n") != std::string::npos);
  CHECK(hl::parse_config(text.data(), text.size()).ok());
}

TEST_CASE("the install state variable round-trips") {
  hl::InstallState state;
  state.has_boot_entry = true;
  state.boot_entry = 4;
  state.had_boot_order = true;
  state.previous_boot_order = {1, 2};
  state.files = {"EFI/hiberload/hiberload.efi"};
  const std::string text = hl::encode_install_state(state);
  CHECK(text == "boot-entry=0004\nprevious-boot-order=0001,0002\nfile=EFI/hiberload/hiberload.efi\n");
  auto decoded = hl::decode_install_state(text);
  REQUIRE(decoded.ok());
  CHECK(decoded->boot_entry == 4);
  CHECK(decoded->previous_boot_order == std::vector<uint16_t>{1, 2});
  CHECK(decoded->files == state.files);
  CHECK_FALSE(hl::decode_install_state("file=../etc/passwd\n").ok());
  CHECK_FALSE(hl::decode_install_state("boot-entry=4\n").ok());
}

TEST_CASE("install puts hiberload first, keeps the other entries; remove restores BootOrder") {
  TempDir vars_dir, esp_dir, host_dir;
  hl::EfiVars vars(vars_dir.path);
  add_entry(vars, 0, "UiApp", "\\EFI\\ui.efi");
  add_entry(vars, 1, "debian", "\\EFI\\debian\\shimx64.efi");
  REQUIRE(vars.write("BootOrder", hl::kEfiGlobalVariableGuid, 7, hl::encode_boot_order({1, 0})));
  write_file(host_dir.path + "/hiberload.efi", "MZ hiberload");
  write_file(host_dir.path + "/vmlinuz", "MZ kernel");
  write_file(host_dir.path + "/initrd.img", "initrd");

  hl::InstallOptions options;
  options.loader_source = host_dir.path + "/hiberload.efi";
  options.kernel_source = host_dir.path + "/vmlinuz";
  options.initrd_source = host_dir.path + "/initrd.img";
  options.settings = {"cmdline=console=ttyS0 root=/dev/vda3", "timeout=3"};
  hl::Report report;
  REQUIRE(hl::install(vars, fake_esp(esp_dir.path), options, &report));

  CHECK(boot_order(vars) == std::vector<uint16_t>{2, 1, 0});
  auto entry = vars.read("Boot0002", hl::kEfiGlobalVariableGuid);
  REQUIRE(entry->found);
  auto option = hl::decode_load_option(entry->data);
  REQUIRE(option.ok());
  CHECK(option->description == u"hiberload");
  CHECK(hl::device_path_to_text(option->device_path) ==
        "HD(1,GPT,0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9,0x800,0x1f800)/File(\\EFI\\hiberload\\hiberload.efi)");
  CHECK(read_file(esp_dir.path + "/EFI/hiberload/hiberload.efi") == "MZ hiberload");
  CHECK(read_file(esp_dir.path + "/EFI/hiberload/vmlinuz") == "MZ kernel");
  CHECK(read_file(esp_dir.path + "/EFI/hiberload/initrd.img") == "initrd");
  auto stored = hl::read_stored_config(vars);
  REQUIRE(stored.ok());
  REQUIRE(stored->found);
  REQUIRE(stored->valid);
  CHECK(std::string(stored->config.cmdline) == "console=ttyS0 root=/dev/vda3");
  CHECK(std::string(stored->config.kernel) == "\\EFI\\hiberload\\vmlinuz");
  CHECK(stored->config.timeout_seconds == 3);

  // Installing again changes the entry in place: no second Boot####, the
  // saved BootOrder is still the one from before the first install, and the
  // configuration keeps what is not given again.
  options.settings = {"mode=direct"};
  REQUIRE(hl::install(vars, fake_esp(esp_dir.path), options, &report));
  CHECK(boot_order(vars) == std::vector<uint16_t>{2, 1, 0});
  CHECK_FALSE(vars.read("Boot0003", hl::kEfiGlobalVariableGuid)->found);
  auto again = hl::read_stored_config(vars);
  CHECK(again->config.timeout_seconds == 3);
  CHECK(again->config.mode == hl::ResumeMode::kDirectOnly);

  // Someone moved another entry first meanwhile; remove still restores.
  REQUIRE(vars.write("BootOrder", hl::kEfiGlobalVariableGuid, 7, hl::encode_boot_order({0, 2, 1})));
  REQUIRE(hl::remove_installation(vars, fake_esp(esp_dir.path), {}, &report));
  CHECK(boot_order(vars) == std::vector<uint16_t>{1, 0});
  CHECK_FALSE(vars.read("Boot0002", hl::kEfiGlobalVariableGuid)->found);
  CHECK(vars.read("Boot0001", hl::kEfiGlobalVariableGuid)->found);
  CHECK_FALSE(vars.read(hl::kConfigVariableName, hl::kVendorGuid)->found);
  CHECK_FALSE(vars.read(hl::kInstallStateVariableName, hl::kVendorGuid)->found);
  CHECK_FALSE(exists(esp_dir.path + "/EFI/hiberload"));
}

TEST_CASE("a kernel already on the ESP is referenced, not copied") {
  TempDir vars_dir, esp_dir, host_dir;
  hl::EfiVars vars(vars_dir.path);
  write_file(host_dir.path + "/hiberload.efi", "MZ");
  mkdir((esp_dir.path + "/EFI").c_str(), 0755);
  mkdir((esp_dir.path + "/EFI/Linux").c_str(), 0755);
  write_file(esp_dir.path + "/EFI/Linux/linux.efi", "MZ kernel");
  hl::InstallOptions options;
  options.loader_source = host_dir.path + "/hiberload.efi";
  options.kernel_source = esp_dir.path + "/EFI/Linux/linux.efi";
  options.no_initrd = true;
  hl::Report report;
  REQUIRE(hl::install(vars, fake_esp(esp_dir.path), options, &report));
  auto stored = hl::read_stored_config(vars);
  CHECK(std::string(stored->config.kernel) == "\\EFI\\Linux\\linux.efi");
  CHECK(stored->config.initrd[0] == '\0');
  CHECK_FALSE(exists(esp_dir.path + "/EFI/hiberload/vmlinuz"));
  // No BootOrder before: remove leaves none.
  REQUIRE(hl::remove_installation(vars, fake_esp(esp_dir.path), {}, &report));
  CHECK_FALSE(vars.read("BootOrder", hl::kEfiGlobalVariableGuid)->found);
  CHECK(exists(esp_dir.path + "/EFI/Linux/linux.efi"));  // Not ours: kept.
}

TEST_CASE("a failed install changes nothing") {
  TempDir vars_dir, esp_dir, host_dir;
  hl::EfiVars vars(vars_dir.path);
  add_entry(vars, 0, "debian", "\\EFI\\debian\\shimx64.efi");
  REQUIRE(vars.write("BootOrder", hl::kEfiGlobalVariableGuid, 7, hl::encode_boot_order({0})));
  write_file(host_dir.path + "/hiberload.efi", "MZ");
  write_file(host_dir.path + "/vmlinuz", "MZ kernel");
  hl::InstallOptions options;
  options.loader_source = host_dir.path + "/hiberload.efi";
  options.kernel_source = host_dir.path + "/vmlinuz";
  options.no_initrd = true;
  hl::Report report;

  SECTION("an invalid setting: refused before any write") {
    options.settings = {"scratch=0x1001+1M"};
    auto result = hl::install(vars, fake_esp(esp_dir.path), options, &report);
    REQUIRE_FALSE(result.ok());
    CHECK(std::string(result.error().reason()).find("scratch") != std::string::npos);
  }
  SECTION("the last write (the configuration) fails: everything is undone") {
    // A dangling symbolic link: reads as absent, cannot be created.
    REQUIRE(symlink("/nonexistent/dir/x",
                    (vars_dir.path + "/HiberloadConfig-7046435b-270f-4f8c-b50c-ec76266272b9").c_str()) == 0);
    auto result = hl::install(vars, fake_esp(esp_dir.path), options, &report);
    REQUIRE_FALSE(result.ok());
    CHECK(std::string(result.error().reason()).find("nothing was changed") != std::string::npos);
  }
  CHECK(boot_order(vars) == std::vector<uint16_t>{0});
  CHECK_FALSE(vars.read("Boot0001", hl::kEfiGlobalVariableGuid)->found);
  CHECK_FALSE(vars.read(hl::kInstallStateVariableName, hl::kVendorGuid)->found);
  CHECK_FALSE(exists(esp_dir.path + "/EFI/hiberload/hiberload.efi"));
  CHECK_FALSE(exists(esp_dir.path + "/EFI/hiberload/vmlinuz"));
}

TEST_CASE("mountinfo lines are parsed with escapes") {
  const std::string text =
      "36 35 98:0 /mnt1 /mnt/my\\040esp rw,noatime master:1 - vfat /dev/vda1 rw,fmask=0022\n"
      "37 35 8:2 / / ro,relatime - ext4 /dev/sda2 rw\n";
  auto mounts = hl::parse_mountinfo(text);
  REQUIRE(mounts.size() == 2);
  CHECK(mounts[0].major == 98);
  CHECK(mounts[0].minor == 0);
  CHECK(mounts[0].mount_point == "/mnt/my esp");
  CHECK(mounts[0].fs_type == "vfat");
  CHECK(mounts[0].source == "/dev/vda1");
  CHECK_FALSE(mounts[0].read_only);
  CHECK(mounts[1].read_only);
}

TEST_CASE("file systems are recognised so that prepare refuses them") {
  std::vector<uint8_t> block(hl::kFilesystemProbeBytes, 0);
  CHECK(hl::detect_filesystem(block.data(), block.size()) == "");
  block[0x438] = 0x53;
  block[0x439] = 0xef;
  CHECK(hl::detect_filesystem(block.data(), block.size()) == "ext2/3/4");
  std::fill(block.begin(), block.end(), 0);
  memcpy(&block[4086], "SWAPSPACE2", 10);
  CHECK(hl::detect_filesystem(block.data(), block.size()) == "swap");
  std::fill(block.begin(), block.end(), 0);
  memcpy(&block[0x52], "FAT32", 5);
  block[0x1fe] = 0x55;
  block[0x1ff] = 0xaa;
  CHECK(hl::detect_filesystem(block.data(), block.size()) == "vfat");
  std::fill(block.begin(), block.end(), 0);
  memcpy(&block[0], "HLCOMMIT", 8);  // An old hiberload image: fine.
  CHECK(hl::detect_filesystem(block.data(), block.size()) == "");
}
