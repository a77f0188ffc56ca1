#!/usr/bin/env bash
# bench/ecosystem/run.sh - scan the public ComfyUI clients listed in repos.txt and diff the findings
# against the reviewed snapshot (like ruff's ecosystem check). Run from anywhere.
#
#   bash bench/ecosystem/run.sh            # scan, write current.jsonl, diff against snapshot.jsonl
#   bash bench/ecosystem/run.sh --update   # same, then accept the result as the new snapshot
#
# Environment (all optional):
#   ECO_SRC=<repo root>/../eco-src                 where the snapshots are checked out, one directory
#                                                  per repository named owner+name (see fetch.sh)
#   ACCESS_AUDIT=<repo root>/target/release/access-audit   the binary to test
#   ECO_TIMEOUT=300                                seconds allowed per scan
#
# For every repository in repos.txt whose directory exists: `scan . --format json` and
# `check . --no-config` are run inside it (so paths are relative to that repository). Findings are
# normalised to {repo, path, line, column, group, url, tokenized, env_var} (+ cell for notebooks),
# sorted into current.jsonl; check exit codes go to current-checks.jsonl. Repositories that are not
# checked out are listed as "not fetched" and left out of the comparison.
#
# Exit status: 0 when the findings and check exit codes equal the snapshot, 1 when they differ (or a
# scan failed), 2 on a usage error.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ECO_SRC="${ECO_SRC:-$ROOT/../eco-src}"
ACCESS_AUDIT="${ACCESS_AUDIT:-$ROOT/target/release/access-audit}"
ECO_TIMEOUT="${ECO_TIMEOUT:-300}"

UPDATE=0
for arg in "$@"; do
  case "$arg" in
    --update) UPDATE=1 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [[ ! -x "$ACCESS_AUDIT" ]]; then
  echo "run.sh: no executable at $ACCESS_AUDIT (build with 'cargo build --release' or set ACCESS_AUDIT)" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "run.sh: python3 is required" >&2; exit 2; }
case "$ACCESS_AUDIT" in /*) ;; *) ACCESS_AUDIT="$PWD/$ACCESS_AUDIT" ;; esac

WORK="$(mktemp -d "${TMPDIR:-/tmp}/access-audit-eco.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
: > "$WORK/present.txt"
: > "$WORK/absent.txt"

failed=0
while read -r spec _; do
  [[ -z "$spec" || "$spec" == \#* ]] && continue
  repo="${spec%@*}"
  name="${repo/\//+}"
  dir="$ECO_SRC/$name"
  if [[ ! -d "$dir" ]]; then
    echo "$name" >> "$WORK/absent.txt"
    continue
  fi
  if ! (cd "$dir" && timeout "$ECO_TIMEOUT" "$ACCESS_AUDIT" scan . --format json > "$WORK/$name.json" 2> "$WORK/$name.err"); then
    echo "scan failed for $repo:" >&2
    sed 's/^/  /' "$WORK/$name.err" >&2
    failed=1
    continue
  fi
  (cd "$dir" && timeout "$ECO_TIMEOUT" "$ACCESS_AUDIT" check . --no-config > /dev/null 2>&1)
  echo "$?" > "$WORK/$name.check"
  echo "$name" >> "$WORK/present.txt"
done < "$HERE/repos.txt"

python3 "$HERE/eco.py" collect "$WORK"
status=$?
[[ $status -gt 1 ]] && exit "$status"

if [[ $UPDATE -eq 1 ]]; then
  if [[ -s "$WORK/absent.txt" ]]; then
    echo "run.sh --update: some repositories are not fetched; the snapshot keeps their old lines" >&2
    python3 "$HERE/eco.py" keep-absent "$WORK/absent.txt"
  else
    cp "$HERE/current.jsonl" "$HERE/snapshot.jsonl"
    cp "$HERE/current-checks.jsonl" "$HERE/snapshot-checks.jsonl"
  fi
  echo "snapshot updated"
  exit "$failed"
fi

if [[ $failed -ne 0 ]]; then exit 1; fi
exit "$status"
