//! The operators' subcommands: rules, brake, directory, dead letters, audit, SSO report.

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use crate::{
    cli::WorkerArgs,
    config::{BusSettings, ClickUpSettings, StoreSettings},
    operator::{ExportFormat, Format},
    store::LetterState,
    timeline::{parse_time, ObjectKey},
};

/// Which dead letters `dlq list` shows.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFilter {
    All,
    Open,
    Replayed,
    Dropped,
}

impl StateFilter {
    pub fn state(self) -> Option<LetterState> {
        match self {
            StateFilter::All => None,
            StateFilter::Open => Some(LetterState::Open),
            StateFilter::Replayed => Some(LetterState::Replayed),
            StateFilter::Dropped => Some(LetterState::Dropped),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum DlqCommand {
    /// Dead letters in the order they were recorded: id, state, time, lane, reason, attempts.
    List {
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Those after this id (the last id of the previous page).
        #[arg(long)]
        after: Option<i64>,
        /// Only letters in this state.
        #[arg(long, value_enum, default_value = "open")]
        state: StateFilter,
        #[command(flatten)]
        store: StoreSettings,
    },
    /// Publish an open dead letter's message again, as it was queued, to the events exchange
    /// (its lane handles it anew); with --all, every open letter, 100 at a time.
    #[command(group(ArgGroup::new("which").required(true).args(["id", "all"])))]
    Replay {
        id: Option<i64>,
        #[arg(long)]
        all: bool,
        /// Who replays (recorded in the audit trail as `cli:<by>`).
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
        /// The router's broker settings (the same prefix and delivery limit as the router).
        #[command(flatten)]
        bus: BusSettings,
        #[command(flatten)]
        store: StoreSettings,
    },
    /// Mark an open dead letter dropped: kept on record, never replayed.
    Drop {
        id: i64,
        /// Who drops (recorded in the audit trail as `cli:<by>`).
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
        #[command(flatten)]
        store: StoreSettings,
    },
    /// One dead letter: where and why it died, its attempts and failure times.
    Show {
        id: i64,
        /// Also print the message as it was queued (it holds personal data).
        #[arg(long)]
        envelope: bool,
        #[command(flatten)]
        store: StoreSettings,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// A person's access intervals, or an object's (with --at: who had access then).
    Timeline(TimelineArgs),
    /// The access intervals overlapping a time range (or, with --records, the audit rows).
    Export(ExportArgs),
    /// Audit rows matching filters, oldest first, one page at a time.
    Search(SearchArgs),
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("subject").required(true).args(["person", "object"])))]
pub struct TimelineArgs {
    /// The person: an email or an IAM id.
    #[arg(long)]
    pub person: Option<String>,
    /// The object: space:ID, folder:ID, list:ID, workspace:ID or group:NAME.
    #[arg(long)]
    pub object: Option<ObjectKey>,
    /// Only what was held at this time: RFC 3339, or a date and time without zone (UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<DateTime<Utc>>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreSettings,
    /// With a ClickUp token, an object's folder and space are read, so access inherited
    /// from them counts; without one, only grants on the object itself are.
    #[command(flatten)]
    pub clickup: ClickUpSettings,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Start of the range (inclusive): RFC 3339, or a date and time without zone (UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: DateTime<Utc>,
    /// End of the range (exclusive).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: DateTime<Utc>,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Export the raw audit rows of the range instead of the access intervals.
    #[arg(long)]
    pub records: bool,
    #[command(flatten)]
    pub store: StoreSettings,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    #[arg(long)]
    pub correlation_id: Option<String>,
    /// `user:<iam id>`, `task:<id>`, ...
    #[arg(long)]
    pub subject: Option<String>,
    /// `list:<id>`, a group name, `task:<id>`, ...
    #[arg(long)]
    pub object: Option<String>,
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub actor: Option<String>,
    #[arg(long)]
    pub outcome: Option<String>,
    /// Rows at or after this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// Rows before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    /// Rows per page (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// The cursor a previous page printed: rows after this sequence number.
    #[arg(long)]
    pub after: Option<i64>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreSettings,
}

#[derive(Subcommand, Debug)]
pub enum SsoCommand {
    /// ClickUp accounts with no active IAM identity, disabled identities that keep access,
    /// and email mismatches; counts at the end.
    Report {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        store: StoreSettings,
        #[command(flatten)]
        clickup: ClickUpSettings,
    },
}

#[derive(Subcommand, Debug)]
pub enum DirectoryCommand {
    /// Validate a file of IAM events and merge them into the identities on record in
    /// event-time order (an older event never overwrites newer data); changes nothing in
    /// ClickUp.
    Resync {
        /// A JSON array of CloudEvents, or one CloudEvent per line.
        #[arg(long)]
        file: std::path::PathBuf,
        #[command(flatten)]
        store: StoreSettings,
    },
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Load and compile every rule file; report the first error with file, line and reason.
    Check {
        /// Folder of rule files (the worker's `RULES_DIR` when not given).
        #[arg(env = "RULES_DIR", default_value = "rules")]
        dir: std::path::PathBuf,
    },
    /// Print the plan an IAM event would produce and the rule behind each action; changes
    /// nothing.
    Explain {
        /// An IAM CloudEvent, or a ClickUp webhook delivery (explains assignment rules).
        #[arg(long)]
        event: std::path::PathBuf,
        /// For a ClickUp delivery: the task as `GET /v2/task/{id}` returns it.
        #[arg(long)]
        task: Option<std::path::PathBuf>,
        /// Folder of rule files.
        #[arg(long, env = "RULES_DIR", default_value = "rules")]
        rules_dir: std::path::PathBuf,
        /// The router's store, opened read-only: plan against the person and grants on record
        /// (without it, against an empty record).
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<crate::config::RedactedUrl>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BrakeCommand {
    /// List removals held by the brake.
    Status {
        #[command(flatten)]
        store: StoreSettings,
    },
    /// Apply every held removal (recomputed against today's rules) and clear the brake.
    Release {
        #[command(flatten)]
        worker: Box<WorkerArgs>,
        /// Who releases (recorded in the audit trail).
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
    },
}
