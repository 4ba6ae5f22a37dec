//! The only place the WIT types of the runtime meet `ticketing-model`'s:
//! tickets (so a platform reads and writes the one ticket JSON format) and
//! connector errors (so they are described for people in one way).

use ticketing_model as model;

use crate::bindings::secops::ticketing::types::{
    Comment, ConnectorError, Field, FieldValue, Finding, Issue, Problem, RemoteError, Ticket,
};

/// A model field value as the WIT value.
pub fn value_from_model(v: model::FieldValue) -> FieldValue {
    match v {
        model::FieldValue::Null => FieldValue::Null,
        model::FieldValue::Text(s) => FieldValue::Text(s),
        model::FieldValue::Integer(i) => FieldValue::Integer(i),
        model::FieldValue::Number(n) => FieldValue::Number(n),
        model::FieldValue::Boolean(b) => FieldValue::Boolean(b),
        model::FieldValue::DateTime(s) => FieldValue::DateTime(s),
        model::FieldValue::TextList(l) => FieldValue::TextList(l),
    }
}

/// A WIT field value as the model's.
pub fn value_to_model(v: &FieldValue) -> model::FieldValue {
    match v {
        FieldValue::Null => model::FieldValue::Null,
        FieldValue::Text(s) => model::FieldValue::Text(s.clone()),
        FieldValue::Integer(i) => model::FieldValue::Integer(*i),
        FieldValue::Number(n) => model::FieldValue::Number(*n),
        FieldValue::Boolean(b) => model::FieldValue::Boolean(*b),
        FieldValue::DateTime(s) => model::FieldValue::DateTime(s.clone()),
        FieldValue::TextList(l) => model::FieldValue::TextList(l.clone()),
    }
}

/// A model field as the WIT field.
pub fn field_from_model(f: model::Field) -> Field {
    Field {
        name: f.name,
        value: value_from_model(f.value),
    }
}

/// A WIT field as the model's.
pub fn field_to_model(f: &Field) -> model::Field {
    model::Field {
        name: f.name.clone(),
        value: value_to_model(&f.value),
    }
}

/// A model comment as the WIT comment.
pub fn comment_from_model(c: model::Comment) -> Comment {
    Comment {
        id: c.id,
        author: c.author,
        created: c.created,
        text: c.text,
    }
}

/// A WIT comment as the model's.
pub fn comment_to_model(c: &Comment) -> model::Comment {
    model::Comment {
        id: c.id.clone(),
        author: c.author.clone(),
        created: c.created.clone(),
        text: c.text.clone(),
    }
}

/// A model ticket (read with [`model::ticket_json`]) as the WIT ticket the calls take.
pub fn ticket_from_model(t: model::Ticket) -> Ticket {
    Ticket {
        id: t.id,
        url: t.url,
        fields: t.fields.into_iter().map(field_from_model).collect(),
        findings: t
            .findings
            .into_iter()
            .map(|f| Finding {
                id: f.id,
                status: f.status,
                fields: f.fields.into_iter().map(field_from_model).collect(),
            })
            .collect(),
        comments: t.comments.into_iter().map(comment_from_model).collect(),
    }
}

/// A WIT ticket as the model's (to write it with [`model::ticket_json`]).
pub fn ticket_to_model(t: &Ticket) -> model::Ticket {
    model::Ticket {
        id: t.id.clone(),
        url: t.url.clone(),
        fields: t.fields.iter().map(field_to_model).collect(),
        findings: t
            .findings
            .iter()
            .map(|f| model::Finding {
                id: f.id.clone(),
                status: f.status.clone(),
                fields: f.fields.iter().map(field_to_model).collect(),
            })
            .collect(),
        comments: t.comments.iter().map(comment_to_model).collect(),
    }
}

fn problem(p: &Problem) -> model::Problem {
    model::Problem::new(p.message.clone(), p.remediation.clone())
}

fn issues(list: &[Issue]) -> Vec<model::Issue> {
    list.iter()
        .map(|i| model::Issue::new(i.path.clone(), i.rule.clone(), i.message.clone()))
        .collect()
}

/// The plugin's error as the model's, whose `describe` is the text for people.
pub fn error_to_model(e: &ConnectorError) -> model::ConnectorError {
    use model::ConnectorError as M;
    match e {
        ConnectorError::Unauthorized(p) => M::Unauthorized(problem(p)),
        ConnectorError::Forbidden(p) => M::Forbidden(problem(p)),
        ConnectorError::NotFound(p) => M::NotFound(problem(p)),
        ConnectorError::Conflict(p) => M::Conflict(problem(p)),
        ConnectorError::RateLimited(s) => M::RateLimited(*s),
        ConnectorError::InvalidConfig(l) => M::InvalidConfig(issues(l)),
        ConnectorError::Validation(l) => M::Validation(issues(l)),
        ConnectorError::Remote(RemoteError {
            status,
            code,
            message,
        }) => M::Remote {
            status: *status,
            code: code.clone(),
            message: message.clone(),
        },
        ConnectorError::Denied(s) => M::Denied(s.clone()),
        ConnectorError::Transport(s) => M::Transport(s.clone()),
        ConnectorError::Unsupported(s) => M::Unsupported(s.clone()),
        ConnectorError::Other(s) => M::Other(s.clone()),
    }
}

/// Describes the plugin's error for a person: the problem and how to fix
/// it, or every issue with its path and rule.
pub fn describe(e: &ConnectorError) -> String {
    error_to_model(e).describe()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_survives_the_trip_through_the_model() {
        let text = r#"{"id":"S-1","url":"u","fields":{"z":"x","n":2.5,"l":["a"],"d":"2026-01-01T00:00:00Z","e":null,"b":false,"i":7},
            "findings":[{"id":"F-1","status":"fixed","fields":{"cve":"CVE-1"}}],
            "comments":[{"id":"C-1","author":"A","created":"2026-01-01T00:00:00Z","text":"t"}]}"#;
        let model_ticket = model::ticket_json::parse(text).unwrap();
        let wit = ticket_from_model(model_ticket.clone());
        assert_eq!(ticket_to_model(&wit), model_ticket);
    }

    #[test]
    fn a_remote_error_is_described_with_status_and_code() {
        let e = ConnectorError::Remote(RemoteError {
            status: 500,
            code: Some("TF1".into()),
            message: "boom".into(),
        });
        assert_eq!(describe(&e), "Azure DevOps answered HTTP 500 (TF1): boom");
    }
}
