//! The `phipolicy` command line: flag table, dispatch, error printing and exit codes
//! (0 no control failed, 1 a control failed, 2 an error or bad input).
//!
//! Long file: it is the whole clap flag table (every command's arguments with their help text)
//! and the dispatch; each command's work lives in the library, one call per command.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, bail};
use clap::{Args, CommandFactory, Parser, Subcommand};

use engine::eval::{EvalRequest, prepare_for};
use engine::fleet::FleetEntry;
use engine::target::TargetSpec;
use engine::policy::{self, PolicySet};
use engine::profile::ProfileSource;
use engine::report::{self, Format, Report, terminal};

mod generate;
mod scan;

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
    /// Render a saved result document (`--format json` output) in any format.
    Report(ReportArgs),
    /// Drift between two result documents: now failing, now passing, new errors, changed
    /// evidence, expired and expiring waivers. Exit 1 when anything regressed.
    Diff(DiffArgs),
    /// Evidence bundles written by `eval --evidence`.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Plugin components (`*.wasm`): inspect, sign and verify them.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// List what a scan of the target sees, as JSON: every path with its kind, mode and owner (an
    /// image's own, from its layers), size, link target and content sha256.
    Tree(TreeArgs),
}

#[derive(Debug, Args)]
struct TreeArgs {
    /// The target: `dir:PATH`, `oci:PATH`, `docker-archive:FILE`, `docker:IMAGE`, `container:ID`,
    /// `ssh://[USER@]HOST[:PORT]`.
    #[arg(long, value_name = "KIND:VALUE")]
    target: String,
    #[command(flatten)]
    ssh: SshArgs,
}

/// How `ssh://` targets are reached (through the system's OpenSSH client: its configuration,
/// agent and known_hosts apply; nothing is ever prompted for).
#[derive(Debug, Clone, Args)]
struct SshArgs {
    /// SSH targets: trust a host that is not in known_hosts on first use and record its key there
    /// (`StrictHostKeyChecking=accept-new`). A key that differs from a recorded one is always
    /// refused.
    #[arg(long)]
    accept_new_host_key: bool,
    /// SSH targets: the known_hosts file to check host keys against (default: ssh's own,
    /// `~/.ssh/known_hosts` and the system's).
    #[arg(long, value_name = "FILE")]
    ssh_known_hosts: Option<PathBuf>,
    /// SSH targets: authenticate with this private key only (default: the agent's keys and
    /// ssh's default keys). A key with a passphrase must be in the agent.
    #[arg(long, value_name = "FILE")]
    ssh_identity: Option<PathBuf>,
    /// SSH targets: the ssh configuration file to use instead of `~/.ssh/config` (`none`: none).
    #[arg(long, value_name = "FILE")]
    ssh_config: Option<PathBuf>,
    /// SSH targets: the per-host timeout for connecting and authenticating, and then for each
    /// answer of the host (e.g. 10s, 2min; default 30s). A host that exceeds it is an `error`.
    #[arg(long, value_name = "DURATION")]
    ssh_timeout: Option<String>,
}

