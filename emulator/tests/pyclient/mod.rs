//! Microsoft's Python client for the tests that run it: the interpreter
//! from `ADO_PYTHON` when set, else a virtualenv this module makes once in
//! cargo's target directory (`target/tmp/ado-python-7.1.0b4`) with
//! `python3 -m venv` and `pip install azure-devops==7.1.0b4`, so
//! `cargo test --workspace` needs nothing done by hand. Test threads and
//! test processes that want it at the same time wait on one file lock; a
//! marker written after pip succeeded says the environment is whole. A
//! missing `python3` (or its `venv` module) fails the test, saying what to
//! install: a skipped proof proves nothing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The client version the tests pin.
pub const CLIENT: &str = "azure-devops==7.1.0b4";

/// An interpreter that has Microsoft's client, made if need be.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ADO_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    static MADE: OnceLock<PathBuf> = OnceLock::new();
    MADE.get_or_init(|| {
        let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ado-python-7.1.0b4");
        prepare(&home).unwrap_or_else(|why| panic!("{why}"))
    })
    .clone()
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    cmd.output()
        .map_err(|e| format!("could not run {:?}: {e}", cmd.get_program()))
}

/// The venv under `home`, made unless its marker says it is whole.
pub fn prepare(home: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(home).map_err(|e| format!("creating {}: {e}", home.display()))?;
    let venv = home.join("venv");
    let bin = venv.join("bin").join("python");
    let ready = home.join("ready");
    let lock = std::fs::File::create(home.join("lock"))
        .map_err(|e| format!("creating the lock in {}: {e}", home.display()))?;
    // Held until this function returns: the others wait, then find it ready.
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", home.display()))?;
    if ready.exists() && bin.exists() {
        return Ok(bin);
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .output()
        .map_err(|e| {
            format!(
                "python3 is needed to run Microsoft's Python client ({CLIENT}) and could not be started ({e}). \
                 Install Python 3 with its venv module (Debian: apt-get install python3 python3-venv), \
                 or set ADO_PYTHON to an interpreter that has {CLIENT}."
            )
        })?;
    if !made.status.success() {
        return Err(format!(
            "`python3 -m venv {}` failed: {}\nInstall Python's venv module (Debian: apt-get install python3-venv), \
             or set ADO_PYTHON to an interpreter that has {CLIENT}.",
            venv.display(),
            String::from_utf8_lossy(&made.stderr)
        ));
    }
    let pip = run(Command::new(&bin).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        CLIENT,
    ]))?;
    if !pip.status.success() {
        let _ = std::fs::remove_dir_all(&venv);
        return Err(format!(
            "`pip install {CLIENT}` into {} failed (it needs PyPI): {}",
            venv.display(),
            String::from_utf8_lossy(&pip.stderr)
        ));
    }
    std::fs::write(&ready, CLIENT).map_err(|e| format!("writing {}: {e}", ready.display()))?;
    Ok(bin)
}

/// Runs `tests/python/{script}` with Microsoft's client against `emu` (org
/// URL, PAT, project) and returns its output once every step passed.
pub fn run_script(emu: &ado_emulator::Emulator, script: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    // The client caches OPTIONS answers on disk, by URL: keep each run's apart.
    let cache = std::env::temp_dir().join(format!("ado-emulator-pycache-{}", uuid::Uuid::new_v4()));
    let output = Command::new(python())
        .arg(&path)
        .arg(emu.org_url())
        .arg(ado_emulator::seed::PAT)
        .arg(ado_emulator::seed::PROJECT)
        .env("AZURE_DEVOPS_CACHE_DIR", &cache)
        .output()
        .expect("python runs");
    let _ = std::fs::remove_dir_all(&cache);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.lines().any(|l| l == "all steps passed"), "{stdout}");
    stdout
}
