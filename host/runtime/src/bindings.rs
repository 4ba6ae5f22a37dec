//! Host-side bindings of the `connector` world, generated from `../wit`,
//! except the `types` interface, which is written here ([`wit_types`]) and
//! mapped in with bindgen's `with`.
//!
//! Why by hand: bindgen gives every record and variant a `Debug` that
//! prints every member, so a `Connection` formatted with `{:?}` (in a log
//! line, a panic, a host type's derived `Debug`) printed its PAT, client
//! secret or refresh token. wasmtime's `with` remaps only whole interfaces
//! (or resources), so the whole `types` interface is here: each type with
//! the `ComponentType`/`Lift`/`Lower` derives bindgen would write (checked
//! against the WIT when the component is linked), the same `Debug` output
//! as bindgen's, except the credentials, whose secrets print as
//! `<redacted>`.
//!
//! Imports are not trappable: `http.send` answers every failure with an
//! `http-error`, and `store` cannot fail. `PartialEq` is derived so callers
//! and tests can compare values (no `Eq`: `field-value` holds an `f64`).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "connector",
    additional_derives: [PartialEq],
    with: {
        "secops:ticketing/types": wit_types,
    },
});

pub mod wit_types {
    //! The `types` interface of `wit/types.wit` (see the module above for
    //! why it is written by hand); the docs of each type are the WIT's.

    use core::fmt;

    use wasmtime::component::{ComponentType, Lift, Lower};

    /// The host side of the interface, as bindgen writes it: the interface
    /// has no functions, so nothing to implement, but the component imports
    /// it, so the linker gets its (empty) instance.
    pub trait Host {}

    impl<H: Host + ?Sized> Host for &mut H {}

    /// See [`Host`].
    pub trait HostWithStore<T>: wasmtime::component::HasData {}

    impl<H: ?Sized, T> HostWithStore<T> for H where H: wasmtime::component::HasData {}

    /// Defines the interface's (empty) instance in `inst`.
    pub fn add_to_linker_instance<T, D>(
        _inst: &mut wasmtime::component::LinkerInstance<'_, T>,
        _host_getter: fn(&mut T) -> D::Data<'_>,
    ) -> wasmtime::Result<()>
    where
        D: HostWithStore<T>,
        for<'a> D::Data<'a>: Host,
        T: 'static,
    {
        Ok(())
    }

    /// Defines the interface's (empty) instance in `linker`.
    pub fn add_to_linker<T, D>(
        linker: &mut wasmtime::component::Linker<T>,
        host_getter: fn(&mut T) -> D::Data<'_>,
    ) -> wasmtime::Result<()>
    where
        D: HostWithStore<T>,
        for<'a> D::Data<'a>: Host,
        T: 'static,
    {
        let mut inst = linker.instance("secops:ticketing/types@0.1.0")?;
        add_to_linker_instance::<T, D>(&mut inst, host_getter)
    }

    /// What a secret prints as in `Debug`.
    const REDACTED: &str = "<redacted>";

