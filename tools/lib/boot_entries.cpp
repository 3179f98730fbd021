#include "tools/lib/boot_entries.h"

#include <string.h>

#include <algorithm>

namespace hl {
namespace {

// Device path node types (UEFI 2.10, 10.3.1).
constexpr uint8_t kMediaDevicePath = 0x04;
constexpr uint8_t kMediaHardDrive = 0x01;
constexpr uint8_t kMediaFilePath = 0x04;
constexpr uint8_t kEndDevicePath = 0x7f;
constexpr uint8_t kEndEntireDevicePath = 0xff;
constexpr uint16_t kHardDriveNodeLength = 42;
constexpr uint8_t kMbrTypeGpt = 0x02;
constexpr uint8_t kSignatureTypeGuid = 0x02;

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t get64(const uint8_t* p) {
  return static_cast<uint64_t>(get32(p)) | (static_cast<uint64_t>(get32(p + 4)) << 32);
}

std::string hex(uint64_t v) {
  char text[24];
  snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(v));
  return text;
}

// Calls visit(type, subtype, body, body_length) for each node until End or
// a malformed node; returns false on a malformed list.
template <typename Visit>
bool walk(const std::vector<uint8_t>& path, Visit visit) {
  size_t at = 0;
  while (at + 4 <= path.size()) {
    const uint8_t type = path[at];
    const uint8_t subtype = path[at + 1];
    const uint16_t length = get16(&path[at + 2]);
    if (length < 4 || at + length > path.size()) return false;
    if (type == kEndDevicePath && subtype == kEndEntireDevicePath) return true;
    if (!visit(type, subtype, &path[at + 4], static_cast<size_t>(length - 4))) return true;
    at += length;
  }
  return false;
}

std::string file_node_text(const uint8_t* body, size_t length) {
  std::u16string text;
  for (size_t i = 0; i + 1 < length; i += 2) {
    const char16_t c = static_cast<char16_t>(get16(body + i));
    if (c == 0) break;
    text.push_back(c);
  }
  return utf16_to_utf8(text);
}

}  // namespace

std::vector<uint8_t> encode_load_option(const LoadOption& option) {
  std::vector<uint8_t> out;
  put32(out, option.attributes);
  put16(out, static_cast<uint16_t>(option.device_path.size()));
  for (char16_t c : option.description) put16(out, static_cast<uint16_t>(c));
  put16(out, 0);
  out.insert(out.end(), option.device_path.begin(), option.device_path.end());
  out.insert(out.end(), option.optional_data.begin(), option.optional_data.end());
  return out;
}

Result<LoadOption> decode_load_option(const std::vector<uint8_t>& data) {
  if (data.size() < 6) return Error::make("load option of {} bytes is truncated", data.size());
  LoadOption option;
  option.attributes = get32(data.data());
  const uint16_t path_length = get16(data.data() + 4);
  size_t at = 6;
  for (;;) {
    if (at + 2 > data.size()) return Error::make("load option description is not terminated");
    const char16_t c = static_cast<char16_t>(get16(&data[at]));
    at += 2;
    if (c == 0) break;
    option.description.push_back(c);
  }
  if (path_length > data.size() - at) {
    return Error::make("load option's device path ({} bytes) runs past its end", path_length);
  }
  option.device_path.assign(data.begin() + static_cast<long>(at),
                            data.begin() + static_cast<long>(at + path_length));
  option.optional_data.assign(data.begin() + static_cast<long>(at + path_length), data.end());
  return option;
}

