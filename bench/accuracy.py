#!/usr/bin/env python3
"""Compare an access-audit JSON report with a corpus's EXPECTED-FINDINGS.jsonl.

Usage: accuracy.py EXPECTED-FINDINGS.jsonl REPORT.json [--prefix generated/] [--show N]

A finding matches when path, line, group, host, port and tokenized agree (the normative fields
of the corpus's counting rules). Only report findings whose path starts with --prefix are counted,
so that other parts of the corpus do not count as false positives. Prints recall and precision.
"""
import argparse
import json
import sys


def key(f):
    return (f["path"], f["line"], f["group"], f.get("host"), f.get("port"), bool(f.get("tokenized")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("report")
    ap.add_argument("--prefix", default="generated/")
    ap.add_argument("--show", type=int, default=10)
    a = ap.parse_args()
    expected = [json.loads(l) for l in open(a.expected, encoding="utf-8") if l.strip()]
    report = json.load(open(a.report, encoding="utf-8"))
    got = [f for f in report["findings"] if f["path"].startswith(a.prefix)]
    want = {}
    for f in expected:
        want[key(f)] = want.get(key(f), 0) + 1
    have = {}
    for f in got:
        have[key(f)] = have.get(key(f), 0) + 1
    tp = sum(min(n, have.get(k, 0)) for k, n in want.items())
    recall = tp / max(1, sum(want.values()))
    precision = tp / max(1, sum(have.values()))
    missing = [k for k, n in sorted(want.items(), key=str) if have.get(k, 0) < n]
    extra = [k for k, n in sorted(have.items(), key=str) if want.get(k, 0) < n]
    for label, rows in (("missing", missing), ("unexpected", extra)):
        for k in rows[: a.show]:
            print(f"{label}: {k}", file=sys.stderr)
    print(json.dumps({"expected": sum(want.values()), "found": sum(have.values()), "matched": tp,
                      "recall": round(recall, 4), "precision": round(precision, 4)}))
    return 0 if not missing and not extra else 1


if __name__ == "__main__":
    sys.exit(main())
