#!/usr/bin/env python3
"""Read and write EFI variables in an edk2 (OVMF) variable store file, from the host.

    ovmf-vars.py list VARS.fd
    ovmf-vars.py get  VARS.fd NAME GUID            (the data on stdout)
    ovmf-vars.py set  VARS.fd NAME GUID (--text TEXT | --file FILE) [--attributes 0x7]
    ovmf-vars.py delete VARS.fd NAME GUID

For test machines: hiberload's tests put its configuration variable
(HiberloadConfig) into a machine's private OVMF_VARS copy before the first
power-on, the way `hiberload install` would write it from Linux. Only plain
non-volatile variables are written (no time-based authentication).

The layout (edk2 MdeModulePkg/Include/Guid/VariableFormat.h, the store that
OVMF_VARS_4M.fd holds):

  EFI_FIRMWARE_VOLUME_HEADER   signature "_FVH" at 0x28, HeaderLength at 0x30
  VARIABLE_STORE_HEADER        Signature GUID (gEfiAuthenticatedVariableGuid),
                               Size u32, Format u8 (0x5a), State u8 (0xfe), 6 reserved
  variables, each 4-byte aligned, until a header whose StartId is not 0x55aa:
    AUTHENTICATED_VARIABLE_HEADER (60 bytes)
      StartId u16 = 0x55aa, State u8, Reserved u8, Attributes u32,
      MonotonicCount u64, TimeStamp EFI_TIME (16 bytes), PubKeyIndex u32,
      NameSize u32, DataSize u32, VendorGuid (16 bytes)
    Name (UTF-16LE with its NUL, NameSize bytes), Data (DataSize bytes)
  State: 0x3f VAR_ADDED; a variable is live when State is 0x3f or 0x3e
  (VAR_ADDED & VAR_IN_DELETED_TRANSITION); deleting clears bit 1 (VAR_DELETED
  = 0xfd is ANDed in), as flash can only clear bits.

`set` marks every live copy deleted and appends the new one in the free space
(all 0xff), just as the firmware's variable driver does; when the store is
full it fails rather than reclaim (the firmware reclaims at its next boot).
"""

import argparse
import struct
import sys
import uuid

FVH_SIGNATURE = b"_FVH"
AUTH_VARIABLE_GUID = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
PLAIN_VARIABLE_GUID = uuid.UUID("ddcf3616-3275-4164-98b6-fe85707ffe7d")
STORE_HEADER = struct.Struct("<16sIBBHI")  # 28 bytes
AUTH_HEADER = struct.Struct("<HBBIQ16sIII16s")  # 60 bytes
START_ID = 0x55AA
VAR_ADDED = 0x3F
VAR_IN_DELETED_TRANSITION = 0xFE
VAR_DELETED = 0xFD
STORE_FORMATTED = 0x5A
STORE_HEALTHY = 0xFE


class StoreError(Exception):
    pass


def align4(n):
    return (n + 3) & ~3


class Variable:
    def __init__(self, offset, state, attributes, name, guid, data, size):
        self.offset, self.state, self.attributes = offset, state, attributes
        self.name, self.guid, self.data, self.size = name, guid, data, size

    @property
    def live(self):
        return self.state in (VAR_ADDED, VAR_ADDED & VAR_IN_DELETED_TRANSITION)


