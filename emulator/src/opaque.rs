//! `errors=opaque` (`variants`): the error answers whose exact text or type
//! key no source establishes get a text and a type key no client could
//! have matched, keeping their status and the codes public answers of ADO
//! show. A client that passes its suites under it depends on none of the
//! emulator's guesses (FIDELITY.md, category E).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use crate::variants::ErrorTexts;

/// What public answers establish of an error whose message starts with
/// `prefix`: its whole text, its type key, or only its code.
struct Known {
    prefix: &'static str,
    text: bool,
    type_key: bool,
}

/// Each entry with its source.
const ESTABLISHED: &[Known] = &[
    // Text and type key: ADO's 401 body quoted in full in
    // Azure/azure-devops-cli-extension#807 and Azure/azure-cli#29250.
    Known {
        prefix: "TF400813",
        text: true,
        type_key: true,
    },
    // Text: solidify/jira-azuredevops-migrator#1143, ni/grpc-device#1241,
    // microsoft/sarif-sdk#2818 (FIDELITY.md, established table).
    Known {
        prefix: "TF401347",
        text: true,
        type_key: false,
    },
    // Text: cribeiro84/azure-devops-pull-request-hub#113,
    // microsoft/azure-devops-extension-sample#161; type key: the exception
    // class Microsoft's .NET client has for this answer,
    // `Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException`
    // [ms-code].
    Known {
        prefix: "The requested REST API version of",
        text: true,
        type_key: true,
    },
    // Text and type key of a refused content type: ADO's answers quoted in
    // AZDOPS/AZDOPS#63 and restsharp/RestSharp#1413.
    Known {
        prefix: "The request indicated a Content-Type of",
        text: true,
        type_key: true,
    },
    // Text and type key of a body that is no JSON Patch document:
    // devopshq/tfs#39, microsoft/playwright#27064 (text);
    // fortify-ps/FortifyBugTrackerUtility#44 (the type of ADO's 400s for
    // a body that fails validation).
    Known {
        prefix: "You must pass a valid patch document",
        text: true,
        type_key: true,
    },
    // Text of an unknown identity (no TF code):
    // Azure/azure-devops-cli-extension#272, bluebasher/WorkItemUpdater#78.
    Known {
        prefix: "The identity value '",
        text: true,
        type_key: false,
    },
    // Text of `$expand` with `fields` (no code): microsoft/azure-devops-node-api#601,
    // microsoft/azure-devops-mcp#1144.
    Known {
        prefix: "The expand parameter can not be used with the fields parameter.",
        text: true,
        type_key: false,
    },
    // Text and type key of a preview version asked without `-preview`:
    // wangkanai/devops-mcp#45.
    Known {
        prefix: "The requested version \"",
        text: true,
        type_key: true,
    },
    // Text and type key of a comment body without `text`:
    // MicrosoftDocs/vsts-rest-api-specs#482, #313.
    Known {
        prefix: "You must provide a value for the text parameter.",
        text: true,
        type_key: true,
    },
    // The rate limit's 429: code and text Learn "Rate and usage limits"
    // ("a message similar to"), type key microsoft/vscode#155632.
    Known {
        prefix: "TF400733",
        text: false,
        type_key: true,
    },
    // Text of an unknown WIQL field: nkdAgility/azure-devops-migration-tools#431,
    // #1117, #2162.
    Known {
        prefix: "TF51005",
        text: true,
        type_key: false,
    },
    // Text of a subscription naming an event type with no handler:
    // MicrosoftDocs/feedback#916.
    Known {
        prefix: "There is no registered handler for the service hooks event type",
        text: true,
        type_key: false,
    },
    // Codes only: the stale-revision 412 and the rule error 400 (samples
    // and public reports, FIDELITY.md), a missing work item
    // (MicrosoftDocs/azure-devops-docs#294).
    Known {
        prefix: "TF26071",
        text: false,
        type_key: false,
    },
    Known {
        prefix: "TF401320",
        text: false,
        type_key: false,
    },
    // A work item type the project lacks (TeamCodeStream/codestream#1085).
    Known {
        prefix: "VS402323",
        text: false,
        type_key: false,
    },
    Known {
        prefix: "TF401232",
        text: false,
        type_key: false,
    },
];

/// The text that replaces an unestablished one.
pub const TEXT: &str = "Opaque error text (emulator setting errors=opaque).";
/// The type key that replaces an unestablished one.
pub const TYPE_KEY: &str = "EmulatorOpaqueException";

/// Rewrites an ADO error envelope in place; `false` when `body` is not one.
pub fn rewrite(body: &mut Value) -> bool {
    let (Some(message), Some(_)) = (
        body.get("message").and_then(Value::as_str),
        body.get("typeKey"),
    ) else {
        return false;
    };
    let known = ESTABLISHED.iter().find(|k| message.starts_with(k.prefix));
    let text = match known {
        Some(k) if k.text => message.to_string(),
        Some(k) => format!("{}: {TEXT}", k.prefix),
        None => TEXT.to_string(),
    };
    body["message"] = text.into();
    if !known.is_some_and(|k| k.type_key) {
        body["typeKey"] = TYPE_KEY.into();
        body["typeName"] = format!("Emulator.{TYPE_KEY}, Emulator").into();
    }
    true
}

/// Middleware, outermost: under `errors=opaque`, rewrites every JSON
/// error answer (status 400 and up) as `rewrite` does.
pub async fn layer(errors: ErrorTexts, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if errors != ErrorTexts::Opaque || response.status().as_u16() < 400 {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(mut v) = serde_json::from_slice::<Value>(&bytes)
        && rewrite(&mut v)
    {
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(v.to_string()));
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_established_codes_texts_and_type_keys_survive() {
        let mut unauthorized = json!({"message": "TF400813: The user '' is not authorized to access this resource.", "typeKey": "UnauthorizedRequestException"});
        let before = unauthorized.clone();
        assert!(rewrite(&mut unauthorized));
        assert_eq!(unauthorized, before);

        let mut stale = json!({"message": "TF26071: This work item has been changed.", "typeKey": "X", "typeName": "X"});
        assert!(rewrite(&mut stale));
        assert_eq!(stale["message"], format!("TF26071: {TEXT}"));
        assert_eq!(stale["typeKey"], TYPE_KEY);

        let mut guessed = json!({"message": "VS403449: not a patch", "typeKey": "X"});
        assert!(rewrite(&mut guessed));
        assert_eq!(guessed["message"], TEXT);

        assert!(!rewrite(&mut json!({"error": "invalid_client"})));
    }
}
