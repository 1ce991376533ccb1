//! `aep-flow`: PostgreSQL connections and scheduled dataflows in Adobe
//! Experience Platform's Flow Service, from the shell or cron.
//!
//! ```text
//! aep-flow [--demo|--demo-reset] [--timeout SECS] connections create --name NAME ...
//! aep-flow connections list|get|test|delete|ensure|rotate-password|explore ...
//! aep-flow pipeline ensure|status|runs|enable|disable|delete ...
//! aep-flow plan|apply [-f FILE] [--sandbox NAME]... ...
//! aep-flow check [-f FILE] [--sandbox NAME]... [--pipeline TABLE]... | check --flow FLOW_ID
//! ```
//!
//! Output is JSON, one object per line. Exit codes: 0 ok, 1 service or
//! network failure, 2 bad usage or input (nothing sent), 3 from
//! `pipeline status` when the latest finished run failed and from `check`
//! when a pipeline needs attention.

#![forbid(unsafe_code)]

mod check;
mod connections;
mod demo;
mod env;
mod output;
mod pipeline;
mod project;
mod target;

use std::process::ExitCode;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use env::{Common, Failure, Usage};
use output::Output;

const COMMON_OPTIONS_HELP: &str = "common options (anywhere on the line):
  --timeout SECS  bound for the whole command, retries included (0.001 to 86400)
  --demo          run against a built-in fake Flow Service on 127.0.0.1 (no AEP_* variable may be set);
                  its objects are kept in a state file between runs (AEP_DEMO_STATE, default
                  aep-flow-demo-USER.json in the temp directory), never a credential; one demo
                  command at a time uses it (another waits up to 30 s, within --timeout)
  --demo-reset    like --demo, starting over from a fresh demo sandbox (its demo connection only)
  --help          this text
A value that starts with `--` is written --flag=VALUE.";

const ENVIRONMENT_HELP: &str = "environment:
  AEP_ACCESS_TOKEN, AEP_API_KEY, AEP_ORG_ID, AEP_SANDBOX_NAME  Platform credentials (all four)
  or, instead of AEP_ACCESS_TOKEN:
  AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_SCOPES                 tokens from Adobe IMS (AEP_API_KEY defaults to the client id)
  AEP_IMS_URL                                                  IMS base URL override (optional)
  AEP_PLATFORM_URL                                             gateway root override, e.g. https://platform-stage.adobe.io (optional)
  AEP_FLOW_SERVICE_URL                                         Flow Service URL override (optional; must end in
                                                               /data/foundation/flowservice; agrees with AEP_PLATFORM_URL)
  PGHOST, PGPORT (5432), PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE   the PostgreSQL database
  SSL_CERT_FILE                                                PEM bundle trusted instead of the built-in roots (optional)
  AEP_DEMO_STATE                                               the demo's state file (with --demo only)
with a declarative file (plan, apply, check -f, export), per sandbox, under the prefix of its
[sandboxes.NAME] credentials = \"PREFIX\" (e.g. AEP_PROD), instead of the AEP_* above:
  <PREFIX>_ACCESS_TOKEN, <PREFIX>_API_KEY, <PREFIX>_ORG_ID      Platform credentials of that sandbox
  or <PREFIX>_CLIENT_ID, <PREFIX>_CLIENT_SECRET, <PREFIX>_SCOPES  tokens from Adobe IMS (<PREFIX>_API_KEY defaults to the client id)
  <PREFIX>_IMS_URL, <PREFIX>_PLATFORM_URL, <PREFIX>_FLOW_SERVICE_URL  overrides, as above (optional)
  <PREFIX>_SANDBOX_NAME                                        optional; if set, must be NAME (the file names the sandbox)
  the variable each [connections.NAME] password_env names      that database's password (never in the file)
A variable is either unset or a non-empty UTF-8 value; an empty or garbled one is
an error (exit 2), never replaced by a default. With no AEP_* variable set, the
run stops (exit 2) unless --demo is given.
exit codes: 0 ok, 1 service or network failure, 2 bad usage or input (nothing sent),
3 from `pipeline status` when the latest finished run failed, and from `check` when
a pipeline is missing, disabled, failed, partial or stale.";

