//! JSONL: one JSON object per finding and line (`\n`), in severity order.
//! Keys are the columns' field system names in column order; values keep
//! their type (numbers, booleans, lists as arrays, date-times as the platform
//! sent them, empty as `null`). Also the baseline of the benchmark.

use std::io::Write;

use serde_json::Value;

use super::columns::{Cell, Table};

fn value(cell: &Cell<'_>) -> Value {
    match *cell {
        Cell::Empty => Value::Null,
        Cell::Text(s) | Cell::DateTime(s) => Value::String(s.to_string()),
        Cell::Integer(i) => Value::from(i),
        Cell::Number(n) => serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Cell::Boolean(b) => Value::Bool(b),
        Cell::List(l) => Value::Array(l.iter().map(|s| Value::String(s.clone())).collect()),
    }
}

pub fn write(table: &Table<'_>) -> Result<Vec<u8>, String> {
    let keys: Vec<String> = table
        .fields()
        .map(|f| serde_json::to_string(f).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(64 * 1024);
    for row in 0..table.row_count() {
        out.push(b'{');
        for (i, (key, cell)) in keys.iter().zip(table.row(row)).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key.as_bytes());
            out.push(b':');
            match cell {
                // Borrowed text goes straight out, without building a Value.
                Cell::Text(s) | Cell::DateTime(s) => serde_json::to_writer(&mut out, s),
                other => serde_json::to_writer(&mut out, &value(&other)),
            }
            .map_err(|e| e.to_string())?;
        }
        out.extend_from_slice(b"}\n");
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(out)
}
