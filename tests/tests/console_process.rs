//! `ticketing-host console` as a real process: the built binary is started
//! on a free loopback port with the files of a host directory, prints where
//! it serves and (without a configured token) the login token; a browser
//! logs in with that token and loads the tickets page. With
//! `TICKETING_CONSOLE_TOKEN` the token is the one given and is never printed.
//!
//! The binary is `host-under-test`, the tests crate's build of the same
//! program (`ticketing_host::cli::main`, which `ticketing-host`'s `main`
//! calls): the tests crate cannot name another package's binary with
//! `CARGO_BIN_EXE_*`, and building that binary from here resolved other
//! features and rebuilt wasmtime at every run.

use crate::common;
use crate::console_support;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::cli_env;
use console_support::{Browser, put_ticket, texts};
use serde_json::json;

/// The host program, built by `cargo test` with this test.
fn host_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_host-under-test"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The console process, ended on drop.
struct Console {
    child: Child,
    /// The lines it printed on stdout, as they come.
    lines: mpsc::Receiver<String>,
}

impl Console {
    /// Starts `ticketing-host console` on the host directory of `env`.
    fn start(env: &cli_env::Env, port: u16, token: Option<&str>) -> Console {
        let mut cmd = Command::new(host_binary());
        cmd.args(env.argv().into_iter().skip(1))
            .arg("--plugin")
            .arg(ticketing_tests::plugin_wasm())
            .arg("--cache-dir")
            .arg(ticketing_tests::workspace_root().join("target/wasmtime-cache"))
            .args(["console", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--outegrations")
            .arg(env.dir.join("outegrations"))
            .env_remove("TICKETING_CONSOLE_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(t) = token {
            cmd.env("TICKETING_CONSOLE_TOKEN", t);
        }
        let mut child = cmd.spawn().expect("ticketing-host starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Console { child, lines }
    }

    /// The lines printed up to and including the one starting `prefix`.
    fn read_until(&self, prefix: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    let done = line.starts_with(prefix);
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(e) => panic!("no `{prefix}` line ({e}); printed: {seen:?}"),
            }
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ticket() -> serde_json::Value {
    json!({
        "id": "SEC-500",
        "url": "https://secops.example/tickets/SEC-500",
        "fields": { "title": "Outdated OpenSSL on web-01", "severity": "HIGH" },
        "findings": [],
        "comments": []
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_binary_prints_its_login_token_and_serves_the_tickets_after_login() {
    let env = cli_env::Env::new();
    put_ticket(&env.dir.join("state.db"), ticket());
    let port = free_port();
    let console = Console::start(&env, port, None);
    let printed = console.read_until("secrets typed in are stored in");
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(printed[0], format!("console on {base}"), "{printed:?}");
    let token = printed
        .iter()
        .find_map(|l| l.strip_prefix("login token: "))
        .unwrap_or_else(|| panic!("the token is printed: {printed:?}"))
        .to_string();
    assert!(token.len() >= 16, "a long token");

    let b = Browser::start().await;
    b.client.goto(&format!("{base}/tickets")).await.unwrap();
    b.wait_path("/login").await;
    b.login(&base, &token).await;
    b.client.goto(&format!("{base}/tickets")).await.unwrap();
    b.wait_for("#ticket-SEC-500").await;
    let doc = b.document().await;
    assert_eq!(texts(&doc, "#ticket-SEC-500 th a"), vec!["SEC-500"]);
    assert!(
        texts(&doc, "#ticket-SEC-500")
            .join(" ")
            .contains("Outdated OpenSSL on web-01"),
        "the stored ticket is listed"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_given_by_the_environment_is_the_login_and_is_never_printed() {
    let env = cli_env::Env::new();
    let token = "a-token-given-by-the-operator-0123456789";
    let port = free_port();
    let console = Console::start(&env, port, Some(token));
    let printed = console.read_until("secrets typed in are stored in");
    assert!(
        printed
            .iter()
            .all(|l| !l.contains(token) && !l.starts_with("login token")),
        "{printed:?}"
    );
    let base = format!("http://127.0.0.1:{port}");
    let b = Browser::start().await;
    b.login(&base, token).await;
    b.client.goto(&format!("{base}/operations")).await.unwrap();
    b.wait_for("#jobs").await;
    assert_eq!(texts(&b.document().await, "main h1"), vec!["Operations"]);
    b.close().await;
}
