//! `agencyops`: every function on one machine over the embedded store.

use std::net::SocketAddr;
use std::path::PathBuf;

use agencyops_domain::Role;
use clap::{Parser, Subcommand};

use agencyops::{datadir::DataDir, demo, host};
use agencyops_platform::telemetry::{self, LogFormat};

#[derive(Parser)]
#[command(
    name = "agencyops",
    about = "AgencyOps on one machine: no AWS account, no Docker."
)]
struct Cli {
    /// Where the database, secrets, blobs and mail live.
    #[arg(
        long,
        global = true,
        env = "AGENCYOPS_DATA",
        default_value = "./.agencyops"
    )]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every function's API, run queue consumers and schedules.
    Serve {
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Load the demo agency first (skipped if it is already there).
        #[arg(long)]
        demo: bool,
        /// `text` (one readable line per request) or `json`; default: text on
        /// a terminal, JSON otherwise.
        #[arg(long, value_parser = parse_log_format)]
        log_format: Option<LogFormat>,
        /// Count DynamoDB calls per operation and write the table to FILE on
        /// shutdown (Ctrl-C or SIGTERM).
        #[arg(long, value_name = "FILE")]
        count_calls: Option<std::path::PathBuf>,
    },
    /// Print a bearer token the local server accepts.
    Token {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        person: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// For the client role: which client the user belongs to.
        #[arg(long)]
        client: Option<String>,
        #[arg(long, default_value_t = 12)]
        ttl_hours: i64,
    },
    /// Load a realistic demo agency (tenant "demo") and print tokens for its people.
    Demo,
    /// Run the daily AR job once for one date (reminders, fees, recurring
    /// invoices, milestone drafts, the AR snapshot), deliver what it queued,
    /// and exit. The same code the scheduled Lambda runs; a second run of the
    /// same date changes nothing.
    Followups {
        /// The day to run, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        as_of: Option<jiff::civil::Date>,
    },
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    LogFormat::parse(s).ok_or_else(|| "json or text".into())
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| "one of admin, finance, manager, member, contractor, client".into())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let data = DataDir::open(&cli.data)?;
    match cli.command {
        Command::Serve {
            addr,
            demo: load_demo,
            log_format,
            count_calls,
        } => {
            if let Some(warning) = host::exposure_warning(addr) {
                eprintln!("{warning}");
            }
            let mut host = host::Host::open(&data, &format!("http://{addr}"))?;
            if let Some(file) = count_calls {
                host = host.count_calls(file);
            }
            if load_demo {
                // Before logging starts: the few dozen requests that set the
                // demo up are no news to someone waiting for its tokens.
                let report = demo::load(&host).await?;
                eprintln!("{report}");
            }
            telemetry::init_as(
                "agencyops-local",
                log_format.unwrap_or_else(LogFormat::for_stderr),
            );
            host.serve(addr).await
        }
        Command::Token {
            tenant,
            person,
            role,
            client,
            ttl_hours,
        } => {
            let token = data.issue_token(&tenant, &person, role, client, ttl_hours * 3600)?;
            println!("{token}");
            Ok(())
        }
        Command::Followups { as_of } => {
            let host = host::Host::open(&data, "http://127.0.0.1:3000")?;
            let report = host.followups(as_of).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Demo => {
            let host = host::Host::open(&data, "http://127.0.0.1:3000")?;
            let report = demo::load(&host).await?;
            println!("{report}");
            Ok(())
        }
    }
}