std::vector<uint8_t> hard_drive_file_path(const HardDrivePartition& partition,
                                          const std::string& path) {
  std::vector<uint8_t> out;
  out.push_back(kMediaDevicePath);
  out.push_back(kMediaHardDrive);
  put16(out, kHardDriveNodeLength);
  put32(out, partition.number);
  put64(out, partition.start_lba);
  put64(out, partition.size_lba);
  uint8_t signature[16];
  static_assert(sizeof(Guid) == 16);
  memcpy(signature, &partition.partuuid, 16);  // The on-disk (mixed-endian) GUID layout.
  out.insert(out.end(), signature, signature + 16);
  out.push_back(kMbrTypeGpt);
  out.push_back(kSignatureTypeGuid);

  const std::u16string wide = utf8_to_utf16(path);
  out.push_back(kMediaDevicePath);
  out.push_back(kMediaFilePath);
  put16(out, static_cast<uint16_t>(4 + 2 * (wide.size() + 1)));
  for (char16_t c : wide) put16(out, static_cast<uint16_t>(c));
  put16(out, 0);

  out.push_back(kEndDevicePath);
  out.push_back(kEndEntireDevicePath);
  put16(out, 4);
  return out;
}

std::string device_path_to_text(const std::vector<uint8_t>& device_path) {
  std::string text;
  const bool well_formed = walk(device_path, [&](uint8_t type, uint8_t subtype, const uint8_t* body,
                                                 size_t length) {
    if (!text.empty()) text += "/";
    if (type == kMediaDevicePath && subtype == kMediaHardDrive && length == kHardDriveNodeLength - 4) {
      Guid guid;
      memcpy(&guid, body + 20, 16);
      char guid_text[37];
      guid_to_string(guid, guid_text);
      const uint8_t mbr_type = body[36];
      text += "HD(" + std::to_string(get32(body)) + "," +
              (mbr_type == kMbrTypeGpt ? std::string("GPT,") + guid_text : std::string("MBR")) +
              "," + hex(get64(body + 4)) + "," + hex(get64(body + 12)) + ")";
    } else if (type == kMediaDevicePath && subtype == kMediaFilePath) {
      text += "File(" + file_node_text(body, length) + ")";
    } else {
      text += "Path(" + std::to_string(type) + "," + std::to_string(subtype) + ")";
    }
    return true;
  });
  if (!well_formed) text += text.empty() ? "(malformed device path)" : "/(malformed)";
  return text;
}

std::string device_path_file(const std::vector<uint8_t>& device_path) {
  std::string file;
  walk(device_path, [&](uint8_t type, uint8_t subtype, const uint8_t* body, size_t length) {
    if (type == kMediaDevicePath && subtype == kMediaFilePath) {
      file = file_node_text(body, length);
      return false;
    }
    return true;
  });
  return file;
}

bool device_path_partition(const std::vector<uint8_t>& device_path, HardDrivePartition* out) {
  bool found = false;
  walk(device_path, [&](uint8_t type, uint8_t subtype, const uint8_t* body, size_t length) {
    if (type == kMediaDevicePath && subtype == kMediaHardDrive && length == kHardDriveNodeLength - 4) {
      out->number = get32(body);
      out->start_lba = get64(body + 4);
      out->size_lba = get64(body + 12);
      memcpy(&out->partuuid, body + 20, 16);
      found = true;
      return false;
    }
    return true;
  });
  return found;
}

