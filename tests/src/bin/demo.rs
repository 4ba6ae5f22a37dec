//! The demo: the ADO emulator in process, then the real plugin component
//! through the reference host: connection test, schema, and dispatch of the
//! sample tickets in `examples/`.

fn main() -> anyhow::Result<()> {
    let root = ticketing_tests::workspace_root();
    ticketing_tests::demo::run(ticketing_tests::plugin_wasm(), root)
}
