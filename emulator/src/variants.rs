//! Settings for behaviours no Azure DevOps source decides (FIDELITY.md,
//! "Markers not established"): one value per plausible behaviour, the
//! default being the emulator's reading. `ADO_EMULATOR_VARIANTS`
//! (`name=value`, comma-separated) changes the defaults of every emulator a
//! process starts, so an end-to-end suite can run under each setting (CI
//! runs the connector's suites under the alternatives; `.ci/run`).

/// How `[System.Tags] CONTAINS 'x'` matches in WIQL: the Learn pages list
/// Contains for Tags without saying whether a tag must equal `x` or may
/// merely include it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagMatch {
    /// A tag equal to `x`, without case (the emulator's reading).
    #[default]
    WholeTag,
    /// Any tag text that includes `x`.
    Substring,
}

/// The order of a WIQL answer without `ORDER BY`: Microsoft's WIQL
/// reference says only that the data tier's sorting preferences decide it
/// ("Sorting Results", Work Item Query Reference) [doc].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnorderedWiql {
    /// Ascending id (the emulator's reading).
    #[default]
    IdAscending,
    /// Descending id: any other order a client must not depend on.
    IdDescending,
}

/// The status and text of the errors whose exact code, message or type
/// key Microsoft does not publish (FIDELITY.md, category E).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorTexts {
    /// The emulator's best reading of ADO's texts and type keys.
    #[default]
    Exact,
    /// Same status; the message keeps only a documented TF code (the
    /// text after it and every type key replaced): a client that passes
    /// under it depends on no unestablished error text.
    Opaque,
}

/// The verbs `$batch` accepts: the Learn page of 6.1+ documents PATCH, the
/// 1.0 page (previous-versions) POST; whether today's service still takes
/// both is not documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchVerbs {
    #[default]
    Both,
    PatchOnly,
    PostOnly,
}

/// How `workitem.updated` writes an integer's `oldValue`/`newValue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HookValues {
    /// As JSON numbers (`"System.Rev": {"oldValue": 10, "newValue": 11}`):
    /// deliveries recorded from Azure DevOps Services in 2023 and 2025
    /// (FIDELITY.md, "Behaviours established").
    #[default]
    Typed,
    /// As strings (`{"oldValue": "1", "newValue": "2"}`): Microsoft's 2014
    /// fixtures (`samples/servicehook-events`).
    Strings,
}

/// How a resource version 1.0 payload writes an identity field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HookIdentities {
    /// `Display Name <unique name>`: the recorded 2023 and 2025 deliveries.
    #[default]
    NameAndMail,
    /// The display name alone: Microsoft's 2014 fixtures.
    Name,
}

/// The `System.Reason` a created item gets for a type no Microsoft sample
/// creates: the samples show "New" (Agile Bug, Task) and per-type texts
/// (Scrum "New task", "New defect reported", "New backlog item"); which a
/// process gives any other type (Scrum Impediment, Feature, Epic, ...) no
/// sample or Learn page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreateReason {
    /// "New" (the emulator's reading).
    #[default]
    New,
    /// A per-type text, "New <type>" in lower case (as Scrum's "New task").
    TypeSpecific,
}

/// What answers a request naming an organization that does not exist: a
/// 404 (a report by a Microsoft engineer, Azure/azure-cli#32897: "the
/// underlying API gives a 404 Not Found"); no public answer shows its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownOrganization {
    /// ADO's JSON error envelope, without a TF/VS code (the emulator's reading).
    #[default]
    Envelope,
    /// `text/plain` "The resource cannot be found.": the 29-byte 404 ADO's
    /// hosts give a path they serve nothing at (microsoft/coe-starter-kit#3384,
    /// `content-length: 29`, `content-type: text/plain`;
    /// microsoft/azure-devops-python-api#364 prints the same text).
    Text,
    /// An HTML page: "the wrong org name or PAT" answered by HTML, not JSON
    /// (hkarthik7/azure-devops-java-sdk#103).
    Html,
}

