//! Dispatch visibility per outegration (the "Create Azure DevOps Ticket"
//! button's setting): `always`, `never`, or only for tickets that match a
//! filter. The `dispatch` command enforces it when given a rules file;
//! ticketing rules are automation and are not subject to it.

use time::OffsetDateTime;

use crate::Ticket;
use crate::platform::rules::Rules;
pub use crate::platform::rules::Visibility;

/// Why a dispatch is not offered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotVisible {
    #[error(
        "dispatch to outegration `{outegration}` is not offered: its visibility is \"never\" in {rules_file}"
    )]
    Never {
        outegration: String,
        rules_file: String,
    },
    #[error(
        "dispatch of ticket {ticket} to outegration `{outegration}` is not offered: it does not match the outegration's filter in {rules_file} ({reason})"
    )]
    Filtered {
        ticket: String,
        outegration: String,
        rules_file: String,
        reason: String,
    },
}

/// Whether `ticket` may be dispatched with the config at `key`. An
/// outegration the rules file does not name is always visible.
pub fn check(
    rules: &Rules,
    key: &str,
    ticket: &Ticket,
    now: OffsetDateTime,
) -> Result<(), NotVisible> {
    let Some(o) = rules.outegration_by_key(key) else {
        return Ok(());
    };
    match o.visibility {
        Visibility::Always => Ok(()),
        Visibility::Never => Err(NotVisible::Never {
            outegration: o.name.clone(),
            rules_file: rules.file.clone(),
        }),
        Visibility::Filter => o
            .filter
            .check(ticket, now)
            .map_err(|reason| NotVisible::Filtered {
                ticket: ticket.id.clone(),
                outegration: o.name.clone(),
                rules_file: rules.file.clone(),
                reason,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Field, FieldValue};

    fn rules(visibility: &str) -> Rules {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/outegrations");
        Rules::parse(
            "r.toml",
            &format!("[outegrations.bugs]\nconfig = \"agile-bug.json\"\n{visibility}\n"),
            &dir,
        )
        .unwrap()
    }

    fn ticket(sev: &str) -> Ticket {
        Ticket {
            id: "T-1".into(),
            url: "u".into(),
            fields: vec![Field {
                name: "severity".into(),
                value: FieldValue::Text(sev.into()),
            }],
            findings: vec![],
            comments: vec![],
        }
    }

    #[test]
    fn visibility_always_never_and_filter() {
        let now = OffsetDateTime::now_utc();
        let r = rules("");
        let key = r.outegrations[0].key.clone();
        assert_eq!(check(&r, &key, &ticket("LOW"), now), Ok(()));
        let r = rules("visibility = \"never\"");
        assert!(matches!(
            check(&r, &key, &ticket("LOW"), now),
            Err(NotVisible::Never { .. })
        ));
        let r = rules("visibility = \"filter\"\nfilter = { severity_at_least = \"high\" }");
        assert_eq!(check(&r, &key, &ticket("CRITICAL"), now), Ok(()));
        let e = check(&r, &key, &ticket("LOW"), now).unwrap_err();
        assert!(e.to_string().contains("severity LOW is below HIGH"), "{e}");
        assert_eq!(
            check(&r, "/elsewhere.json", &ticket("LOW"), now),
            Ok(()),
            "not named: visible"
        );
    }
}
