//! The `access-audit` binary: parse the command line, run the library, map errors to exit codes.

use clap::Parser;

/// mimalloc: the front ends allocate many small strings; it cuts scan CPU time by 15–25 %.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = access_audit::cli::Cli::parse();
    match access_audit::app::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            std::process::exit(e.exit_code());
        }
    }
}
