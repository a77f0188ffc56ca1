//! An opt-in stage timer: with `ACCESS_AUDIT_PROFILE=1`, the CPU time of each stage of the scan
//! (walk, read, prefilter, decode, text passes, parse + lower, resolve, merge, output) is summed over
//! every worker thread and printed to stderr when the process ends ([`report`]). When it is off, a
//! stage costs one load of a flag.
//!
//! Per-file stages are timed with the calling thread's CPU clock; the walk (its own thread pool) and
//! the output (after the scan) by the process's CPU time before and after them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::Instant;

/// A stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Listing the files (process CPU time while the walk runs).
    Walk,
    /// `read` of each file's bytes.
    Read,
    /// Binary check and the needle search that decides whether a file is parsed.
    Prefilter,
    /// Bytes → text, and the content digest.
    Decode,
    /// Credential values and suppression comments (text passes).
    Text,
    /// What a code file's text says about other modules (imports, calls into them), and the
    /// project's index built from it.
    Index,
    /// A front end: parse and lower to the IR (Python, Rust, notebooks, shell, config, text).
    Lower,
    /// Values, uses and findings: solve, resolve, classify.
    Resolve,
    /// After the workers: folding, masking, sorting into the report.
    Merge,
    /// Everything after the scan returned: rendering and writing the report (process CPU time).
    Output,
}

const STAGES: [Stage; 10] = [
    Stage::Walk,
    Stage::Read,
    Stage::Prefilter,
    Stage::Decode,
    Stage::Text,
    Stage::Index,
    Stage::Lower,
    Stage::Resolve,
    Stage::Merge,
    Stage::Output,
];

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Walk => "walk",
            Stage::Read => "read",
            Stage::Prefilter => "prefilter",
            Stage::Decode => "decode",
            Stage::Text => "text passes",
            Stage::Index => "module index",
            Stage::Lower => "parse + lower",
            Stage::Resolve => "solve + resolve + classify",
            Stage::Merge => "merge",
            Stage::Output => "output",
        }
    }
}

/// An event counted by the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// A module the scan lowers was lowered a second time by another file's lookup (its text
    /// was not kept because no other file seemed to import it).
    LoweredAgain,
    /// A file the scan analyses was lowered once and shared with other files' lookups.
    Shared,
}

static COUNTERS: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// Count one `counter` event (when the timer is on).
pub fn count(counter: Counter) {
    if enabled() {
        COUNTERS[counter as usize].fetch_add(1, Ordering::Relaxed);
    }
}

static ENABLED: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("ACCESS_AUDIT_PROFILE").is_some_and(|v| v == "1"));
static NANOS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];
static CALLS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];
static BYTES: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];
/// Process CPU time when the scan returned (the start of [`Stage::Output`]).
static SCAN_END: AtomicU64 = AtomicU64::new(0);
static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Is the stage timer on (`ACCESS_AUDIT_PROFILE=1`)?
pub fn enabled() -> bool {
    *ENABLED
}

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu() -> u64 {
    cpu_clock(Clock::Thread)
}

/// CPU time of the whole process (every thread), in nanoseconds.
fn process_cpu() -> u64 {
    cpu_clock(Clock::Process)
}

enum Clock {
    Thread,
    Process,
}

#[cfg(unix)]
fn cpu_clock(which: Clock) -> u64 {
    let id = match which {
        Clock::Thread => libc::CLOCK_THREAD_CPUTIME_ID,
        Clock::Process => libc::CLOCK_PROCESS_CPUTIME_ID,
    };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids are the POSIX constants.
    if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// No CPU clock: wall time since the first call.
#[cfg(not(unix))]
fn cpu_clock(_: Clock) -> u64 {
    START.elapsed().as_nanos() as u64
}

fn add(stage: Stage, nanos: u64, bytes: u64) {
    let i = stage as usize;
    NANOS[i].fetch_add(nanos, Ordering::Relaxed);
    CALLS[i].fetch_add(1, Ordering::Relaxed);
    BYTES[i].fetch_add(bytes, Ordering::Relaxed);
}

/// Run `f` as part of `stage` (on this thread), counting `bytes` of input.
#[inline]
pub fn time<T>(stage: Stage, bytes: usize, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let t = thread_cpu();
    let r = f();
    add(stage, thread_cpu().saturating_sub(t), bytes as u64);
    r
}

/// A stage timed on this thread from [`begin`] to [`Span::end`].
pub struct Span(Option<(Stage, u64)>);

/// Start timing `stage` on this thread (nothing when the timer is off).
pub fn begin(stage: Stage) -> Span {
    Span(enabled().then(|| (stage, thread_cpu())))
}

impl Span {
    /// Stop timing, counting `bytes` of input.
    pub fn end(self, bytes: usize) {
        if let Some((stage, t)) = self.0 {
            add(stage, thread_cpu().saturating_sub(t), bytes as u64);
        }
    }
}

/// The scan starts: the wall clock of the table starts here.
pub fn start() {
    if enabled() {
        LazyLock::force(&START);
    }
}

/// Run `f` as part of `stage`, counting the CPU time of every thread of the process (for a stage
/// that runs alone, on a thread pool of its own: the walk).
pub fn time_process<T>(stage: Stage, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let t = process_cpu();
    let r = f();
    add(stage, process_cpu().saturating_sub(t), 0);
    r
}

/// The scan has returned: what follows is [`Stage::Output`].
pub fn scan_done() {
    if enabled() {
        SCAN_END.store(process_cpu(), Ordering::Relaxed);
    }
}

/// Print the table to stderr (when on). Called once, as the process ends.
pub fn report() {
    if !enabled() {
        return;
    }
    let now = process_cpu();
    let end = SCAN_END.load(Ordering::Relaxed);
    if end > 0 {
        add(Stage::Output, now.saturating_sub(end), 0);
    }
    let wall = START.elapsed().as_secs_f64();
    let staged: u64 = NANOS.iter().map(|n| n.load(Ordering::Relaxed)).sum();
    let mut out = String::from(
        "access-audit profile: CPU seconds per stage, all threads\n\
         stage                          cpu_s  share    calls       MB\n",
    );
    for stage in STAGES {
        let i = stage as usize;
        let n = NANOS[i].load(Ordering::Relaxed);
        out.push_str(&format!(
            "{:<28} {:>8.3} {:>5.1}% {:>8} {:>8.1}\n",
            stage.name(),
            n as f64 / 1e9,
            100.0 * n as f64 / staged.max(1) as f64,
            CALLS[i].load(Ordering::Relaxed),
            BYTES[i].load(Ordering::Relaxed) as f64 / 1e6,
        ));
    }
    out.push_str(&format!(
        "{:<28} {:>8.3}\nprocess CPU {:.3} s (start-up, threads and the unstaged rest included), wall {:.3} s\n",
        "staged total",
        staged as f64 / 1e9,
        now as f64 / 1e9,
        wall
    ));
    out.push_str(&format!(
        "modules shared by the scan and lookups {}, lowered a second time {}\n",
        COUNTERS[Counter::Shared as usize].load(Ordering::Relaxed),
        COUNTERS[Counter::LoweredAgain as usize].load(Ordering::Relaxed),
    ));
    eprint!("{out}");
}