/// The status of a refusal for a token that lacks the scope of a route
/// (a PAT without `vso.work`, or with Work Items (Read) only on a write).
/// Public reports say 401 (microsoft/azure-repos-vscode#20 "Unauthorized",
/// PurpleSoftSrl/azure_devops_app#49, edgafner/dorkag#152 "missed the
/// vso.work_write scope that is why you get 401"); Learn's REST API
/// reference gives 403 to "the authenticated user doesn't have permission"
/// (its status table, quoted in nkdAgility/azure-devops-migration-tools#1002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingScope {
    /// 401, as the reports say.
    #[default]
    Unauthorized,
    /// 403.
    Forbidden,
}

/// The body of the 401s no public answer shows (a missing scope; a bearer
/// token on Azure DevOps Server): the TF400813 envelope ADO gives other
/// unauthorized calls, or nothing (the reports above quote the status
/// alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefusalBody {
    #[default]
    Envelope,
    Empty,
}

/// The body of an injected 503 given before the call runs (`faults`,
/// `errorRate`): no public answer of ADO's own 503 shows one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnavailableBody {
    /// ADO's JSON error envelope (the emulator's reading).
    #[default]
    Envelope,
    /// The front door's HTML page (`faults::front_door_error`).
    Html,
    /// No body.
    Empty,
}

/// What answers a GET, PUT or DELETE of a service-hook subscription id no
/// subscription has. No answer captured from Azure DevOps Services is
/// public. Azure DevOps Server 2022's code, as a third party decompiled it
/// (mjwrona/decompiled: `HooksPublisherSubscriptionsController`,
/// `ServiceHooksService.GetSubscription`, `ServiceHooksPublisherControllerBase`),
/// reads the subscription first on all three verbs and answers its
/// `SubscriptionNotFoundException` with 404; the exception's type key and
/// message are those of Microsoft's .NET client
/// (`Microsoft.VisualStudio.Services.ServiceHooks.WebApi`: its
/// `ExceptionMapping` and the resource `Error_NoSubscriptionWithId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingSubscription {
    /// 404, ADO's envelope: "No subscription could be found with id {id}.",
    /// `typeKey` `SubscriptionNotFoundException` (the emulator's reading,
    /// Server 2022's code).
    #[default]
    Envelope,
    /// 404, `text/plain` "The resource cannot be found." (the 404 ADO's
    /// hosts give a path they route nowhere: microsoft/coe-starter-kit#3384).
    Text,
    /// 400 with the same envelope, as ADO answers other arguments it refuses.
    BadRequest,
}

/// What a DELETE of a subscription id no subscription has answers: the
/// missing subscription's answer (`MissingSubscription`; Server 2022's
/// `DeleteSubscription` reads the subscription first), or 204 as for one
/// it deleted (a DELETE that is idempotent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingSubscriptionDelete {
    #[default]
    AsMissing,
    NoContent,
}

/// A setting's values by name, the default first: what `parse` reads and
/// what a test walks to run under every value (`all`).
macro_rules! named {
    ($ty:ident: $($name:literal => $value:ident),+) => {
        impl $ty {
            /// Every value by the name the setting gives it, the default first.
            pub const NAMED: &'static [(&'static str, $ty)] = &[$(($name, $ty::$value)),+];

            /// Every value, the default first.
            pub fn all() -> impl Iterator<Item = $ty> {
                Self::NAMED.iter().map(|(_, value)| *value)
            }
        }
    };
}

named!(UnknownOrganization: "envelope" => Envelope, "text" => Text, "html" => Html);
named!(MissingScope: "401" => Unauthorized, "403" => Forbidden);
named!(RefusalBody: "envelope" => Envelope, "empty" => Empty);
named!(UnavailableBody: "envelope" => Envelope, "html" => Html, "empty" => Empty);
named!(MissingSubscription: "envelope" => Envelope, "text" => Text, "400" => BadRequest);
named!(MissingSubscriptionDelete: "as-get" => AsMissing, "204" => NoContent);

