//! `--changed-since REF`: which files changed since a git ref, asked of git itself (committed,
//! staged, unstaged and untracked changes). A ref that does not resolve — typically a shallow CI
//! clone — is an error that says how to fetch more history, never a silent full scan.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, Error> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| Error::Git(format!("cannot run git: {e} (is git installed?)")))
}

/// Absolute paths of the files changed since `reference` in the repository containing `dir`.
pub fn changed_since(dir: &Path, reference: &str) -> Result<HashSet<PathBuf>, Error> {
    let dir = if dir.is_file() {
        dir.parent().unwrap_or(Path::new("."))
    } else {
        dir
    };
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(Error::Git(format!(
            "--changed-since needs a git repository, and `{}` is not in one",
            dir.display()
        )));
    }
    let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim().to_string());
    let verify = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    )?;
    if !verify.status.success() {
        let shallow = git(&top, &["rev-parse", "--is-shallow-repository"])?;
        let is_shallow = String::from_utf8_lossy(&shallow.stdout).trim() == "true";
        let advice = if is_shallow {
            "this is a shallow clone: fetch more history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout) or fetch the ref (`git fetch origin main`)"
        } else {
            "check the name, or fetch it first (`git fetch origin <ref>`)"
        };
        return Err(Error::Git(format!(
            "--changed-since: git ref `{reference}` not found; {advice}"
        )));
    }
    let mut files = HashSet::new();
    for args in [
        vec!["diff", "--name-only", "-z", "--no-renames", reference, "--"],
        vec!["ls-files", "--others", "--exclude-standard", "-z"],
    ] {
        let out = git(&top, &args)?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let p = top.join(String::from_utf8_lossy(name).as_ref());
            files.insert(std::fs::canonicalize(&p).unwrap_or(p));
        }
    }
    Ok(files)
}
