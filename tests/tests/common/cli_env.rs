//! A temp dir with a host config, secrets and a state database pointed at
//! an emulator, and the CLI run in process against it.

use std::path::{Path, PathBuf};

use ado_emulator::Emulator;
use ticketing_host::state::db::Db;

use super::seed;

/// Writes `host.toml` in `dir`: a PAT connection to the organization at
/// `url`, the seeded project.
pub fn write_host_config(dir: &Path, url: &str) {
    let toml = format!(
        "[connection]\nbase_url = \"{url}\"\nproject = \"{}\"\nauth = \"pat\"\n",
        seed::PROJECT
    );
    std::fs::write(dir.join("host.toml"), toml).unwrap();
}

/// Writes `host.toml` (see [`write_host_config`]) and `secrets.toml` (the
/// seeded PAT) in `dir`, what `--config` and `--secrets` read.
pub fn write_pat_files(dir: &Path, url: &str) {
    std::fs::write(
        dir.join("secrets.toml"),
        format!("pat = \"{}\"\n", seed::PAT),
    )
    .unwrap();
    write_host_config(dir, url);
}

/// A temp dir with a host config and secrets for the emulator, and the state file.
pub struct Env {
    pub dir: PathBuf,
    pub emu: Emulator,
}

impl Env {
    pub fn new() -> Env {
        Env::with(super::emulator())
    }

    /// The same, for an emulator started with its own config.
    pub fn with(emu: Emulator) -> Env {
        let dir = super::fresh_dir("cli-env");
        write_pat_files(&dir, &emu.org_url());
        Env { dir, emu }
    }

    /// Writes the host config for the organization at `url`.
    pub fn point_at(&self, url: &str) {
        write_host_config(&self.dir, url);
    }

    /// The program name and the global options pointing at this env.
    pub fn argv(&self) -> Vec<String> {
        let (config, secrets, state) = (
            self.dir.join("host.toml"),
            self.dir.join("secrets.toml"),
            self.dir.join("state.db"),
        );
        [
            "ticketing-host",
            "--config",
            path(&config),
            "--secrets",
            path(&secrets),
            "--state",
            path(&state),
        ]
        .map(String::from)
        .to_vec()
    }

    /// Runs one command line; its output, and whether it succeeded.
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        let mut argv = self.argv();
        argv.extend(args.iter().map(|a| a.to_string()));
        super::run_cli(argv)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.run(args);
        assert!(ok, "`{}` failed:\n{out}", args.join(" "));
        out
    }

    pub fn db(&self) -> Db {
        Db::open(&self.dir.join("state.db")).unwrap()
    }

    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        path(&p).to_string()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

pub fn example(rel: &str) -> String {
    ticketing_tests::workspace_root()
        .join("examples")
        .join(rel)
        .display()
        .to_string()
}

/// Stores `count` copies of `tickets/SEC-101.json` (ids `{prefix}-0`...)
/// and dispatches them with `dispatch --jobs {jobs}` and the Agile Bug
/// outegration, the CLI run in process on `host`; returns its result and
/// what it printed.
pub fn dispatch_copies(
    env: &Env,
    host: &ticketing_runtime::Host,
    prefix: &str,
    count: usize,
    jobs: usize,
) -> (anyhow::Result<()>, String) {
    let template =
        ticketing_host::state::ticket_file::load(Path::new(&example("tickets/SEC-101.json")))
            .unwrap();
    let db = env.db();
    let ids: Vec<String> = (0..count)
        .map(|i| {
            let mut t = template.clone();
            t.id = format!("{prefix}-{i}");
            db.put_ticket(&t).unwrap();
            t.id
        })
        .collect();
    let mut argv: Vec<String> = env.argv();
    argv.extend(
        [
            "dispatch".to_string(),
            "--jobs".to_string(),
            jobs.to_string(),
            "--outegration".to_string(),
            example("outegrations/agile-bug.json"),
        ]
        .into_iter()
        .chain(ids),
    );
    use clap::Parser as _;
    let cli = ticketing_host::cli::Cli::parse_from(argv);
    let mut out = Vec::new();
    let result = ticketing_host::cli::run_with(&cli, host, &mut out);
    (result, String::from_utf8_lossy(&out).into_owned())
}
