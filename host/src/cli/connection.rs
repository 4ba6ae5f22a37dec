//! The commands about the connection and the outegration config, before
//! any ticket: `test-connection`, `schema`, `validate-config`,
//! `config-schema`, `default-config` and `preview`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use serde::Serialize;

use crate::Host;
use crate::cli::{Cli, fail, load_connection, output};
use ticketing_runtime::{Deployment, names};

/// `schema ...`.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Work item types of the project.
    Types,
    /// Fields of a work item type.
    Fields { work_item_type: String },
    /// States of a work item type, with categories and initial states.
    States { work_item_type: String },
}

#[derive(Serialize)]
struct IdentityJson {
    id: String,
    display_name: String,
}

/// `test-connection --json`.
#[derive(Serialize)]
struct ConnectionJson {
    user: IdentityJson,
    organization: String,
    /// `services` (Azure DevOps Services) or `server` (Azure DevOps Server).
    deployment: &'static str,
    project_id: String,
    project_name: String,
    process_template: Option<String>,
    api_version: String,
}

/// `test-connection`.
pub fn test_connection(cli: &Cli, host: &Host, out: &mut dyn Write) -> anyhow::Result<()> {
    let info = host.test_connection(&load_connection(cli)?).map_err(fail)?;
    if cli.json {
        return output::print(
            out,
            &ConnectionJson {
                user: IdentityJson {
                    id: info.user.id,
                    display_name: info.user.display_name,
                },
                organization: info.organization,
                deployment: match info.deployment {
                    Deployment::Services => "services",
                    Deployment::Server => "server",
                },
                project_id: info.project_id,
                project_name: info.project_name,
                process_template: info.process_template,
                api_version: info.api_version,
            },
        );
    }
    writeln!(
        out,
        "identity:         {} ({})",
        info.user.display_name, info.user.id
    )?;
    writeln!(
        out,
        "organization:     {} ({})",
        info.organization,
        match info.deployment {
            Deployment::Services => "Azure DevOps Services",
            Deployment::Server => "Azure DevOps Server",
        }
    )?;
    writeln!(
        out,
        "project:          {} ({})",
        info.project_name, info.project_id
    )?;
    writeln!(
        out,
        "process template: {}",
        info.process_template.as_deref().unwrap_or("unknown")
    )?;
    // The REST version this server serves (an older Azure DevOps Server names a lower one).
    writeln!(out, "api-version:      {}", info.api_version)?;
    Ok(())
}

#[derive(Serialize)]
struct TypesJson {
    types: Vec<TypeJson>,
}

#[derive(Serialize)]
struct TypeJson {
    name: String,
    reference_name: String,
    description: String,
    is_disabled: bool,
}

#[derive(Serialize)]
struct FieldsJson {
    fields: Vec<FieldJson>,
}

#[derive(Serialize)]
struct FieldJson {
    reference_name: String,
    name: String,
    input_type: &'static str,
    required: bool,
    read_only: bool,
    allowed_values: Vec<String>,
    default_value: Option<String>,
    help_text: Option<String>,
}

#[derive(Serialize)]
struct StatesJson {
    states: Vec<StateJson>,
}

#[derive(Serialize)]
struct StateJson {
    name: String,
    category: String,
    color: String,
    initial: bool,
}

