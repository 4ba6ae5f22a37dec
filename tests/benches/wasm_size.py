#!/usr/bin/env python3
"""Where the bytes of a component go: its sections, those of each core module
inside it, and (when the module still has its `name` section) code bytes by
crate. Used for the size table of BENCHMARKS.md:

    python3 tests/benches/wasm_size.py target/guest/wasm32-wasip2/guest/ado_connector_plugin.pre.wasm

No dependency beyond Python 3: the binary format is read directly
(https://webassembly.github.io/spec/core/binary/ and the component model's
Binary.md)."""

import re
import sys
from collections import Counter

CORE = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
        6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
        12: "datacount", 13: "tag"}
COMPONENT = {0: "custom", 1: "core module", 2: "core instance", 3: "core type",
             4: "component", 5: "instance", 6: "alias", 7: "type", 8: "canon",
             9: "start", 10: "import", 11: "export", 12: "value"}


def leb(b, i):
    n = shift = 0
    while True:
        x = b[i]
        i += 1
        n |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return n, i


def name(b, i):
    n, i = leb(b, i)
    return b[i:i + n].decode("utf-8", "replace"), i + n


def sections(b):
    i = 8
    while i < len(b):
        sid = b[i]
        size, j = leb(b, i + 1)
        yield sid, b[j:j + size], j + size - i
        i = j + size


def crate_of(symbol):
    """First path segment of a Rust symbol (legacy `_ZN` mangling), the
    implementing type's crate for `<T as Trait>` items; else the symbol's
    kind."""
    if symbol.startswith("_ZN"):
        m = re.match(r"_ZN(\d+)", symbol)
        first = symbol[m.end():m.end() + int(m.group(1))]
        if first.startswith("_$LT$"):
            inner = re.match(r"_\$LT\$([A-Za-z0-9_]+)", first)
            return inner.group(1) if inner else "<impl>"
        return first
    if symbol.startswith("_R"):
        m = re.search(r"C[s\d_]*?(\d+)([A-Za-z_][A-Za-z0-9_]*)", symbol)
        return m.group(2)[: int(m.group(1))] if m else "<v0>"
    return "<C or glue>"


def core_module(b, out, label):
    sizes = Counter()
    bodies = []
    names = {}
    imported_funcs = 0
    for sid, body, total in sections(b):
        kind = CORE.get(sid, str(sid))
        if sid == 0:
            cname, k = name(body, 0)
            kind = f"custom `{cname}`"
            if cname == "name":
                while k < len(body):
                    sub = body[k]
                    size, k = leb(body, k + 1)
                    if sub == 1:
                        count, m = leb(body, k)
                        for _ in range(count):
                            idx, m = leb(body, m)
                            fname, m = name(body, m)
                            names[idx] = fname
                    k += size
        elif sid == 2:
            count, k = leb(body, 0)
            for _ in range(count):
                _, k = name(body, k)
                _, k = name(body, k)
                desc = body[k]
                k += 1
                if desc == 0:
                    _, k = leb(body, k)
                    imported_funcs += 1
                elif desc == 1:
                    k += 1
                    flags = body[k]
                    _, k = leb(body, k + 1)
                    if flags & 1:
                        _, k = leb(body, k)
                elif desc == 2:
                    flags = body[k]
                    _, k = leb(body, k + 1)
                    if flags & 1:
                        _, k = leb(body, k)
                elif desc == 3:
                    k += 2
                else:
                    _, k = leb(body, k + 1)
        elif sid == 10:
            count, k = leb(body, 0)
            for _ in range(count):
                size, k2 = leb(body, k)
                bodies.append(size + (k2 - k))
                k = k2 + size
        sizes[kind] += total
    out.append((label, len(b), sizes))
    if names and bodies:
        by_crate = Counter()
        for n, size in enumerate(bodies):
            by_crate[crate_of(names.get(imported_funcs + n, ""))] += size
        out.append((label + ": code by crate", sum(bodies), by_crate))


def component(b, out, label):
    sizes = Counter()
    n = 0
    for sid, body, total in sections(b):
        if sid == 1:
            n += 1
            core_module(body, out, f"{label} core module {n}")
        elif sid == 4:
            n += 1
            component(body, out, f"{label} component {n}")
        kind = COMPONENT.get(sid, str(sid))
        if sid == 0:
            kind = f"custom `{name(body, 0)[0]}`"
        sizes[kind] += total
    out.insert(0, (label, len(b), sizes))


def main():
    for path in sys.argv[1:]:
        b = open(path, "rb").read()
        out = []
        if b[4:8] == b"\x01\x00\x00\x00":
            core_module(b, out, path)
        else:
            component(b, out, path)
        for label, total, sizes in out:
            print(f"\n{label}: {total:,} bytes")
            print("| Part | Bytes | Share |\n|---|---:|---:|")
            for kind, size in sizes.most_common(15):
                print(f"| {kind} | {size:,} | {100 * size / total:.1f}% |")
            rest = sum(sizes.values()) - sum(s for _, s in sizes.most_common(15))
            if rest:
                print(f"| (others) | {rest:,} | {100 * rest / total:.1f}% |")


if __name__ == "__main__":
    main()
