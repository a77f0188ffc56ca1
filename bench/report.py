#!/usr/bin/env python3
"""Turn the raw timings bench/run.sh left in WORK into bench/results/ and BENCHMARKS.md.

Usage: report.py --work WORK --corpus CORPUS --results bench/results --out BENCHMARKS.md

Reads WORK/{NAME.hf.json (hyperfine), NAME.time (/usr/bin/time -v), machine.env, accuracy.json,
outside.json, scaling.tsv, semgrep.json}, CORPUS/MANIFEST.json and, when present, criterion's
target/criterion/*/*/new/estimates.json. Writes RESULTS/summary.json, RESULTS/scaling.csv and OUT.
Standard library only.
"""
import argparse
import csv
import glob
import json
import os
import re
import sys

TARGETS = {
    "rg_ratio": 1.0,  # access-audit wall / rg wall <= 1.0
    "semgrep_ratio": 50.0,  # semgrep wall / access-audit wall >= 50
    "rss_mb": 100.0,  # peak RSS <= 100 MB
    "scale_4x": 4.4,  # t(4x) / t(1x) <= 4.4
    "small_ms": 50.0,  # fixtures/audit-demo < 50 ms
    # issue 15, "speed at the parse floor"
    "floor_py": 1.0,  # dense Python wall / ruff check --select S,E,F wall <= 1.0
    "floor_rs": 1.3,  # dense Rust wall / bare syn::parse_file pass wall <= 1.3
    "rg_url_ratio": 1.0,  # whole corpus wall / rg with a ComfyUI URL regex wall <= 1.0
    "startup_ms": 20.0,  # start-up and a small repository < 20 ms
}

# Parse-floor rows: (corpus part, access-audit run, peer run, peer label, target key).
FLOOR_ROWS = [
    ("python-stdlib", "floor-python-stdlib-access-audit", "floor-python-stdlib-ruff",
     "`ruff check --no-cache --select S,E,F`", "floor_py"),
    ("generated/python", "floor-generated-python-access-audit", "floor-generated-python-ruff",
     "`ruff check --no-cache --select S,E,F`", "floor_py"),
    ("rust-vendor", "floor-rust-vendor-access-audit", "floor-rust-vendor-syn",
     "bare `syn::parse_file` (bench/syn-floor)", "floor_rs"),
    ("generated/rust", "floor-generated-rust-access-audit", "floor-generated-rust-syn",
     "bare `syn::parse_file` (bench/syn-floor)", "floor_rs"),
]


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def hyperfine(work, name):
    d = load_json(os.path.join(work, f"{name}.hf.json"))
    if not d:
        return None
    r = d["results"][0]
    return {
        "mean_s": r["mean"],
        "stddev_s": r.get("stddev") or 0.0,
        "min_s": r["min"],
        "max_s": r["max"],
        "runs": len(r.get("times", [])),
        "user_s": r.get("user"),
        "system_s": r.get("system"),
        "command": r["command"],
    }


def gnu_time(work, name):
    """Peak RSS (MB) and user+sys CPU (s) from a `/usr/bin/time -v` file."""
    try:
        text = open(os.path.join(work, f"{name}.time"), encoding="utf-8").read()
    except OSError:
        return None

    def field(label):
        m = re.search(rf"{re.escape(label)}: *([0-9.]+)", text)
        return float(m.group(1)) if m else None

    rss_kb = field("Maximum resident set size (kbytes)")
    user, system = field("User time (seconds)"), field("System time (seconds)")
    cpu = field("Percent of CPU this job got")
    return {
        "rss_mb": rss_kb / 1024 if rss_kb is not None else None,
        "user_s": user,
        "system_s": system,
        "cpu_s": (user or 0) + (system or 0),
        "cpu_percent": cpu,
    }


def machine(work):
    env = {}
    try:
        for line in open(os.path.join(work, "machine.env"), encoding="utf-8"):
            k, _, v = line.rstrip("\n").partition("=")
            env[k] = v
    except OSError:
        pass
    return env


def fmt_s(s):
    if s is None:
        return "–"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt(x, spec, none="–"):
    return none if x is None else format(x, spec)


def met(ok):
    return "**met**" if ok else "**not met**"


