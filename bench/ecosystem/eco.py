#!/usr/bin/env python3
"""Normalise, diff and review the ecosystem scan (driven by run.sh).

    eco.py collect WORKDIR        WORKDIR holds <owner+name>.json (scan --format json), <owner+name>.check
                                  (exit code of `check`) and present.txt / absent.txt (one repo per line).
                                  Writes current.jsonl and current-checks.jsonl next to this file, prints
                                  the diff against snapshot.jsonl / snapshot-checks.jsonl and the review
                                  summary against REVIEWED.jsonl / VERDICTS.jsonl. Exit 1 on any
                                  difference from the snapshot, 0 otherwise.
    eco.py review [FILE]          Only the summary of FILE (default current.jsonl) against REVIEWED.jsonl.
    eco.py keep-absent ABSENT     Accept current*.jsonl as the new snapshot*.jsonl, keeping the snapshot
                                  lines of the repositories listed in ABSENT (not fetched this run).

A finding is the line {repo, path, line, column, group, url, tokenized, env_var} (plus cell for notebook
findings), one JSON object per line, sorted.
"""
import json
import os
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ("repo", "path", "line", "column", "group", "url", "tokenized", "env_var")


def slug(dirname):
    """owner+name (directory under ECO_SRC) -> owner/name (the repo field)."""
    return dirname.replace("+", "/", 1)


def sort_key(f):
    return (f["repo"], f["path"], f.get("cell") or 0, f["line"], f["column"], f["url"] or "", f["group"])


def dumps(f):
    return json.dumps(f, ensure_ascii=False, sort_keys=False)


def normalise(repo, report):
    out = []
    for raw in report.get("findings", []):
        f = {k: raw.get(k) for k in FIELDS[1:]}
        f = {"repo": repo, **f}
        if raw.get("cell") is not None:
            f["cell"] = raw["cell"]
        out.append(f)
    return out


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(dumps(r) + "\n")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def loc(f):
    cell = f"[cell {f['cell']}]" if f.get("cell") is not None else ""
    return f"{f['path']}{cell}:{f['line']}:{f['column']}"


def short(f):
    extra = []
    if f.get("tokenized"):
        extra.append("tokenized")
    if f.get("env_var"):
        extra.append(f"env={f['env_var']}")
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"{loc(f)}  {f['group']:<15} {f['url']}{tail}"


class Review:
    """REVIEWED.jsonl, read back.

    right / wrong verdicts are keyed by repo + path + line + column + url. A right verdict may carry
    expected_group / expected_url (the address is real but should resolve differently), fold (a
    definition that is used elsewhere: the rules report it at the use sites instead) and gate: false
    (a real address that nothing sends, e.g. a test expectation, which must not fail `check`).
    Misses are keyed by repo + path and matched to a finding within one line. A miss that the scanner
    now reports at another place (the helper or URL builder that produces the address, where the rules
    put the finding) carries found_at ("path:line:column") and found_by; it counts as found while a
    finding is reported there. A miss with lost_by was reported by an earlier scanner. A right verdict
    with not_reported_by is a finding the scanner rightly stopped reporting (nothing sends it).
    """

    def __init__(self):
        self.judged = {}
        self.by_loc = defaultdict(list)
        self.missed = defaultdict(list)
        for r in read_jsonl(os.path.join(HERE, "REVIEWED.jsonl")):
            if r["verdict"] == "missed":
                self.missed[(r["repo"], r["path"])].append(r)
            else:
                self.judged[(r["repo"], r["path"], r["line"], r["column"], r["url"])] = r
                self.by_loc[(r["repo"], r["path"], r["line"], r["column"])].append(r)

    def entry(self, f):
        return self.judged.get((f["repo"], f["path"], f["line"], f["column"], f["url"]))

    def verdict(self, f):
        r = self.entry(f)
        return r["verdict"] if r else None

    def expected_at(self, f):
        """A reviewed right finding at the same place whose expectation this finding meets."""
        for r in self.by_loc.get((f["repo"], f["path"], f["line"], f["column"]), []):
            if r["verdict"] != "right" or "expected_group" not in r:
                continue
            if r["expected_group"] == f["group"] and r.get("expected_url") in (None, f["url"]):
                return r
        return None

    @staticmethod
    def found_elsewhere(m, locs):
        """The miss m is reported at its found_at place ("path:line:column") among locs."""
        at = m.get("found_at")
        if not at:
            return False
        path, line, column = at.rsplit(":", 2)
        return (m["repo"], path, int(line), int(column)) in locs

    def miss_at(self, f):
        for m in self.missed.get((f["repo"], f["path"]), []):
            if abs(m["line"] - f["line"]) <= 1:
                return m
        return None

    def note(self, f, removed=False):
        r = self.entry(f)
        if r:
            if removed and r.get("fold"):
                return "[reviewed right; a used definition, may fold into its use sites]"
            if removed and r["verdict"] == "right" and "expected_group" in r:
                return f"[reviewed right, expected {r['expected_group']}]"
            if not removed and r["verdict"] == "right" and "expected_group" in r and r["expected_group"] != f["group"]:
                return f"[reviewed right, expected {r['expected_group']}]"
            if r.get("gate") is False:
                return "[reviewed right; nothing is sent to it, must not fail the gate]"
            return f"[reviewed {r['verdict']}]"
        if self.expected_at(f):
            return "[meets the reviewed expectation]"
        if self.miss_at(f):
            return "[at a reviewed miss]"
        return "[not reviewed]"


