#include "efi/configuration.h"

#include "efi/console.h"
#include "efi/variables.h"

namespace hl::efi {

LoadedConfig load_configuration() {
  char text[kMaxConfigBytes];
  auto variable = read_variable(kConfigVariableName, kVendorGuid, text, sizeof text);
  if (!variable) {
    say("cannot read the configuration: {}", variable.error().reason());
    say("using the defaults (see docs/configuration.md)");
    return {default_config(), ConfigSource::kDefaultUnreadable};
  }
  if (!variable->found) {
    char guid[37];
    guid_to_string(kVendorGuid, guid);
    say("no configuration: EFI variable {}-{} is not set", kConfigVariableName, guid);
    say("unconfigured: using the defaults; run 'hiberload install' from Linux to configure");
    return {default_config(), ConfigSource::kDefaultAbsent};
  }
  auto parsed = parse_config(text, variable->size);
  if (!parsed) {
    say("configuration variable {} is malformed: {}", kConfigVariableName, parsed.error().reason());
    say("using the defaults; fix it with 'hiberload config set KEY=VALUE' from Linux");
    return {default_config(), ConfigSource::kDefaultMalformed};
  }
  say("configuration read from EFI variable {} ({} bytes)", kConfigVariableName, variable->size);
  return {*parsed, ConfigSource::kVariable};
}

void describe_configuration(const LoadedConfig& loaded) {
  const Config& c = loaded.config;
  char partition[37] = "first partition of hiberload's type";
  if (c.has_partition) guid_to_string(c.partition, partition);
  say("  mode: {}", resume_mode_name(c.mode));
  say("  hibernation partition: {}", partition);
  say("  kernel: {}", c.kernel);
  say("  initrd: {}", c.initrd[0] ? c.initrd : "none");
  say("  command line: {}", c.cmdline[0] ? c.cmdline : "(empty)");
  if (c.scratch.size != 0) {
    say("  scratch region: {x}-{x}", c.scratch.base, c.scratch.end() - 1);
  } else {
    say("  scratch region: none configured");
  }
}

}  // namespace hl::efi
