#!/usr/bin/env python3
"""Replace machine paths in the committed benchmark results by the names the script uses.

Usage: scrub.py NAME=PATH... -- FILE...   (longest PATH first; each occurrence becomes $NAME)
"""
import sys


def main(argv):
    sep = argv.index("--")
    pairs = [a.split("=", 1) for a in argv[:sep]]
    pairs = sorted(((n, p) for n, p in pairs if p), key=lambda np: -len(np[1]))
    for path in argv[sep + 1:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for name, value in pairs:
            text = text.replace(value, "$" + name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
