#!/usr/bin/env bash
# bench/run.sh - the access-audit performance benchmark (issue 7). Run from anywhere; paths are
# relative to the repository root.
#
#   bash bench/run.sh
#
# Steps: release build -> corpus (../shared/bench/make-corpus.sh) -> tools (hyperfine, ripgrep, time,
# semgrep in a venv) -> wall time (hyperfine), CPU time and peak RSS (/usr/bin/time -v) of
# access-audit, ripgrep and semgrep over the same .py/.rs files -> accuracy on generated/ ->
# 1x/2x/4x scaling -> small-repo latency -> bench/results/ + BENCHMARKS.md.
#
# Environment knobs (all optional):
#   MAKE_CORPUS=../shared/bench/make-corpus.sh   corpus generator (relative to the repo root or absolute)
#   CORPUS=${TMPDIR:-/tmp}/access-audit-corpus   corpus directory (reused if its MANIFEST.json exists)
#   FORCE=1                                      rebuild the corpus (and the 2x/4x copies)
#   PY_FILES, RS_FILES, SEED, SKIP_VENDOR        passed to make-corpus.sh (see its header)
#   WORK=${TMPDIR:-/tmp}/access-audit-bench      scratch: reports, logs, raw timings
#   RUNS=5                                       hyperfine runs for access-audit / ripgrep (>= 5)
#   SEMGREP=auto|1|0|reuse                       auto: use semgrep if on PATH or installable in a venv;
#                                                reuse: keep the semgrep timing of the previous run in WORK
#   SEMGREP_RUNS=1                               semgrep runs (it takes minutes on 2 cores)
#   SEMGREP_VENV=${TMPDIR:-/tmp}/access-audit-semgrep-venv
#   SCALING=1                                    0 skips the 2x/4x corpora
#   SCALE_RUNS=5                                 hyperfine runs per scaling point
#   SKIP_BUILD=1                                 use the existing target/release/access-audit
#   FLOOR=1                                      0 skips the parse-floor peers (ruff, bare syn, rg URL regex)
#   FLOOR_RUNS=5                                 hyperfine runs per parse-floor command
#   RUFF_VENV=${TMPDIR:-/tmp}/access-audit-ruff-venv   ruff for the dense-Python peer (pip install ruff)
#
# Outputs: bench/results/{summary.json,scaling.csv,scaling.svg,hyperfine-*.json} and BENCHMARKS.md.
# The corpus and the full scan reports stay under ${TMPDIR:-/tmp}.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

TMPBASE="${TMPDIR:-/tmp}"
MAKE_CORPUS="${MAKE_CORPUS:-../shared/bench/make-corpus.sh}"
CORPUS="${CORPUS:-$TMPBASE/access-audit-corpus}"
WORK="${WORK:-$TMPBASE/access-audit-bench}"
FORCE="${FORCE:-0}"
RUNS="${RUNS:-5}"
SEMGREP="${SEMGREP:-auto}"
SEMGREP_RUNS="${SEMGREP_RUNS:-1}"
SEMGREP_VENV="${SEMGREP_VENV:-$TMPBASE/access-audit-semgrep-venv}"
SCALING="${SCALING:-1}"
SCALE_RUNS="${SCALE_RUNS:-5}"
SKIP_BUILD="${SKIP_BUILD:-0}"
FLOOR="${FLOOR:-1}"
FLOOR_RUNS="${FLOOR_RUNS:-5}"
RUFF_VENV="${RUFF_VENV:-$TMPBASE/access-audit-ruff-venv}"
RESULTS="bench/results"
BIN="$ROOT/target/release/access-audit"

T_START="$(date +%s)"
step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }

[ "$RUNS" -ge 5 ] 2>/dev/null || die "RUNS must be >= 5 (got $RUNS)"
mkdir -p "$WORK" "$RESULTS"
# semgrep never asks for a newer version (that network call takes minutes offline) and sends nothing.
export SEMGREP_ENABLE_VERSION_CHECK=0 SEMGREP_SEND_METRICS=off
for f in "$WORK"/*.time "$WORK"/*.hf.json "$WORK"/scaling.tsv; do
    case "$SEMGREP:$(basename "$f")" in reuse:semgrep.*) ;; *) rm -f "$f" ;; esac
done
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- 1. release build ------------------------------------------------------------------------------
step "1. cargo build --release"
if [ "$SKIP_BUILD" = 1 ] && [ -x "$BIN" ]; then
    note "SKIP_BUILD=1: using $BIN as it is"
else
    cargo build --release --locked >"$WORK/build.log" 2>&1 ||
        { tail -n 20 "$WORK/build.log" >&2; die "cargo build --release failed (SKIP_BUILD=1 times the existing binary)"; }
    tail -n 1 "$WORK/build.log" | sed 's/^ */    /'
