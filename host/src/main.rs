//! `ticketing-host`: the reference host's command line.
//!
//! Exit codes: 0 the command succeeded; 1 it failed (or any ticket or job
//! in it did; with `--json` the document was printed first); 2 a usage
//! error (clap's, or `--json` on a command without a JSON shape).

fn main() -> std::process::ExitCode {
    ticketing_host::cli::main()
}
