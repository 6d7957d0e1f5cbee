#!/usr/bin/env python3
"""Finds doc comments that only repeat the name of the item they document.

A one-line `/// Id.` above `pub id: i64` tells a reader nothing the name did not; the docs
should say what the value means, its unit, where it comes from or what it is used for.
Reads the Rust files under the folders given, prints `file:line: ...` for each such doc and
exits 1 if there is any.
"""
import pathlib
import re
import sys

# Words a doc may add around the name and still say nothing more.
FILLER = {"the", "a", "an", "its", "this", "of", "s"}
ITEM = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|const|unsafe|extern)\s+)*"
    r"(?:fn|struct|enum|trait|type|mod|const|static)\s+(\w+)"
)
FIELD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*:")
VARIANT = re.compile(r"^\s*([A-Z]\w*)\s*(?:[,({=]|$)")


def words(text):
    """Lower-case words of a doc line or of a snake_case / CamelCase name, filler dropped."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w and w not in FILLER]


def item_name(line):
    for pattern in (ITEM, FIELD, VARIANT):
        m = pattern.match(line)
        if m:
            return m.group(1)
    return None


def check(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        doc = line.strip()
        if not doc.startswith("///") or doc.startswith("////"):
            continue
        if i > 0 and lines[i - 1].strip().startswith("///"):
            continue  # only one-line docs can be this empty
        j = i + 1
        while j < len(lines) and lines[j].strip().startswith("#["):
            j += 1
        if j >= len(lines) or lines[j].strip().startswith("///"):
            continue
        name = item_name(lines[j])
        text = doc[3:].strip()
        if name and words(text) and words(text) == words(name):
            found.append(f"{path}:{i + 1}: `{text}` only repeats the name `{name}`: say what it means")
    return found


def main(roots):
    found = []
    for root in roots:
        for path in sorted(pathlib.Path(root).rglob("*.rs")):
            found.extend(check(path))
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
