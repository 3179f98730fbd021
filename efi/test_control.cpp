#include "efi/test_control.h"

#include "common/key_value.h"
#include "efi/console.h"
#include "efi/esp_files.h"

namespace hl::efi {
namespace {

Status apply(TestControl* control, const KeyValue& kv) {
  if (kv.key.equals("exit")) {
    if (!kv.value.equals("isa-debug-exit")) return Error::make("exit: only isa-debug-exit is supported");
    control->debug_exit = true;
    return ok_status();
  }
  if (kv.key.equals("selftest")) {
    control->selftest = kv.value.equals("1");
    return ok_status();
  }
  if (kv.key.equals("print-memory-map")) {
    control->print_memory_map = kv.value.equals("1");
    return ok_status();
  }
  struct StringKey {
    const char* key;
    char* out;
    size_t capacity;
  } strings[] = {
      {"selftest.sha256.input", control->sha256_input, sizeof control->sha256_input},
      {"selftest.sha256.expect", control->sha256_expect, sizeof control->sha256_expect},
      {"selftest.inflate.file", control->inflate_file, sizeof control->inflate_file},
      {"selftest.inflate.sha256", control->inflate_sha256, sizeof control->inflate_sha256},
  };
  for (const StringKey& s : strings) {
    if (kv.key.equals(s.key)) {
      if (!kv.value.copy_to(s.out, s.capacity)) return Error::make("{}: value too long", s.key);
      return ok_status();
    }
  }
  if (kv.key.equals("selftest.inflate.size")) {
    if (!parse_u64(kv.value, &control->inflate_size)) return Error::make("selftest.inflate.size: not a number");
    return ok_status();
  }
  return Error::make("unknown key");
}

}  // namespace

TestControl read_test_control(EFI_HANDLE image) {
  TestControl control;
  auto file = read_esp_file(image, kTestControlPath, 8192);
  if (!file) return control;  // The normal case on a real machine.
  control.present = true;
  KeyValueReader reader(reinterpret_cast<const char*>(file->data), file->size);
  KeyValue kv;
  while (reader.next(&kv)) {
    if (Status s = apply(&control, kv); !s) {
      say("test control {} line {}: {}; ignoring the file", kTestControlPath, kv.line, s.error().reason());
      free_file(&*file);
      return TestControl{};
    }
  }
  if (!reader.status()) {
    say("test control {}: {}; ignoring the file", kTestControlPath, reader.status().error().reason());
    free_file(&*file);
    return TestControl{};
  }
  free_file(&*file);
  say("test control file found: debug-exit {}, self-test {}", control.debug_exit ? "on" : "off",
      control.selftest ? "on" : "off");
  return control;
}

void finish_test(const TestControl& control, TestVerdict verdict) {
  if (!control.debug_exit) return;
  say("test verdict: {}", verdict == TestVerdict::kPass   ? "PASS"
                          : verdict == TestVerdict::kFail ? "FAIL"
                                                          : "returned to the firmware");
  const uint8_t value = static_cast<uint8_t>(verdict);
  __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(static_cast<uint16_t>(0x501)));
  // Not under QEMU with isa-debug-exit after all: power off rather than hang.
  RT->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, nullptr);
}

}  // namespace hl::efi
