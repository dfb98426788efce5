//! `appdeck-server`: parses the command line and hands over to the library.

use std::process::ExitCode;

use appdeck_server::{
    config::{Cli, Command, OrgCommand, TokenCommand},
    provisioning, startup, telemetry,
};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return report_usage_error(error),
    };
    let log_guard = telemetry::init(cli.config.log_format);
    let result = run(cli).await;
    // Every buffered log line is out before the last word, and before exit.
    drop(log_guard);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("appdeck-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version print as clap renders them; a bad setting prints the one
/// line that names it, without the usage block.
fn report_usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let rendered = error.render().to_string();
    let first_line = rendered.lines().next().unwrap_or_default();
    eprintln!("appdeck-server: {}", first_line.trim_start_matches("error: "));
    ExitCode::from(2)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    let command = match cli.command {
        Command::Serve => return serve(&config).await,
        command => command,
    };
    let store = startup::open_store(&config).await?;
    match command {
        Command::Migrate | Command::Serve => {
            tracing::info!("migrations are up to date");
        }
        Command::Org(OrgCommand::Create { name }) => {
            let (_, token) =
                provisioning::create_organization(store.as_ref(), &name, config.rate_limit_per_hour).await?;
            println!("{}", token.secret);
        }
        Command::Token(TokenCommand::Create { organization_id, role, label }) => {
            let token =
                provisioning::create_token_for_operator(store.as_ref(), organization_id, &label, role.into()).await?;
            tracing::info!(token_id = %token.token.id, %organization_id, "token created by the server's CLI");
            println!("{}", token.secret);
        }
    }
    Ok(())
}

/// Serves even while the database cannot be reached (see `open_store_for_serving`).
async fn serve(config: &appdeck_server::config::Config) -> anyhow::Result<()> {
    let store = startup::open_store_for_serving(config).await?;
    let application = startup::Application::build(config, store.clone()).await?.deliver_webhooks_from(store)?;
    let shutdown = startup::shutdown_signal()?;
    let address = application.address();
    tracing::info!(%address, "appdeck is listening; API reference at http://{address}/reference, Swagger UI at http://{address}/docs");
    Ok(application.run_until_stopped(shutdown).await?)
}