fi
[ -x "$BIN" ] || die "no binary at $BIN"
# Time a private copy: other builds in the same target/ must not swap the binary mid-run.
cp "$BIN" "$WORK/access-audit"
BIN="$WORK/access-audit"
note "$("$BIN" --version) (timed as $BIN; git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' + uncommitted changes in src/'))"

# --- 2. corpus -------------------------------------------------------------------------------------
step "2. corpus in $CORPUS"
if [ -f "$CORPUS/MANIFEST.json" ] && [ "$FORCE" != 1 ]; then
    note "reusing the existing corpus (MANIFEST.json present; FORCE=1 rebuilds)"
else
    [ -f "$MAKE_CORPUS" ] || die "corpus generator not found: $MAKE_CORPUS (set MAKE_CORPUS)"
    note "building with $MAKE_CORPUS (PY_FILES=${PY_FILES:-default} RS_FILES=${RS_FILES:-default} SEED=${SEED:-default} SKIP_VENDOR=${SKIP_VENDOR:-0})"
    FORCE="$FORCE" bash "$MAKE_CORPUS" "$CORPUS" 2>&1 | sed 's/^/    /'
fi
[ -f "$CORPUS/MANIFEST.json" ] || die "corpus build did not produce $CORPUS/MANIFEST.json"
CORPUS="$(cd "$CORPUS" && pwd)"
read -r C_FILES C_BYTES < <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
print(t["files"], t["bytes"])' "$CORPUS/MANIFEST.json")
note "$C_FILES .py/.rs files, $C_BYTES bytes (MANIFEST.json)"

# --- 3. tools --------------------------------------------------------------------------------------
step "3. tools"
APT_UPDATED=0
apt_install() { # apt_install PACKAGE: best effort, returns non-zero if it could not be installed
    command -v apt-get >/dev/null || { note "apt-get not available"; return 1; }
    [ "$(id -u)" = 0 ] || { note "not root: cannot apt-get install $1"; return 1; }
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1; then
        if [ "$APT_UPDATED" = 0 ]; then
            note "apt-get update"
            apt-get update -qq >/dev/null 2>&1 || true
            APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 || return 1
    fi
}
ensure() { # ensure COMMAND PACKAGE
    if command -v "$1" >/dev/null; then
        note "$1: $(command -v "$1")"
    else
        note "$1 missing: apt-get install -y $2"
        apt_install "$2" || return 1
    fi
}
ensure hyperfine hyperfine || die "hyperfine is required (apt-get install hyperfine)"
HAVE_RG=1
ensure rg ripgrep || { HAVE_RG=0; note "ripgrep unavailable: the rg comparison is skipped"; }
HAVE_TIME=1
if [ ! -x /usr/bin/time ]; then
    note "/usr/bin/time missing: apt-get install -y time"
    apt_install time || { HAVE_TIME=0; note "GNU time unavailable: no peak RSS / CPU figures"; }
fi
# hyperfine >= 1.13 can run commands without a shell (-N): no shell start-up in the small-repo time.
HF_NOSHELL=()
if hyperfine --help 2>/dev/null | grep -q -- '--shell'; then
    hyperfine --help | grep -q -- '-N' && HF_NOSHELL=(-N)
fi

# pip_tool NAME VENV: prints the path of NAME (on PATH, in VENV, or pip-installed into a new VENV),
# nothing if it cannot be had.
pip_tool() {
    local name="$1" venv="$2"
    if command -v "$name" >/dev/null; then
        command -v "$name"
    elif [ -x "$venv/bin/$name" ]; then
        echo "$venv/bin/$name"
    else
        note "$name missing: python3 -m venv $venv && pip install $name" >&2
        if python3 -m venv "$venv" >/dev/null 2>&1 &&
            timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check "$name" 2>&1 | tail -n 2 | sed 's/^/    /' >&2 &&
            [ -x "$venv/bin/$name" ]; then
            echo "$venv/bin/$name"
        fi
    fi
}

