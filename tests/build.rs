//! Builds the guest components the end-to-end tests load: the real plugin,
//! the Spin component and the misbehaving fixture, for wasm32-wasip2, in their own target directory
//! (the outer cargo holds the lock on the usual one). The plugin and the
//! Spin component are then pre-initialised: their start-up runs once here
//! and the snapshots are what the tests load.

use std::path::PathBuf;
use std::process::Command;

#[path = "build/preinit.rs"]
mod preinit;

const TARGET: &str = "wasm32-wasip2";
/// The root Cargo.toml's `[profile.guest]`: release with LTO, one codegen
/// unit and symbols stripped.
const PROFILE: &str = "guest";
/// The guests shipped pre-initialised (their start-up snapshotted, see
/// `build/preinit.rs`); the tests and benches load only the snapshots.
const PREINITIALISED: &[&str] = &["ado_connector_plugin", "ado_connector_spin"];
const GUESTS: &[(&str, &str, &str)] = &[
    (
        "ado-connector-plugin",
        "ado_connector_plugin",
        "ADO_PLUGIN_WASM",
    ),
    ("ado-connector-spin", "ado_connector_spin", "ADO_SPIN_WASM"),
    (
        "misbehaving-plugin",
        "misbehaving_plugin",
        "MISBEHAVING_PLUGIN_WASM",
    ),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    for watched in [
        "wit",
        "plugin/core/src",
        "plugin/core/Cargo.toml",
        "plugin/component",
        "plugin/spin/src",
        "plugin/spin/Cargo.toml",
        "tests/fixtures",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    ensure_target();
    let target_dir = root.join("target").join("guest");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--profile", PROFILE, "--target", TARGET])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Flags meant for the host build must not leak into the guest build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        // Nor `cargo clippy`'s wrapper: linting the tests must not lint (and
        // fail on) the guest crates, which are linted on their own.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS");
    for (package, _, _) in GUESTS {
        cmd.args(["-p", package]);
    }
    let status = cmd
        .status()
        .expect("could not run cargo to build the guest components");
    assert!(
        status.success(),
        "building the guest components for {TARGET} failed (see the output above)"
    );
    for (_, file, var) in GUESTS {
        let mut path = target_dir
            .join(TARGET)
            .join(PROFILE)
            .join(format!("{file}.wasm"));
        assert!(path.exists(), "{} was not built", path.display());
        if PREINITIALISED.contains(file) {
            path = preinit::snapshot(&path);
        }
        println!("cargo:rustc-env={var}={}", path.display());
    }
}

/// Installs the wasm32-wasip2 standard library when rustup is there and it is missing.
fn ensure_target() {
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    else {
        return; // no rustup: the build below says what is missing
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "`rustup target add {TARGET}` failed"
    );
}
