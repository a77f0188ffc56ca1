//! `--changed-since REF`: which files changed since a git ref, asked of git itself (committed,
//! staged, unstaged and untracked changes). A ref that does not resolve — typically a shallow CI
//! clone — is an error that says how to fetch more history, never a silent full scan.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::Error;

/// A `git -C dir` command that runs nothing the repository configures: the scan promises not to
/// execute anything, and a repository's `.git/config` can name commands. The overrides switch
/// off the file-system monitor (`core.fsmonitor`), hooks, external diff and textconv drivers, and
/// every clean/smudge filter the config names (a worktree diff may run a clean filter); git takes
/// no optional locks and never prompts. The user's global and system config are kept: they hold
/// `safe.directory`, which CI checkouts need, and are the user's own.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_EXTERNAL_DIFF")
        .env_remove("GIT_PAGER")
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "core.untrackedCache=false",
            "-c",
            "diff.external=",
            "-c",
            "core.pager=cat",
        ]);
    for name in filter_drivers(dir) {
        for key in ["clean", "smudge", "process"] {
            cmd.arg("-c").arg(format!("filter.{name}.{key}="));
        }
        cmd.arg("-c").arg(format!("filter.{name}.required=false"));
    }
    cmd.arg("-C").arg(dir);
    cmd
}

/// The names of the filter drivers configured for `dir` (`filter.<name>.clean` …). Reading the
/// config runs nothing.
fn filter_drivers(dir: &Path) -> Vec<String> {
    let Ok(out) = Command::new("git")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .arg("-C")
        .arg(dir)
        .args([
            "config",
            "--null",
            "--get-regexp",
            r"^filter\..*\.(clean|smudge|process)$",
        ])
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    let mut names: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let key = String::from_utf8_lossy(entry.split(|b| *b == b'\n').next()?).into_owned();
            let rest = key.strip_prefix("filter.")?;
            let (name, _) = rest.rsplit_once('.')?;
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, Error> {
    command(dir).args(args).output().map_err(|e| Error::Git {
        message: format!("cannot run git: {e} (is git installed?)"),
        source: Some(e.into()),
    })
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
        return Err(Error::git(format!(
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
        return Err(Error::git(format!(
            "--changed-since: git ref `{reference}` not found; {advice}"
        )));
    }
    let mut files = HashSet::new();
    for args in [
        vec![
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--no-ext-diff",
            "--no-textconv",
            reference,
            "--",
        ],
        vec!["ls-files", "--others", "--exclude-standard", "-z"],
    ] {
        let out = git(&top, &args)?;
        if !out.status.success() {
            return Err(Error::git(format!(
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
