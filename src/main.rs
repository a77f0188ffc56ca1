//! The `access-audit` binary: parse the command line, run the library, map errors to exit codes.

use clap::FromArgMatches;

fn main() {
    let matches = access_audit::cli::command_with_version().get_matches();
    let cli = match access_audit::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let json = cli.wants_json();
    match access_audit::cmd::run(cli) {
        Ok(code) => {
            access_audit::engine::profile::report();
            std::process::exit(code)
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            if json {
                // Scripts reading stdout get the error too, as one JSON object.
                println!("{}", e.to_json());
            }
            std::process::exit(e.exit_code());
        }
    }
}
