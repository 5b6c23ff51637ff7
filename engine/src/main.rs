//! The `phipolicy` command line: flag table, dispatch, error printing and exit codes
//! (0 no control failed, 1 a control failed, 2 an error or bad input).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, bail};
use clap::{Args, CommandFactory, Parser, Subcommand};

use engine::eval::{EvalRequest, prepare};
use engine::policy::{self, PolicySet};
use engine::profile::ProfileSource;
use engine::report::{self, Format};

mod generate;

/// Audits a Linux host or root filesystem against the HIPAA Security Rule's technical safeguards,
/// with evidence (file and line) for every finding.
#[derive(Debug, Parser)]
#[command(
    name = "phipolicy",
    version,
    // `--version` is ours: with --verbose it also prints the build (see `build_info`).
    disable_version_flag = true,
    arg_required_else_help = true,
    max_term_width = 100
)]
struct Cli {
    /// More diagnostics on stderr (-v: info, -vv: debug, -vvv: trace). Never mixed into stdout.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Print the version; with --verbose also the build: git commit, compiler, wasmtime and
    /// regorus versions and each built-in plugin's sha256 (what every result document's `build`
    /// section records).
    #[arg(short = 'V', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate a target against a profile and report every control.
    Eval(EvalArgs),
    /// Print the facts the plugins collect, as JSON, without judging them.
    Facts(FactsArgs),
    /// Run the Rego unit tests (`test_*` rules) of a policy directory and report coverage.
    Test(TestArgs),
    /// List the controls of the profile.
    Controls(ProfileArgs),
    /// Show one control: CFR citation, what it checks, parameters, remediation.
    Explain {
        /// Control id, e.g. auth.ssh.
        id: String,
        #[command(flatten)]
        profile: ProfileArgs,
    },
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// Root filesystem to audit: the live host (`/`, the default), an unpacked image, a mounted
    /// disk or a container's filesystem. It is only ever read.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Organisation parameters (YAML or JSON) overriding the profile's defaults.
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
    /// Directory of additional plugin components (`*.wasm`); compiled once and cached. Each must
    /// be pinned in --plugin-lock or signed (`NAME.wasm.minisig`) by a --trusted-key.
    #[arg(long = "plugins", value_name = "DIR")]
    plugins: Vec<PathBuf>,
    /// Lock file of allowed plugin sha256 sums (`sha256sum` format), controlled by the operator.
    #[arg(long, value_name = "FILE")]
    plugin_lock: Option<PathBuf>,
    /// Minisign public key whose signatures make a plugin trusted; may be repeated.
    #[arg(long, value_name = "FILE")]
    trusted_key: Vec<PathBuf>,
    /// Run plugins that are neither pinned nor signed (recorded in the result document).
    #[arg(long)]
    allow_unverified: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Args)]
struct ProfileArgs {
    /// Profile to use; `hipaa` is built in.
    #[arg(long, default_value = "hipaa")]
    profile: String,
    /// Policy directory (profile.yaml + Rego) replacing the built-in policies.
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct EvalArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Output format: table (default on a terminal) or json (default otherwise; the result
    /// document). `F=FILE` writes that format to FILE; may be repeated.
    #[arg(long, value_name = "F[=FILE]")]
    format: Vec<String>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Waivers (YAML): justified, dated exceptions per control.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Only these controls (comma-separated ids), in catalogue order.
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    controls: Option<Vec<String>>,
    /// Evaluation time (RFC 3339, e.g. 2026-11-28T12:00:00Z) for reproducible runs; default: now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
}

#[derive(Debug, Args)]
struct FactsArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Only this plugin's facts.
    #[arg(long, value_name = "ID")]
    plugin: Option<String>,
}

#[derive(Debug, Args)]
struct TestArgs {
    /// Policy directory; default: the built-in policies.
    dir: Option<PathBuf>,
    /// Only tests whose name or package contains this string.
    #[arg(long)]
    filter: Option<String>,
    /// Output format: table or json.
    #[arg(long, default_value = "table")]
    format: Format,
}