/// Every unsettled behaviour with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variants {
    /// `wiql-tags=whole|substring`.
    pub wiql_tags: TagMatch,
    /// `wiql-unordered=id|id-desc`.
    pub wiql_unordered: UnorderedWiql,
    /// `history-commented=no|yes`: whether a `System.History` write
    /// through a work item PATCH also raises `workitem.commented` (the
    /// comments API always does).
    pub history_commented: bool,
    /// `delete-revision=no|yes`: whether moving an item to the recycle
    /// bin or restoring it adds a revision.
    pub delete_revision: bool,
    /// `comment-format=html|markdown`: a comment created without `format`.
    pub comment_markdown: bool,
    /// `batch-limit=N`: entries one `$batch` accepts.
    pub batch_limit: usize,
    /// `batch-verbs=both|patch|post`.
    pub batch_verbs: BatchVerbs,
    /// `notifications=newest|oldest`: the order of a subscription's
    /// notification list.
    pub notifications_oldest_first: bool,
    /// `suppress-hooks=yes|no`: whether `suppressNotifications=true`
    /// silences service hooks as well as e-mail alerts.
    pub suppress_hooks: bool,
    /// `hook-redirects=refuse|follow`: whether a delivery follows a
    /// receiver's 3xx.
    pub hook_redirects: bool,
    /// `errors=exact|opaque`.
    pub errors: ErrorTexts,
    /// `hook-values=typed|strings`.
    pub hook_values: HookValues,
    /// `hook-identities=name-email|name`.
    pub hook_identities: HookIdentities,
    /// `tag-order=as-written|sorted`: whether `System.Tags` keeps the
    /// order the tags were written in or is stored sorted (without case).
    pub tags_sorted: bool,
    /// `create-reason=new|type-specific`.
    pub create_reason: CreateReason,
    /// `disabled-create=honoured|enabled`: whether a subscription created
    /// with `status: disabledByUser` is stored disabled (no sample creates
    /// one) or enabled, the status left to a later PUT.
    pub disabled_create_honoured: bool,
    /// `replace-omitted=kept|cleared`: whether a replace (PUT) that sends a
    /// confidential input back as the mask it was shown (`********`, i.e.
    /// without its value) keeps the stored value or clears it; no sample
    /// shows a replace's answer for it.
    pub replace_masked_kept: bool,
    /// `probation-ends=any-2xx|200`: whether any 2xx answer ends a
    /// subscription's probation or only 200 (Learn: "a success"; the
    /// delivery itself counts as sent under both).
    pub probation_ends_any_2xx: bool,
    /// `changed-fields-separators=both|comma`: whether a `changedFields`
    /// filter naming several fields separates them by commas and
    /// semicolons or by commas only (Learn shows one field per filter).
    pub changed_fields_semicolons: bool,
    /// `comment-pattern=insensitive|sensitive`: whether the
    /// `commentPattern` filter ("comment contains", Learn) ignores case.
    pub comment_pattern_ignores_case: bool,
    /// `comment-edit-revision=no|yes`: whether editing or deleting a
    /// comment adds a revision of its item (the 7.1 spec's
    /// `WorkItem.commentVersionRef` has edits and deletes happen "in" a
    /// revision; no source shows one).
    pub comment_edit_revision: bool,
    /// `connection-failure=transient|enduring`: whether a delivery that
    /// got no answer (connection refused, reset, timed out) is retried on
    /// the transient schedule with the subscription still enabled, or puts
    /// the subscription on probation at once like an error status. Learn
    /// lists the transient statuses; it does not classify a failure to
    /// connect.
    pub connection_failure_transient: bool,
    /// `probation-holds=yes|no`: whether a subscription's later
    /// notifications wait while one of its notifications on probation waits
    /// for its retry (one worker per subscription delivers in order), or go
    /// out meanwhile (Learn: a subscription on probation is "limited in the
    /// number of notifications it can send", not how).
    pub probation_holds: bool,
    /// `unknown-org=envelope|text|html`.
    pub unknown_org: UnknownOrganization,
    /// `missing-scope=401|403`.
    pub missing_scope: MissingScope,
    /// `refusal-body=envelope|empty`.
    pub refusal_body: RefusalBody,
    /// `unavailable-body=envelope|html|empty`.
    pub unavailable_body: UnavailableBody,
    /// `missing-subscription=envelope|text|400`.
    pub missing_subscription: MissingSubscription,
    /// `missing-subscription-delete=as-get|204`.
    pub missing_subscription_delete: MissingSubscriptionDelete,
}

