//! `ticketing-host` built inside the tests crate, so that its tests can
//! name it with `CARGO_BIN_EXE_host-under-test`: the same program
//! (`ticketing_host::cli::main`), compiled with the features `cargo test
//! --workspace` resolves. Building the host's own binary from a test
//! (`cargo build --bin ticketing-host`) resolved other features and rebuilt
//! wasmtime at every test run.

fn main() -> std::process::ExitCode {
    ticketing_host::cli::main()
}
