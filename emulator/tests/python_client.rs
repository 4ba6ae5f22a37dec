//! Microsoft's Python client (`azure-devops==7.1.0b4`, unchanged) against
//! the emulator: `tests/python/client_smoke.py` discovers the routes through
//! the location service and runs the calls the connector makes.
//!
//! The interpreter comes from `ADO_PYTHON`, else a virtualenv the test
//! makes once under cargo's target directory (see `pyclient`).

mod pyclient;

use ado_emulator::{Emulator, EmulatorConfig};

#[test]
fn microsofts_python_client_runs_the_connector_calls_against_the_emulator() {
    let emu = Emulator::start(EmulatorConfig::default()).expect("emulator starts");
    pyclient::run_script(&emu, "client_smoke.py");
    // It found its routes through the location service.
    let counts = emu.request_counts();
    assert!(
        counts.by_route.keys().any(|r| r.starts_with("OPTIONS ")),
        "{:?}",
        counts.by_route
    );
}

/// With neither `ADO_PYTHON` nor a prepared environment, `prepare` makes
/// one from nothing: a venv with Microsoft's client that imports.
#[test]
fn the_python_environment_is_prepared_from_nothing() {
    let home = std::env::temp_dir().join(format!("ado-python-fresh-{}", uuid::Uuid::new_v4()));
    let python = pyclient::prepare(&home).expect("prepared");
    let imported = std::process::Command::new(&python)
        .args(["-c", "import azure.devops.connection, msrest; print('ok')"])
        .output()
        .expect("python runs");
    assert_eq!(String::from_utf8_lossy(&imported.stdout).trim(), "ok");
    // A second caller finds it whole and makes nothing.
    let again = pyclient::prepare(&home).expect("ready");
    assert_eq!(again, python);
    let _ = std::fs::remove_dir_all(&home);
}