SEMGREP_BIN=""
case "$SEMGREP" in
0) note "semgrep: skipped (SEMGREP=0)"; rm -f "$WORK"/semgrep.* ;;
reuse)
    if [ -f "$WORK/semgrep.hf.json" ]; then
        note "semgrep: reusing the timing of the previous run ($WORK/semgrep.*)"
    else
        note "semgrep: SEMGREP=reuse but no previous timing in $WORK: skipped"
    fi ;;
*)
    SEMGREP_BIN="$(pip_tool semgrep "$SEMGREP_VENV")"
    if [ -n "$SEMGREP_BIN" ]; then
        note "semgrep: $SEMGREP_BIN"
    elif [ "$SEMGREP" = 1 ]; then
        die "SEMGREP=1 but semgrep could not be installed"
    else
        note "semgrep could not be installed: the semgrep comparison is skipped"
    fi
    ;;
esac

# The parse-floor peers: ruff (dense Python) and a bare syn::parse_file pass (dense Rust).
RUFF_BIN=""
SYN_FLOOR=""
if [ "$FLOOR" != 0 ]; then
    RUFF_BIN="$(pip_tool ruff "$RUFF_VENV")"
    if [ -n "$RUFF_BIN" ]; then note "ruff: $RUFF_BIN ($("$RUFF_BIN" --version))"; else note "ruff unavailable: the dense-Python peer is skipped"; fi
    # Its own Cargo project (bench/syn-floor/), with the syn and proc-macro2 features of Cargo.toml.
    if cargo build --release --locked --manifest-path bench/syn-floor/Cargo.toml >"$WORK/syn-floor-build.log" 2>&1; then
        cp bench/syn-floor/target/release/syn-floor "$WORK/syn-floor"
        SYN_FLOOR="$WORK/syn-floor"
        note "syn floor: bench/syn-floor (syn $(grep -A1 '^name = "syn"' bench/syn-floor/Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p'))"
    else
        tail -n 5 "$WORK/syn-floor-build.log" | sed 's/^/    /'
        note "bench/syn-floor did not build: the dense-Rust floor is skipped"
    fi
fi

# --- 4./5. timings ---------------------------------------------------------------------------------
# Same file set for every tool: .py/.rs only, no ignore files, hidden files included, the
# directories access-audit never enters excluded, files over 2 MiB skipped (access-audit's default).
SKIP_DIRS=(.git .hg .svn node_modules target __pycache__ .venv venv .tox .nox .mypy_cache
    .pytest_cache .ruff_cache site-packages .eggs)
RG_GLOBS=()
for d in "${SKIP_DIRS[@]}"; do RG_GLOBS+=(-g "!$d/"); done
RG_REGEX='(https?|wss?)://[^\s"'"'"']+|:8188\b'
RG_OPTS=(-t py -t rust --no-ignore --hidden --no-messages --max-filesize 2M "${RG_GLOBS[@]}")
rg_cmd() { printf '%q ' rg "${RG_OPTS[@]}" -c "$RG_REGEX" "$1"; } # rg_cmd DIR
# What a grep for ComfyUI finds: its port, its name, its API routes (the rules' needles), any case.
RG_URL_REGEX='\b8188\b|comfy|/(prompt|history|view|ws|queue|object_info|upload/(image|mask)|system_stats|interrupt|free|embeddings)\b'
rg_url_cmd() { printf '%q ' rg "${RG_OPTS[@]}" -i -c "$RG_URL_REGEX" "$1"; } # rg_url_cmd DIR
# Every file parsed: no prefilter.
aa_dense_cmd() { printf '%q ' env ACCESS_AUDIT_NO_PREFILTER=1 "$BIN" scan "$1" --format json -q; }
ruff_cmd() { printf '%q ' "$RUFF_BIN" check --no-cache --select S,E,F --exit-zero --output-format concise "$1"; }
syn_cmd() { printf '%q ' "$SYN_FLOOR" "$1"; }
aa_cmd() { printf '%q ' "$BIN" scan "$1" --format json -q; }

# timed NAME RUNS WARMUP COMMAND: hyperfine (wall) + one /usr/bin/time -v run (CPU, peak RSS).
timed() {
    local name="$1" runs="$2" warmup="$3" cmd="$4"
    note "hyperfine ($runs runs, warmup $warmup): $cmd"
    hyperfine --style basic --warmup "$warmup" --runs "$runs" --export-json "$WORK/$name.hf.json" \
        "$cmd" 2>&1 | grep -E 'Time|Range' | sed 's/^ */    /'
    cp "$WORK/$name.hf.json" "$RESULTS/hyperfine-$name.json"
    if [ "$HAVE_TIME" = 1 ]; then
        /usr/bin/time -v -o "$WORK/$name.time" bash -c "$cmd >/dev/null 2>&1" || true
        note "/usr/bin/time -v: $(grep -E 'Maximum resident' "$WORK/$name.time" | sed 's/^\s*//')"
    fi
}

