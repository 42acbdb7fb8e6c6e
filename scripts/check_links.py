#!/usr/bin/env python3
"""Checks that every relative link in the given Markdown files resolves: the file (or folder)
exists and, for `file.md#anchor`, a heading of that file has the anchor (GitHub's slugs).
Usage: scripts/check_links.py [FILE.md ...]   (default: README.md, docs/*.md, probes/README.md,
research/README.md). Exit status 1 and one line per broken link when any is broken."""
import glob
import os
import re
import sys

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)  # GitHub keeps letters, digits, _, - and spaces
    return s.replace(" ", "-")


def anchors(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, flags=re.M)}


def main(files):
    broken = 0
    for md in files:
        text = open(md, encoding="utf-8").read()
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code blocks are not links
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            if not os.path.exists(resolved):
                print(f"{md}: {target}: no such file {resolved}")
                broken += 1
            elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                print(f"{md}: {target}: no heading #{anchor} in {resolved}")
                broken += 1
    return 1 if broken else 0


if __name__ == "__main__":
    default = ["README.md"] + sorted(glob.glob("docs/*.md")) + ["probes/README.md", "research/README.md"]
    sys.exit(main(sys.argv[1:] or default))
