//! `phipolicy eval` over several targets: the profile, policies and plugins are prepared once,
//! each target is opened (flattened), evaluated and reported on a bounded worker pool, its
//! reports written to `--output-dir` as `NAME.<format>`, and the fleet summary printed and
//! written as `fleet-summary.json`. One target's failure is that target's `error`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{Context, bail};

use engine::eval::Prepared;
use engine::fleet::{FleetEntry, FleetSummary, Outcome, run_pool};
use engine::report::{self, Format, Report};

/// File name suffix of each report format in an output directory.
pub fn extension(format: Format) -> &'static str {
    match format {
        Format::Table => "txt",
        Format::Json => "json",
        Format::Sarif => "sarif",
        Format::SarifGithub => "github.sarif",
        Format::Junit => "junit.xml",
        Format::Oscal => "oscal.json",
        Format::Html => "html",
        Format::Markdown => "md",
    }
}

/// How the fleet is run and reported.
#[derive(Debug)]
pub struct FleetRun {
    pub entries: Vec<FleetEntry>,
    pub formats: Vec<Format>,
    pub output_dir: PathBuf,
    pub jobs: usize,
    pub progress: bool,
    pub summary_format: Format,
    pub now: SystemTime,
    /// Flattening caps and how SSH hosts are reached.
    pub open: engine::target::OpenOptions,
}

/// Parses `--format` for a fleet run: formats only (each target's go to the output directory).
pub fn fleet_formats(formats: &[String]) -> anyhow::Result<Vec<Format>> {
    let mut out = Vec::new();
    for f in formats {
        if f.contains('=') {
            bail!(
                "--format {f}: in a run over several targets each target's reports go to --output-dir as NAME.<format>; give the format alone"
            );
        }
        let format: Format = f.parse().map_err(anyhow::Error::msg)?;
        if !out.contains(&format) {
            out.push(format);
        }
    }
    if out.is_empty() {
        out.push(Format::Json);
    }
    Ok(out)
}

/// Checks and creates the output directory before anything runs.
pub fn prepare_output_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the output directory {}", dir.display()))?;
    let meta = std::fs::symlink_metadata(dir)
        .with_context(|| format!("output directory {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("--output-dir {}: not a directory", dir.display());
    }
    report::output::check(&dir.join("fleet-summary.json"), None)?;
    Ok(())
}

/// Runs the fleet with `prepared` (plugins and policies loaded once); returns the exit code.
pub fn run(prepared: &Prepared, run: &FleetRun) -> anyhow::Result<u8> {
    let started = Instant::now();
    let scan = |entry: &FleetEntry| -> Outcome {
        let t0 = Instant::now();
        let target = match engine::target::open(&entry.spec, &run.open) {
            Ok(t) => t,
            Err(e) => return Outcome::failed(entry, format!("{e:#}"), t0),
        };
        let one = match prepared.for_target(&target, entry.params.as_deref()) {
            Ok(p) => p,
            Err(e) => return Outcome::failed(entry, format!("{e:#}"), t0),
        };
        let doc = one.evaluate();
        // A remote host whose connection dropped or timed out mid-scan: no verdicts on partial reads.
        if let Some(why) = one.view().failure() {
            return Outcome::failed(entry, format!("the scan did not finish: {why}"), t0);
        }
        let report = Report::from_document(&doc);
        let mut documents = Vec::new();
        // Reports are never written inside a directory target.
        let inside = target.spec.local_path().filter(|p| p.is_dir());
        for format in &run.formats {
            let path = run
                .output_dir
                .join(format!("{}.{}", entry.name, extension(*format)));
            let text = report::render_report(&report, *format);
            if let Err(e) = report::output::write(&path, inside, text.as_bytes()) {
                return Outcome::failed(entry, format!("writing {}: {e:#}", path.display()), t0);
            }
            documents.push(path.display().to_string());
        }
        Outcome {
            name: entry.name.clone(),
            target: entry.spec.display(),
            kind: target.kind.to_string(),
            state: "done".into(),
            exit_code: doc.exit_code() as u8,
            summary: Some(doc.summary.clone()),
            digest: target.image.as_ref().map(|i| i.best_digest().to_string()),
            documents,
            error: None,
            duration_ms: t0.elapsed().as_millis() as u64,
        }
    };
    let outcomes = run_pool(&run.entries, run.jobs, run.progress, scan);
    let summary = FleetSummary::new(
        outcomes,
        humantime::format_rfc3339_seconds(run.now).to_string(),
        started.elapsed(),
    );
    let json = summary.json();
    report::output::write(
        &run.output_dir.join("fleet-summary.json"),
        None,
        json.as_bytes(),
    )?;
    let text = match run.summary_format {
        Format::Json => json,
        _ => summary.table(),
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing to stdout")?;
    Ok(summary.exit_code())
}

/// Whether to draw the progress bar: stderr is a terminal, not `--quiet`, more than one target.
pub fn want_progress(quiet: bool, targets: usize) -> bool {
    !quiet && targets > 1 && std::io::stderr().is_terminal()
}
