//! The world's exports: each converts its arguments, calls core, converts back.

use ado_connector_core::{
    connection, dispatch as core_dispatch, schema as core_schema, sync as core_sync,
    webhook as core_webhook,
};

use crate::Component;
use crate::bindings::exports::secops::ticketing::{auth, dispatch, schema, sync, webhook};
use crate::bindings::secops::ticketing::types;
use crate::convert;
use crate::env::HostEnv;

type Result<T> = std::result::Result<T, types::ConnectorError>;

impl auth::Guest for Component {
    fn test_connection(connection: types::Connection) -> Result<auth::ConnectionInfo> {
        let connection = convert::connection(connection);
        connection::test_connection(&HostEnv, &connection)
            .map(convert::connection_info)
            .map_err(convert::error)
    }
}

impl schema::Guest for Component {
    fn work_item_types(connection: types::Connection) -> Result<Vec<schema::WorkItemType>> {
        let connection = convert::connection(connection);
        let client = ado_connector_core::client::Client::new(&HostEnv, &connection)
            .map_err(convert::error)?;
        core_schema::work_item_types(&client)
            .map(|l| l.into_iter().map(convert::work_item_type).collect())
            .map_err(convert::error)
    }

    fn fields(
        connection: types::Connection,
        work_item_type: String,
    ) -> Result<Vec<schema::FieldInfo>> {
        let connection = convert::connection(connection);
        let client = ado_connector_core::client::Client::new(&HostEnv, &connection)
            .map_err(convert::error)?;
        core_schema::type_schema(&client, &work_item_type)
            .map(|s| s.fields.iter().cloned().map(convert::field_info).collect())
            .map_err(convert::error)
    }

    fn states(
        connection: types::Connection,
        work_item_type: String,
    ) -> Result<Vec<schema::StateInfo>> {
        let connection = convert::connection(connection);
        let client = ado_connector_core::client::Client::new(&HostEnv, &connection)
            .map_err(convert::error)?;
        core_schema::states(&client, &work_item_type)
            .map(|l| l.into_iter().map(convert::state_info).collect())
            .map_err(convert::error)
    }

    fn initial_states(
        connection: types::Connection,
        work_item_type: String,
    ) -> Result<Vec<String>> {
        let connection = convert::connection(connection);
        let client = ado_connector_core::client::Client::new(&HostEnv, &connection)
            .map_err(convert::error)?;
        core_schema::type_schema(&client, &work_item_type)
            .map(|s| s.initial_states.clone())
            .map_err(convert::error)
    }

    fn config_schema() -> String {
        ado_connector_core::config::json_schema()
    }

    fn default_config(process_template: String, work_item_type: String) -> String {
        ado_connector_core::mapping::defaults::default_config_json(
            &process_template,
            &work_item_type,
        )
    }
}

impl dispatch::Guest for Component {
    fn validate_config(connection: Option<types::Connection>, config: String) -> Result<()> {
        let connection = connection.map(convert::connection);
        core_dispatch::validate_config(&HostEnv, connection.as_ref(), &config)
            .map_err(convert::error)
    }

    fn preview(
        connection: types::Connection,
        config: String,
        ticket: types::Ticket,
        validate_remote: bool,
    ) -> Result<dispatch::DispatchPreview> {
        let connection = convert::connection(connection);
        core_dispatch::preview(
            &HostEnv,
            &connection,
            &config,
            &convert::ticket(ticket),
            validate_remote,
        )
        .map(convert::preview)
        .map_err(convert::error)
    }

    fn create(
        connection: types::Connection,
        config: String,
        ticket: types::Ticket,
    ) -> Result<types::Link> {
        let connection = convert::connection(connection);
        core_dispatch::create(&HostEnv, &connection, &config, &convert::ticket(ticket))
            .map(convert::link)
            .map_err(convert::error)
    }

    fn adopt(
        connection: types::Connection,
        config: String,
        ticket: types::Ticket,
    ) -> Result<Option<types::Link>> {
        let connection = convert::connection(connection);
        core_dispatch::adopt(&HostEnv, &connection, &config, &convert::ticket(ticket))
            .map(|l| l.map(convert::link))
            .map_err(convert::error)
    }
}

