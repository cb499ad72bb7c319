//! `clickup-iam-router sandbox`: the ClickUp stand-in on its own port until stopped.

use std::str::FromStr;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::{Plan, Sandbox, SandboxConfig};
use crate::cli::SandboxArgs;

impl FromStr for Plan {
    type Err = anyhow::Error;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value
            .trim()
            .to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .as_str()
        {
            "free" | "free-forever" => Ok(Plan::Free),
            "unlimited" => Ok(Plan::Unlimited),
            "business" => Ok(Plan::Business),
            "business-plus" => Ok(Plan::BusinessPlus),
            "enterprise" => Ok(Plan::Enterprise),
            other => anyhow::bail!(
                "unknown plan {other:?}: free, unlimited, business, business-plus or enterprise"
            ),
        }
    }
}

/// Serves the sandbox on `args.addr` (loopback only) until the token is cancelled.
pub async fn run_until_stopped(
    args: SandboxArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let plan: Plan = args.plan.parse()?;
    let listener = std::net::TcpListener::bind(&args.addr)
        .with_context(|| format!("binding {}", args.addr))?;
    let config = SandboxConfig {
        plan,
        tokens: vec![args.token.expose().to_string()],
        ..SandboxConfig::default()
    };
    let team_id = config.team_id;

    let sandbox = Sandbox::start(listener, config).await?;
    if args.seed_examples {
        sandbox.state().seed_examples()?;
    }
    let iam = match &args.iam_addr {
        Some(addr) => Some(super::iam_command::start(addr, &args.router_url).await?),
        None => None,
    };
    println!(
        "ClickUp sandbox: {} (workspace {team_id}, {} plan); Ctrl-C stops it",
        sandbox.base_url(),
        plan.name()
    );
    if let Some(iam) = &iam {
        super::iam_command::print_usage(iam, &args.router_url);
    }

    shutdown.cancelled().await;
    sandbox.stop().await;
    if let Some(iam) = iam {
        iam.stop().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_by_name() {
        let cases = [
            ("enterprise", Some(Plan::Enterprise)),
            ("Business Plus", Some(Plan::BusinessPlus)),
            ("business_plus", Some(Plan::BusinessPlus)),
            ("free", Some(Plan::Free)),
            ("platinum", None),
        ];
        for (text, plan) in cases {
            assert_eq!(text.parse::<Plan>().ok(), plan, "{text}");
        }
    }
}
