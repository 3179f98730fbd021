// A one-line progress display on stderr, only when stderr is a terminal (so
// logs and pipes stay clean).
#pragma once

#include <stdint.h>

#include <chrono>
#include <string>

namespace hl {

class Progress {
 public:
  explicit Progress(std::string label);
  // Redraws at most ten times a second.
  void update(uint64_t done, uint64_t total);
  // Ends the line (if anything was drawn).
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace hl