/// `schema types | fields TYPE | states TYPE`.
pub fn schema(
    cli: &Cli,
    host: &Host,
    what: &SchemaCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let conn = load_connection(cli)?;
    match what {
        SchemaCommand::Types => {
            let types = host.work_item_types(&conn).map_err(fail)?;
            if cli.json {
                let types = types
                    .into_iter()
                    .map(|t| TypeJson {
                        name: t.name,
                        reference_name: t.reference_name,
                        description: t.description,
                        is_disabled: t.is_disabled,
                    })
                    .collect();
                return output::print(out, &TypesJson { types });
            }
            writeln!(out, "{:<24} reference name", "name")?;
            for t in types {
                writeln!(
                    out,
                    "{:<24} {}{}",
                    t.name,
                    t.reference_name,
                    if t.is_disabled { " (disabled)" } else { "" }
                )?;
            }
        }
        SchemaCommand::Fields { work_item_type } => {
            let fields = host.fields(&conn, work_item_type).map_err(fail)?;
            if cli.json {
                let fields = fields
                    .into_iter()
                    .map(|f| FieldJson {
                        input_type: names::input_type(f.input_type),
                        reference_name: f.reference_name,
                        name: f.name,
                        required: f.required,
                        read_only: f.read_only,
                        allowed_values: f.allowed_values,
                        default_value: f.default_value,
                        help_text: f.help_text,
                    })
                    .collect();
                return output::print(out, &FieldsJson { fields });
            }
            writeln!(
                out,
                "{:<40} {:<16} {:<9} {:<9} {:<14} allowed values",
                "reference name", "input type", "required", "read-only", "default"
            )?;
            for f in fields {
                writeln!(
                    out,
                    "{:<40} {:<16} {:<9} {:<9} {:<14} {}",
                    f.reference_name,
                    names::input_type(f.input_type),
                    f.required,
                    f.read_only,
                    f.default_value.unwrap_or_default(),
                    f.allowed_values.join(" | ")
                )?;
            }
        }
        SchemaCommand::States { work_item_type } => {
            let initial = host.initial_states(&conn, work_item_type).map_err(fail)?;
            let states = host.states(&conn, work_item_type).map_err(fail)?;
            if cli.json {
                let states = states
                    .into_iter()
                    .map(|s| StateJson {
                        category: names::state_category(&s.category),
                        initial: initial.contains(&s.name),
                        name: s.name,
                        color: s.color,
                    })
                    .collect();
                return output::print(out, &StatesJson { states });
            }
            writeln!(out, "{:<16} {:<12} initial", "state", "category")?;
            for s in states {
                writeln!(
                    out,
                    "{:<16} {:<12} {}",
                    s.name,
                    names::state_category(&s.category),
                    if initial.contains(&s.name) { "yes" } else { "" }
                )?;
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Valid {
    file: String,
    valid: bool,
}

/// `validate-config FILE`: a refused config is an error (exit 1) naming
/// each problem. With a host config (`--config` exists) and no `--offline`,
/// the connection is given too, so a tree path that names no node of the
/// project is one of the problems.
pub fn validate_config(
    cli: &Cli,
    host: &Host,
    file: &Path,
    offline: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    if offline || !cli.config.exists() {
        host.validate_config(&text).map_err(fail)?;
    } else {
        host.validate_config_with(&load_connection(cli)?, &text)
            .map_err(fail)?;
    }
    if cli.json {
        return output::print(
            out,
            &Valid {
                file: file.display().to_string(),
                valid: true,
            },
        );
    }
    writeln!(out, "{}: valid", file.display())?;
    Ok(())
}

/// `config-schema`: a JSON document either way.
pub fn config_schema(host: &Host, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{}", host.config_schema().map_err(fail)?)?;
    Ok(())
}

/// `default-config`: a JSON document either way.
pub fn default_config(
    cli: &Cli,
    host: &Host,
    work_item_type: &str,
    process: Option<&str>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let process = match process {
        Some(p) => p.to_string(),
        None => {
            let info = host.test_connection(&load_connection(cli)?).map_err(fail)?;
            info.process_template
                .context("the project's process template is not readable; pass --process")?
        }
    };
    writeln!(
        out,
        "{}",
        host.default_config(&process, work_item_type)
            .map_err(fail)?
    )?;
    Ok(())
}

#[derive(Serialize)]
struct PreviewJson {
    method: String,
    url: String,
    /// The request body: JSON (a JSON Patch document) when it parses, else text.
    body: serde_json::Value,
    problems: Vec<ProblemJson>,
    /// The findings file the dispatch would upload; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<AttachmentJson>,
}

#[derive(Serialize)]
struct AttachmentJson {
    file_name: String,
    /// Bytes.
    size: u64,
}

#[derive(Serialize)]
struct ProblemJson {
    path: String,
    rule: String,
    message: String,
}

/// `preview`: the request a dispatch would send; fails when a problem
/// would stop the dispatch (after printing it).
pub fn preview(
    cli: &Cli,
    host: &Host,
    outegration: &Path,
    ticket: &Path,
    validate_remote: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let config = std::fs::read_to_string(outegration)
        .with_context(|| format!("reading {}", outegration.display()))?;
    let ticket = crate::state::ticket_file::load(ticket)?;
    let p = host
        .preview(&load_connection(cli)?, &config, &ticket, validate_remote)
        .map_err(fail)?;
    if cli.json {
        output::print(
            out,
            &PreviewJson {
                method: p.method.clone(),
                url: p.url.clone(),
                body: serde_json::from_str(&p.body)
                    .unwrap_or_else(|_| serde_json::Value::String(p.body.clone())),
                problems: p
                    .problems
                    .iter()
                    .map(|i| ProblemJson {
                        path: i.path.clone(),
                        rule: i.rule.clone(),
                        message: i.message.clone(),
                    })
                    .collect(),
                attachment: p.attachment.as_ref().map(|a| AttachmentJson {
                    file_name: a.file_name.clone(),
                    size: a.size,
                }),
            },
        )?;
    } else {
        writeln!(out, "{} {}\n{}", p.method, p.url, p.body)?;
        if let Some(a) = &p.attachment {
            writeln!(out, "attachment: {} ({} bytes)", a.file_name, a.size)?;
        }
        for i in &p.problems {
            writeln!(out, "problem: {} [{}]: {}", i.path, i.rule, i.message)?;
        }
    }
    if !p.problems.is_empty() {
        bail!("{} problem(s) would stop this dispatch", p.problems.len());
    }
    Ok(())
}