step "4. whole corpus: hyperfine + /usr/bin/time -v"
note "file set: .py/.rs, hidden included, no ignore files, skipped dirs: ${SKIP_DIRS[*]}, max 2 MiB"
timed access-audit "$RUNS" 1 "$(aa_cmd "$CORPUS")"
if [ "$HAVE_RG" = 1 ]; then
    note "rg sees $(rg "${RG_OPTS[@]}" --files "$CORPUS" | wc -l) files (rg --files with the same options)"
    timed rg "$RUNS" 1 "$(rg_cmd "$CORPUS")"
    [ "$FLOOR" != 0 ] && timed rg-url "$RUNS" 1 "$(rg_url_cmd "$CORPUS")"
fi
if [ -n "$SEMGREP_BIN" ] && [ "$SEMGREP" != reuse ]; then
    # Semgrep's built-in ignore list drops test/ and tests/ (most of CPython's stdlib) and vendor/:
    # an empty .semgrepignore at the corpus root (where semgrep runs) turns it off.
    : >"$CORPUS/.semgrepignore"
    SG_EXCLUDES=()
    for d in "${SKIP_DIRS[@]}"; do SG_EXCLUDES+=(--exclude "$d"); done
    SG_CMD="cd $(printf %q "$CORPUS") && $(printf '%q ' "$SEMGREP_BIN" scan --config "$ROOT/bench/semgrep-rules.yml" \
        --metrics=off --disable-version-check --no-git-ignore --max-target-bytes 2097152 \
        --jobs "$(nproc)" --json --quiet "${SG_EXCLUDES[@]}" --include '*.py' --include '*.rs' .)"
    note "semgrep $("$SEMGREP_BIN" --version 2>/dev/null | tail -n 1) ($SEMGREP_RUNS run(s), no warm-up: it is slow)"
    # Each run is wrapped in /usr/bin/time -v and keeps its JSON output, so no extra run is needed
    # for CPU time, peak RSS and the number of files semgrep scanned.
    SG_TIMED="$SG_CMD >$(printf %q "$WORK/semgrep.json") 2>$(printf %q "$WORK/semgrep.err")"
    if [ "$HAVE_TIME" = 1 ]; then
        SG_TIMED="/usr/bin/time -v -o $(printf %q "$WORK/semgrep.time") bash -c $(printf %q "$SG_TIMED")"
    fi
    note "hyperfine ($SEMGREP_RUNS runs, warmup 0): $SG_CMD"
    hyperfine --style basic -i --runs "$SEMGREP_RUNS" --export-json "$WORK/semgrep.hf.json" "$SG_TIMED" 2>&1 |
        grep -E 'Time|Range' | sed 's/^ */    /' || true
    if [ -f "$WORK/semgrep.hf.json" ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))["results"]' "$WORK/semgrep.json" 2>/dev/null; then
        cp "$WORK/semgrep.hf.json" "$RESULTS/hyperfine-semgrep.json"
        [ -f "$WORK/semgrep.time" ] &&
            note "/usr/bin/time -v: $(grep -E 'Maximum resident' "$WORK/semgrep.time" | sed 's/^\s*//') (largest process)"
        python3 - "$WORK/semgrep.json" <<'PY' | sed 's/^/    /' || true
import json, sys
d = json.load(open(sys.argv[1]))
print(f"semgrep: {len(d.get('paths', {}).get('scanned', []))} files scanned, "
      f"{len(d.get('results', []))} results, {len(d.get('errors', []))} errors")
PY
    else
        note "semgrep failed (see $WORK/semgrep.err): skipped"
        tail -n 5 "$WORK/semgrep.err" 2>/dev/null | sed 's/^/    /'
        rm -f "$WORK/semgrep.time" "$WORK/semgrep.hf.json"
    fi
    rm -f "$CORPUS/.semgrepignore"
fi

# --- 5. parse floor -------------------------------------------------------------------------------
# Dense runs (every file parsed) against the parsers' own floor: ruff on the Python parts, a bare
# syn::parse_file pass on the Rust parts.
step "5. parse floor: every file parsed, against ruff and a bare syn pass"
if [ "$FLOOR" = 0 ]; then
    note "skipped (FLOOR=0)"
