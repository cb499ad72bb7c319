//! Entry point: parse the command line, start logging, run the subcommand.

use clap::Parser;
use clickup_iam_router::{
    cli::{refusal, Cli},
    telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::try_parse().unwrap_or_else(|error| refusal::exit(error));
    telemetry::init(&cli.log_format, cli.default_log_filter());
    cli.execute().await
}
