//! The work item tracking routes beyond metadata: work items, history,
//! batch reads, the recycle bin, comments, attachments, WIQL and `$batch`.
//! ADO matches path segments without case and Microsoft's samples write
//! both `workitems` and `workItems` (also `recycleBin`, `workItemsBatch`),
//! so each route answers in both spellings.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};

use crate::routes::{attachments, batch, comments, reads, recyclebin, wiql, workitems};
use crate::state::Emu;

/// Registers `path` (written in camelCase) and its all-lowercase spelling.
fn both(router: Router<Arc<Emu>>, path: &str, methods: MethodRouter<Arc<Emu>>) -> Router<Arc<Emu>> {
    let lower = path
        .replace("workItemsBatch", "workitemsbatch")
        .replace("workItems", "workitems")
        .replace("recycleBin", "recyclebin");
    let router = router.route(path, methods.clone());
    if lower == path {
        router
    } else {
        router.route(&lower, methods)
    }
}

pub fn routes() -> Router<Arc<Emu>> {
    let r = Router::new();
    let r = both(
        r,
        "/{org}/{project}/_apis/wit/workItems/{target}",
        get(workitems::get_in_project)
            .post(workitems::create)
            .patch(workitems::update_in_project)
            .delete(recyclebin::delete),
    );
    let r = both(
        r,
        "/{org}/_apis/wit/workItems/{id}",
        get(workitems::get)
            .patch(workitems::update)
            .delete(recyclebin::delete),
    );
    let r = both(
        r,
        "/{org}/{project}/_apis/wit/workItems",
        get(reads::list_in_project),
    );
    let r = both(r, "/{org}/_apis/wit/workItems", get(reads::list_in_org));
    let r = both(
        r,
        "/{org}/{project}/_apis/wit/workItemsBatch",
        post(reads::batch_in_project),
    );
    let r = both(
        r,
        "/{org}/_apis/wit/workItemsBatch",
        post(reads::batch_in_org),
    );
    let mut r = r;
    for scope in ["/{org}/{project}", "/{org}"] {
        r = both(
            r,
            &format!("{scope}/_apis/wit/workItems/{{id}}/revisions"),
            get(reads::revisions),
        );
        r = both(
            r,
            &format!("{scope}/_apis/wit/workItems/{{id}}/revisions/{{n}}"),
            get(reads::revisions),
        );
        r = both(
            r,
            &format!("{scope}/_apis/wit/workItems/{{id}}/updates"),
            get(reads::updates),
        );
        r = both(
            r,
            &format!("{scope}/_apis/wit/workItems/{{id}}/updates/{{n}}"),
            get(reads::updates),
        );
        r = both(
            r,
            &format!("{scope}/_apis/wit/recycleBin"),
            get(recyclebin::list),
        );
        r = both(
            r,
            &format!("{scope}/_apis/wit/recycleBin/{{id}}"),
            get(recyclebin::get)
                .patch(recyclebin::restore)
                .delete(recyclebin::destroy),
        );
        // Uploads read their own body, up to ADO's attachment limit.
        r = r.route(
            &format!("{scope}/_apis/wit/attachments"),
            post(attachments::create).layer(DefaultBodyLimit::disable()),
        );
        r = r.route(
            &format!("{scope}/_apis/wit/attachments/{{id}}"),
            get(attachments::get),
        );
        r = r.route(&format!("{scope}/_apis/wit/wiql"), post(wiql::query));
    }
    let r = r.route("/{org}/{project}/{team}/_apis/wit/wiql", post(wiql::query));
    let mut r = r;
    for scope in ["/{org}/{project}", "/{org}"] {
        r = both(
            r,
            &format!("{scope}/_apis/wit/workItems/{{id}}/comments"),
            get(comments::list).post(comments::add),
        );
        r = both(
            r,
            &format!("{scope}/_apis/wit/workItems/{{id}}/comments/{{comment}}"),
            get(comments::get)
                .patch(comments::update)
                .delete(comments::delete),
        );
    }
    r.route(
        "/{org}/_apis/wit/$batch",
        post(batch::batch).patch(batch::batch),
    )
}
