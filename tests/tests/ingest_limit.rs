//! `ingest` refuses a finding file past the input limit (256 MiB) with its
//! size and the limit, before reading it whole: the file here is sparse,
//! 257 MiB long with nothing written, so a reader that read it would take
//! the time and the memory; nothing is stored.

use crate::common;

use common::cli_env::{Env, path};
use ticketing_host::platform::ingest::limit::MAX_INPUT_BYTES;

#[test]
fn a_finding_file_past_the_limit_is_refused_with_its_size_before_it_is_read() {
    let env = Env::new();
    let big = env.dir.join("huge.sarif");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(MAX_INPUT_BYTES + (1 << 20)).unwrap();
    drop(file);

    let (ok, out) = env.run(&["ingest", "--no-rules", path(&big)]);
    assert!(!ok, "an oversized file is refused: {out}");
    let expected = format!(
        "is {} bytes, larger than the {MAX_INPUT_BYTES} an input file may have",
        MAX_INPUT_BYTES + (1 << 20)
    );
    assert!(out.contains(&expected), "{out}");
    assert!(out.contains("huge.sarif"), "the file is named: {out}");
    assert!(
        env.db().findings().unwrap_or_default().is_empty(),
        "nothing stored"
    );
}
