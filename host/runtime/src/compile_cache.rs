//! The compiled component kept on disk between runs, so that a start maps
//! the compiled code instead of compiling the plugin (seconds) or
//! decompressing wasmtime's own cache entry (~100 ms).
//!
//! An artifact is named by the BLAKE3 hash of the component's bytes and of
//! the engine's compatibility settings (wasmtime's version, target, flags):
//! a changed plugin, host or configuration names another file. Artifacts
//! are written to a temporary file and renamed, so a crash never leaves a
//! half-written one; one wasmtime refuses (another version, a damaged file)
//! is compiled afresh and replaced.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Artifacts kept in the directory; older ones (earlier plugins) are removed.
const KEEP: usize = 4;

/// Where the component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Mapped from the cache directory.
    Cache,
    /// Compiled now (and stored, if the directory is writable).
    Compiled,
}

/// The compiled component, from `dir` when it holds this component compiled
/// for this engine, else compiled and stored there. A directory or artifact
/// that other users may write to is not used: its code would run here.
pub fn load(engine: &Engine, bytes: &[u8], dir: &Path) -> wasmtime::Result<(Component, Origin)> {
    let path = artifact_path(engine, bytes, dir);
    if writable_by_others(dir) || writable_by_others(&path) {
        tracing::warn!(
            dir = %dir.display(),
            "the plugin cache is writable by other users; compiling without it"
        );
        return Ok((Component::new(engine, bytes)?, Origin::Compiled));
    }
    if path.exists() {
        // SAFETY: wasmtime runs a deserialized artifact's code as it is. The
        // file is one this host serialized into the user's own cache
        // directory (written whole, then renamed into place), and wasmtime
        // checks its header, version and engine settings before mapping it.
        #[allow(unsafe_code)]
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, Origin::Cache)),
            Err(e) => tracing::warn!(
                artifact = %path.display(),
                "the cached plugin cannot be used, compiling it again: {e}"
            ),
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Err(e) = store(&component, &path) {
        tracing::warn!(dir = %dir.display(), "the compiled plugin could not be cached: {e:#}");
    }
    Ok((component, Origin::Compiled))
}

/// The file an artifact of `bytes` compiled by `engine` lives in.
pub fn artifact_path(engine: &Engine, bytes: &[u8], dir: &Path) -> PathBuf {
    let mut hasher = Blake3(blake3::Hasher::new());
    hasher.0.update(bytes);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let key = hasher.0.finalize().to_hex();
    dir.join(format!("{}.cwasm", &key[..32]))
}

fn store(component: &Component, path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().expect("an artifact path has a directory");
    create_private_dir(dir)?;
    let serialized = component.serialize().map_err(|e| anyhow::anyhow!("{e}"))?;
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    // A leftover of a crashed process with the same pid.
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, &serialized)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    prune(dir, path);
    Ok(())
}

#[cfg(unix)]
fn writable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o022 != 0)
}

#[cfg(not(unix))]
fn writable_by_others(_: &Path) -> bool {
    false
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Writes a file only its owner may write, whatever the umask.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Removes all but the [`KEEP`] newest artifacts (never `current`).
fn prune(dir: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut artifacts: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm") && p != current)
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    artifacts.sort_by_key(|a| std::cmp::Reverse(a.0));
    for (_, old) in artifacts.into_iter().skip(KEEP - 1) {
        let _ = std::fs::remove_file(old);
    }
}

/// Feeds `Hash` into BLAKE3, whose output is stable across Rust versions
/// (unlike the standard library's hasher).
struct Blake3(blake3::Hasher);

impl Hasher for Blake3 {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        unreachable!("only the 256-bit digest is read")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid component (WAT text) with one core function, so that the
    /// artifact holds compiled code.
    const COMPONENT: &[u8] =
        b"(component (core module (func (export \"f\") (result i32) i32.const 7)))";

    fn engine(epochs: bool) -> Engine {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true).epoch_interruption(epochs);
        Engine::new(&config).unwrap()
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ticketing-compile-cache-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_second_load_maps_the_stored_artifact() {
        let dir = tempdir("second");
        let engine = engine(true);
        let (_, first) = load(&engine, COMPONENT, &dir).unwrap();
        let (_, second) = load(&engine, COMPONENT, &dir).unwrap();
        assert_eq!((first, second), (Origin::Compiled, Origin::Cache));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn another_component_or_engine_setting_names_another_artifact() {
        let dir = Path::new("/cache");
        let other = b"(component (core module (func (export \"f\") (result i32) i32.const 8)))";
        let a = artifact_path(&engine(true), COMPONENT, dir);
        assert_ne!(a, artifact_path(&engine(true), other, dir));
        assert_ne!(a, artifact_path(&engine(false), COMPONENT, dir));
        assert_eq!(a, artifact_path(&engine(true), COMPONENT, dir));
    }

    #[test]
    fn a_damaged_artifact_is_compiled_again_and_replaced() {
        let dir = tempdir("damaged");
        let engine = engine(true);
        load(&engine, COMPONENT, &dir).unwrap();
        let path = artifact_path(&engine, COMPONENT, &dir);
        std::fs::write(&path, b"\x7fELF but not an artifact").unwrap();
        let (_, origin) = load(&engine, COMPONENT, &dir).unwrap();
        assert_eq!(origin, Origin::Compiled);
        let (_, origin) = load(&engine, COMPONENT, &dir).unwrap();
        assert_eq!(origin, Origin::Cache);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_to_is_not_used() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempdir("shared");
        let engine = engine(true);
        load(&engine, COMPONENT, &dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "created private");
        let artifact = artifact_path(&engine, COMPONENT, &dir);
        let mode = std::fs::metadata(&artifact).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "written private");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let (_, origin) = load(&engine, COMPONENT, &dir).unwrap();
        assert_eq!(
            origin,
            Origin::Compiled,
            "the stored artifact is not mapped"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_the_newest_artifacts_are_kept() {
        let dir = tempdir("prune");
        create_private_dir(&dir).unwrap();
        for i in 0..6 {
            std::fs::write(dir.join(format!("old{i}.cwasm")), b"x").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::fs::write(dir.join("notes.txt"), b"kept").unwrap();
        load(&engine(true), COMPONENT, &dir).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left.len(), KEEP + 1, "{left:?}");
        assert!(left.contains(&"notes.txt".to_string()));
        assert!(left.contains(&"old5.cwasm".to_string()));
        assert!(!left.contains(&"old0.cwasm".to_string()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