impl SshArgs {
    fn open_options(&self) -> anyhow::Result<engine::target::OpenOptions> {
        let mut ssh = engine::target::ssh::SshOptions {
            accept_new_host_key: self.accept_new_host_key,
            known_hosts: self.ssh_known_hosts.clone(),
            identity: self.ssh_identity.clone(),
            config: self.ssh_config.clone(),
            ..Default::default()
        };
        if let Some(t) = &self.ssh_timeout {
            let d = humantime::parse_duration(t)
                .with_context(|| format!("--ssh-timeout {t:?} is not a duration (e.g. 30s, 2min)"))?;
            if d.is_zero() {
                bail!("--ssh-timeout {t:?}: give a duration above zero");
            }
            ssh.timeout = d;
        }
        Ok(engine::target::OpenOptions {
            ssh,
            ..Default::default()
        })
    }
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The result document to render.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Output format (table, json, sarif, sarif-github, junit, oscal, html, markdown);
    /// `F=FILE` writes that format to FILE (`F=-`: stdout); may be repeated.
    #[arg(long, value_name = "F[=FILE]", required = true)]
    format: Vec<String>,
    /// Write formats given without `=FILE` to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The earlier result document.
    old: PathBuf,
    /// The later result document.
    new: PathBuf,
    /// List waivers in force in NEW that expire within this time (e.g. 30d, 2weeks).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    expiring: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: report::DriftFormat,
    /// Write the drift to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Show what a component is: its plugin ABI version, manifest (id, controls, reads), the
    /// facts schema it is held to, its imports, sha256 and signature. Exit 0 when this phipolicy
    /// can load it, 1 when it cannot (the reason is shown), 2 when the file is unreadable.
    Inspect {
        /// The component.
        file: PathBuf,
        /// Output format: table or json.
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// Sign a component with a minisign secret key (an encrypted key reads its password from
    /// PHIPOLICY_SIGN_PASSWORD): writes FILE.minisig, which `eval --trusted-key` accepts.
    Sign {
        /// The component.
        file: PathBuf,
        /// The minisign secret key.
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
    },
    /// Check FILE.minisig against trusted public keys, as `eval --plugins --trusted-key` does.
    /// Exit 0 verified, 1 missing or not verified, 2 unreadable.
    Verify {
        /// The component.
        file: PathBuf,
        /// A minisign public key the signature may be made with (repeatable).
        #[arg(long, value_name = "KEY", required = true)]
        trusted_key: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Check every hash (and the signature, given the public key) of a bundle and print what it
    /// attests. Exit 0 verified, 1 altered or unverifiable, 2 unreadable.
    Verify {
        /// The bundle (`.tar.zst`).
        file: PathBuf,
        /// Minisign public key the bundle must be signed with.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// Root filesystem to audit: the live host (`/`, the default), an unpacked image, a mounted
    /// disk or a container's filesystem. It is only ever read. Same as `--target dir:DIR`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["target", "targets"])]
    root: Option<PathBuf>,
    /// What to audit: `dir:PATH`, `oci:PATH` (OCI layout or oci-archive), `docker-archive:FILE`,
    /// `docker:IMAGE` (the local engine's image; nothing is pulled), `container:ID` (its
    /// filesystem, through the engine's export) or `ssh://[USER@]HOST[:PORT]` (a remote host's
    /// `/`, read over SFTP; nothing is installed or run there). Images are flattened into a
    /// private temporary directory that is removed afterwards. Repeat for a run over several
    /// targets.
    #[arg(long, value_name = "KIND:VALUE")]
    target: Vec<String>,
    /// A YAML list of targets (`- {name: web1, target: dir:/srv/web1, params: web1.yaml}`) to
    /// evaluate in one run: one set of reports per target in --output-dir, and a summary.
    #[arg(long, value_name = "FILE", conflicts_with = "target")]
    targets: Option<PathBuf>,
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
    /// Run third-party plugins whose read patterns cover the whole target (`/**`, `/*`).
    #[arg(long)]
    allow_broad_reads: bool,
    /// Use no plugin cache: nothing is written anywhere (built-in plugins load from the binary,
    /// third-party plugins are compiled on every run).
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    ssh: SshArgs,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Args)]
struct ProfileArgs {
    /// Profile to use; `hipaa` is built in.
    #[arg(long, default_value = "hipaa")]
    profile: String,
    /// Policy directory: an overlay adding controls, parameters and modules to the built-in
    /// profile (its profile.yaml says `extends: hipaa`, or it has none; a module with a built-in
    /// package replaces that module), or a whole profile replacing it (a profile.yaml without
    /// `extends`).
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct EvalArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Output format: table (default on a terminal), json (default otherwise; the result
    /// document), sarif, sarif-github, junit, oscal, html or markdown. `F=FILE` writes that format
    /// to FILE (`F=-`: stdout); may be repeated. Files are never written through a symbolic link
    /// or inside the --root target.
    #[arg(long, value_name = "F[=FILE]")]
    format: Vec<String>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write an evidence bundle (tar + zstd): the result document, each cited file as read
    /// (secrets as metadata and hash only), versions, parameters, waivers, sha256 sums.
    #[arg(long, value_name = "FILE.tar.zst")]
    evidence: Option<PathBuf>,
    /// Sign the evidence bundle with this minisign secret key (an encrypted key reads its
    /// password from PHIPOLICY_SIGN_PASSWORD).
    #[arg(long, value_name = "KEY", requires = "evidence")]
    sign_key: Option<PathBuf>,
    /// Waivers (YAML): justified, dated exceptions per control.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Only these controls (comma-separated ids), in catalogue order.
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    controls: Option<Vec<String>>,
    /// Evaluation time (RFC 3339, e.g. 2026-11-28T12:00:00Z) for reproducible runs; default: now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Several targets: the directory each target's reports go to, as NAME.json, NAME.sarif, ...
    /// (one per --format), with the summary as fleet-summary.json.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Several targets: how many are evaluated at once (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Several targets: the summary's format on stdout (table on a terminal, else json).
    #[arg(long, value_name = "F", value_parser = ["table", "json"])]
    summary_format: Option<String>,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
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
    /// Policy directory, read as `--policies` reads it (an overlay's tests run with the built-in
    /// ones it keeps); default: the built-in policies.
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
            eprintln!(
                "phipolicy: error: {}",
                terminal::clean_lines(&format!("{e:#}"))
            );
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
        // Every record goes through the one escaping place: a file name or plugin message with
        // control characters cannot repaint the operator's terminal (hence no colours either).
        .with_writer(|| terminal::CleanWriter(std::io::stderr()))
        .with_ansi(false)
        .with_target(false)
        .init();
}

fn profile_source(args: &ProfileArgs) -> anyhow::Result<ProfileSource> {
    match &args.policies {
        Some(dir) => Ok(ProfileSource::from_policies_dir(dir)?),
        None if args.profile == "hipaa" => Ok(ProfileSource::builtin()?),
        None => bail!(
            "unknown profile `{}`: the built-in profile is `hipaa`; use --policies DIR for another",
            args.profile
        ),
    }
}

/// The targets the arguments name: `--targets FILE`, each `--target`, else `--root` (default `/`).
fn target_entries(args: &TargetArgs) -> anyhow::Result<Vec<FleetEntry>> {
    if let Some(file) = &args.targets {
        return Ok(engine::fleet::load_targets_file(file)?);
    }
    let specs = if args.target.is_empty() {
        vec![TargetSpec::Dir(
            args.root.clone().unwrap_or_else(|| PathBuf::from("/")),
        )]
    } else {
        args.target
            .iter()
            .map(|t| TargetSpec::parse(t))
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(engine::fleet::entries_from_specs(specs))
}

/// Whether the arguments ask for a run over several targets.
fn is_fleet(args: &TargetArgs) -> bool {
    args.targets.is_some() || args.target.len() > 1
}

/// Opens the one target of a single-target run (images are flattened here, SSH hosts connected).
fn open_single(entries: Vec<FleetEntry>, ssh: &SshArgs) -> anyhow::Result<engine::target::Target> {
    let entry = entries
        .into_iter()
        .next()
        .context("no target given")?;
    Ok(engine::target::open(&entry.spec, &ssh.open_options()?)?)
}

/// A remote host whose connection dropped or timed out during the scan: its verdicts would rest
/// on partial reads, so the run is an error (exit 2).
fn check_connection(view: &engine::fsview::TargetView) -> anyhow::Result<()> {
    match view.failure() {
        Some(why) => bail!("{}: the scan did not finish: {why}", view.root().display()),
        None => Ok(()),
    }
}

fn request(target: TargetArgs) -> anyhow::Result<EvalRequest> {
    Ok(EvalRequest {
        profile: profile_source(&target.profile)?,
        root: target.root.unwrap_or_else(|| PathBuf::from("/")),
        params_file: target.params,
        waivers_file: None,
        controls: None,
        plugin_dirs: target.plugins,
        plugin_cache: None,
        no_cache: target.no_cache,
        trust: {
            let mut trust = engine::trust::TrustPolicy::load(
                target.plugin_lock.as_deref(),
                &target.trusted_key,
                target.allow_unverified,
            )?;
            trust.allow_broad_reads = target.allow_broad_reads;
            trust
        },
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
            if is_fleet(&args.target) {
                bail!("`phipolicy facts` reads one target; give one --target");
            }
            let target = open_single(target_entries(&args.target)?, &args.target.ssh)?;
            let mut req = request(args.target)?;
            req.root = target.root_dir().map(PathBuf::from).unwrap_or_default();
            let prepared = prepare_for(req, &target)?;
            let doc = prepared.facts_document(plugin.as_deref());
            check_connection(prepared.view())?;
            if let Some(id) = &plugin
                && !doc.plugins.contains_key(id)
            {
                bail!("no plugin `{id}` feeds the selected controls");
            }
            print!("{}", report::json_value(&doc));
            Ok(0)
        }
        Command::Test(args) => {
            let files = match &args.dir {
                Some(dir) => ProfileSource::from_policies_dir(dir)?.files,
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
                other => bail!("`phipolicy test` writes table or json, not {other:?}"),
            }
            Ok(if report.failed() == 0 { 0 } else { 1 })
        }
        Command::Controls(args) => {
            let source = profile_source(&args)?;
            let set = PolicySet::for_source(&source, None, policy::Backend::Fastest)?;
            let catalogue = policy::catalogue(&set, &source.profile.controls)?;
            print!("{}", report::catalogue(&source.profile.controls, &catalogue));
            Ok(0)
        }
        Command::Explain { id, profile } => {
            let source = profile_source(&profile)?;
            if !source.profile.controls.contains(&id) {
                bail!("unknown control `{id}` (see `phipolicy controls`)");
            }
            let set = PolicySet::for_source(&source, None, policy::Backend::Fastest)?;
            let m = set.metadata(&id)?;
            print!("{}", report::explain(&m, &source.profile.parameters));
            Ok(0)
        }
        Command::Report(args) => {
            let outputs = outputs(&args.format, args.output.as_ref(), None, None)?;
            let doc = Report::from_file(&args.from)?;
            write_outputs(&doc, &outputs, None)?;
            Ok(0)
        }
        Command::Diff(args) => {
            let window = humantime::parse_duration(&args.expiring)
                .with_context(|| format!("--expiring {:?} is not a duration (e.g. 30d)", args.expiring))?;
            if let Some(out) = &args.output {
                report::output::check(out, None)?;
            }
            let old = Report::from_file(&args.old)?;
            let new = Report::from_file(&args.new)?;
            let drift = report::diff(
                &old,
                &args.old.display().to_string(),
                &new,
                &args.new.display().to_string(),
                window,
            )?;
            let text = drift.render(args.format);
            match &args.output {
                Some(path) => report::output::write(path, None, text.as_bytes())?,
                None => std::io::stdout()
                    .lock()
                    .write_all(text.as_bytes())
                    .context("writing to stdout")?,
            }
            Ok(drift.exit_code())
        }
        Command::Plugin(PluginCommand::Inspect { file, format }) => {
            let inspection = engine::plugin_tool::inspect(&file)?;
            match format {
                Format::Json => print!("{}", report::json_value(&inspection)),
                Format::Table => print!("{}", terminal::clean_lines(&inspection.describe())),
                other => bail!("`phipolicy plugin inspect` writes table or json, not {other:?}"),
            }
            Ok(if inspection.error.is_none() { 0 } else { 1 })
        }
        Command::Plugin(PluginCommand::Sign { file, key }) => {
            let signature = engine::plugin_tool::sign(&file, &key)?;
            eprintln!("phipolicy: wrote {}", signature.display());
            Ok(0)
        }
        Command::Plugin(PluginCommand::Verify { file, trusted_key }) => {
            match engine::plugin_tool::verify(&file, &trusted_key)? {
                Ok(()) => {
                    println!("{}: signature verified", file.display());
                    Ok(0)
                }
                Err(reason) => {
                    eprintln!("phipolicy: {}", terminal::clean_lines(&reason));
                    Ok(1)
                }
            }
        }
        Command::Tree(args) => {
            let spec = TargetSpec::parse(&args.target)?;
            let target = engine::target::open(&spec, &args.ssh.open_options()?)?;
            let view = target.view()?;
            let entries = engine::target::tree::walk(&view).map_err(anyhow::Error::msg)?;
            check_connection(&view)?;
            let doc = serde_json::json!({
                "schema": engine::target::tree::SCHEMA,
                "target": target.name(),
                "kind": target.kind,
                "entries": entries,
            });
            std::io::stdout()
                .lock()
                .write_all(report::json_value(&doc).as_bytes())
                .context("writing to stdout")?;
            Ok(0)
        }
        Command::Evidence(EvidenceCommand::Verify { file, public_key }) => {
            match engine::evidence::verify(&file, public_key.as_deref()) {
                Ok(v) => {
                    print!("{}", v.describe());
                    Ok(0)
                }
                Err(Ok(failure)) => {
                    eprintln!(
                        "phipolicy: {}",
                        terminal::clean_lines(&failure.to_string())
                    );
                    Ok(1)
                }
                Err(Err(e)) => Err(e.into()),
            }
        }
    }
}

/// Where each requested format goes: `(format, None)` is stdout.
type Outputs = Vec<(Format, Option<PathBuf>)>;

/// Parses `--format F[=FILE]` (and `--output`), and checks every file can be written (no link,
/// not inside `root`) before anything runs. `default` is the format when none is given.
fn outputs(
    formats: &[String],
    output: Option<&PathBuf>,
    default: Option<Format>,
    root: Option<&std::path::Path>,
) -> anyhow::Result<Outputs> {
    let mut outputs: Outputs = Vec::new();
    for f in formats {
        match f.split_once('=') {
            Some((fmt, "-")) => outputs.push((fmt.parse().map_err(anyhow::Error::msg)?, None)),
            Some((fmt, file)) => outputs.push((
                fmt.parse().map_err(anyhow::Error::msg)?,
                Some(PathBuf::from(file)),
            )),
            None => outputs.push((f.parse().map_err(anyhow::Error::msg)?, output.cloned())),
        }
    }
    if outputs.is_empty()
        && let Some(fmt) = default
    {
        outputs.push((fmt, output.cloned()));
    }
    for (_, file) in &outputs {
        if let Some(path) = file {
            report::output::check(path, root)?;
        }
    }
    Ok(outputs)
}

fn write_outputs(
    doc: &Report,
    outputs: &Outputs,
    root: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    for (format, file) in outputs {
        let text = report::render_report(doc, *format);
        match file {
            Some(path) => report::output::write(path, root, text.as_bytes())?,
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .context("writing to stdout")?;
            }
        }
    }
    Ok(())
}

fn eval(args: EvalArgs) -> anyhow::Result<u8> {
    let now = match &args.now {
        Some(s) => Some(
            humantime::parse_rfc3339_weak(s)
                .with_context(|| format!("--now {s:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    let entries = target_entries(&args.target)?;
    if is_fleet(&args.target) {
        return eval_fleet(args, entries, now.unwrap_or_else(SystemTime::now));
    }
    if args.output_dir.is_some() || args.summary_format.is_some() {
        bail!("--output-dir and --summary-format apply to runs over several targets (--targets FILE or --target repeated)");
    }
    let default = if args.output.is_none() && std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    };
    // Reports are never written inside a directory target; an image's private directory is
    // checked when the report is written.
    let dir_root = match &entries[0].spec {
        TargetSpec::Dir(p) => Some(p.clone()),
        _ => None,
    };
    let outputs = outputs(&args.format, args.output.as_ref(), Some(default), dir_root.as_deref())?;
    if let Some(path) = &args.evidence {
        report::output::check(path, dir_root.as_deref())?;
    }
    let target = open_single(entries, &args.target.ssh)?;
    let root = target.root_dir().map(PathBuf::from);
    let params_file = args.target.params.clone();
    let mut req = request(args.target)?;
    req.root = root.clone().unwrap_or_default();
    let waivers_file = args.waivers.clone();
    req.waivers_file = args.waivers;
    req.controls = args.controls;
    req.now = now.or(Some(SystemTime::now()));
    let prepared = prepare_for(req, &target)?;
    let doc = prepared.evaluate();
    check_connection(prepared.view())?;
    let report = Report::from_document(&doc);
    if let Some(path) = &args.evidence {
        // The contingency-backup facts name restic password files, which the bundle must not copy.
        let backup = prepared.collect(Some("contingency-backup"));
        let backup_facts = backup.values().find_map(|r| r.facts.as_ref().ok());
        engine::evidence::write(
            &report,
            &engine::evidence::BundleRequest {
                output: path,
                // A remote host has no local tree: the view serves the cited files.
                root: root.as_deref().unwrap_or(std::path::Path::new("")),
                view: Some(prepared.view()),
                params_file: params_file.as_deref(),
                waivers_file: waivers_file.as_deref(),
                sign_key: args.sign_key.as_deref(),
                backup_facts,
            },
        )?;
    }
    // The process ends right after the report: tearing down the wasmtime engine, its code
    // mappings and twenty policy VMs piece by piece is work the kernel does at exit anyway.
    // The epoch thread stops with the process.
    std::mem::forget(prepared);
    write_outputs(&report, &outputs, root.as_deref())?;
    // The flattened image's private directory is removed here (the prepared run is forgotten,
    // the target is not).
    drop(target);
    Ok(doc.exit_code() as u8)
}

/// `eval` over several targets: prepared once, evaluated on `--jobs` workers.
fn eval_fleet(args: EvalArgs, entries: Vec<FleetEntry>, now: SystemTime) -> anyhow::Result<u8> {
    let Some(output_dir) = args.output_dir.clone() else {
        bail!("a run over several targets writes one set of reports per target: give --output-dir DIR");
    };
    if args.output.is_some() || args.evidence.is_some() {
        bail!("--output and --evidence apply to one target; a run over several targets writes to --output-dir");
    }
    let formats = scan::fleet_formats(&args.format)?;
    scan::prepare_output_dir(&output_dir)?;
    let summary_format = match args.summary_format.as_deref() {
        Some("json") => Format::Json,
        Some(_) => Format::Table,
        None if std::io::stdout().is_terminal() => Format::Table,
        None => Format::Json,
    };
    let jobs = args.jobs.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    });
    let progress = scan::want_progress(args.quiet, entries.len());
    let open = args.target.ssh.open_options()?;
    let mut req = request(args.target)?;
    req.waivers_file = args.waivers;
    req.controls = args.controls;
    req.now = Some(now);
    // The plugin cache is opened once for the run: never inside one of the audited trees.
    if let Some(cache) = req
        .plugin_cache
        .clone()
        .or_else(engine::cache::default_location)
        .and_then(|c| std::fs::canonicalize(c).ok())
    {
        let inside = entries.iter().any(|e| match &e.spec {
            TargetSpec::Dir(d) => std::fs::canonicalize(d)
                .is_ok_and(|d| d != std::path::Path::new("/") && cache.starts_with(d)),
            _ => false,
        });
        if inside {
            tracing::warn!("not using the plugin cache: it lies inside one of the audited trees");
            req.no_cache = true;
        }
    }
    // Plugins and policies load once, against the live host's root as a neutral target; each
    // target gets its own view.
    req.root = PathBuf::from("/");
    let prepared = engine::eval::prepare(req)?;
    let code = scan::run(
        &prepared,
        &scan::FleetRun {
            entries,
            formats,
            output_dir,
            jobs,
            progress,
            summary_format,
            now,
            open,
        },
    )?;
    std::mem::forget(prepared);
    Ok(code)
}
