//! The `access-audit` binary: parse the command line, run the library, map errors to exit codes.

use clap::Parser;

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