def summary(rows, review, present=None):
    """Precision of `rows` against the review, and how many reviewed misses are still missing."""
    counts = Counter()
    for f in rows:
        v = review.verdict(f)
        if v:
            counts[v] += 1
        elif review.expected_at(f):
            counts["right"] += 1
        elif review.miss_at(f):
            counts["fixes-miss"] += 1
        else:
            counts["unreviewed"] += 1
    found = {(f["repo"], f["path"], f["line"]) for f in rows}
    locs = {(f["repo"], f["path"], f["line"], f["column"]) for f in rows}
    still = still_lost = total = elsewhere = 0
    lost_places = set()
    for (repo, _path), ms in review.missed.items():
        if present is not None and repo not in present:
            continue
        for m in ms:
            total += 1
            if m.get("lost_by"):
                lost_places.add((repo, m["path"], m["line"]))
            if any((repo, m["path"], line) in found for line in (m["line"] - 1, m["line"], m["line"] + 1)):
                continue
            if review.found_elsewhere(m, locs):
                elsewhere += 1
                continue
            still += 1
            if m.get("lost_by"):
                still_lost += 1
    right, wrong = counts["right"], counts["wrong"]
    prec = f"{right / (right + wrong):.3f}" if right + wrong else "n/a"
    print(
        f"review: {right} right, {wrong} wrong (precision {prec} on reviewed findings), "
        f"{counts['unreviewed']} not reviewed, {counts['fixes-miss']} at reviewed misses; "
        f"misses still missing: {still} of {total}"
        + (f" ({still_lost} of them reported by an earlier scanner)" if still_lost else "")
        + (f"; {elsewhere} found at the place that builds the address" if elsewhere else "")
    )
    reviewed_keys = {(f["repo"], f["path"], f["line"], f["column"], f["url"]) for f in rows}
    gone_right = [
        r for k, r in review.judged.items()
        if r["verdict"] == "right" and k not in reviewed_keys and not r.get("fold")
        and not r.get("not_reported_by")
        and (r["repo"], r["path"], r["line"]) not in lost_places
        and (r["repo"], r["path"], r["line"], r["column"]) not in locs
        and (present is None or r["repo"] in present)
    ]
    if gone_right:
        print(f"  {len(gone_right)} reviewed-right findings (not used definitions) are no longer reported at their place")