else
    for part in python-stdlib generated/python rust-vendor generated/rust; do
        name="floor-${part//\//-}"
        timed "$name-access-audit" "$FLOOR_RUNS" 1 "$(aa_dense_cmd "$CORPUS/$part")"
        case "$part" in
        *python*) [ -n "$RUFF_BIN" ] && timed "$name-ruff" "$FLOOR_RUNS" 1 "$(ruff_cmd "$CORPUS/$part")" ;;
        *) [ -n "$SYN_FLOOR" ] && timed "$name-syn" "$FLOOR_RUNS" 1 "$(syn_cmd "$CORPUS/$part")" ;;
        esac
    done
    note "start-up: $BIN --version"
    hyperfine --style basic "${HF_NOSHELL[@]}" --warmup 5 --runs 50 --export-json "$WORK/startup.hf.json" \
        "$(printf '%q ' "$BIN" --version)" 2>&1 | grep -E 'Time|Range' | sed 's/^ */    /'
fi

# --- 7. accuracy -----------------------------------------------------------------------------------
step "7. accuracy on generated/ (bench/accuracy.py)"
"$BIN" scan "$CORPUS" --format json -q >"$WORK/report.json"
set +e
python3 bench/accuracy.py "$CORPUS/EXPECTED-FINDINGS.jsonl" "$WORK/report.json" --prefix generated/ \
    >"$WORK/accuracy.json" 2>"$WORK/accuracy.err"
set -e
sed 's/^/    /' "$WORK/accuracy.json"
head -n 20 "$WORK/accuracy.err" | sed 's/^/    /'
python3 - "$WORK/report.json" >"$WORK/outside.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
out = [f for f in r["findings"] if not f["path"].startswith("generated/")]
print(json.dumps({
    "files_scanned": r["summary"]["files_scanned"],
    "findings": len(r["findings"]),
    "diagnostics": len(r["diagnostics"]),
    "outside_generated": len(out),
    "outside_examples": [f'{f["path"]}:{f["line"]} {f["group"]} {f.get("url")}' for f in out[:20]],
}))
EOF
python3 - "$WORK/outside.json" <<'EOF' | sed 's/^/    /'
import json, sys
o = json.load(open(sys.argv[1]))
print(f'{o["files_scanned"]} files scanned, {o["findings"]} findings, {o["diagnostics"]} diagnostics')
print(f'findings outside generated/ (false positives on stdlib / vendored crates): {o["outside_generated"]}')
for e in o["outside_examples"]:
    print("  " + e)
EOF

# The prefilter must never drop a file the full pipeline would report: same findings without it.
ACCESS_AUDIT_NO_PREFILTER=1 "$BIN" scan "$CORPUS" --format json -q -o "$WORK/report-unfiltered.json"
python3 - "$WORK/report.json" "$WORK/report-unfiltered.json" >"$WORK/prefilter.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["findings"]
b = json.load(open(sys.argv[2]))["findings"]
key = lambda f: (f["path"], f["line"], f["column"], f.get("url"), f["group"], f["tokenized"])
missing = sorted(set(map(key, b)) - set(map(key, a)))
print(json.dumps({"with_prefilter": len(a), "without_prefilter": len(b),
                  "dropped_by_prefilter": len(missing), "examples": [list(m) for m in missing[:10]]}))
EOF
python3 - "$WORK/prefilter.json" <<'EOF' | sed 's/^/    /'
import json, sys
p = json.load(open(sys.argv[1]))
print(f'prefilter check: {p["with_prefilter"]} findings with it, {p["without_prefilter"]} without, '
      f'{p["dropped_by_prefilter"]} dropped by it')
EOF
cp "$WORK/prefilter.json" "$RESULTS/prefilter.json"

# --- 8. scaling ------------------------------------------------------------------------------------
step "8. scaling: 1x / 2x / 4x"
: >"$WORK/scaling.tsv"
scale_point() { # scale_point FACTOR DIR
    local k="$1" dir="$2" f bytes
    read -r f bytes < <(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["files"], t["bytes"])' "$CORPUS/MANIFEST.json")
    f=$((f * k)); bytes=$((bytes * k))
    timed "scale-${k}x-access-audit" "$SCALE_RUNS" 1 "$(aa_cmd "$dir")"
    if [ "$HAVE_RG" = 1 ]; then timed "scale-${k}x-rg" "$SCALE_RUNS" 1 "$(rg_cmd "$dir")"; fi
    printf '%s\t%s\t%s\n' "$k" "$f" "$bytes" >>"$WORK/scaling.tsv"
}
if [ "$SCALING" = 0 ]; then
    note "skipped (SCALING=0)"
