// Step 1 of the boot flow: the configuration, from the HiberloadConfig
// variable or, when it is absent or malformed, the documented defaults.
#pragma once

#include "common/config.h"

namespace hl::efi {

enum class ConfigSource { kVariable, kDefaultAbsent, kDefaultMalformed, kDefaultUnreadable };

struct LoadedConfig {
  Config config;
  ConfigSource source;
};

// Never fails: problems are reported on the console and defaults used.
LoadedConfig load_configuration();

// Prints the configuration in effect, one setting per line.
void describe_configuration(const LoadedConfig& loaded);

}  // namespace hl::efi
