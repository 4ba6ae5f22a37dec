//! ADO matches the resource segments of a REST path without regard to case
//! (`workItemTypes`, `WorkItems`, `RecycleBin` all work, and Microsoft's
//! samples use several spellings). Before routing, every known resource
//! segment after `_apis` is rewritten to the one spelling the router
//! registers; names and ids (projects, types, fields) are left as sent.

use axum::extract::Request;
use axum::http::Uri;

/// Resource segments, lower case → the spelling the routes use.
const SEGMENTS: &[(&str, &str)] = &[
    ("wit", "wit"),
    ("workitems", "workitems"),
    ("workitemsbatch", "workitemsbatch"),
    ("workitemtypes", "workitemtypes"),
    ("recyclebin", "recyclebin"),
    ("fields", "fields"),
    ("states", "states"),
    ("comments", "comments"),
    ("attachments", "attachments"),
    ("wiql", "wiql"),
    ("revisions", "revisions"),
    ("updates", "updates"),
    ("projects", "projects"),
    ("connectiondata", "connectionData"),
    ("resourceareas", "resourceareas"),
    ("hooks", "hooks"),
    ("subscriptions", "subscriptions"),
    ("diagnostics", "diagnostics"),
    ("notifications", "notifications"),
    ("publishers", "publishers"),
    ("consumers", "consumers"),
    ("actions", "actions"),
    ("eventtypes", "eventtypes"),
];

/// The path with its resource segments in the routes' spelling, or `None`
/// when it already is.
pub fn canonical(path: &str) -> Option<String> {
    let mut after_apis = false;
    let mut changed = false;
    let segments: Vec<String> = path
        .split('/')
        .map(|seg| {
            if !after_apis {
                after_apis = seg.eq_ignore_ascii_case("_apis");
                return if after_apis && seg != "_apis" {
                    changed = true;
                    "_apis".to_string()
                } else {
                    seg.to_string()
                };
            }
            match SEGMENTS
                .iter()
                .find(|(lower, _)| seg.eq_ignore_ascii_case(lower))
            {
                Some((_, spelled)) if seg != *spelled => {
                    changed = true;
                    (*spelled).to_string()
                }
                _ => seg.to_string(),
            }
        })
        .collect();
    changed.then(|| segments.join("/"))
}

/// Middleware: rewrites the request path before the router sees it.
pub async fn layer(mut req: Request) -> Request {
    if let Some(path) = canonical(req.uri().path()) {
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn resource_segments_are_matched_without_case() {
        assert_eq!(
            canonical("/contoso/P/_apis/wit/workItemTypes/Bug").as_deref(),
            Some("/contoso/P/_apis/wit/workitemtypes/Bug")
        );
        assert_eq!(
            canonical("/contoso/_apis/wit/WorkItems").as_deref(),
            Some("/contoso/_apis/wit/workitems")
        );
        assert_eq!(
            canonical("/contoso/_apis/ConnectionData").as_deref(),
            Some("/contoso/_apis/connectionData")
        );
    }

    #[test]
    fn names_before_apis_and_already_canonical_paths_are_left_alone() {
        assert_eq!(
            canonical("/contoso/Fields Project/_apis/wit/workitems/7"),
            None
        );
        assert_eq!(
            canonical("/contoso/Comments/_apis/wit/workitemtypes/Bug"),
            None
        );
        assert_eq!(canonical("/_emulator/faults"), None);
    }
}
