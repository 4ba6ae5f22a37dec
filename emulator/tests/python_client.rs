//! Microsoft's Python client (`azure-devops==7.1.0b4`, unchanged) against
//! the emulator: `tests/python/client_smoke.py` discovers the routes through
//! the location service and runs the calls the connector makes.
//!
//! The interpreter comes from `ADO_PYTHON`, else the workspace's
//! `target-py/venv/bin/python` (`.ci/run` creates it). Without either the
//! test fails: a skipped proof proves nothing.

use std::path::PathBuf;
use std::process::Command;

use ado_emulator::{Emulator, EmulatorConfig, seed};

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ADO_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target-py/venv/bin/python");
    if venv.exists() {
        return venv;
    }
    panic!(
        "no Python with Microsoft's azure-devops client. Create one:\n  \
         python3 -m venv target-py/venv && target-py/venv/bin/pip install azure-devops==7.1.0b4\n\
         (in the workspace root), or set ADO_PYTHON to an interpreter that has azure-devops==7.1.0b4."
    );
}

#[test]
fn microsofts_python_client_runs_the_connector_calls_against_the_emulator() {
    let emu = Emulator::start(EmulatorConfig::default()).expect("emulator starts");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_smoke.py");
    // The client caches OPTIONS answers on disk, by URL: keep each run's apart.
    let cache = std::env::temp_dir().join(format!("ado-emulator-pycache-{}", uuid::Uuid::new_v4()));
    let output = Command::new(python())
        .arg(&script)
        .arg(emu.org_url())
        .arg(seed::PAT)
        .arg(seed::PROJECT)
        .env("AZURE_DEVOPS_CACHE_DIR", &cache)
        .output()
        .expect("python runs");
    let _ = std::fs::remove_dir_all(&cache);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
    // It found its routes through the location service.
    let counts = emu.request_counts();
    assert!(
        counts.by_route.keys().any(|r| r.starts_with("OPTIONS ")),
        "{:?}",
        counts.by_route
    );
}