    /// A record of the interface: the derives bindgen writes, and its
    /// `Debug` (the WIT names of the members).
    macro_rules! record {
        ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident: $ty:ty = $wit:literal,)* }) => {
            $(#[$m])*
            #[derive(ComponentType, Lift, Lower, Clone, PartialEq)]
            #[component(record)]
            pub struct $name {
                $($(#[$fm])* #[component(name = $wit)] pub $field: $ty,)*
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.debug_struct(stringify!($name))
                        $(.field($wit, &self.$field))*
                        .finish()
                }
            }
        };
    }

    /// A variant of the interface, as [`record!`] does for records.
    macro_rules! variant {
        ($(#[$m:meta])* $name:ident { $($(#[$cm:meta])* $case:ident $(($ty:ty))? = $wit:literal,)* }) => {
            $(#[$m])*
            #[derive(ComponentType, Lift, Lower, Clone, PartialEq)]
            #[component(variant)]
            pub enum $name {
                $($(#[$cm])* #[component(name = $wit)] $case $(($ty))?,)*
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    match self {
                        $(variant!(@pattern $name $case payload $($ty)?) => {
                            let mut t = f.debug_tuple(concat!(stringify!($name), "::", stringify!($case)));
                            variant!(@field t payload $($ty)?);
                            t.finish()
                        })*
                    }
                }
            }
        };
        (@pattern $name:ident $case:ident $e:ident $ty:ty) => { $name::$case($e) };
        (@pattern $name:ident $case:ident $e:ident) => { $name::$case };
        (@field $t:ident $e:ident $ty:ty) => { $t.field($e) };
        (@field $t:ident $e:ident) => { () };
    }

    /// Credentials for Microsoft Entra ID client credentials (a service principal).
    #[derive(ComponentType, Lift, Lower, Clone, PartialEq)]
    #[component(record)]
    pub struct ClientCredentials {
        /// Directory (tenant) id the Azure DevOps organization is connected to.
        #[component(name = "tenant-id")]
        pub tenant_id: String,
        /// Application (client) id of the app registration.
        #[component(name = "client-id")]
        pub client_id: String,
        /// Client secret of the app registration. Never echoed in errors.
        #[component(name = "client-secret")]
        pub client_secret: String,
        /// Token authority base URL; `https://login.microsoftonline.com` when absent.
        #[component(name = "authority")]
        pub authority: Option<String>,
    }

    impl fmt::Debug for ClientCredentials {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("ClientCredentials")
                .field("tenant-id", &self.tenant_id)
                .field("client-id", &self.client_id)
                .field("client-secret", &REDACTED)
                .field("authority", &self.authority)
                .finish()
        }
    }

    /// Credentials for the OAuth 2.0 refresh-token grant (delegated user flow).
    #[derive(ComponentType, Lift, Lower, Clone, PartialEq)]
    #[component(record)]
    pub struct RefreshTokenGrant {
        /// Directory (tenant) id.
        #[component(name = "tenant-id")]
        pub tenant_id: String,
        /// Application (client) id.
        #[component(name = "client-id")]
        pub client_id: String,
        /// Client secret, for confidential clients only.
        #[component(name = "client-secret")]
        pub client_secret: Option<String>,
        /// The refresh token. A rotated token is kept in the `store` import.
        #[component(name = "refresh-token")]
        pub refresh_token: String,
        /// Token authority base URL; `https://login.microsoftonline.com` when absent.
        #[component(name = "authority")]
        pub authority: Option<String>,
    }

    impl fmt::Debug for RefreshTokenGrant {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("RefreshTokenGrant")
                .field("tenant-id", &self.tenant_id)
                .field("client-id", &self.client_id)
                .field(
                    "client-secret",
                    &self.client_secret.as_ref().map(|_| REDACTED),
                )
                .field("refresh-token", &REDACTED)
                .field("authority", &self.authority)
                .finish()
        }
    }

    /// How the connector authenticates to Azure DevOps.
    #[derive(ComponentType, Lift, Lower, Clone, PartialEq)]
    #[component(variant)]
    pub enum Credentials {
        /// Personal access token, sent as HTTP basic auth with an empty user name.
        #[component(name = "pat")]
        Pat(String),
        /// A bearer access token obtained elsewhere; used as is.
        #[component(name = "access-token")]
        AccessToken(String),
        /// Entra ID client credentials; the access token is cached through `store`.
        #[component(name = "client-credentials")]
        ClientCredentials(ClientCredentials),
        /// Entra ID refresh-token grant.
        #[component(name = "refresh-token")]
        RefreshToken(RefreshTokenGrant),
    }

    impl fmt::Debug for Credentials {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Credentials::Pat(_) => f.debug_tuple("Credentials::Pat").field(&REDACTED).finish(),
                Credentials::AccessToken(_) => f
                    .debug_tuple("Credentials::AccessToken")
                    .field(&REDACTED)
                    .finish(),
                Credentials::ClientCredentials(c) => f
                    .debug_tuple("Credentials::ClientCredentials")
                    .field(c)
                    .finish(),
                Credentials::RefreshToken(g) => {
                    f.debug_tuple("Credentials::RefreshToken").field(g).finish()
                }
            }
        }
    }

    record! {
        /// Where and as whom the connector talks to Azure DevOps. Its
        /// `Debug` prints no secret ([`Credentials`]' is redacted).
        Connection {
            /// Organization URL (`https://dev.azure.com/{org}`) or Azure DevOps Server
            /// collection URL (`https://server/tfs/{collection}`).
            base_url: String = "base-url",
            /// Project name or id.
            project: String = "project",
            /// How to authenticate.
            credentials: Credentials = "credentials",
        }
    }

    variant! {
        /// A value of a ticket or work item field.
        FieldValue {
            /// No value.
            Null = "null",
            /// Text (plain, HTML or Markdown, as the field says).
            Text(String) = "text",
            /// A whole number.
            Integer(i64) = "integer",
            /// A floating-point number.
            Number(f64) = "number",
            /// A boolean.
            Boolean(bool) = "boolean",
            /// An RFC 3339 date-time.
            DateTime(String) = "date-time",
            /// A list of text values (tags, multi-select).
            TextList(Vec<String>) = "text-list",
        }
    }

    record! {
        /// One named field and its value.
        Field {
            /// Field name: a ticket system name (`severity`) or an ADO reference name.
            name: String = "name",
            /// The value.
            value: FieldValue = "value",
        }
    }

    record! {
        /// One vulnerability finding grouped in a ticket.
        Finding {
            /// Stable id of the finding in the SecOps platform.
            id: String = "id",
            /// Remediation status (`open`, `fixed`, `risk-accepted`, ...).
            status: String = "status",
            /// The finding's fields (`severity`, `title`, `cve`, `asset`, ...).
            fields: Vec<Field> = "fields",
        }
    }

    record! {
        /// A comment on a ticket.
        Comment {
            /// Stable id of the comment in the SecOps platform.
            id: String = "id",
            /// Display name of the author.
            author: String = "author",
            /// RFC 3339 creation time.
            created: String = "created",
            /// Comment text (Markdown).
            text: String = "text",
        }
    }

    record! {
        /// A SecOps ticket as the host holds it.
        Ticket {
            /// Stable ticket id, e.g. `SEC-42`.
            id: String = "id",
            /// Link back to the ticket in the SecOps platform.
            url: String = "url",
            /// Ticket fields by system name (`title`, `severity`, `assignee`, ...).
            fields: Vec<Field> = "fields",
            /// Findings grouped in this ticket.
            findings: Vec<Finding> = "findings",
            /// Comments on the ticket.
            comments: Vec<Comment> = "comments",
        }
    }

    record! {
        /// What the host stores to tie a ticket to its work item.
        Link {
            /// The ticket.
            ticket_id: String = "ticket-id",
            /// Project id (GUID) the work item lives in.
            project: String = "project",
            /// Work item type name.
            work_item_type: String = "work-item-type",
            /// Work item id.
            work_item_id: i32 = "work-item-id",
            /// Work item revision the connector last saw.
            rev: i32 = "rev",
            /// REST URL of the work item.
            url: String = "url",
            /// Browser URL of the work item.
            web_url: String = "web-url",
            /// Opaque JSON owned by the plugin (last synced values, comment ids...).
            /// The host stores it verbatim and hands it back.
            sync_state: String = "sync-state",
        }
    }

    record! {
        /// One problem found in a config or a ticket.
        Issue {
            /// JSON path of the config member, or the field at fault.
            path: String = "path",
            /// Machine-readable rule that failed (`required`, `allowed-values`, ...).
            rule: String = "rule",
            /// Human-readable explanation, naming the value at fault.
            message: String = "message",
        }
    }

    record! {
        /// A failure that a person can act on.
        Problem {
            /// What went wrong.
            message: String = "message",
            /// What to do about it.
            remediation: String = "remediation",
        }
    }

    record! {
        /// An error answered by Azure DevOps that has no more specific case.
        RemoteError {
            /// HTTP status.
            status: u16 = "status",
            /// ADO error code (`TF401320`, `VS403403`...) or `typeKey`, if any.
            code: Option<String> = "code",
            /// ADO's message.
            message: String = "message",
        }
    }

    variant! {
        /// Every error an export can return. Messages never contain secrets.
        ConnectorError {
            /// Authentication failed (401, 203 with a sign-in page, a redirect, a bad token grant).
            Unauthorized(Problem) = "unauthorized",
            /// Authenticated, but the identity lacks a permission or scope.
            Forbidden(Problem) = "forbidden",
            /// The organization, project, type or work item does not exist.
            NotFound(Problem) = "not-found",
            /// A conflicting write (409), or a stale revision (412).
            Conflict(Problem) = "conflict",
            /// Throttled; wait this many seconds before the next call.
            RateLimited(u32) = "rate-limited",
            /// The outegration config is invalid; every problem at once.
            InvalidConfig(Vec<Issue>) = "invalid-config",
            /// The request was refused by validation; every problem at once.
            Validation(Vec<Issue>) = "validation",
            /// Azure DevOps answered with an error not covered above.
            Remote(RemoteError) = "remote",
            /// The host's egress policy refused a request to this URL.
            Denied(String) = "denied",
            /// Network failure or timeout talking to Azure DevOps.
            Transport(String) = "transport",
            /// This operation is not available in this version of the connector.
            Unsupported(String) = "unsupported",
            /// Anything else.
            Other(String) = "other",
        }
    }

    /// As bindgen writes it for a type used as an error: its `Debug`.
    impl fmt::Display for ConnectorError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl core::error::Error for ConnectorError {}

    #[cfg(test)]
    mod tests {
        use super::*;

        const SECRETS: [&str; 4] = [
            "pat-SECRET-1",
            "access-token-SECRET-2",
            "client-secret-SECRET-3",
            "refresh-token-SECRET-4",
        ];

        fn connections() -> Vec<Connection> {
            let entra = |secret: &str| ClientCredentials {
                tenant_id: "tenant".into(),
                client_id: "client".into(),
                client_secret: secret.into(),
                authority: Some("https://login.example".into()),
            };
            let grant = RefreshTokenGrant {
                tenant_id: "tenant".into(),
                client_id: "client".into(),
                client_secret: Some(SECRETS[2].into()),
                refresh_token: SECRETS[3].into(),
                authority: None,
            };
            [
                Credentials::Pat(SECRETS[0].into()),
                Credentials::AccessToken(SECRETS[1].into()),
                Credentials::ClientCredentials(entra(SECRETS[2])),
                Credentials::RefreshToken(grant),
            ]
            .into_iter()
            .map(|credentials| Connection {
                base_url: "https://dev.azure.com/org".into(),
                project: "Project".into(),
                credentials,
            })
            .collect()
        }

        #[test]
        fn no_connection_prints_a_secret_through_debug_whatever_its_auth_kind() {
            for conn in connections() {
                let shown = [
                    format!("{conn:?}"),
                    format!("{conn:#?}"),
                    format!("{:?}", conn.credentials),
                    format!("{:?}", Some(&conn)),
                    format!("{:?}", (&conn, vec![conn.clone()])),
                ];
                for text in shown {
                    for secret in SECRETS {
                        assert!(!text.contains(secret), "{secret} in {text}");
                    }
                    assert!(text.contains(REDACTED), "{text}");
                }
                // What is not secret is still shown.
                assert!(format!("{conn:?}").contains("https://dev.azure.com/org"));
            }
            if let Credentials::ClientCredentials(c) = &connections()[2].credentials {
                assert!(format!("{c:?}").contains("client"), "ids are shown");
            }
        }

        #[test]
        fn the_other_types_print_as_bindgen_prints_them() {
            let value = FieldValue::Text("x".into());
            assert_eq!(format!("{value:?}"), r#"FieldValue::Text("x")"#);
            assert_eq!(format!("{:?}", FieldValue::Null), "FieldValue::Null");
            let e = ConnectorError::Denied("https://evil.example/".into());
            assert_eq!(
                e.to_string(),
                r#"ConnectorError::Denied("https://evil.example/")"#
            );
            let p = Problem {
                message: "m".into(),
                remediation: "r".into(),
            };
            assert_eq!(
                format!("{p:?}"),
                r#"Problem { message: "m", remediation: "r" }"#
            );
        }
    }
}
