//! `FIDELITY.md` lists every behaviour of the emulator that no Azure DevOps
//! source establishes ("Markers not established"), by file and line. The
//! table is only worth something if it is complete: these tests hold it
//! against the markers in the code, so a new marker that nobody lists, or a
//! row whose marker was resolved or moved, fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The marker strings, assembled so that this file holds none of them.
fn is_marker(line: &str) -> bool {
    let bracket = concat!("[", "unverified");
    let json_flag = concat!("x-emulator-", "unverified");
    line.contains(bracket) || line.contains(json_flag)
}

fn emulator_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            // Microsoft's client runs from a virtualenv the tests make.
            if path.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            files_under(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("rs" | "json" | "py")
        ) {
            out.push(path);
        }
    }
}

/// `src/x.rs:12` for every marker line of the emulator's code, data and
/// tests.
fn markers_in_code() -> BTreeSet<String> {
    let root = emulator_root();
    let mut files = Vec::new();
    for dir in ["src", "data", "tests"] {
        files_under(&root.join(dir), &mut files);
    }
    let mut found = BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let relative = file
            .strip_prefix(&root)
            .expect("under the emulator")
            .to_string_lossy()
            .replace('\\', "/");
        for (i, line) in text.lines().enumerate() {
            if is_marker(line) {
                found.insert(format!("{relative}:{}", i + 1));
            }
        }
    }
    found
}

/// The cells of every numbered row of the "Markers not established" table
/// (`| # | Where | Cat. | Marker | Why | Switch | Tests |`).
fn rows_of_the_table() -> Vec<Vec<String>> {
    let text =
        std::fs::read_to_string(emulator_root().join("FIDELITY.md")).expect("emulator/FIDELITY.md");
    let section = text
        .split("## Markers not established")
        .nth(1)
        .expect("FIDELITY.md has a section \"Markers not established\"");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .map(|line| {
            line.split(" | ")
                .map(|cell| cell.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|cells| {
            cells[0]
                .strip_prefix("| ")
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect()
}

/// The "Where" cell of every row.
fn places_in_the_table() -> BTreeSet<String> {
    let mut places = BTreeSet::new();
    for cells in rows_of_the_table() {
        let place = cells
            .get(1)
            .unwrap_or_else(|| panic!("a row with no place: {cells:?}"))
            .trim_matches('`')
            .to_string();
        assert!(
            places.insert(place.clone()),
            "FIDELITY.md lists {place} twice"
        );
    }
    places
}

#[test]
fn every_marker_in_the_code_has_a_row_in_the_fidelity_table_and_every_row_a_marker() {
    let code = markers_in_code();
    let table = places_in_the_table();
    assert!(!table.is_empty(), "the table of FIDELITY.md was not found");
    let unlisted: Vec<_> = code.difference(&table).collect();
    let stale: Vec<_> = table.difference(&code).collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "FIDELITY.md \"Markers not established\" is out of step with the code.\n\
         markers with no row: {unlisted:#?}\n\
         rows with no marker at that line (resolved or moved): {stale:#?}"
    );
}

#[test]
fn every_row_says_why_no_source_establishes_it_and_what_covers_it() {
    let rows = rows_of_the_table();
    assert!(!rows.is_empty(), "the table of FIDELITY.md was not found");
    for cells in rows {
        let line = cells.join(" | ");
        // | # | Where | Cat. | Marker | Why | Switch | Tests |
        assert!(cells.len() >= 7, "a row with missing cells: {line}");
        let category = cells[2].as_str();
        assert!(
            matches!(category, "E" | "B" | "S"),
            "row {} has category {category:?}, not E, B or S",
            cells[0]
        );
        let (why, switch, tests) = (&cells[4], &cells[5], cells[6].trim_end_matches(" |"));
        assert!(!why.is_empty(), "row {} says no why", cells[0]);
        assert!(!tests.is_empty(), "row {} names no test", cells[0]);
        match category {
            "E" => assert!(
                switch.contains("errors=opaque"),
                "row {}: an error text is covered by errors=opaque, not {switch:?}",
                cells[0]
            ),
            "S" => assert!(
                switch.contains('='),
                "row {}: a setting row names its setting, not {switch:?}",
                cells[0]
            ),
            _ => assert!(
                switch.starts_with("none"),
                "row {}: a category B row explains why it has no setting, not {switch:?}",
                cells[0]
            ),
        }
    }
}
