use super::*;
use crate::schema::IdentityRef;

fn field(ty: InputType, allowed: &[&str]) -> FieldInfo {
    FieldInfo {
        reference_name: "Microsoft.VSTS.Common.Severity".into(),
        name: "Severity".into(),
        input_type: ty,
        required: false,
        read_only: false,
        allowed_values: allowed.iter().map(|s| s.to_string()).collect(),
        default_value: None,
        help_text: None,
        identities: vec![],
    }
}

fn assigned_to() -> FieldInfo {
    FieldInfo {
        reference_name: "System.AssignedTo".into(),
        name: "Assigned To".into(),
        identities: vec![IdentityRef {
            display_name: "Jamal Hartnett".into(),
            unique_name: "jamal@contoso.example".into(),
        }],
        allowed_values: vec!["jamal@contoso.example".into()],
        ..field(InputType::Identity, &[])
    }
}

#[test]
fn allowed_values_are_enforced_with_a_suggestion() {
    let f = field(InputType::PicklistString, &["1 - Critical", "2 - High"]);
    let err = coerce(&FieldValue::Text("1".into()), &f).unwrap_err();
    assert_eq!(err.rule, "allowed-values");
    assert!(
        err.message.contains("did you mean `1 - Critical`"),
        "{}",
        err.message
    );
    assert_eq!(
        coerce(&FieldValue::Text("2 - High".into()), &f).unwrap(),
        json!("2 - High")
    );
}

#[test]
fn a_misspelt_allowed_value_gets_the_closest_suggestion() {
    let allowed: Vec<String> = ["New", "Active", "Resolved", "Closed"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(closest("Actve", &allowed), Some("Active"));
    assert_eq!(closest("zzz", &allowed), None);
}

#[test]
fn integers_are_coerced_and_bad_ones_named() {
    let f = field(InputType::Integer, &[]);
    assert_eq!(
        coerce(&FieldValue::Text(" 3 ".into()), &f).unwrap(),
        json!(3)
    );
    assert_eq!(coerce(&FieldValue::Number(2.0), &f).unwrap(), json!(2));
    let err = coerce(&FieldValue::Text("three".into()), &f).unwrap_err();
    assert!(err.message.contains("`three`") && err.path == "Microsoft.VSTS.Common.Severity");
}

#[test]
fn doubles_refuse_text_and_infinity() {
    let f = field(InputType::Double, &[]);
    assert_eq!(coerce(&FieldValue::Integer(2), &f).unwrap(), json!(2.0));
    assert!(coerce(&FieldValue::Text("inf".into()), &f).is_err());
    assert!(coerce(&FieldValue::Text("n/a".into()), &f).is_err());
}

#[test]
fn booleans_accept_true_and_false_only() {
    let f = field(InputType::Boolean, &[]);
    assert_eq!(
        coerce(&FieldValue::Text("TRUE".into()), &f).unwrap(),
        json!(true)
    );
    assert_eq!(
        coerce(&FieldValue::Boolean(false), &f).unwrap(),
        json!(false)
    );
    assert_eq!(
        coerce(&FieldValue::Text("yes".into()), &f)
            .unwrap_err()
            .rule,
        "input-type"
    );
}

#[test]
fn html_targets_escape_ticket_text() {
    let f = field(InputType::Html, &[]);
    let v = coerce(
        &FieldValue::Text("<script>alert(1)</script>\nline".into()),
        &f,
    )
    .unwrap();
    assert_eq!(v, json!("&lt;script&gt;alert(1)&lt;/script&gt;<br/>line"));
}

#[test]
fn dates_are_normalised_to_utc_and_wrong_ones_refused() {
    let f = field(InputType::DateTime, &[]);
    assert_eq!(
        coerce(&FieldValue::Text("2026-12-01T02:00:00+02:00".into()), &f).unwrap(),
        json!("2026-12-01T00:00:00Z")
    );
    let err = coerce(&FieldValue::Text("tomorrow".into()), &f).unwrap_err();
    assert!(
        err.rule == "input-type" && err.message.contains("`tomorrow`"),
        "{err}"
    );
    assert!(coerce(&FieldValue::Text("2026-13-45T00:00:00Z".into()), &f).is_err());
}

#[test]
fn single_line_text_is_limited_to_255_characters_and_one_line() {
    let f = field(InputType::Text, &[]);
    let err = coerce(&FieldValue::Text("x".repeat(256)), &f).unwrap_err();
    assert_eq!(err.rule, "max-length");
    assert!(coerce(&FieldValue::Text("x".repeat(255)), &f).is_ok());
    assert_eq!(
        coerce(&FieldValue::Text("a\nb".into()), &f)
            .unwrap_err()
            .rule,
        "input-type"
    );
}

#[test]
fn identities_resolve_display_names_and_accept_sign_in_names() {
    let f = assigned_to();
    assert_eq!(
        coerce(&FieldValue::Text("jamal hartnett".into()), &f).unwrap(),
        json!("Jamal Hartnett <jamal@contoso.example>")
    );
    assert_eq!(
        coerce(&FieldValue::Text("someone@contoso.example".into()), &f).unwrap(),
        json!("someone@contoso.example")
    );
    assert_eq!(
        coerce(
            &FieldValue::Text("Ann Lee <ann@contoso.example>".into()),
            &f
        )
        .unwrap(),
        json!("Ann Lee <ann@contoso.example>")
    );
    let err = coerce(&FieldValue::Text("Jamal Hartnet".into()), &f).unwrap_err();
    assert_eq!(err.rule, "identity");
    assert!(
        err.message.contains("did you mean `Jamal Hartnett`"),
        "{}",
        err.message
    );
    assert_eq!(
        coerce(&FieldValue::Text("<script>".into()), &f)
            .unwrap_err()
            .rule,
        "identity"
    );
}

#[test]
fn tree_paths_refuse_empty_segments_and_bad_characters() {
    assert_eq!(tree_path("\\Fabrikam\\Web").unwrap(), "Fabrikam\\Web");
    assert!(tree_path("Fabrikam\\\\Web").is_err());
    assert!(tree_path("Fabrikam\\We<b").is_err());
    let f = FieldInfo {
        reference_name: "System.AreaPath".into(),
        ..field(InputType::TreePath, &[])
    };
    assert_eq!(
        coerce(&FieldValue::Text("Fabrikam\\".into()), &f)
            .unwrap_err()
            .rule,
        "input-type"
    );
}