impl sync::Guest for Component {
    fn push(
        connection: types::Connection,
        config: String,
        link: types::Link,
        before: types::Ticket,
        after: types::Ticket,
    ) -> Result<sync::PushOutcome> {
        let connection = convert::connection(connection);
        core_sync::push(
            &HostEnv,
            &connection,
            &config,
            &convert::link_in(link),
            &convert::ticket(before),
            &convert::ticket(after),
        )
        .map(convert::push_outcome)
        .map_err(convert::error)
    }

    fn close(
        connection: types::Connection,
        config: String,
        link: types::Link,
        reason: String,
    ) -> Result<sync::StateChange> {
        let connection = convert::connection(connection);
        core_sync::close(
            &HostEnv,
            &connection,
            &config,
            &convert::link_in(link),
            &reason,
        )
        .map(convert::state_change)
        .map_err(convert::error)
    }

    fn reopen(
        connection: types::Connection,
        config: String,
        link: types::Link,
        reason: String,
    ) -> Result<sync::StateChange> {
        let connection = convert::connection(connection);
        core_sync::reopen(
            &HostEnv,
            &connection,
            &config,
            &convert::link_in(link),
            &reason,
        )
        .map(convert::state_change)
        .map_err(convert::error)
    }

    fn bulk_close(
        connection: types::Connection,
        items: Vec<sync::CloseItem>,
        reason: String,
    ) -> Vec<sync::CloseOutcome> {
        let connection = convert::connection(connection);
        let items: Vec<core_sync::CloseItem> = items.into_iter().map(convert::close_item).collect();
        core_sync::bulk_close(&HostEnv, &connection, &items, &reason)
            .into_iter()
            .map(convert::close_outcome)
            .collect()
    }
}

impl webhook::Guest for Component {
    fn inspect(
        auth: webhook::DeliveryAuth,
        request: webhook::DeliveryRequest,
    ) -> Result<webhook::Delivery> {
        core_webhook::inspect(
            &convert::delivery_auth(auth),
            &request.headers,
            &request.body,
        )
        .map(convert::delivery)
        .map_err(convert::error)
    }

    fn handle(
        config: String,
        link: types::Link,
        request: webhook::DeliveryRequest,
    ) -> Result<webhook::Outcome> {
        // The host authenticated the delivery with `inspect` before finding the link.
        core_webhook::handle(&config, &convert::link_in(link), &request.body)
            .map(convert::outcome)
            .map_err(convert::error)
    }

    fn subscribe(
        connection: types::Connection,
        config: String,
        url: String,
        auth: webhook::DeliveryAuth,
    ) -> Result<Vec<webhook::Subscription>> {
        let connection = convert::connection(connection);
        core_webhook::subscribe(
            &HostEnv,
            &connection,
            &config,
            &url,
            &convert::delivery_auth(auth),
        )
        .map(|l| l.into_iter().map(convert::subscription).collect())
        .map_err(convert::error)
    }

    fn subscription_status(
        connection: types::Connection,
        ids: Vec<String>,
    ) -> Result<Vec<webhook::Subscription>> {
        let connection = convert::connection(connection);
        core_webhook::status(&HostEnv, &connection, &ids)
            .map(|l| l.into_iter().map(convert::subscription).collect())
            .map_err(convert::error)
    }

    fn repair(
        connection: types::Connection,
        ids: Vec<String>,
        auth: webhook::DeliveryAuth,
    ) -> Result<Vec<webhook::Subscription>> {
        let connection = convert::connection(connection);
        core_webhook::repair(&HostEnv, &connection, &ids, &convert::delivery_auth(auth))
            .map(|l| l.into_iter().map(convert::subscription).collect())
            .map_err(convert::error)
    }

    fn unsubscribe(connection: types::Connection, ids: Vec<String>) -> Result<()> {
        let connection = convert::connection(connection);
        core_webhook::unsubscribe(&HostEnv, &connection, &ids).map_err(convert::error)
    }
}
