//! Now, in the formats ADO writes dates in; used by commits, service hook
//! deliveries and subscriptions alike.

use time::OffsetDateTime;
use time::macros::format_description;

/// Now, as ADO writes dates: UTC, milliseconds, `Z`.
pub fn now() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// Now, as the service hook fixtures write `createdDate` (7 fraction digits).
pub fn event_date() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
        ))
        .unwrap_or_default()
}