impl Default for Variants {
    fn default() -> Self {
        Variants {
            wiql_tags: TagMatch::WholeTag,
            wiql_unordered: UnorderedWiql::IdAscending,
            history_commented: false,
            delete_revision: false,
            comment_markdown: false,
            batch_limit: 200,
            batch_verbs: BatchVerbs::Both,
            notifications_oldest_first: false,
            suppress_hooks: true,
            hook_redirects: false,
            errors: ErrorTexts::Exact,
            hook_values: HookValues::Typed,
            hook_identities: HookIdentities::NameAndMail,
            tags_sorted: false,
            create_reason: CreateReason::New,
            disabled_create_honoured: true,
            replace_masked_kept: true,
            probation_ends_any_2xx: true,
            changed_fields_semicolons: true,
            comment_pattern_ignores_case: true,
            comment_edit_revision: false,
            connection_failure_transient: true,
            probation_holds: true,
            unknown_org: UnknownOrganization::Envelope,
            missing_scope: MissingScope::Unauthorized,
            refusal_body: RefusalBody::Envelope,
            unavailable_body: UnavailableBody::Envelope,
            missing_subscription: MissingSubscription::Envelope,
            missing_subscription_delete: MissingSubscriptionDelete::AsMissing,
        }
    }
}

/// Every setting and its values, for the error naming what is known.
const KNOWN: &str = "wiql-tags=whole|substring, wiql-unordered=id|id-desc, \
history-commented=no|yes, delete-revision=no|yes, comment-format=html|markdown, \
batch-limit=N, batch-verbs=both|patch|post, notifications=newest|oldest, \
suppress-hooks=yes|no, hook-redirects=refuse|follow, errors=exact|opaque, \
hook-values=typed|strings, hook-identities=name-email|name, \
tag-order=as-written|sorted, create-reason=new|type-specific, \
disabled-create=honoured|enabled, replace-omitted=kept|cleared, \
probation-ends=any-2xx|200, changed-fields-separators=both|comma, \
comment-pattern=insensitive|sensitive, comment-edit-revision=no|yes, \
connection-failure=transient|enduring, probation-holds=yes|no, \
unknown-org=envelope|text|html, missing-scope=401|403, refusal-body=envelope|empty, \
unavailable-body=envelope|html|empty, missing-subscription=envelope|text|400, \
missing-subscription-delete=as-get|204";

