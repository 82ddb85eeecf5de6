//! The `secwire` command: glue over the library's pipeline stages.
//! Argument parsing, logging set-up and exit codes live here; everything
//! else is in the library.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    cmd::init_logging(&cli);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            cmd::report_error(&err);
            ExitCode::from(cmd::exit_code_for(&err))
        }
    }
}
