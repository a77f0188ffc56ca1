#!/usr/bin/env bash
# bench/ecosystem/fetch.sh - check out every repository of repos.txt at its listed commit into
# $ECO_SRC/owner+name (outside this repository; nothing fetched is ever committed here).
#
#   bash bench/ecosystem/fetch.sh
#
# Environment (all optional):
#   ECO_SRC=<repo root>/../eco-src    destination, one directory per repository (owner+name)
#   ECO_MIRROR=                       a directory of existing git clones or bare mirrors, looked up as
#                                     $ECO_MIRROR/owner+name/repo, $ECO_MIRROR/owner+name.git or
#                                     $ECO_MIRROR/owner+name; when unset or missing, the repository is
#                                     cloned from https://github.com/owner/name
#   FORCE=1                           replace directories that already exist
#
# Each checkout is a plain tree (git archive of the commit), without a .git directory.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ECO_SRC="${ECO_SRC:-$ROOT/../eco-src}"
ECO_MIRROR="${ECO_MIRROR:-}"
mkdir -p "$ECO_SRC"

status=0
while read -r spec _; do
  [[ -z "$spec" || "$spec" == \#* ]] && continue
  repo="${spec%@*}"
  commit="${spec#*@}"
  name="${repo/\//+}"
  dest="$ECO_SRC/$name"
  if [[ -d "$dest" && "${FORCE:-0}" != 1 ]]; then
    echo "present   $repo"
    continue
  fi
  gitdir=""
  for cand in "$ECO_MIRROR/$name/repo" "$ECO_MIRROR/$name.git" "$ECO_MIRROR/$name"; do
    if [[ -n "$ECO_MIRROR" ]] && git --git-dir="$cand" rev-parse --verify -q "$commit^{commit}" > /dev/null 2>&1; then
      gitdir="$cand"; break
    fi
    if [[ -n "$ECO_MIRROR" && -d "$cand/.git" ]] && git -C "$cand" rev-parse --verify -q "$commit^{commit}" > /dev/null 2>&1; then
      gitdir="$cand/.git"; break
    fi
  done
  tmp=""
  if [[ -z "$gitdir" ]]; then
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/access-audit-fetch.XXXXXX")"
    if ! git clone --quiet --bare --filter=blob:none "https://github.com/$repo" "$tmp/repo.git"; then
      echo "FAILED    $repo (clone)" >&2; status=1; rm -rf "$tmp"; continue
    fi
    gitdir="$tmp/repo.git"
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  if git --git-dir="$gitdir" archive "$commit" | tar -x -C "$dest"; then
    echo "fetched   $repo@$commit"
  else
    echo "FAILED    $repo@$commit (archive)" >&2; status=1; rm -rf "$dest"
  fi
  [[ -n "$tmp" ]] && rm -rf "$tmp"
done < "$HERE/repos.txt"
exit "$status"