impl Variants {
    /// Parses `name=value,...`; `Err` names what is wrong and what is known.
    pub fn parse(text: &str) -> Result<Variants, String> {
        let mut v = Variants::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let ok = match item.split_once('=') {
                Some(("wiql-tags", "whole")) => set(&mut v.wiql_tags, TagMatch::WholeTag),
                Some(("wiql-tags", "substring")) => set(&mut v.wiql_tags, TagMatch::Substring),
                Some(("wiql-unordered", "id")) => {
                    set(&mut v.wiql_unordered, UnorderedWiql::IdAscending)
                }
                Some(("wiql-unordered", "id-desc")) => {
                    set(&mut v.wiql_unordered, UnorderedWiql::IdDescending)
                }
                Some(("history-commented", b)) => yes_no(&mut v.history_commented, b),
                Some(("delete-revision", b)) => yes_no(&mut v.delete_revision, b),
                Some(("comment-format", "html")) => set(&mut v.comment_markdown, false),
                Some(("comment-format", "markdown")) => set(&mut v.comment_markdown, true),
                Some(("batch-limit", n)) => n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| v.batch_limit = n)
                    .is_some(),
                Some(("batch-verbs", "both")) => set(&mut v.batch_verbs, BatchVerbs::Both),
                Some(("batch-verbs", "patch")) => set(&mut v.batch_verbs, BatchVerbs::PatchOnly),
                Some(("batch-verbs", "post")) => set(&mut v.batch_verbs, BatchVerbs::PostOnly),
                Some(("notifications", "newest")) => set(&mut v.notifications_oldest_first, false),
                Some(("notifications", "oldest")) => set(&mut v.notifications_oldest_first, true),
                Some(("suppress-hooks", b)) => yes_no(&mut v.suppress_hooks, b),
                Some(("hook-redirects", "refuse")) => set(&mut v.hook_redirects, false),
                Some(("hook-redirects", "follow")) => set(&mut v.hook_redirects, true),
                Some(("errors", "exact")) => set(&mut v.errors, ErrorTexts::Exact),
                Some(("errors", "opaque")) => set(&mut v.errors, ErrorTexts::Opaque),
                Some(("hook-values", "typed")) => set(&mut v.hook_values, HookValues::Typed),
                Some(("hook-values", "strings")) => set(&mut v.hook_values, HookValues::Strings),
                Some(("hook-identities", "name-email")) => {
                    set(&mut v.hook_identities, HookIdentities::NameAndMail)
                }
                Some(("hook-identities", "name")) => {
                    set(&mut v.hook_identities, HookIdentities::Name)
                }
                Some(("tag-order", "as-written")) => set(&mut v.tags_sorted, false),
                Some(("tag-order", "sorted")) => set(&mut v.tags_sorted, true),
                Some(("create-reason", "new")) => set(&mut v.create_reason, CreateReason::New),
                Some(("create-reason", "type-specific")) => {
                    set(&mut v.create_reason, CreateReason::TypeSpecific)
                }
                Some(("disabled-create", "honoured")) => set(&mut v.disabled_create_honoured, true),
                Some(("disabled-create", "enabled")) => set(&mut v.disabled_create_honoured, false),
                Some(("replace-omitted", "kept")) => set(&mut v.replace_masked_kept, true),
                Some(("replace-omitted", "cleared")) => set(&mut v.replace_masked_kept, false),
                Some(("probation-ends", "any-2xx")) => set(&mut v.probation_ends_any_2xx, true),
                Some(("probation-ends", "200")) => set(&mut v.probation_ends_any_2xx, false),
                Some(("changed-fields-separators", "both")) => {
                    set(&mut v.changed_fields_semicolons, true)
                }
                Some(("changed-fields-separators", "comma")) => {
                    set(&mut v.changed_fields_semicolons, false)
                }
                Some(("comment-pattern", "insensitive")) => {
                    set(&mut v.comment_pattern_ignores_case, true)
                }
                Some(("comment-pattern", "sensitive")) => {
                    set(&mut v.comment_pattern_ignores_case, false)
                }
                Some(("comment-edit-revision", b)) => yes_no(&mut v.comment_edit_revision, b),
                Some(("connection-failure", "transient")) => {
                    set(&mut v.connection_failure_transient, true)
                }
                Some(("connection-failure", "enduring")) => {
                    set(&mut v.connection_failure_transient, false)
                }
                Some(("probation-holds", b)) => yes_no(&mut v.probation_holds, b),
                Some(("unknown-org", x)) => pick(&mut v.unknown_org, UnknownOrganization::NAMED, x),
                Some(("missing-scope", x)) => pick(&mut v.missing_scope, MissingScope::NAMED, x),
                Some(("refusal-body", x)) => pick(&mut v.refusal_body, RefusalBody::NAMED, x),
                Some(("unavailable-body", x)) => {
                    pick(&mut v.unavailable_body, UnavailableBody::NAMED, x)
                }
                Some(("missing-subscription", x)) => {
                    pick(&mut v.missing_subscription, MissingSubscription::NAMED, x)
                }
                Some(("missing-subscription-delete", x)) => pick(
                    &mut v.missing_subscription_delete,
                    MissingSubscriptionDelete::NAMED,
                    x,
                ),
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "ADO_EMULATOR_VARIANTS: `{item}` is not one of {KNOWN}"
                ));
            }
        }
        Ok(v)
    }

    /// The defaults, as `ADO_EMULATOR_VARIANTS` changes them.
    ///
    /// # Panics
    /// On a value it does not know: a suite must not run silently under
    /// another setting than the one asked for.
    pub fn from_env() -> Variants {
        match std::env::var("ADO_EMULATOR_VARIANTS") {
            Ok(text) => Variants::parse(&text).unwrap_or_else(|e| panic!("{e}")),
            Err(_) => Variants::default(),
        }
    }
}

