// Test control: how the OVMF tests steer hiberload and get a verdict back.
//
// A test writes \EFI\hiberload\test.conf on the ESP of its virtual disk. On a
// real machine the file does not exist and none of this has any effect. The
// file can ask for the library self-test and for the outcome to be reported
// by writing to QEMU's isa-debug-exit port (0x501): QEMU then exits with
// status (value << 1) | 1, which the harness turns into a verdict. The port
// is only touched when the file says so: on real hardware port 0x501 may
// belong to a device.
#pragma once

#include <stdint.h>

#include "common/error.h"
#include "efi/firmware.h"

namespace hl::efi {

inline constexpr char kTestControlPath[] = "\\EFI\\hiberload\\test.conf";

// Values written to the debug-exit port (QEMU exits with 2 * value + 1).
enum class TestVerdict : uint8_t {
  kPass = 0x10,  // QEMU exit status 33
  kFail = 0x11,  // QEMU exit status 35
  // hiberload neither resumed nor started a kernel and is about to return
  // to the firmware (QEMU exit status 37).
  kReturnedToFirmware = 0x12,
};

struct TestControl {
  bool present = false;
  bool debug_exit = false;  // exit=isa-debug-exit
  bool selftest = false;    // selftest=1
  bool print_memory_map = false;  // print-memory-map=1: the firmware's map, for tests
  // Library self-test vectors, computed on the host by the test.
  char sha256_input[128] = "";
  char sha256_expect[65] = "";
  char inflate_file[128] = "";
  uint64_t inflate_size = 0;
  char inflate_sha256[65] = "";
};

// Reads the file if it exists; a malformed file is reported and ignored.
TestControl read_test_control(EFI_HANDLE image);

// If the test asked for it, reports the verdict through the debug-exit port
// (QEMU exits and this does not return). Otherwise returns.
void finish_test(const TestControl& control, TestVerdict verdict);

}  // namespace hl::efi
