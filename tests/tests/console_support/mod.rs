//! The console's browser tests' set-up: a temp host directory pointed at an
//! emulator, the console serving it, and headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`). When they are
//! missing and the tests run as root where `apt-get` is, they install them
//! once (as `tests/build.rs` installs the wasm target), so `cargo test
//! --workspace` needs nothing done by hand; elsewhere the tests fail saying
//! what to install: they never pass without a browser.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Where the screenshots go: `docs/console/` (what the README shows) with
/// `TICKETING_UPDATE_SCREENSHOTS=1`, else `target/console-screenshots/`, so
/// an ordinary test run leaves the committed ones alone (each run's ports
/// and temp paths differ).
pub fn screenshot_dir() -> PathBuf {
    let root = ticketing_tests::workspace_root();
    if std::env::var_os("TICKETING_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        root.join("docs/console")
    } else {
        root.join("target/console-screenshots")
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn browser_installed() -> bool {
    find_program("CHROMEDRIVER", &["chromedriver"]).is_some()
        && find_program(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        )
        .is_some()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Debian's `chromium` and `chromium-driver` when they are missing,
/// `apt-get` is there and this is root: once, under a file lock that the
/// test processes share (the second one finds them installed).
fn ensure_browser() {
    if browser_installed() || find_program("APT_GET", &["apt-get"]).is_none() || !is_root() {
        return;
    }
    let dir = ticketing_tests::workspace_root().join("target/tmp");
    std::fs::create_dir_all(&dir).expect("target/tmp is writable");
    let lock = std::fs::File::create(dir.join("chromium-install.lock")).expect("the lock file");
    lock.lock().expect("the install lock");
    if browser_installed() {
        return;
    }
    eprintln!("installing Debian's chromium and chromium-driver for the browser tests");
    for args in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "chromium", "chromium-driver"][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "`apt-get {}` failed: install chromium and chromium-driver by hand",
            args.join(" ")
        );
    }
}

/// chromedriver and a headless Chromium session, ended on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium
    /// session at 1280×800. Panics, naming the packages, when either is missing.
    pub async fn start() -> Browser {
        ensure_browser();
        let driver_path = find_program("CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "chromedriver is not installed: the console's browser tests need headless Chromium \
                 and its WebDriver (`apt-get install -y chromium chromium-driver`), \
                 or CHROMEDRIVER=/path/to/chromedriver"
            )
        });
        let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])
            .unwrap_or_else(|| {
                panic!("chromium is not installed: `apt-get install -y chromium chromium-driver`, or CHROMIUM=/path/to/chrome")
            });
        let port = free_port();
        let mut cmd = Command::new(&driver_path);
        // Its own process group, so a failed test ends Chromium with it.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = cmd
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver_path.display()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,800", "--hide-scrollbars", "--no-first-run",
                         "--disable-extensions", "--lang=en-US"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session from {}: {e}", driver_path.display()),
            }
        };
        client
            .set_window_size(1280, 800)
            .await
            .expect("the window is resized");
        Browser { client, driver }
    }

    /// Ends the session and chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Saves a screenshot as `docs/console/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("docs/console");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is written");
    }

    /// The element `css`, waited for (10 s).
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let page = self.client.find(Locator::Css("main")).await;
                let text = match page {
                    Ok(m) => m.text().await.unwrap_or_default(),
                    Err(_) => self.client.source().await.unwrap_or_default(),
                };
                panic!(
                    "`{css}` never appeared ({e}) on {}:\n{text}",
                    self.path().await
                )
            }
        }
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking `{css}`: {e}"));
    }

    /// Replaces the value of the input `css` with `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("clearing `{css}`: {e}"));
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into `{css}`: {e}"));
    }

    /// Chooses `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value} in `{css}`: {e}"));
    }

    /// The text of `css`.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .path()
            .to_string()
    }

    /// Waits until the page's path is `path`.
    pub async fn wait_path(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.path().await != path {
            assert!(
                Instant::now() < deadline,
                "the browser never reached {path}: at {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` (a function body returning a boolean) is true.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.client.execute(script, vec![]).await.expect("a script");
            if v == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "never true: {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The current page's DOM as the browser has it, parsed (scraper's
    /// html5ever), for assertions over what is shown.
    pub async fn document(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.client.source().await.expect("the page source"))
    }

    /// Logs in to the console at `base` with `token`: the login form,
    /// then the home page.
    pub async fn login(&self, base: &str, token: &str) {
        self.client.goto(&format!("{base}/")).await.unwrap();
        self.wait_path("/login").await;
        self.fill("#token", token).await;
        self.click("#login").await;
        self.wait_path("/").await;
    }

    /// Whether the page has an element `css`.
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("a query")
            .is_empty()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver's process group: Chromium too, when a test failed before `close`.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A ticket in the state database, from the ticket file format.
pub fn put_ticket(state: &Path, json: serde_json::Value) {
    let t = ticketing_host::state::ticket_file::parse(&json.to_string()).expect("a valid ticket");
    ticketing_host::state::db::Db::open(state)
        .expect("the state database")
        .put_ticket(&t)
        .expect("the ticket is stored");
}

/// The text of every element `css` matches in `doc`, trimmed, with runs of
/// white space made one space.
pub fn texts(doc: &scraper::Html, css: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(css).unwrap_or_else(|e| panic!("`{css}`: {e:?}"));
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The one element `css` matches in `doc`.
pub fn one<'a>(doc: &'a scraper::Html, css: &str) -> scraper::ElementRef<'a> {
    let sel = scraper::Selector::parse(css).unwrap_or_else(|e| panic!("`{css}`: {e:?}"));
    let found: Vec<_> = doc.select(&sel).collect();
    assert_eq!(
        found.len(),
        1,
        "`{css}` matches one element, not {}",
        found.len()
    );
    found[0]
}
