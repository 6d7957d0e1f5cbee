#!/usr/bin/env python3
"""Reference implementation of the audit hash encoding (v1) documented in audit_chain.rs.

Writes vector.txt, the expected hash the Rust unit test pins.
"""
import hashlib
import pathlib
import struct

GENESIS = "0" * 64


def entry_hash(seq, ts, actor, action, object_type, object_id, details, prev_hash):
    h = hashlib.sha256(b"gatehouse.audit.v1\x00")
    for f in (str(seq), ts, actor, action, object_type, object_id, details, prev_hash):
        b = f.encode("utf-8")
        h.update(struct.pack(">I", len(b)))
        h.update(b)
    return h.hexdigest()


if __name__ == "__main__":
    out = entry_hash(1, "2026-11-27T08:00:00.000000Z", "system", "user.create", "user", "admin", "{}", GENESIS)
    pathlib.Path(__file__).with_name("vector.txt").write_text(out + "\n")
    print(out)
