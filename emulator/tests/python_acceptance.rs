//! Microsoft's Python client (`azure-devops==7.1.0b4`, unchanged) beyond
//! the connector's calls: `tests/python/client_acceptance.py` runs asOf
//! reads, area and iteration paths (valid and invalid), classification
//! nodes, tags add and replace, revisions and updates, comments paging and
//! the recycle bin against the emulator, each step naming its Microsoft
//! source.

mod pyclient;

use ado_emulator::{Emulator, EmulatorConfig};

#[test]
fn microsofts_python_client_accepts_the_emulators_history_trees_tags_comments_and_recycle_bin() {
    let emu = Emulator::start(EmulatorConfig::default()).expect("emulator starts");
    let out = pyclient::run_script(&emu, "client_acceptance.py");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        8,
        "{out}"
    );
}
