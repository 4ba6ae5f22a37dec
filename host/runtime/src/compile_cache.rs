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
//!
//! An artifact is machine code the host runs as it is, so the cache is
//! used only when nobody else could have put it there: the directory must
//! be a real directory (not a symbolic link) owned by the current user and
//! writable by nobody else, its ancestors owned by the user or root and not
//! writable by others (unless sticky, as `/tmp`), and each artifact a
//! regular file (a symbolic link is not followed) owned by the user and
//! writable by nobody else. Otherwise the host warns and compiles without
//! the cache. On a platform where these checks are not implemented (not
//! unix) the cache is off.

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
/// someone else could have written is not used: its code would run here.
pub fn load(engine: &Engine, bytes: &[u8], dir: &Path) -> wasmtime::Result<(Component, Origin)> {
    load_as(engine, bytes, dir, trust::current_user())
}

/// What the cache directory holds for a component, as [`load`] decides
/// it; a host that starts on the baseline code looks first and compiles
/// later, on another thread (`crate::tiers`).
pub(crate) enum Lookup {
    /// Its artifact, mapped.
    Hit(Component),
    /// No usable artifact; [`Slot::compile`] compiles and stores one.
    Miss(Slot),
    /// The cache is not used: the directory or the artifact fails the
    /// owner checks, or the platform has none.
    Off,
}

/// Where an artifact compiled now is stored, for the user `me`.
pub(crate) struct Slot {
    path: PathBuf,
    me: u32,
}

impl Slot {
    /// The component compiled, and stored (a failure to store is a warning).
    pub(crate) fn compile(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
        let component = Component::new(engine, bytes)?;
        if let Err(e) = store(&component, &self.path, self.me) {
            tracing::warn!(
                artifact = %self.path.display(),
                "the compiled plugin could not be cached: {e:#}"
            );
        }
        Ok(component)
    }
}

/// [`Lookup`] for the current user.
pub(crate) fn lookup(engine: &Engine, bytes: &[u8], dir: &Path) -> Lookup {
    lookup_as(engine, bytes, dir, trust::current_user())
}

/// [`lookup`] for the user `me` (`None`: a platform without the checks).
fn lookup_as(engine: &Engine, bytes: &[u8], dir: &Path, me: Option<u32>) -> Lookup {
    let Some(me) = me else {
        tracing::warn!("the compile cache is off: this platform has no owner checks for it");
        return Lookup::Off;
    };
    let path = artifact_path(engine, bytes, dir);
    if let Err(why) = trust::check_dir(dir, me).and_then(|()| trust::check_artifact(&path, me)) {
        tracing::warn!(
            dir = %dir.display(),
            "the plugin cache is not used ({why}); compiling without it"
        );
        return Lookup::Off;
    }
    if path.exists() {
        // SAFETY: wasmtime runs a deserialized artifact's code as it is. The
        // file is a regular file owned by this user, in a directory only this
        // user may write to (checked above, so nobody else can swap it),
        // which this host serialized (written whole, then renamed into
        // place); wasmtime checks its header, version and engine settings
        // before mapping it.
        #[allow(unsafe_code)]
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Lookup::Hit(component),
            Err(e) => tracing::warn!(
                artifact = %path.display(),
                "the cached plugin cannot be used, compiling it again: {e}"
            ),
        }
    }
    Lookup::Miss(Slot { path, me })
}

/// [`load`] for the user `me` (`None`: a platform without the checks).
fn load_as(
    engine: &Engine,
    bytes: &[u8],
    dir: &Path,
    me: Option<u32>,
) -> wasmtime::Result<(Component, Origin)> {
    match lookup_as(engine, bytes, dir, me) {
        Lookup::Hit(component) => Ok((component, Origin::Cache)),
        Lookup::Miss(slot) => Ok((slot.compile(engine, bytes)?, Origin::Compiled)),
        Lookup::Off => Ok((Component::new(engine, bytes)?, Origin::Compiled)),
    }
}

/// The file an artifact of `bytes` compiled by `engine` lives in.
pub fn artifact_path(engine: &Engine, bytes: &[u8], dir: &Path) -> PathBuf {
    let mut hasher = Blake3(blake3::Hasher::new());
    hasher.0.update(bytes);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let key = hasher.0.finalize().to_hex();
    dir.join(format!("{}.cwasm", &key[..32]))
}