def criterion_results(root):
    rows = []
    for est in sorted(glob.glob(os.path.join(root, "target/criterion/*/*/new/estimates.json"))):
        d = load_json(est)
        bench = load_json(os.path.join(os.path.dirname(est), "benchmark.json")) or {}
        if not d:
            continue
        group = bench.get("group_id") or est.split(os.sep)[-4]
        ident = bench.get("function_id") or bench.get("value_str") or est.split(os.sep)[-3]
        tp = bench.get("throughput") or {}
        mean_ns = d["mean"]["point_estimate"]
        mbs = None
        if "Bytes" in tp:
            mbs = tp["Bytes"] / (mean_ns / 1e9) / 1e6
        rows.append((group, ident, mean_ns, mbs))
    return rows


def fmt_ns(ns):
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns / 1e6:.2f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    W = a.work
    manifest = load_json(os.path.join(a.corpus, "MANIFEST.json")) or {}
    totals = manifest.get("totals", {})
    files, nbytes = totals.get("files", 0), totals.get("bytes", 0)
    m = machine(W)

    tools = {}
    for name in ("access-audit", "rg", "rg-url", "semgrep"):
        h = hyperfine(W, name)
        if not h:
            continue
        t = gnu_time(W, name) or {}
        tools[name] = {**h, **{f"time_{k}": v for k, v in t.items()},
                       "files_per_s": files / h["mean_s"], "mb_per_s": nbytes / 1e6 / h["mean_s"]}
    aa = tools.get("access-audit")
    rg = tools.get("rg")
    sg = tools.get("semgrep")
    ratio_rg = aa["mean_s"] / rg["mean_s"] if aa and rg else None
    ratio_sg = sg["mean_s"] / aa["mean_s"] if aa and sg else None

    acc = load_json(os.path.join(W, "accuracy.json"))
    outside = load_json(os.path.join(W, "outside.json")) or {}
    prefilter = load_json(os.path.join(W, "prefilter.json")) or {}
    sgout = load_json(os.path.join(W, "semgrep.json"))
    sg_scanned = len(sgout.get("paths", {}).get("scanned", [])) if sgout else None
    small = hyperfine(W, "small")
    startup = hyperfine(W, "startup")
    ratio_rg_url = aa["mean_s"] / tools["rg-url"]["mean_s"] if aa and "rg-url" in tools else None

    floor = []
    for part, mine, peer, label, key in FLOOR_ROWS:
        ha, hp = hyperfine(W, mine), hyperfine(W, peer)
        if not ha or not hp:
            continue
        ta, tp = gnu_time(W, mine) or {}, gnu_time(W, peer) or {}
        floor.append({"part": part, "peer": label, "target": TARGETS[key],
                      "access_audit_s": ha["mean_s"], "access_audit_sd": ha["stddev_s"],
                      "access_audit_cpu_s": ta.get("cpu_s"), "access_audit_rss_mb": ta.get("rss_mb"),
                      "peer_s": hp["mean_s"], "peer_sd": hp["stddev_s"],
                      "peer_cpu_s": tp.get("cpu_s"), "peer_rss_mb": tp.get("rss_mb"),
                      "ratio": ha["mean_s"] / hp["mean_s"]})

    # scaling
    scaling = []
    try:
        rows = [l.split("\t") for l in open(os.path.join(W, "scaling.tsv"), encoding="utf-8") if l.strip()]
    except OSError:
        rows = []
    for k, f, b in rows:
        k = int(k)
        pa = hyperfine(W, f"scale-{k}x-access-audit")
        pr = hyperfine(W, f"scale-{k}x-rg")
        ta = gnu_time(W, f"scale-{k}x-access-audit") or {}
        tr = gnu_time(W, f"scale-{k}x-rg") or {}
        scaling.append({
            "factor": k, "files": int(f), "bytes": int(b),
            "access_audit_s": pa["mean_s"] if pa else None,
            "access_audit_sd": pa["stddev_s"] if pa else None,
            "access_audit_rss_mb": ta.get("rss_mb"),
            "rg_s": pr["mean_s"] if pr else None,
            "rg_sd": pr["stddev_s"] if pr else None,
            "rg_rss_mb": tr.get("rss_mb"),
        })
    os.makedirs(a.results, exist_ok=True)
    if scaling:
        with open(os.path.join(a.results, "scaling.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(scaling[0].keys()), lineterminator="\n")
            w.writeheader()
            for r in scaling:
                w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    by_k = {r["factor"]: r for r in scaling}
    scale4 = None
    if 1 in by_k and 4 in by_k and by_k[1]["access_audit_s"] and by_k[4]["access_audit_s"]:
        scale4 = by_k[4]["access_audit_s"] / by_k[1]["access_audit_s"]
    scale4_rg = None
    if 1 in by_k and 4 in by_k and by_k[1]["rg_s"] and by_k[4]["rg_s"]:
        scale4_rg = by_k[4]["rg_s"] / by_k[1]["rg_s"]
    rss_all = [r["access_audit_rss_mb"] for r in scaling if r["access_audit_rss_mb"] is not None]

    summary = {
        "date": m.get("date"), "machine": m, "corpus": {"files": files, "bytes": nbytes,
                                                         "generator": manifest.get("generator")},
        "tools": tools, "ratio_access_audit_over_rg": ratio_rg,
        "ratio_semgrep_over_access_audit": ratio_sg, "semgrep_files_scanned": sg_scanned,
        "accuracy": acc, "outside_generated": outside, "prefilter": prefilter, "scaling": scaling,
        "scaling_4x_over_1x": scale4, "scaling_4x_over_1x_rg": scale4_rg, "small_repo": small,
        "startup": startup, "ratio_access_audit_over_rg_url": ratio_rg_url, "parse_floor": floor,
    }
    with open(os.path.join(a.results, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
        f.write("\n")

    # ---- BENCHMARKS.md ----
    L = []
    add = L.append
    add("# Benchmarks")
    add("")
    add(f"Latest run of [`bench/run.sh`](bench/run.sh) ({m.get('date', '?')}). Rerun with `bash bench/run.sh`; "
        "raw summaries in [`bench/results/`](bench/results/) (`summary.json`, `scaling.csv`, `scaling.svg`, hyperfine exports).")
    add("")
    add("## Machine")
    add("")
    add(f"- {m.get('nproc', '?')} cores: {m.get('cpu', '?')}; {m.get('ram_gib', '?')} GiB RAM; {m.get('os', '?')}")
    add(f"- {m.get('rustc', '?')}; {m.get('access_audit', '?')} (release profile of Cargo.toml, git {m.get('git', '?')}); "
        f"{m.get('hyperfine', '?')}; {m.get('rg', '?')}; semgrep {m.get('semgrep', 'none')}; {m.get('python', '?')}")
    add(f"- load average (1/5/15 min) before: {m.get('load_before', '?')}, after: {m.get('load_after', '?')}"
        + (f"; {m.get('busy_procs_at_end')} compiler processes (concurrent cargo builds) running at the end"
           if m.get("busy_procs_at_end", "0") not in ("", "0") else ""))
    add("")
    add("## Corpus")
    add("")
    gen = manifest.get("generator", {})
    parts = manifest.get("parts", {})
    add(f"`../shared/bench/make-corpus.sh` (seed {gen.get('seed')}, PY_FILES={gen.get('py_files')}, "
        f"RS_FILES={gen.get('rs_files')}): **{files:,} files, {nbytes / 1e6:.1f} MB** of .py/.rs "
        f"(MB = 10⁶ bytes)")
    add("")
    add("| part | files | MB |")
    add("|---|---:|---:|")
    for name, p in parts.items():
        add(f"| {name} | {p['files']:,} | {p['bytes'] / 1e6:.1f} |")
    add("")
    add("Every tool gets the same file set: `.py`/`.rs` only, no ignore files, hidden files included, the "
        "directories access-audit never enters (`venv`, `target`, `site-packages`, …) left out, files over "
        "2 MiB skipped (access-audit's default `--max-file-size`). "
        f"access-audit scanned {outside.get('files_scanned', '?')} files"
        + (f", semgrep {sg_scanned}" if sg_scanned is not None else "")
        + f"; files/s and MB/s below use the corpus totals ({files:,} files). Page cache warm (1 warm-up run).")
    add("")
    add("## Whole corpus")
    add("")
    add("| tool | wall (mean ± sd) | runs | user+sys CPU | peak RSS | files/s | MB/s | wall vs access-audit |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|")
    cmds = {}
    for name, t in tools.items():
        rel = t["mean_s"] / aa["mean_s"] if aa else None
        cpu = t.get("time_cpu_s")
        add(f"| {name} | {fmt_s(t['mean_s'])} ± {fmt_s(t['stddev_s'])} | {t['runs']} | "
            f"{fmt(cpu, '.2f')} s | {fmt(t.get('time_rss_mb'), '.1f')} MB | {t['files_per_s']:,.0f} | "
            f"{t['mb_per_s']:.1f} | {fmt(rel, '.2f')}× |")
        cmds[name] = t["command"]
    add("")
    if ratio_rg is not None:
        add(f"- access-audit / rg wall time: **{ratio_rg:.2f}×**")
    if ratio_rg_url is not None:
        add(f"- access-audit / rg-url (a ComfyUI URL regex: `{m.get('rg_url_regex', '?')}`, any case) "
            f"wall time: **{ratio_rg_url:.2f}×**")
    if ratio_sg is not None:
        add(f"- semgrep / access-audit wall time: **{ratio_sg:.1f}×**")
    add("- CPU time and peak RSS: one extra run under `/usr/bin/time -v` (for semgrep: the largest single "
        "process; it forks workers).")
    add("")
    add("<details><summary>Commands</summary>")
    add("")
    for name, c in cmds.items():
        add(f"- {name}: `{c.replace(a.corpus, 'CORPUS')}`")
    add("")
    add("</details>")
    add("")
    add("## Accuracy (generated/ against EXPECTED-FINDINGS.jsonl)")
    add("")
    if acc:
        add(f"`python3 bench/accuracy.py CORPUS/EXPECTED-FINDINGS.jsonl report.json --prefix generated/`: "
            f"expected {acc['expected']}, found {acc['found']}, matched {acc['matched']} → "
            f"**recall {acc['recall']:.4f}, precision {acc['precision']:.4f}**")
    else:
        add("accuracy.py did not run")
    add("")
    n_out = outside.get("outside_generated")
    add(f"Findings outside generated/ (CPython stdlib, vendored crates; every one is a false positive): **{n_out}**")
    if prefilter:
        add("")
        add(f"Prefilter check (the same scan with `ACCESS_AUDIT_NO_PREFILTER=1`, every file parsed): "
            f"{prefilter.get('with_prefilter')} findings with the prefilter, {prefilter.get('without_prefilter')} without, "
            f"**{prefilter.get('dropped_by_prefilter')} dropped by it**")
    if outside.get("outside_examples"):
        add("")
        for e in outside["outside_examples"]:
            add(f"- `{e}`")
    add("")
    add("## Scaling")
    add("")
    if scaling:
        add("Corpus copied 2× and 4× (plain copies in `copy1/`, `copy2/`, …, generated/ included).")
        add("")
        add("| corpus | files | MB | access-audit | peak RSS | rg | rg RSS |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for r in scaling:
            add(f"| {r['factor']}× | {r['files']:,} | {r['bytes'] / 1e6:.0f} | "
                f"{fmt_s(r['access_audit_s'])} ± {fmt_s(r['access_audit_sd'])} | {fmt(r['access_audit_rss_mb'], '.1f')} MB | "
                f"{fmt_s(r['rg_s'])} ± {fmt_s(r['rg_sd'])} | {fmt(r['rg_rss_mb'], '.1f')} MB |")
        add("")
        if scale4 is not None:
            add(f"4× / 1×: access-audit **{scale4:.2f}×**" + (f", rg {scale4_rg:.2f}×" if scale4_rg else ""))
            add("")
        add("![scan time against corpus size](bench/results/scaling.svg)")
    else:
        add("not measured (SCALING=0)")
    add("")
    add("## Small repository")
    add("")
    if small:
        add(f"`access-audit scan fixtures/audit-demo --format json -q`, process start-up included: "
            f"**{small['mean_s'] * 1000:.1f} ms ± {small['stddev_s'] * 1000:.1f} ms** "
            f"(min {small['min_s'] * 1000:.1f} ms, {small['runs']} runs)")
    if startup:
        add("")
        add(f"Start-up alone (`access-audit --version`): **{startup['mean_s'] * 1000:.1f} ms ± "
            f"{startup['stddev_s'] * 1000:.1f} ms** (min {startup['min_s'] * 1000:.1f} ms, {startup['runs']} runs)")
    add("")
    if floor:
        add("## Parse floor (every file parsed)")
        add("")
        add("`ACCESS_AUDIT_NO_PREFILTER=1 access-audit scan PART --format json -q` against the parser's own floor "
            "on the same files: ruff for Python (`--exit-zero --output-format concise`), a bare "
            "`syn::parse_file` pass with access-audit's syn/proc-macro2 features for Rust (one thread per "
            "core, like access-audit).")
        add("")
        add("| part | peer | peer wall | peer CPU | peer RSS | access-audit wall | CPU | RSS | wall ratio | target |")
        add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in floor:
            add(f"| {r['part']} | {r['peer']} | {fmt_s(r['peer_s'])} ± {fmt_s(r['peer_sd'])} | "
                f"{fmt(r['peer_cpu_s'], '.2f')} s | {fmt(r['peer_rss_mb'], '.1f')} MB | "
                f"{fmt_s(r['access_audit_s'])} ± {fmt_s(r['access_audit_sd'])} | "
                f"{fmt(r['access_audit_cpu_s'], '.2f')} s | {fmt(r['access_audit_rss_mb'], '.1f')} MB | "
                f"**{r['ratio']:.2f}×** | ≤ {r['target']:.1f}× |")
        add("")

    crit = criterion_results(os.getcwd())
    if crit:
        add("## Micro-benchmarks (`cargo bench --bench extract`, latest criterion results found in target/)")
        add("")
        add("| group | input | mean | throughput |")
        add("|---|---|---:|---:|")
        for g, i, ns, mbs in crit:
            add(f"| {g} | {i} | {fmt_ns(ns)} | {fmt(mbs, '.1f')}{' MB/s' if mbs else ''} |")
        add("")

    add("## Targets (issue 7)")
    add("")
    add("| target | measured | |")
    add("|---|---|---|")
    if ratio_rg is not None:
        add(f"| whole-corpus wall ≤ 1.0× ripgrep | {ratio_rg:.2f}× | {met(ratio_rg <= TARGETS['rg_ratio'])} |")
    else:
        add("| whole-corpus wall ≤ 1.0× ripgrep | rg not run | – |")
    if ratio_sg is not None:
        add(f"| ≥ 50× faster than semgrep | {ratio_sg:.1f}× | {met(ratio_sg >= TARGETS['semgrep_ratio'])} |")
    else:
        add("| ≥ 50× faster than semgrep | semgrep not run | – |")
    rss1 = aa.get("time_rss_mb") if aa else None
    if rss1 is not None:
        add(f"| peak RSS ≤ 100 MB | {rss1:.1f} MB | {met(rss1 <= TARGETS['rss_mb'])} |")
    if len(rss_all) >= 2:
        grow = ", ".join(f"{r['factor']}×: {r['access_audit_rss_mb']:.0f} MB" for r in scaling)
        add(f"| memory does not grow with corpus size (≤ 100 MB at 4×) | {grow} | "
            f"{met(max(rss_all) <= TARGETS['rss_mb'])} |")
    if scale4 is not None:
        add(f"| 4× corpus ≤ 4.4× time | {scale4:.2f}× | {met(scale4 <= TARGETS['scale_4x'])} |")
    if acc:
        add(f"| recall and precision 1.0 on generated/ | {acc['recall']:.4f} / {acc['precision']:.4f} | "
            f"{met(acc['recall'] == 1 and acc['precision'] == 1)} |")
    if small:
        add(f"| fixtures/audit-demo < 50 ms | {small['mean_s'] * 1000:.1f} ms | "
            f"{met(small['mean_s'] * 1000 < TARGETS['small_ms'])} |")
    add("")
    add("## Targets (issue 15, parse floor)")
    add("")
    add("| target | measured | |")
    add("|---|---|---|")
    for r in floor:
        add(f"| {r['part']} dense ≤ {r['target']:.1f}× {r['peer']} | {r['ratio']:.2f}× | "
            f"{met(r['ratio'] <= r['target'])} |")
    if ratio_rg_url is not None:
        add(f"| whole corpus ≤ 1.0× rg with a ComfyUI URL regex | {ratio_rg_url:.2f}× | "
            f"{met(ratio_rg_url <= TARGETS['rg_url_ratio'])} |")
    if len(rss_all) >= 2:
        add(f"| peak RSS ≤ 100 MB at 1× and 4× | {', '.join(f'{x:.0f} MB' for x in rss_all)} | "
            f"{met(max(rss_all) <= TARGETS['rss_mb'])} |")
    if startup and small:
        add(f"| start-up and a small repository < 20 ms | {startup['mean_s'] * 1000:.1f} ms / "
            f"{small['mean_s'] * 1000:.1f} ms | {met(max(startup['mean_s'], small['mean_s']) * 1000 < TARGETS['startup_ms'])} |")
    add("")
    notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(notes_path):
        add(open(notes_path, encoding="utf-8").read().rstrip())
        add("")
    # Dated sections written by hand ("## Parse floor (2026-12-01)") are kept, in their order.
    try:
        old = open(a.out, encoding="utf-8").read().split("\n")
    except OSError:
        old = []
    keep = False
    for line in old:
        if line.startswith("## "):
            keep = re.search(r"\(\d{4}-\d{2}-\d{2}\)\s*$", line) is not None
            if keep and L[-1] != "":
                add("")
        if keep:
            add(line)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(L))
    print(f"    wrote {a.out}, {a.results}/summary.json" + (f", {a.results}/scaling.csv" if scaling else ""))
    for line in L[L.index("## Targets (issue 7)") + 4:]:
        if not line.startswith("|"):
            break
        print("    " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
