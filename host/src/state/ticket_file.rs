//! Ticket files: the one ticket JSON format (`ticketing_model::ticket_json`,
//! shared with the Spin service) read into and written from the runtime's
//! ticket, for the CLI, `examples/` and the state database.

use std::path::Path;

use anyhow::Context as _;
use ticketing_runtime::convert::{
    ticket_from_model, ticket_to_model, value_from_model, value_to_model,
};
use ticketing_runtime::model::ticket_json;

use crate::{FieldValue, Ticket};

/// Parses a ticket from JSON text; an error names every member at fault.
pub fn parse(text: &str) -> anyhow::Result<Ticket> {
    Ok(ticket_from_model(ticket_json::parse(text)?))
}

/// The ticket as pretty JSON, fields in their order.
pub fn to_json(t: &Ticket) -> String {
    ticket_json::to_json(&ticket_to_model(t))
}

/// A JSON value as a field value (`name` names the field in the error).
pub fn field_value(name: &str, v: &serde_json::Value) -> anyhow::Result<FieldValue> {
    let value = ticket_json::field_value(name, v)
        .map_err(|i| anyhow::anyhow!("field `{}`: {}", i.path, i.message))?;
    Ok(value_from_model(value))
}

/// A field value as JSON.
pub fn value_json(v: &FieldValue) -> serde_json::Value {
    ticket_json::value_json(&value_to_model(v))
}

/// Reads a ticket file.
pub fn load(path: &Path) -> anyhow::Result<Ticket> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/tickets");
        for entry in std::fs::read_dir(dir).unwrap() {
            load(&entry.unwrap().path()).unwrap();
        }
    }

    #[test]
    fn to_json_round_trips() {
        let t =
            parse(r#"{"id":"S-1","url":"u","fields":{"z":1,"a":"2026-01-01T00:00:00Z"}}"#).unwrap();
        assert_eq!(parse(&to_json(&t)).unwrap(), t);
    }
}
