//! One method per export of the world; each runs in its own sandboxed call
//! whose egress allow-list comes from the call's `connection` (none without).

use crate::bindings::exports::secops::ticketing::{auth, schema, sync, webhook};
use crate::bindings::secops::ticketing::types::{Connection, ConnectorError, Link, Ticket};
use crate::egress::Egress;
use crate::engine::{CallError, Host};

fn flatten<T>(r: Result<Result<T, ConnectorError>, CallError>) -> Result<T, CallError> {
    r.and_then(|inner| inner.map_err(CallError::Connector))
}

impl Host {
    /// `auth.test-connection`: who we are, organization, project, process template.
    pub fn test_connection(&self, c: &Connection) -> Result<auth::ConnectionInfo, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_auth().call_test_connection(s, c)
        }))
    }

    /// `schema.work-item-types`.
    pub fn work_item_types(&self, c: &Connection) -> Result<Vec<schema::WorkItemType>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_schema().call_work_item_types(s, c)
        }))
    }

    /// `schema.fields` of a work item type.
    pub fn fields(&self, c: &Connection, ty: &str) -> Result<Vec<schema::FieldInfo>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_schema().call_fields(s, c, ty)
        }))
    }

    /// `schema.states` of a work item type.
    pub fn states(&self, c: &Connection, ty: &str) -> Result<Vec<schema::StateInfo>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_schema().call_states(s, c, ty)
        }))
    }

    /// `schema.initial-states` of a work item type.
    pub fn initial_states(&self, c: &Connection, ty: &str) -> Result<Vec<String>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_schema().call_initial_states(s, c, ty)
        }))
    }

    /// `schema.config-schema`: the JSON Schema of the outegration config. No network.
    pub fn config_schema(&self) -> Result<String, CallError> {
        self.call(Egress::none(), |i, s| {
            i.secops_ticketing_schema().call_config_schema(s)
        })
    }

    /// `schema.default-config`: the default config of a type of a process template. No network.
    pub fn default_config(
        &self,
        process_template: &str,
        work_item_type: &str,
    ) -> Result<String, CallError> {
        self.call(Egress::none(), |i, s| {
            i.secops_ticketing_schema()
                .call_default_config(s, process_template, work_item_type)
        })
    }

    /// `dispatch.validate-config` without a connection. No network.
    pub fn validate_config(&self, config: &str) -> Result<(), CallError> {
        flatten(self.call(Egress::none(), |i, s| {
            i.secops_ticketing_dispatch()
                .call_validate_config(s, None, config)
        }))
    }

    /// `dispatch.validate-config` with a connection: the area and iteration
    /// paths are also looked up in the project's trees.
    pub fn validate_config_with(&self, c: &Connection, config: &str) -> Result<(), CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_dispatch()
                .call_validate_config(s, Some(c), config)
        }))
    }

    /// `dispatch.preview`: the exact request, and every problem found.
    pub fn preview(
        &self,
        c: &Connection,
        config: &str,
        t: &Ticket,
        validate_remote: bool,
    ) -> Result<crate::Preview, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_dispatch()
                .call_preview(s, c, config, t, validate_remote)
        }))
    }

    /// `dispatch.create`: creates the work item and returns the link to store.
    pub fn create(&self, c: &Connection, config: &str, t: &Ticket) -> Result<Link, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_dispatch().call_create(s, c, config, t)
        }))
    }

    /// `sync.push`: sends the ticket's changes since `before`.
    pub fn push(
        &self,
        c: &Connection,
        config: &str,
        link: &Link,
        before: &Ticket,
        after: &Ticket,
    ) -> Result<sync::PushOutcome, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_sync()
                .call_push(s, c, config, link, before, after)
        }))
    }

    /// `dispatch.adopt`: the work item an earlier, uncertain dispatch of `t` created, if any.
    pub fn adopt(
        &self,
        c: &Connection,
        config: &str,
        t: &Ticket,
    ) -> Result<Option<Link>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_dispatch().call_adopt(s, c, config, t)
        }))
    }

    /// `sync.close`.
    pub fn close(
        &self,
        c: &Connection,
        config: &str,
        link: &Link,
        reason: &str,
    ) -> Result<sync::StateChange, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_sync()
                .call_close(s, c, config, link, reason)
        }))
    }

    /// `sync.reopen`.
    pub fn reopen(
        &self,
        c: &Connection,
        config: &str,
        link: &Link,
        reason: &str,
    ) -> Result<sync::StateChange, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_sync()
                .call_reopen(s, c, config, link, reason)
        }))
    }

    /// `sync.bulk-close`: one outcome per item, in order.
    pub fn bulk_close(
        &self,
        c: &Connection,
        items: &[sync::CloseItem],
        reason: &str,
    ) -> Result<Vec<sync::CloseOutcome>, CallError> {
        self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_sync()
                .call_bulk_close(s, c, items, reason)
        })
    }

    /// `webhook.inspect`: authenticates a delivery. No network.
    pub fn inspect(
        &self,
        auth: &webhook::DeliveryAuth,
        request: &webhook::DeliveryRequest,
    ) -> Result<webhook::Delivery, CallError> {
        flatten(self.call(Egress::none(), |i, s| {
            i.secops_ticketing_webhook().call_inspect(s, auth, request)
        }))
    }

    /// `webhook.handle`: turns a delivery into ticket changes. No network.
    pub fn handle(
        &self,
        config: &str,
        link: &Link,
        request: &webhook::DeliveryRequest,
    ) -> Result<webhook::Outcome, CallError> {
        flatten(self.call(Egress::none(), |i, s| {
            i.secops_ticketing_webhook()
                .call_handle(s, config, link, request)
        }))
    }

    /// `webhook.subscribe`.
    pub fn subscribe(
        &self,
        c: &Connection,
        config: &str,
        url: &str,
        auth: &webhook::DeliveryAuth,
    ) -> Result<Vec<webhook::Subscription>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_webhook()
                .call_subscribe(s, c, config, url, auth)
        }))
    }

    /// `webhook.subscription-status`.
    pub fn subscription_status(
        &self,
        c: &Connection,
        ids: &[String],
    ) -> Result<Vec<webhook::Subscription>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_webhook()
                .call_subscription_status(s, c, ids)
        }))
    }

    /// `webhook.repair`.
    pub fn repair_subscriptions(
        &self,
        c: &Connection,
        ids: &[String],
        auth: &webhook::DeliveryAuth,
    ) -> Result<Vec<webhook::Subscription>, CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_webhook().call_repair(s, c, ids, auth)
        }))
    }

    /// `webhook.unsubscribe`.
    pub fn unsubscribe(&self, c: &Connection, ids: &[String]) -> Result<(), CallError> {
        flatten(self.call(Egress::for_connection(c), |i, s| {
            i.secops_ticketing_webhook().call_unsubscribe(s, c, ids)
        }))
    }
}