std::string utf16_to_utf8(const std::u16string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t c = text[i];
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.size() && text[i + 1] >= 0xdc00 &&
        text[i + 1] < 0xe000) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text[i + 1] - 0xdc00);
      ++i;
    } else if (c >= 0xd800 && c < 0xe000) {
      c = 0xfffd;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

std::u16string utf8_to_utf16(const std::string& text) {
  std::u16string out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    uint32_t c = 0xfffd;
    size_t n = 1;
    if (b < 0x80) {
      c = b;
    } else if ((b & 0xe0) == 0xc0 && i + 1 < text.size()) {
      c = ((b & 0x1fu) << 6) | (text[i + 1] & 0x3f);
      n = 2;
    } else if ((b & 0xf0) == 0xe0 && i + 2 < text.size()) {
      c = ((b & 0x0fu) << 12) | ((text[i + 1] & 0x3fu) << 6) | (text[i + 2] & 0x3f);
      n = 3;
    } else if ((b & 0xf8) == 0xf0 && i + 3 < text.size()) {
      c = ((b & 0x07u) << 18) | ((text[i + 1] & 0x3fu) << 12) | ((text[i + 2] & 0x3fu) << 6) |
          (text[i + 3] & 0x3f);
      n = 4;
    }
    i += n;
    if (c >= 0x10000) {
      c -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (c >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (c & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(c));
    }
  }
  return out;
}

std::string boot_variable_name(uint16_t number) {
  char name[16];
  snprintf(name, sizeof name, "Boot%04X", number);
  return name;
}

bool parse_boot_variable_name(const std::string& name, uint16_t* number) {
  if (name.size() != 8 || name.compare(0, 4, "Boot") != 0) return false;
  uint16_t value = 0;
  for (size_t i = 4; i < 8; ++i) {
    const char c = name[i];
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return false;  // The spec's names use upper-case hex digits.
    value = static_cast<uint16_t>(value * 16 + digit);
  }
  *number = value;
  return true;
}

Result<std::vector<uint16_t>> decode_boot_order(const std::vector<uint8_t>& data) {
  if (data.size() % 2 != 0) {
    return Error::make("BootOrder has an odd length ({} bytes)", data.size());
  }
  std::vector<uint16_t> order;
  for (size_t i = 0; i < data.size(); i += 2) order.push_back(get16(&data[i]));
  return order;
}

std::vector<uint8_t> encode_boot_order(const std::vector<uint16_t>& order) {
  std::vector<uint8_t> out;
  for (uint16_t n : order) put16(out, n);
  return out;
}

std::string boot_order_text(const std::vector<uint16_t>& order) {
  if (order.empty()) return "(empty)";
  std::string text;
  for (uint16_t n : order) {
    char item[8];
    snprintf(item, sizeof item, "%04X", n);
    if (!text.empty()) text += ",";
    text += item;
  }
  return text;
}

bool parse_boot_order_text(const std::string& text, std::vector<uint16_t>* out) {
  out->clear();
  if (text.empty()) return true;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    uint16_t number;
    if (comma - at != 4 || !parse_boot_variable_name("Boot" + text.substr(at, 4), &number)) {
      return false;
    }
    out->push_back(number);
    at = comma + 1;
  }
  return true;
}

std::vector<uint16_t> boot_order_put_first(const std::vector<uint16_t>& order, uint16_t number) {
  std::vector<uint16_t> out{number};
  for (uint16_t n : order) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

std::vector<uint16_t> boot_order_without(const std::vector<uint16_t>& order, uint16_t number) {
  std::vector<uint16_t> out;
  for (uint16_t n : order) {
    if (n != number) out.push_back(n);
  }
  return out;
}

std::vector<uint16_t> boot_order_restore(const std::vector<uint16_t>& saved,
                                         const std::vector<uint16_t>& current, uint16_t removed,
                                         const std::vector<uint16_t>& existing) {
  auto contains = [](const std::vector<uint16_t>& list, uint16_t n) {
    return std::find(list.begin(), list.end(), n) != list.end();
  };
  std::vector<uint16_t> out;
  for (uint16_t n : saved) {
    if (n != removed && contains(existing, n) && !contains(out, n)) out.push_back(n);
  }
  for (uint16_t n : current) {
    if (n != removed && !contains(saved, n) && !contains(out, n)) out.push_back(n);
  }
  return out;
}

bool first_free_boot_number(const std::vector<uint16_t>& used, uint16_t* out) {
  for (uint32_t n = 0; n <= 0xffff; ++n) {
    if (std::find(used.begin(), used.end(), static_cast<uint16_t>(n)) == used.end()) {
      *out = static_cast<uint16_t>(n);
      return true;
    }
  }
  return false;
}

}  // namespace hl