fn set<T>(slot: &mut T, value: T) -> bool {
    *slot = value;
    true
}

/// Sets `slot` to the value `values` names `text`; `false` for no value.
fn pick<T: Copy>(slot: &mut T, values: &[(&str, T)], text: &str) -> bool {
    values
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, value)| *slot = *value)
        .is_some()
}

fn yes_no(slot: &mut bool, text: &str) -> bool {
    match text {
        "yes" => set(slot, true),
        "no" => set(slot, false),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_unknown_ones_are_refused_by_name() {
        assert_eq!(
            Variants::parse("wiql-tags=substring").unwrap().wiql_tags,
            TagMatch::Substring
        );
        assert_eq!(Variants::parse("").unwrap(), Variants::default());
        let all = Variants::parse(
            "wiql-unordered=id-desc, history-commented=yes, delete-revision=yes, \
             comment-format=markdown, batch-limit=2, batch-verbs=post, notifications=oldest, \
             suppress-hooks=no, hook-redirects=follow, errors=opaque, hook-values=strings, hook-identities=name, tag-order=sorted, \
             create-reason=type-specific, disabled-create=enabled, replace-omitted=cleared, \
             probation-ends=200, changed-fields-separators=comma, comment-pattern=sensitive, \
             comment-edit-revision=yes,connection-failure=enduring,probation-holds=no, \
             unknown-org=html, missing-scope=403, refusal-body=empty, unavailable-body=empty, \
             missing-subscription=400, missing-subscription-delete=204",
        )
        .unwrap();
        assert_eq!(all.wiql_unordered, UnorderedWiql::IdDescending);
        assert!(all.history_commented && all.delete_revision && all.comment_markdown);
        assert_eq!(
            (all.batch_limit, all.batch_verbs),
            (2, BatchVerbs::PostOnly)
        );
        assert!(all.notifications_oldest_first && !all.suppress_hooks && all.hook_redirects);
        assert_eq!(all.errors, ErrorTexts::Opaque);
        assert!(all.tags_sorted);
        assert_eq!(all.create_reason, CreateReason::TypeSpecific);
        assert!(!all.disabled_create_honoured && !all.replace_masked_kept);
        assert!(!all.probation_ends_any_2xx && !all.changed_fields_semicolons);
        assert!(!all.comment_pattern_ignores_case && all.comment_edit_revision);
        assert!(!all.connection_failure_transient && !all.probation_holds);
        assert_eq!(
            (
                all.unknown_org,
                all.missing_scope,
                all.refusal_body,
                all.unavailable_body
            ),
            (
                UnknownOrganization::Html,
                MissingScope::Forbidden,
                RefusalBody::Empty,
                UnavailableBody::Empty
            )
        );
        assert_eq!(
            (all.missing_subscription, all.missing_subscription_delete),
            (
                MissingSubscription::BadRequest,
                MissingSubscriptionDelete::NoContent
            )
        );
        assert_eq!(
            (all.hook_values, all.hook_identities),
            (HookValues::Strings, HookIdentities::Name)
        );
        for bad in [
            "wiql-tags=maybe",
            "batch-limit=0",
            "errors",
            "history-commented=true",
            "tag-order=maybe",
            "hook-values=numbers",
            "probation-ends=201",
            "comment-edit-revision=maybe",
            "unknown-org=json",
            "missing-scope=402",
            "missing-subscription=410",
            "missing-subscription-delete=200",
        ] {
            assert!(Variants::parse(bad).unwrap_err().contains(bad), "{bad}");
        }
    }
}
