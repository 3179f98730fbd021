// hiberload-save's inputs: ELF cores with the defects real ones have, the
// memory and runtime maps, the jump back entry, and range arguments.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "host-tests/image_test_util.h"
#include "tools/lib/elf_core.h"
#include "tools/lib/gpt_writer.h"
#include "tools/lib/partition_check.h"
#include "tools/lib/resume_inputs.h"

using hl::test::build_core;
using hl::test::PageKind;

namespace {

struct OpenedCore {
  std::vector<uint8_t> bytes;
  std::unique_ptr<hl::MemoryStorage> file;
  std::unique_ptr<hl::ElfCore> core;
  std::vector<std::string> notes;
  std::string error;
};

std::unique_ptr<OpenedCore> open_core(std::vector<uint8_t> bytes,
                                      const std::vector<hl::PhysicalRange>& excludes = {}) {
  auto opened = std::make_unique<OpenedCore>();
  opened->bytes = std::move(bytes);
  opened->file = std::make_unique<hl::MemoryStorage>(opened->bytes.data(), opened->bytes.size(), false);
  auto core = hl::ElfCore::open(*opened->file, excludes, &opened->notes);
  if (core) opened->core = std::move(*core);
  else opened->error = core.error().reason();
  return opened;
}

std::string temp_file(const std::string& content) {
  char path[] = "/tmp/hiberload-test-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

}  // namespace

TEST_CASE("ELF core: p_memsz beyond p_filesz reads as zeros") {
  std::vector<uint8_t> bytes = hl::test::pages({PageKind::kRandom}, 1);
  auto c = open_core(build_core({{0x10000, bytes, 0x3000, {}}}));
  REQUIRE(c->core);
  REQUIRE(c->core->ranges().size() == 1);
  CHECK(c->core->ranges()[0] == hl::PhysicalRange{0x10000, 0x3000});
  std::vector<uint8_t> all(0x3000, 0xff);
  REQUIRE(c->core->read(0x10000, all.data(), all.size()).ok());
  CHECK(std::equal(bytes.begin(), bytes.end(), all.begin()));
  CHECK(std::all_of(all.begin() + 0x1000, all.end(), [](uint8_t b) { return b == 0; }));
  std::vector<uint8_t> outside(16);
  CHECK_FALSE(c->core->read(0x13000, outside.data(), outside.size()).ok());
}

TEST_CASE("ELF core: touching PT_LOADs merge, a contained duplicate is dropped") {
  std::vector<uint8_t> a = hl::test::pages({PageKind::kText, PageKind::kRandom}, 1);
  std::vector<uint8_t> b = hl::test::pages({PageKind::kRandom}, 2);
  // The kernel-text duplicate: same memory again, other file bytes.
  std::vector<uint8_t> dup = hl::test::pages({PageKind::kZero}, 3);
  auto c = open_core(build_core({{0x100000, a, a.size(), {}},
                                 {0x102000, b, b.size(), {}},
                                 {0x101000, dup, dup.size(), {}}}));
  REQUIRE(c->core);
  CHECK(c->core->ranges() == std::vector<hl::PhysicalRange>{{0x100000, 0x3000}});
  REQUIRE(c->notes.size() == 1);
  CHECK(c->notes[0].find("dropped PT_LOAD 0x101000+0x1000") != std::string::npos);
  std::vector<uint8_t> page(0x1000);
  REQUIRE(c->core->read(0x101000, page.data(), page.size()).ok());
  CHECK(std::equal(page.begin(), page.end(), a.begin() + 0x1000));
}

TEST_CASE("ELF core: refused inputs say why") {
  std::vector<uint8_t> a = hl::test::pages({PageKind::kText, PageKind::kRandom}, 1);
  auto partial = open_core(build_core({{0x100000, a, a.size(), {}}, {0x101000, a, a.size(), {}}}));
  CHECK(partial->error.find("partly overlap") != std::string::npos);

  // kexec-tools' low-RAM PT_LOAD with p_offset 0.
  std::vector<uint8_t> one = hl::test::pages({PageKind::kText}, 1);
  auto low = open_core(build_core({{0x1000, one, one.size(), uint64_t{0}}}));
  CHECK(low->error.find("overlaps the ELF headers") != std::string::npos);
  CHECK(low->error.find("--exclude 0x1000+0x1000") != std::string::npos);

  auto past = open_core(build_core({{0x1000, a, a.size(), uint64_t{1} << 40}}));
  CHECK(past->error.find("ends past the file") != std::string::npos);

  std::vector<uint8_t> not_elf(4096, 'x');
  CHECK(open_core(not_elf)->error == "not an ELF file");
  std::vector<uint8_t> elf32 = build_core({{0x1000, a, a.size(), {}}});
  elf32[EI_CLASS] = ELFCLASS32;
  CHECK(open_core(elf32)->error.find("ELF64") != std::string::npos);
  std::vector<uint8_t> shared = build_core({{0x1000, a, a.size(), {}}}, ET_DYN);
  CHECK(open_core(shared)->error.find("neither ET_CORE nor ET_EXEC") != std::string::npos);
  std::vector<uint8_t> bad_sizes = build_core({{0x1000, a, 0x1000, {}}});
  CHECK(open_core(bad_sizes)->error.find("invalid sizes") != std::string::npos);
}

TEST_CASE("ELF core: --exclude cuts ranges and keeps file offsets right") {
  std::vector<uint8_t> a = hl::test::pages({PageKind::kRandom, PageKind::kText, PageKind::kRandom,
                                            PageKind::kText}, 5);
  auto c = open_core(build_core({{0x100000, a, a.size() + 0x2000, {}}}),
                     {{0x101000, 0x1000}, {0x104000, 0x1000}});
  REQUIRE(c->core);
  CHECK(c->core->ranges() ==
        std::vector<hl::PhysicalRange>{{0x100000, 0x1000}, {0x102000, 0x2000}, {0x105000, 0x1000}});
  std::vector<uint8_t> page(0x2000);
  REQUIRE(c->core->read(0x102000, page.data(), page.size()).ok());
  CHECK(std::equal(page.begin(), page.end(), a.begin() + 0x2000));
  REQUIRE(c->core->read(0x105000, page.data(), 0x1000).ok());
  CHECK(std::all_of(page.begin(), page.begin() + 0x1000, [](uint8_t b) { return b == 0; }));

  auto everything = open_core(build_core({{0x100000, a, a.size(), {}}}), {{0, 0x200000}});
  CHECK(everything->error.find("no memory left") != std::string::npos);
}

TEST_CASE("range arguments") {
  auto r = hl::parse_physical_range("0x100000+288M");
  REQUIRE(r.ok());
  CHECK(r->base == 0x100000);
  CHECK(r->size == 288ull << 20);
  CHECK(hl::parse_physical_range("4096+0x1000").ok());
  CHECK_FALSE(hl::parse_physical_range("0x1000").ok());
  CHECK_FALSE(hl::parse_physical_range("0x1000+0").ok());
  CHECK_FALSE(hl::parse_physical_range("0xffffffffffffff00+1M").ok());
  CHECK_FALSE(hl::parse_physical_range("x+1").ok());
}

TEST_CASE("memory map from a file: parsed, sorted and merged") {
  const std::string path = temp_file(
      "# start end type\n"
      "0x100000 0x7fffffff System RAM\n"
      "0x0 0x9efff System RAM\n"
      "0x9f000 0x9ffff Reserved\n"
      "0x80000000 0x8fffffff System RAM\n"
      "0xfee00000 0xfee00fff 2\n");
  auto map = hl::read_memory_map(path);
  unlink(path.c_str());
  REQUIRE(map.ok());
  REQUIRE(map->size() == 4);
  CHECK((*map)[0].base == 0);
  CHECK((*map)[1].type == 2);
  CHECK((*map)[2].base == 0x100000);
  CHECK((*map)[2].size == 0x8ff00000);  // Two touching RAM ranges merged.
  CHECK((*map)[3].type == 2);

  const std::string bad = temp_file("0x1000 0x0fff System RAM\n");
  CHECK_FALSE(hl::read_memory_map(bad).ok());
  unlink(bad.c_str());
  const std::string overlap = temp_file("0x0 0x1fff System RAM\n0x1000 0x2fff Reserved\n");
  auto o = hl::read_memory_map(overlap);
  unlink(overlap.c_str());
  REQUIRE_FALSE(o.ok());
  CHECK(std::string(o.error().reason()).find("overlap") != std::string::npos);
}

TEST_CASE("memory map and runtime map from sysfs-style directories") {
  char dir[] = "/tmp/hiberload-sysfs-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string root = dir;
  auto put = [](const std::string& path, const std::string& text) { std::ofstream(path) << text; };
  for (int n : {0, 1, 10}) {
    const std::string d = root + "/" + std::to_string(n);
    REQUIRE(mkdir(d.c_str(), 0755) == 0);
    put(d + "/start", n == 0 ? "0x0\n" : n == 1 ? "0x100000\n" : "0x9f000\n");
    put(d + "/end", n == 0 ? "0x9efff\n" : n == 1 ? "0x1fffffff\n" : "0x9ffff\n");
    put(d + "/type", n == 10 ? "Reserved\n" : "System RAM\n");
    put(d + "/phys_addr", "0x" + std::to_string(n + 1) + "000000\n");
    put(d + "/virt_addr", "0xfffffffeff" + std::to_string(n % 10) + "00000\n");
    put(d + "/num_pages", "0x10\n");
    put(d + "/type", n == 10 ? "Reserved\n" : "System RAM\n");
    put(d + "/attribute", "0x800000000000000f\n");
  }
  auto map = hl::read_memory_map(root);
  REQUIRE(map.ok());
  CHECK(map->size() == 3);
  CHECK((*map)[1].base == 0x9f000);
  // The runtime map reads "type" as a number: these directories are not one.
  CHECK_FALSE(hl::read_runtime_map(root).ok());
  for (int n : {0, 1, 10}) put(root + "/" + std::to_string(n) + "/type", n == 1 ? "6\n" : "5\n");
  auto runtime = hl::read_runtime_map(root);
  REQUIRE(runtime.ok());
  REQUIRE(runtime->size() == 3);
  CHECK((*runtime)[0].physical_address == 0x1000000);
  CHECK((*runtime)[1].type == 6);
  CHECK((*runtime)[2].physical_address == 0x11000000);  // Directory 10 comes last.
  CHECK((*runtime)[2].attribute == 0x800000000000000full);
  REQUIRE(system(("rm -rf " + root).c_str()) == 0);
}

TEST_CASE("runtime map from a file") {
  const std::string path = temp_file("0x3f000000 0xfffffffeff000000 16 5 0x800000000000000f\n");
  auto map = hl::read_runtime_map(path);
  unlink(path.c_str());
  REQUIRE(map.ok());
  REQUIRE(map->size() == 1);
  CHECK((*map)[0].page_count == 16);
  const std::string bad = temp_file("0x3f000000 0xfffffffeff000000 16\n");
  CHECK_FALSE(hl::read_runtime_map(bad).ok());
  unlink(bad.c_str());
}

TEST_CASE("jump back entry from the command line") {
  auto entry = hl::jump_back_entry_from_cmdline(
      "console=ttyS0 memmap=exactmap kexec_jump_back_entry=0x1f8e3a5c quiet\n");
  REQUIRE(entry.ok());
  CHECK(*entry == 0x1f8e3a5c);
  CHECK_FALSE(hl::jump_back_entry_from_cmdline("console=ttyS0").ok());
  CHECK_FALSE(hl::jump_back_entry_from_cmdline("kexec_jump_back_entry=zz").ok());
}

TEST_CASE("default scratch is the RAM no saved range covers, in whole pages") {
  std::vector<hl::image::MemoryMapEntry> map = {
      {0x0, 0x9f000, 1, 0}, {0x9f000, 0x61000, 2, 0}, {0x100000, 0x1ff00000, 1, 0}};
  std::vector<hl::PhysicalRange> saved = {{0x1000, 0x9e000}, {0x100000, 0x800800}};
  auto scratch = hl::derive_scratch(map, saved);
  REQUIRE(scratch.size() == 2);
  CHECK(scratch[0].base == 0);
  CHECK(scratch[0].size == 0x1000);
  CHECK(scratch[1].base == 0x901000);
  CHECK(scratch[1].base + scratch[1].size == 0x20000000);
}

TEST_CASE("partition type check reads the disk's GPT") {
  std::vector<uint8_t> bytes(2048 * 512);
  hl::MemoryStorage disk(bytes.data(), bytes.size());
  hl::GptLayout layout;
  const auto usable = hl::gpt_usable_range(2048, 512, layout);
  hl::GptPartition linux_data = {};
  hl::guid_from_string("0fc63daf-8483-4772-8e79-3d69d8477de4", &linux_data.type);
  linux_data.unique = {1};
  linux_data.first_lba = usable.first_lba;
  linux_data.last_lba = usable.first_lba + 99;
  hl::GptPartition hibernate = {};
  hibernate.index = 1;
  hibernate.type = hl::kHibernationPartitionType;
  hibernate.unique = {2};
  hibernate.first_lba = usable.first_lba + 100;
  hibernate.last_lba = usable.last_lba;
  layout.partitions = {linux_data, hibernate};
  REQUIRE(hl::write_gpt(disk, layout).ok());

  CHECK(hl::check_gpt_entry_type(disk, 2, hibernate.first_lba, "/dev/vda2").ok());
  auto wrong = hl::check_gpt_entry_type(disk, 1, linux_data.first_lba, "/dev/vda1");
  REQUIRE_FALSE(wrong.ok());
  CHECK(std::string(wrong.error().reason()) ==
        "/dev/vda1 has partition type 0fc63daf-8483-4772-8e79-3d69d8477de4, not the hibernation "
        "type 182aad0a-d5e4-4b60-b136-a6c091f30d90 (use --force to write anyway)");
  auto moved = hl::check_gpt_entry_type(disk, 2, hibernate.first_lba + 8, "/dev/vda2");
  CHECK_FALSE(moved.ok());
  std::vector<uint8_t> blank(2048 * 512);
  hl::MemoryStorage no_gpt(blank.data(), blank.size());
  CHECK_FALSE(hl::check_gpt_entry_type(no_gpt, 1, 34, "/dev/sdb1").ok());
}
