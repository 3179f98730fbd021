#include "tools/lib/progress.h"

#include <unistd.h>

#include <cstdio>

namespace hl {

Progress::Progress(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done != total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double mib = static_cast<double>(done) / (1 << 20);
  std::fprintf(stderr, "\r%s: %5.1f%%  %.0f / %.0f MiB  %.0f MiB/s   ", label_.c_str(),
               total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, mib,
               static_cast<double>(total) / (1 << 20), seconds > 0 ? mib / seconds : 0.0);
}

void Progress::finish() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

}  // namespace hl