class Store:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.image = bytearray(f.read())
        img = self.image
        if len(img) < 0x48 or img[0x28:0x2C] != FVH_SIGNATURE:
            raise StoreError(f"{path}: no firmware volume header ('_FVH' at 0x28)")
        header_length = struct.unpack_from("<H", img, 0x30)[0]
        self.store_offset = header_length
        sig, size, fmt, state, _, _ = STORE_HEADER.unpack_from(img, header_length)
        sig = uuid.UUID(bytes_le=sig)
        if sig == PLAIN_VARIABLE_GUID:
            raise StoreError(f"{path}: a store without authenticated variables is not supported")
        if sig != AUTH_VARIABLE_GUID:
            raise StoreError(f"{path}: unknown variable store signature {sig}")
        if fmt != STORE_FORMATTED or state != STORE_HEALTHY:
            raise StoreError(f"{path}: variable store not formatted/healthy "
                             f"(format {fmt:#x}, state {state:#x})")
        self.store_end = header_length + size
        if self.store_end > len(img):
            raise StoreError(f"{path}: variable store of {size} bytes exceeds the file")
        self.first = align4(header_length + STORE_HEADER.size)
        self.variables, self.free = self._scan()

    def _scan(self):
        img, off, out = self.image, self.first, []
        while off + AUTH_HEADER.size <= self.store_end:
            (start, state, _, attrs, _, _, _, name_size, data_size,
             guid) = AUTH_HEADER.unpack_from(img, off)
            if start != START_ID:
                break
            body = off + AUTH_HEADER.size
            end = body + name_size + data_size
            if end > self.store_end:
                raise StoreError(f"variable at {off:#x} runs past the store's end")
            name = img[body:body + name_size].decode("utf-16-le").rstrip("\0")
            data = bytes(img[body + name_size:end])
            out.append(Variable(off, state, attrs, name, uuid.UUID(bytes_le=bytes(guid)),
                                data, end - off))
            off = align4(end)
        if any(b != 0xFF for b in img[off:self.store_end]):
            raise StoreError(f"free space at {off:#x} is not erased (0xff): a store this "
                             "tool does not understand")
        return out, off

    def find(self, name, guid):
        return [v for v in self.variables if v.live and v.name == name and v.guid == guid]

    def delete(self, name, guid):
        found = self.find(name, guid)
        for v in found:
            self.image[v.offset + 2] &= VAR_DELETED
        return len(found)

    def append(self, name, guid, attributes, data):
        name_bytes = (name + "\0").encode("utf-16-le")
        header = AUTH_HEADER.pack(START_ID, VAR_ADDED, 0, attributes, 0, bytes(16), 0,
                                  len(name_bytes), len(data), guid.bytes_le)
        record = header + name_bytes + data
        if self.free + len(record) > self.store_end:
            raise StoreError(f"variable store full ({self.store_end - self.free} bytes free, "
                             f"{len(record)} needed)")
        self.image[self.free:self.free + len(record)] = record
        self.free = align4(self.free + len(record))

    def save(self):
        with open(self.path, "r+b") as f:
            f.write(self.image)


STATE_NAMES = {VAR_ADDED: "added", VAR_ADDED & VAR_IN_DELETED_TRANSITION: "added (in transition)",
               VAR_ADDED & VAR_DELETED: "deleted",
               VAR_ADDED & VAR_DELETED & VAR_IN_DELETED_TRANSITION: "deleted"}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="list the variables")
    lst.add_argument("vars")
    lst.add_argument("--all", action="store_true", help="also deleted copies")
    for cmd in ("get", "set", "delete"):
        s = sub.add_parser(cmd)
        s.add_argument("vars")
        s.add_argument("name")
        s.add_argument("guid", type=uuid.UUID)
        if cmd == "set":
            g = s.add_mutually_exclusive_group(required=True)
            g.add_argument("--text", help="data: this text, UTF-8, as is")
            g.add_argument("--file", help="data: the bytes of this file")
            s.add_argument("--attributes", type=lambda x: int(x, 0), default=0x7,
                           help="EFI variable attributes (default 0x7: NV, BS, RT)")
    args = p.parse_args(argv)
    try:
        store = Store(args.vars)
        if args.command == "list":
            for v in store.variables:
                if v.live or args.all:
                    print(f"{v.guid}-{v.name}  attrs {v.attributes:#x}  {len(v.data)} bytes  "
                          f"{STATE_NAMES.get(v.state, hex(v.state))}")
            print(f"# {store.store_end - store.free} bytes free", file=sys.stderr)
        elif args.command == "get":
            found = store.find(args.name, args.guid)
            if not found:
                print(f"ovmf-vars: {args.guid}-{args.name}: not set", file=sys.stderr)
                return 1
            sys.stdout.buffer.write(found[-1].data)
        elif args.command == "set":
            if args.attributes & ~0x7:
                raise StoreError("only the NV, BS and RT attributes (0x7) are supported")
            if args.text is not None:
                data = args.text.encode("utf-8")
            else:
                with open(args.file, "rb") as f:
                    data = f.read()
            store.delete(args.name, args.guid)
            store.append(args.name, args.guid, args.attributes, data)
            store.save()
        elif args.command == "delete":
            if store.delete(args.name, args.guid) == 0:
                print(f"ovmf-vars: {args.guid}-{args.name}: not set", file=sys.stderr)
                return 1
            store.save()
    except (StoreError, OSError, UnicodeDecodeError) as e:
        print(f"ovmf-vars: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