else
    scale_point 1 "$CORPUS"
    stamp="$(sha256sum "$CORPUS/MANIFEST.json" | cut -d' ' -f1)"
    for k in 2 4; do
        dir="${CORPUS}-${k}x"
        if [ -f "$dir/.scaled-from" ] && [ "$(cat "$dir/.scaled-from")" = "$stamp" ] && [ "$FORCE" != 1 ]; then
            note "reusing $dir"
        else
            note "building $dir ($k plain copies of python-stdlib/ rust-vendor/ generated/)"
            rm -rf -- "$dir"
            for i in $(seq 1 "$k"); do
                mkdir -p "$dir/copy$i"
                cp -r "$CORPUS/python-stdlib" "$CORPUS/rust-vendor" "$CORPUS/generated" "$dir/copy$i/"
            done
            echo "$stamp" >"$dir/.scaled-from"
        fi
        scale_point "$k" "$dir"
    done
fi

# --- 9. small repo ---------------------------------------------------------------------------------
step "9. small repo: fixtures/audit-demo (start-up included)"
note "hyperfine ${HF_NOSHELL[*]:-} (50 runs, warmup 5): $BIN scan fixtures/audit-demo --format json -q"
hyperfine --style basic "${HF_NOSHELL[@]}" --warmup 5 --runs 50 --export-json "$WORK/small.hf.json" \
    "$(printf '%q ' "$BIN" scan fixtures/audit-demo --format json -q)" 2>&1 | grep -E 'Time|Range' | sed 's/^ */    /'
cp "$WORK/small.hf.json" "$RESULTS/hyperfine-small.json"

# --- 6./10. summary, plot, BENCHMARKS.md -----------------------------------------------------------
step "6/10. ratios, bench/results/, BENCHMARKS.md"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
busy="$(ps -eo comm= | grep -cE '^(rustc|cargo|cc1|ld|clang)' || true)"
{
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "ram_gib=$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)"
    echo "os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), kernel $(uname -r)"
    echo "rustc=$(rustc --version 2>/dev/null || echo unknown)"
    echo "access_audit=$("$BIN" --version)"
    echo "hyperfine=$(hyperfine --version)"
    echo "rg=$([ "$HAVE_RG" = 1 ] && rg --version | head -n 1 || echo none)"
    sgv=none
    if [ -n "$SEMGREP_BIN" ]; then sgv="$("$SEMGREP_BIN" --version 2>/dev/null | tail -n 1)"
    elif [ -x "$SEMGREP_VENV/bin/semgrep" ] && [ -f "$WORK/semgrep.hf.json" ]; then
        sgv="$("$SEMGREP_VENV/bin/semgrep" --version 2>/dev/null | tail -n 1)"
    fi
    echo "semgrep=$sgv"
    echo "git=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' + uncommitted changes in src/')"
    echo "python=$(python3 --version 2>&1)"
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
    echo "load_before=$load_before"
    echo "load_after=$load_after"
    echo "busy_procs_at_end=$busy"
    echo "rg_regex=$RG_REGEX"
    echo "rg_url_regex=$RG_URL_REGEX"
    echo "ruff=$([ -n "$RUFF_BIN" ] && "$RUFF_BIN" --version || echo none)"
    echo "runs=$RUNS"
    echo "semgrep_runs=$SEMGREP_RUNS"
} >"$WORK/machine.env"
python3 bench/report.py --work "$WORK" --corpus "$CORPUS" --results "$RESULTS" --out BENCHMARKS.md
# The committed results name no machine paths.
python3 bench/scrub.py "CORPUS=$CORPUS" "WORK=$WORK" "SEMGREP_VENV=$SEMGREP_VENV" "RUFF_VENV=$RUFF_VENV" "REPO=$(pwd)" -- \
    BENCHMARKS.md "$RESULTS"/*.json
python3 bench/plot.py "$RESULTS/scaling.csv" "$RESULTS/scaling.svg" 2>/dev/null ||
    note "no scaling data: scaling.svg not written"
note "total script time: $(($(date +%s) - T_START)) s"
