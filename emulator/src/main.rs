//! `ado-emulator`: runs the Azure DevOps emulator standalone on 127.0.0.1.

use clap::Parser;

/// Azure DevOps REST emulator.
#[derive(Debug, Parser)]
#[command(name = "ado-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8099)]
    port: u16,
    /// Organization name.
    #[arg(long, default_value = ado_emulator::seed::ORGANIZATION)]
    org: String,
    /// Accept service-hook receivers on loopback and private addresses,
    /// which ADO refuses (for receivers on this machine).
    #[arg(long)]
    allow_local_hook_urls: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let addr = listener.local_addr()?;
    use ado_emulator::seed::*;
    println!("Azure DevOps emulator at http://{addr}/{}", args.org);
    println!(
        "  projects:           {PROJECT} (Agile), {PROJECT_BASIC} (Basic), {PROJECT_SCRUM} (Scrum), {PROJECT_CMMI} (CMMI)"
    );
    println!("  PAT:                {PAT}");
    println!("  PAT without vso.work: {PAT_NO_WORK_SCOPE}");
    println!("  tenant / authority: {TENANT_ID} / http://{addr}");
    println!("  service principal:  {SP_CLIENT_ID} / {SP_CLIENT_SECRET}");
    println!("  (test credentials of the emulator, not secrets)");
    let mut config = ado_emulator::EmulatorConfig {
        port: args.port,
        organization: args.org,
        ..Default::default()
    };
    if args.allow_local_hook_urls {
        config = config.with_local_receivers();
    }
    ado_emulator::serve(listener, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
