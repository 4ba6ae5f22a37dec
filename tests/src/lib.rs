//! End-to-end tests live in `tests/`; this crate builds the components they load.