def collect(workdir):
    present = [slug(n) for n in read_lines(os.path.join(workdir, "present.txt"))]
    absent = [slug(n) for n in read_lines(os.path.join(workdir, "absent.txt"))]
    current, checks = [], []
    for repo in present:
        name = repo.replace("/", "+", 1)
        with open(os.path.join(workdir, f"{name}.json"), encoding="utf-8") as fh:
            current.extend(normalise(repo, json.load(fh)))
        code = read_lines(os.path.join(workdir, f"{name}.check"))
        checks.append({"repo": repo, "check": int(code[0]) if code else None})
    current.sort(key=sort_key)
    write_jsonl(os.path.join(HERE, "current.jsonl"), current)
    write_jsonl(os.path.join(HERE, "current-checks.jsonl"), checks)

    present_set = set(present)
    snapshot = [f for f in read_jsonl(os.path.join(HERE, "snapshot.jsonl")) if f["repo"] in present_set]
    snap_checks = {c["repo"]: c["check"] for c in read_jsonl(os.path.join(HERE, "snapshot-checks.jsonl"))}
    verdicts = {v["repo"]: v for v in read_jsonl(os.path.join(HERE, "VERDICTS.jsonl"))}
    review = Review()

    cur_lines = Counter(dumps(f) for f in current)
    snap_lines = Counter(dumps(f) for f in snapshot)
    by_key = lambda line: sort_key(json.loads(line))
    added = sorted((cur_lines - snap_lines).elements(), key=by_key)
    removed = sorted((snap_lines - cur_lines).elements(), key=by_key)

    by_repo_cur = Counter(f["repo"] for f in current)
    by_repo_snap = Counter(f["repo"] for f in snapshot)
    groups = defaultdict(Counter)
    for f in current:
        groups[f["repo"]][f["group"]] += 1

    print(f"{'repository':<52} {'snap':>5} {'now':>5}  check now/snap/expected  groups now")
    check_changed = False
    for c in checks:
        repo = c["repo"]
        snap_code = snap_checks.get(repo)
        exp = verdicts.get(repo, {}).get("expected_check")
        flag = ""
        if snap_code is not None and snap_code != c["check"]:
            flag += "  CHECK CHANGED"
            check_changed = True
        if exp is not None and exp != c["check"]:
            flag += "  (gate verdict wrong)"
        g = ", ".join(f"{k} {n}" for k, n in sorted(groups[repo].items()))
        print(
            f"{repo:<52} {by_repo_snap[repo]:>5} {by_repo_cur[repo]:>5}  "
            f"{c['check']}/{'-' if snap_code is None else snap_code}/{'-' if exp is None else exp}"
            f"{'':<14}{g}{flag}"
        )
    for repo in absent:
        print(f"{repo:<52} not fetched")
    if not present:
        print("no repository is fetched: run bench/ecosystem/fetch.sh or set ECO_SRC (see README.md)")

    def show(title, lines):
        if not lines:
            return
        print(f"\n{title} ({len(lines)}):")
        for line in lines:
            f = json.loads(line)
            print(f"  {f['repo']}  {short(f)}  {review.note(f, removed=title == 'removed')}")

    show("added", added)
    show("removed", removed)
    print()
    summary(current, review, present_set)
    wrong_gates = [
        c["repo"] for c in checks
        if verdicts.get(c["repo"], {}).get("expected_check") not in (None, c["check"])
    ]
    print(f"gate verdicts that differ from VERDICTS.jsonl: {len(wrong_gates)}"
          + (f" ({', '.join(wrong_gates)})" if wrong_gates else ""))
    if added or removed or check_changed:
        print(f"\nDIFFERENCE from the snapshot: {len(added)} added, {len(removed)} removed"
              + (", check exit codes changed" if check_changed else ""))
        return 1
    print("\nno difference from the snapshot")
    return 0


def keep_absent(absent_file):
    absent = {slug(n) for n in read_lines(absent_file)}
    cur = read_jsonl(os.path.join(HERE, "current.jsonl"))
    old = [f for f in read_jsonl(os.path.join(HERE, "snapshot.jsonl")) if f["repo"] in absent]
    write_jsonl(os.path.join(HERE, "snapshot.jsonl"), sorted(cur + old, key=sort_key))
    cur = read_jsonl(os.path.join(HERE, "current-checks.jsonl"))
    old = [c for c in read_jsonl(os.path.join(HERE, "snapshot-checks.jsonl")) if c["repo"] in absent]
    write_jsonl(os.path.join(HERE, "snapshot-checks.jsonl"), sorted(cur + old, key=lambda c: c["repo"]))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "collect" and len(argv) == 3:
        return collect(argv[2])
    if len(argv) == 3 and argv[1] == "keep-absent":
        return keep_absent(argv[2])
    if len(argv) >= 2 and argv[1] == "review":
        path = argv[2] if len(argv) > 2 else os.path.join(HERE, "current.jsonl")
        summary(read_jsonl(path), Review())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