/// Manages PostgreSQL source connections and scheduled dataflows in Adobe
/// Experience Platform's Flow Service. Output is JSON, one object per line.
#[derive(Parser)]
#[command(
    name = "aep-flow",
    version,
    disable_help_subcommand = true,
    subcommand_required = true
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Top,
}

/// The options every subcommand takes, before or after its name; listed
/// in the help's "common options" block.
#[derive(Args)]
struct CommonArgs {
    #[arg(
        long,
        global = true,
        hide = true,
        value_name = "SECS",
        value_parser = timeout,
        allow_negative_numbers = true
    )]
    timeout: Option<Duration>,
    #[arg(long, global = true, hide = true)]
    demo: bool,
    #[arg(long, global = true, hide = true)]
    demo_reset: bool,
}

fn timeout(value: &str) -> Result<Duration, String> {
    env::parse_timeout(value).map_err(|Usage(m)| m)
}

#[derive(Subcommand)]
enum Top {
    /// Base connections: create, list, get, test, delete, ensure,
    /// rotate-password, explore.
    #[command(subcommand, after_help = connections::HELP)]
    Connections(connections::Command),
    /// From a table to a scheduled dataflow (ensure), and its status, runs,
    /// enable, disable, delete.
    #[command(subcommand, after_help = pipeline::HELP)]
    Pipeline(pipeline::Command),
    /// Whether the data is arriving: each pipeline missing, disabled,
    /// failed, partial, stale or ok; exit 3 when any is not ok.
    #[command(after_help = check::HELP)]
    Check(Box<check::CheckArgs>),
    /// Says, per pipeline and sandbox of the declarative file, what apply
    /// would do (read live; writes nothing).
    #[command(after_help = project::plan::HELP)]
    Plan(project::plan::PlanArgs),
    /// Converges every sandbox to the declarative file: base connections,
    /// then pipelines, N at a time.
    #[command(after_help = project::apply::HELP)]
    Apply(project::apply::ApplyArgs),
    /// Writes the sandbox's PostgreSQL dataflows as a declarative file
    /// (stdout).
    #[command(after_help = project::export::HELP)]
    Export(project::export::ExportArgs),
}

/// Every command's help ends with the common options and the environment.
fn with_common_help(cmd: clap::Command) -> clap::Command {
    let own = cmd
        .get_after_help()
        .map(|h| format!("{h}\n\n"))
        .unwrap_or_default();
    let cmd = cmd.after_help(format!("{own}{COMMON_OPTIONS_HELP}\n\n{ENVIRONMENT_HELP}"));
    cmd.mut_subcommands(with_common_help)
}

/// A usage error as the command has always worded the common cases
/// (unknown argument, a flag given twice, a switch given a value, a
/// missing flag), followed by clap's usage line. Exit 2, nothing sent.
fn usage_failure(e: &clap::Error) -> Failure {
    let arg = || match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => Some(flag_name(s)),
        Some(ContextValue::Strings(v)) => Some(
            v.iter()
                .map(|s| flag_name(s))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    };
    let ours = match e.kind() {
        ErrorKind::UnknownArgument => arg().map(|a| format!("unknown argument `{a}`")),
        ErrorKind::InvalidSubcommand => match e.get(ContextKind::InvalidSubcommand) {
            Some(ContextValue::String(s)) => Some(format!("unknown command `{s}`")),
            _ => None,
        },
        ErrorKind::ArgumentConflict => match (arg(), e.get(ContextKind::PriorArg)) {
            (Some(a), Some(ContextValue::String(p))) if flag_name(p) == a => {
                Some(format!("{a} is given more than once"))
            }
            _ => None,
        },
        ErrorKind::InvalidValue if matches!(e.get(ContextKind::InvalidValue), Some(ContextValue::String(v)) if v.is_empty()) => {
            arg().map(|a| format!("{a} needs a value"))
        }
        ErrorKind::TooManyValues => arg().map(|a| format!("{a} takes no value")),
        // A malformed id: named by the argument and the id's rule, never
        // echoed (it may be long or garbled).
        ErrorKind::ValueValidation => std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<aep_flow::IdError>())
            .and_then(|id| arg().map(|a| format!("{a}: {id}"))),
        ErrorKind::MissingRequiredArgument => arg().map(|a| {
            format!(
                "{a} {} required",
                if a.contains(',') { "are" } else { "is" }
            )
        }),
        _ => None,
    };
    let rendered = e.render().to_string();
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // Clap would print the whole help, as if asked for; a usage error
        // says what is missing, and the usage line.
        let usage = rendered
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .unwrap_or_default();
        return Failure(
            2,
            format!(
                "error: a command is required\n\n{usage}\n\nFor more information, try '--help'."
            ),
        );
    }
    let text = match ours {
        // Clap's first line, and the indented list under it, replaced.
        Some(message) => {
            let rest: Vec<&str> = rendered
                .lines()
                .skip(1)
                .skip_while(|l| l.starts_with("  "))
                .collect();
            format!("error: {message}\n{}", rest.join("\n"))
        }
        None => rendered,
    };
    Failure(2, text.trim_end().to_owned())
}