fn main() -> ExitCode {
    // regorus builds `anyhow` errors during ordinary evaluation; with RUST_BACKTRACE set, each one
    // captures a backtrace, which doubled a whole run. Library backtraces are off unless asked for
    // explicitly with RUST_LIB_BACKTRACE; panics still honour RUST_BACKTRACE.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: first statement of main, before any thread exists; nothing reads the
        // environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("RUST_LIB_BACKTRACE", "0")
        };
    }
    if let Some(result) = generate::requested() {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("phipolicy: error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let cli = Cli::parse();
    if cli.version {
        let build = engine::build_info::BuildInfo::current();
        match cli.verbose {
            0 => println!("phipolicy {}", build.version),
            _ => print!("{}", build.verbose_text()),
        }
        return ExitCode::SUCCESS;
    }
    init_tracing(cli.verbose);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("phipolicy: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: u8) {
    // Our own diagnostics at the asked level; dependencies (wasmtime, cranelift) stay at warn
    // unless -vvv.
    let level = match verbose {
        0 => "warn",
        1 => "warn,engine=info,phipolicy=info",
        2 => "warn,engine=debug,phipolicy=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PHIPOLICY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs captured by CI or a file stay plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

fn profile_source(args: &ProfileArgs) -> anyhow::Result<ProfileSource> {
    match &args.policies {
        Some(dir) => Ok(ProfileSource::from_dir(dir)?),
        None if args.profile == "hipaa" => Ok(ProfileSource::builtin()?),
        None => bail!(
            "unknown profile `{}`: the built-in profile is `hipaa`; use --policies DIR for another",
            args.profile
        ),
    }
}

fn request(target: TargetArgs) -> anyhow::Result<EvalRequest> {
    Ok(EvalRequest {
        profile: profile_source(&target.profile)?,
        root: target.root,
        params_file: target.params,
        waivers_file: None,
        controls: None,
        plugin_dirs: target.plugins,
        plugin_cache: None,
        trust: engine::trust::TrustPolicy::load(
            target.plugin_lock.as_deref(),
            &target.trusted_key,
            target.allow_unverified,
        )?,
        now: None,
        backend: policy::Backend::Fastest,
    })
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let Some(command) = cli.command else {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingSubcommand,
                "a command is required (see `phipolicy --help`)",
            )
            .exit()
    };
    match command {
        Command::Eval(args) => eval(args),
        Command::Facts(args) => {
            let plugin = args.plugin.clone();
            let prepared = prepare(request(args.target)?)?;
            let doc = prepared.facts_document(plugin.as_deref());
            if let Some(id) = &plugin
                && doc["plugins"].get(id).is_none()
            {
                bail!("no plugin `{id}` feeds the selected controls");
            }
            print!("{}", report::json_value(&doc));
            Ok(0)
        }
        Command::Test(args) => {
            let files = match &args.dir {
                Some(dir) => policy::read_dir(dir, true)?,
                None => ProfileSource::builtin()?.files,
            };
            if !files.iter().any(|f| f.path.ends_with("_test.rego")) {
                bail!(
                    "no *_test.rego files in {}",
                    args.dir
                        .as_deref()
                        .map(|d| d.display().to_string())
                        .unwrap_or("the built-in policies".into())
                );
            }
            let report = policy::run_tests(files, args.filter.as_deref())?;
            if report.tests.is_empty() {
                bail!("no test_* rules matched");
            }
            match args.format {
                Format::Json => print!("{}", report::json_value(&report)),
                Format::Table => print!("{}", report::test_report(&report)),
            }
            Ok(if report.failed() == 0 { 0 } else { 1 })
        }
        Command::Controls(args) => {
            let source = profile_source(&args)?;
            let set = PolicySet::for_source(&source, None, policy::Backend::Fastest)?;
            let catalogue = policy::catalogue(&set, &source.profile.controls)?;
            let width = source
                .profile
                .controls
                .iter()
                .map(String::len)
                .max()
                .unwrap_or(10);
            for id in &source.profile.controls {
                let m = &catalogue[id];
                println!(
                    "{id:<width$}  {:<24} {:<7} {}",
                    m.cfr.join(", "),
                    m.severity,
                    m.title
                );
            }
            Ok(0)
        }
        Command::Explain { id, profile } => {
            let source = profile_source(&profile)?;
            if !source.profile.controls.contains(&id) {
                bail!("unknown control `{id}` (see `phipolicy controls`)");
            }
            let set = PolicySet::for_source(&source, None, policy::Backend::Fastest)?;
            let m = set.metadata(&id)?;
            println!("{} — {}\n", m.id, m.title);
            println!(
                "Safeguard: {}  CFR: {}  Severity: {}\n",
                m.safeguard,
                m.cfr.join(", "),
                m.severity
            );
            println!("{}\n", m.description);
            if !m.parameters.is_empty() {
                println!("Parameters:");
                for p in &m.parameters {
                    let spec = source.profile.parameters.get(p);
                    let default = spec
                        .map(|s| s.default.to_string())
                        .unwrap_or_else(|| "?".into());
                    let desc = spec.map(|s| s.description.as_str()).unwrap_or("");
                    println!("  {p} (default {default}): {desc}");
                }
                println!();
            }
            println!("Remediation:\n{}", m.remediation);
            Ok(0)
        }
    }
}

fn eval(args: EvalArgs) -> anyhow::Result<u8> {
    let now = match &args.now {
        Some(s) => Some(
            humantime::parse_rfc3339_weak(s)
                .with_context(|| format!("--now {s:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    let mut outputs: Vec<(Format, Option<PathBuf>)> = Vec::new();
    for f in &args.format {
        match f.split_once('=') {
            Some((fmt, file)) => outputs.push((
                fmt.parse().map_err(anyhow::Error::msg)?,
                Some(PathBuf::from(file)),
            )),
            None => outputs.push((f.parse().map_err(anyhow::Error::msg)?, args.output.clone())),
        }
    }
    if outputs.is_empty() {
        let fmt = if args.output.is_none() && std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        };
        outputs.push((fmt, args.output.clone()));
    }
    let mut req = request(args.target)?;
    req.waivers_file = args.waivers;
    req.controls = args.controls;
    req.now = now.or(Some(SystemTime::now()));
    let prepared = prepare(req)?;
    let doc = prepared.evaluate();
    // The process ends right after the report: tearing down the wasmtime engine, its code
    // mappings and twenty policy VMs piece by piece is work the kernel does at exit anyway.
    // The epoch thread stops with the process.
    std::mem::forget(prepared);
    for (format, file) in outputs {
        let text = report::render(&doc, format);
        match file {
            Some(path) => std::fs::write(&path, text)
                .with_context(|| format!("writing {}", path.display()))?,
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .context("writing to stdout")?;
            }
        }
    }
    Ok(doc.exit_code() as u8)
}