fn store(component: &Component, path: &Path, me: u32) -> anyhow::Result<()> {
    let dir = path.parent().expect("an artifact path has a directory");
    create_private_dir(dir)?;
    // Created now, or there before: either way it must pass the checks.
    trust::check_dir(dir, me).map_err(|why| anyhow::anyhow!(why))?;
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

/// The checks that decide whether the cache may be used.
#[cfg(unix)]
mod trust {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    use std::path::Path;

    /// The effective user id; `None` where the checks are not implemented.
    pub fn current_user() -> Option<u32> {
        Some(rustix::process::geteuid().as_raw())
    }

    /// Why a file or directory that exists may not be trusted by `me`.
    fn refuse(meta: &std::fs::Metadata, me: u32, what: &str) -> Result<(), String> {
        if meta.file_type().is_symlink() {
            return Err(format!(
                "the {what} is a symbolic link, which is not followed"
            ));
        }
        if meta.uid() != me {
            return Err(format!(
                "the {what} is owned by user {}, not by this user ({me})",
                meta.uid()
            ));
        }
        if meta.permissions().mode() & 0o022 != 0 {
            return Err(format!("other users may write to the {what}"));
        }
        Ok(())
    }

    /// The cache directory (if it exists) and its ancestors.
    pub fn check_dir(dir: &Path, me: u32) -> Result<(), String> {
        match dir.symlink_metadata() {
            Ok(meta) => {
                refuse(&meta, me, "cache directory")?;
                if !meta.is_dir() {
                    return Err("the cache directory is not a directory".into());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("the cache directory cannot be read: {e}")),
        }
        // Whoever may write to an ancestor may replace the directory.
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let Some(real) = existing_ancestor(parent) else {
            return Ok(());
        };
        for ancestor in real.ancestors() {
            let meta = ancestor
                .metadata()
                .map_err(|e| format!("{} cannot be read: {e}", ancestor.display()))?;
            let mode = meta.permissions().mode();
            if meta.uid() != me && meta.uid() != 0 {
                return Err(format!(
                    "{} is owned by user {}, neither this user nor root",
                    ancestor.display(),
                    meta.uid()
                ));
            }
            if mode & 0o022 != 0 && mode & 0o1000 == 0 {
                return Err(format!(
                    "other users may write to {} (and it is not sticky)",
                    ancestor.display()
                ));
            }
        }
        Ok(())
    }

    /// The nearest ancestor of `path` that exists, symbolic links resolved.
    fn existing_ancestor(path: &Path) -> Option<std::path::PathBuf> {
        path.ancestors().find_map(|p| std::fs::canonicalize(p).ok())
    }

    /// An artifact, if it exists.
    pub fn check_artifact(path: &Path, me: u32) -> Result<(), String> {
        match path.symlink_metadata() {
            Ok(meta) => {
                refuse(&meta, me, "cached artifact")?;
                if meta.is_file() {
                    Ok(())
                } else {
                    Err("the cached artifact is not a regular file".into())
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("the cached artifact cannot be read: {e}")),
        }
    }
}

/// No owner checks here: the cache is off (see the module's documentation).
#[cfg(not(unix))]
mod trust {
    use std::path::Path;

    pub fn current_user() -> Option<u32> {
        None
    }

    pub fn check_dir(_: &Path, _: u32) -> Result<(), String> {
        Err("no owner checks on this platform".into())
    }

    pub fn check_artifact(_: &Path, _: u32) -> Result<(), String> {
        Err("no owner checks on this platform".into())
    }
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
        // Not followed: a link's own time, and removing it removes the link.
        .filter_map(|p| Some((p.symlink_metadata().ok()?.modified().ok()?, p)))
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

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_to_an_artifact_is_not_followed() {
        let engine = engine(true);
        let elsewhere = tempdir("link-target");
        load(&engine, COMPONENT, &elsewhere).unwrap();
        let dir = tempdir("link");
        create_private_dir(&dir).unwrap();
        let artifact = artifact_path(&engine, COMPONENT, &dir);
        std::os::unix::fs::symlink(artifact_path(&engine, COMPONENT, &elsewhere), &artifact)
            .unwrap();
        let (_, origin) = load(&engine, COMPONENT, &dir).unwrap();
        assert_eq!(origin, Origin::Compiled, "the link is not mapped");
        assert!(
            artifact
                .symlink_metadata()
                .unwrap()
                .file_type()
                .is_symlink(),
            "nor replaced"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&elsewhere).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_directory_that_is_a_symbolic_link_is_not_used() {
        let engine = engine(true);
        let real = tempdir("dir-target");
        load(&engine, COMPONENT, &real).unwrap();
        let dir = tempdir("dir-link");
        std::os::unix::fs::symlink(&real, &dir).unwrap();
        let (_, origin) = load(&engine, COMPONENT, &dir).unwrap();
        assert_eq!(origin, Origin::Compiled);
        std::fs::remove_file(&dir).unwrap();
        std::fs::remove_dir_all(&real).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_owned_by_another_user_is_not_used() {
        let engine = engine(true);
        let dir = tempdir("owner");
        let me = trust::current_user().unwrap();
        load_as(&engine, COMPONENT, &dir, Some(me)).unwrap();
        assert_eq!(
            load_as(&engine, COMPONENT, &dir, Some(me)).unwrap().1,
            Origin::Cache
        );
        // The same directory and artifact, as seen by another user: private
        // (0700, 0600) and unwritable by them, but not theirs.
        let (_, origin) = load_as(&engine, COMPONENT, &dir, Some(me + 1)).unwrap();
        assert_eq!(origin, Origin::Compiled);
        let why = trust::check_dir(&dir, me + 1).unwrap_err();
        assert!(why.contains(&format!("owned by user {me}")), "{why}");
        let artifact = artifact_path(&engine, COMPONENT, &dir);
        let why = trust::check_artifact(&artifact, me + 1).unwrap_err();
        assert!(why.contains("cached artifact is owned"), "{why}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_under_a_directory_others_can_write_to_is_not_used() {
        use std::os::unix::fs::PermissionsExt as _;
        let engine = engine(true);
        let shared = tempdir("shared-parent");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let dir = shared.join("cache");
        load(&engine, COMPONENT, &dir).unwrap();
        assert!(
            !artifact_path(&engine, COMPONENT, &dir).exists(),
            "nothing stored"
        );
        // Sticky, as /tmp: others cannot rename what is not theirs.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        load(&engine, COMPONENT, &dir).unwrap();
        assert_eq!(load(&engine, COMPONENT, &dir).unwrap().1, Origin::Cache);
        std::fs::remove_dir_all(&shared).unwrap();
    }

    #[test]
    fn without_owner_checks_the_cache_is_off() {
        let engine = engine(true);
        let dir = tempdir("off");
        let (_, origin) = load_as(&engine, COMPONENT, &dir, None).unwrap();
        assert_eq!(origin, Origin::Compiled);
        assert!(!dir.exists(), "nothing written");
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