/// Clap refuses a flag given twice on one level of the command; a common
/// option can also be given on two levels (`aep-flow --demo connections
/// list --demo`), which is refused here the same way.
fn common_flags_once(args: &[String]) -> Result<(), Usage> {
    let args = args.iter().take_while(|a| *a != "--");
    let mut seen: Vec<&str> = Vec::new();
    for arg in args {
        let flag = arg.split('=').next().unwrap_or(arg);
        if ["--timeout", "--demo", "--demo-reset"].contains(&flag) {
            if seen.contains(&flag) {
                return Err(Usage(format!("{flag} is given more than once")));
            }
            seen.push(flag);
        }
    }
    Ok(())
}

/// `--name <NAME>` → `--name`.
fn flag_name(arg: &str) -> String {
    arg.split([' ', '=']).next().unwrap_or(arg).to_owned()
}

/// Whether the command line is `plan ... --detailed-exitcode`, read from
/// the raw arguments (before they are checked): under it, Terraform's rule
/// holds for every error, usage errors included (exit 1, never 2, which
/// means "changes pending"). The command is the first word that is not a
/// common option (or `--timeout`'s value).
fn plan_detailed_exitcode(args: &[std::ffi::OsString]) -> bool {
    let mut words = args.iter().take_while(|a| *a != "--");
    let mut command = None;
    while let Some(a) = words.next() {
        if a == "--timeout" {
            words.next();
        } else if !a.to_string_lossy().starts_with('-') {
            command = Some(a);
            break;
        }
    }
    command.is_some_and(|c| c == "plan")
        && words.any(|a| {
            let a = a.to_string_lossy();
            a == "--detailed-exitcode" || a.starts_with("--detailed-exitcode=")
        })
}

fn run(out: &mut Output) -> Result<(), Failure> {
    let detailed = plan_detailed_exitcode(&std::env::args_os().skip(1).collect::<Vec<_>>());
    let cli = match parse(out) {
        Ok(Some(cli)) => cli,
        Ok(None) => return Ok(()),
        // `plan --detailed-exitcode`: 2 means changes pending; a bad
        // argument is an error like any other.
        Err(Failure(2, m)) if detailed => return Err(Failure(1, m)),
        Err(e) => return Err(e),
    };
    let common = Common::new(cli.common.timeout, cli.common.demo, cli.common.demo_reset);
    match cli.command {
        Top::Connections(command) => connections::run(command, &common, out),
        Top::Pipeline(command) => pipeline::run(command, &common, out),
        Top::Check(args) => check::run(*args, &common, out),
        Top::Plan(args) => project::plan::run(args, &common, out),
        Top::Apply(args) => project::apply::run(args, &common, out),
        Top::Export(args) => project::export::run(args, &common, out),
    }
}

/// The command line, checked; `None` when help or the version was asked
/// for (and printed).
fn parse(out: &mut Output) -> Result<Option<Cli>, Failure> {
    // Refused before clap sees them: a garbled argument is wiped, never
    // echoed.
    let args = env::args()?;
    let command = with_common_help(Cli::command());
    let matches = command
        .try_get_matches_from(std::iter::once("aep-flow".to_owned()).chain(args.iter().cloned()));
    let matches = match matches {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            out.line(e.render().to_string().trim_end())?;
            return Ok(None);
        }
        Err(e) => return Err(usage_failure(&e)),
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| usage_failure(&e))?;
    common_flags_once(&args)?;
    Ok(Some(cli))
}

fn main() -> ExitCode {
    let mut out = Output::new();
    let result = run(&mut out);
    output::finish(result, out)
}
