//! Tickets as plain Rust types: what a SecOps platform hands the connector.

/// A field value of a ticket or finding.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Null,
    Text(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
    DateTime(String),
    TextList(Vec<String>),
}

impl FieldValue {
    pub fn is_empty(&self) -> bool {
        match self {
            FieldValue::Null => true,
            FieldValue::Text(s) | FieldValue::DateTime(s) => s.trim().is_empty(),
            FieldValue::TextList(l) => l.is_empty(),
            _ => false,
        }
    }

    /// The value as text, the way a person would write it (dictionary keys, messages).
    pub fn display(&self) -> String {
        match self {
            FieldValue::Null => String::new(),
            FieldValue::Text(s) | FieldValue::DateTime(s) => s.clone(),
            FieldValue::Integer(i) => i.to_string(),
            FieldValue::Number(n) => n.to_string(),
            FieldValue::Boolean(b) => b.to_string(),
            FieldValue::TextList(l) => l.join("; "),
        }
    }
}

/// A named field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: FieldValue,
}

/// A vulnerability finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: String,
    pub status: String,
    pub fields: Vec<Field>,
}

/// A ticket comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: String,
    pub author: String,
    pub created: String,
    pub text: String,
}

/// A SecOps ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub url: String,
    pub fields: Vec<Field>,
    pub findings: Vec<Finding>,
    pub comments: Vec<Comment>,
}

impl Ticket {
    /// The value of a ticket field by system name, if present.
    pub fn field(&self, name: &str) -> Option<&FieldValue> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }
}
