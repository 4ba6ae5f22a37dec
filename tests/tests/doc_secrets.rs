//! No documented example puts a secret on a command line: a process's
//! arguments are readable by every user of the machine (`ps`,
//! `/proc/<pid>/cmdline`) and land in shell history. Secrets go in
//! environment variables (`SPIN_VARIABLE_<NAME>`, `ADO_PAT`...), a file, or
//! standard input.
//!
//! Every Markdown file of the repository is read with a Markdown parser; each
//! shell command in its code blocks is split into words the way a shell does
//! (`shlex`), and a command is at fault when it passes a value to
//! - `spin up --variable NAME=...` where `NAME` is declared `secret = true`
//!   in `plugin/spin/spin.toml`;
//! - a flag named after a secret (`--pat`, `--password`, `--client-secret`...);
//! - a header option (`curl -H`) carrying an `Authorization` value.

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The Spin application's variables declared `secret = true`.
fn secret_spin_variables() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("plugin/spin/spin.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let variables = manifest["variables"].as_table().unwrap();
    let secret: Vec<String> = variables
        .iter()
        .filter(|(_, v)| v.get("secret").and_then(toml::Value::as_bool) == Some(true))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(secret.contains(&"ado_pat".to_string()), "{secret:?}");
    secret
}

/// Markdown files of the repository, outside build output and reference copies.
fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !name.starts_with('.')
                && !["target", "reference", "node_modules", "artifacts"].contains(&name.as_str())
            {
                markdown_files(&path, out);
            }
        } else if name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// The shell code blocks of a Markdown document.
fn shell_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().map(str::to_string)
                    }
                    CodeBlockKind::Indented => None,
                };
                let shell = matches!(
                    lang.as_deref(),
                    None | Some("sh" | "bash" | "shell" | "console" | "zsh")
                );
                current = shell.then(String::new);
            }
            Event::Text(text) => {
                if let Some(block) = current.as_mut() {
                    block.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// Commands of a shell block: continuation lines joined, each split into
/// words, pipelines and lists split at `|`, `&&`, `||` and `;`.
fn commands(block: &str) -> Vec<Vec<String>> {
    let mut logical = Vec::new();
    let mut line = String::new();
    for raw in block.lines() {
        let raw = raw.strip_prefix("$ ").unwrap_or(raw);
        match raw.strip_suffix('\\') {
            Some(head) => {
                line.push_str(head);
                line.push(' ');
            }
            None => {
                line.push_str(raw);
                logical.push(std::mem::take(&mut line));
            }
        }
    }
    let mut out = Vec::new();
    for line in logical {
        let Some(words) = shlex::split(&line) else {
            continue; // not shell (output, TOML): nothing is run
        };
        let mut command = Vec::new();
        for word in words {
            if ["|", "&&", "||", ";"].contains(&word.as_str()) {
                out.push(std::mem::take(&mut command));
            } else {
                command.push(word);
            }
        }
        out.push(command);
    }
    out.retain(|c| !c.is_empty());
    out
}

/// Why `command` puts a secret on its command line, if it does.
fn secret_argument(command: &[String], spin_secrets: &[String]) -> Option<String> {
    const SECRET_FLAGS: [&str; 8] = [
        "pat",
        "password",
        "token",
        "secret",
        "client-secret",
        "api-token",
        "access-token",
        "refresh-token",
    ];
    for (i, word) in command.iter().enumerate() {
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (word.as_str(), None),
        };
        let value = || inline.clone().or_else(|| command.get(i + 1).cloned());
        match flag {
            "--variable" => {
                let value = value()?;
                let name = value.split('=').next().unwrap_or_default();
                if spin_secrets.iter().any(|s| s == name) {
                    return Some(format!(
                        "the secret variable `{name}` in `--variable {value}`"
                    ));
                }
            }
            "-H" | "--header" => {
                let value = value()?;
                if value.to_ascii_lowercase().starts_with("authorization:") {
                    return Some(format!("the header `{value}`"));
                }
            }
            f if f.starts_with("--")
                && SECRET_FLAGS
                    .iter()
                    .any(|s| f.trim_start_matches("--") == *s) =>
            {
                return Some(format!("the flag `{f}`"));
            }
            _ => {}
        }
    }
    None
}

#[test]
fn the_checker_sees_secrets_on_a_command_line_and_accepts_them_elsewhere() {
    let secrets = vec!["ado_pat".to_string(), "api_token".to_string()];
    let at_fault = [
        "spin up -f spin.toml --variable ado_pat=\"$ADO_PAT\"",
        "spin up -f spin.toml \\\n  --variable api_token=abc",
        "spin up --variable=ado_pat=x",
        "curl -s -H \"Authorization: Bearer $API_TOKEN\" http://127.0.0.1:3000/v1",
        "ticketing-host --pat abc test-connection",
        "x | curl --header 'authorization: Basic YTpi' http://h",
    ];
    for block in at_fault {
        let found = commands(block)
            .iter()
            .find_map(|c| secret_argument(c, &secrets));
        assert!(found.is_some(), "not seen: {block}");
    }
    let fine = [
        "export SPIN_VARIABLE_ADO_PAT=...   # in the environment, not on a command line",
        "spin up -f spin.toml --variable ado_project=\"Fabrikam Security\"",
        "printf 'Authorization: Bearer %s\\n' \"$API_TOKEN\" | curl -s -H @- http://127.0.0.1:3000/v1",
        "ticketing-host --secrets secrets.toml test-connection",
        "ADO_PAT=... ticketing-host test-connection",
    ];
    for block in fine {
        let found = commands(block)
            .iter()
            .find_map(|c| secret_argument(c, &secrets));
        assert_eq!(found, None, "{block}");
    }
}

#[test]
fn no_documented_example_puts_a_secret_on_a_command_line() {
    let secrets = secret_spin_variables();
    let mut files = Vec::new();
    markdown_files(&root(), &mut files);
    assert!(files.iter().any(|f| f.ends_with("plugin/spin/README.md")));
    let mut faults = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for block in shell_blocks(&text) {
            for command in commands(&block) {
                checked += 1;
                if let Some(why) = secret_argument(&command, &secrets) {
                    let shown = file.strip_prefix(root()).unwrap().display();
                    faults.push(format!("{shown}: {why}: {}", command.join(" ")));
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} commands found");
    assert!(
        faults.is_empty(),
        "secrets on a command line (use SPIN_VARIABLE_<NAME>, the environment, a file or stdin):\n{}",
        faults.join("\n")
    );
}
