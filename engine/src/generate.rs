//! `phipolicy generate DIR` (part of the binary, not of the library): writes the man pages
//! (clap_mangen, one per command) and the bash, zsh and fish completions (clap_complete) of the
//! flag table, for the packages `cargo xtask dist` builds. `phipolicy generate --controls-doc
//! FILE` writes the built-in profile's control catalogue (`docs/controls.md`, see
//! `engine::catalogue_doc`; `cargo xtask docs` runs it). It is not in the flag table itself, so
//! the pages and completions it writes do not offer it.

use std::ffi::OsStr;
use std::path::Path;

use anyhow::{Context, bail};
use clap::CommandFactory;
use clap_complete::Shell;

/// The word that selects the generator (first argument).
const COMMAND: &str = "generate";

/// The shells whose completions the packages install.
const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// `Some` when the command line is `phipolicy generate ...`: the outcome of generating.
pub fn requested() -> Option<anyhow::Result<()>> {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(OsStr::new(COMMAND)) {
        return None;
    }
    let rest: Vec<_> = args.collect();
    Some(match rest.as_slice() {
        [flag, file] if flag == OsStr::new(CONTROLS_DOC_FLAG) => write_controls_doc(Path::new(file)),
        [dir] => write_all(Path::new(dir)),
        _ => Err(anyhow::anyhow!(
            "usage: phipolicy {COMMAND} DIR (writes DIR/man/*.1 and DIR/completions/)\n       \
             phipolicy {COMMAND} {CONTROLS_DOC_FLAG} FILE (writes the control catalogue)"
        )),
    })
}

/// The flag that selects the control catalogue.
const CONTROLS_DOC_FLAG: &str = "--controls-doc";

/// Writes the built-in profile's control catalogue (Markdown) to `file`.
fn write_controls_doc(file: &Path) -> anyhow::Result<()> {
    let source = engine::profile::ProfileSource::builtin()?;
    let text = engine::catalogue_doc::controls_markdown(&source)?;
    std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
}

/// Writes `dir/man/phipolicy.1`, `dir/man/phipolicy-<command>.1` for every command, and
/// `dir/completions/{phipolicy.bash,_phipolicy,phipolicy.fish}`.
fn write_all(dir: &Path) -> anyhow::Result<()> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    for d in [&man, &completions] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let mut cmd = crate::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![cmd.clone()];
    // Every page carries the version (the title line and the VERSION section).
    pages.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.clone().version(env!("CARGO_PKG_VERSION"))),
    );
    let names: Vec<String> = pages.iter().map(page_name).collect();
    for page in &pages {
        let name = page_name(page);
        let see_also: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| *n != name)
            .collect();
        let path = man.join(format!("{name}.1"));
        std::fs::write(&path, man_page(page, &see_also)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for shell in SHELLS {
        clap_complete::generate_to(shell, &mut crate::Cli::command(), "phipolicy", &completions)
            .with_context(|| {
                format!(
                    "writing the {shell} completion into {}",
                    completions.display()
                )
            })?;
    }
    if pages.len() < 2 {
        bail!(
            "only {} man page(s) written into {}",
            pages.len(),
            man.display()
        );
    }
    Ok(())
}

/// `phipolicy` or `phipolicy-<command>`.
fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

/// clap_mangen's sections (name, synopsis, description, options, commands), then exit status,
/// environment, files and see-also, which the flag table does not hold.
fn man_page(cmd: &clap::Command, see_also: &[&str]) -> anyhow::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    out.extend_from_slice(MAN_EXIT_STATUS.as_bytes());
    out.extend_from_slice(MAN_ENVIRONMENT_AND_FILES.as_bytes());
    out.extend_from_slice(b".SH \"SEE ALSO\"\n");
    let refs: Vec<String> = see_also.iter().map(|n| format!("\\fB{n}\\fR(1)")).collect();
    out.extend_from_slice(format!("{}\n", refs.join(", ")).as_bytes());
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// The exit codes every command shares (roff).
const MAN_EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
.B 0
No control failed (or the command succeeded).
.TP
.B 1
At least one control failed (\fBtest\fR: a Rego test failed).
.TP
.B 2
An error: a control in \fBerror\fR, bad usage or bad input; the message names the file and line
at fault.
"#;

/// Environment variables and files phipolicy reads or writes (roff).
const MAN_ENVIRONMENT_AND_FILES: &str = r#".SH ENVIRONMENT
.TP
.B PHIPOLICY_LOG
Diagnostics filter (tracing's \fBenv-filter\fR syntax), instead of \fB\-v\fR.
.TP
.B XDG_CACHE_HOME
Where the private plugin cache goes (default \fI~/.cache\fR).
.SH FILES
.TP
.I $XDG_CACHE_HOME/phipolicy/plugins
Private cache (mode 0700) of compiled plugins and of the built-in plugins' code; never required.
.TP
.I /usr/share/doc/phipolicy/examples/params.yaml
Every organisation parameter at its default, to copy for \fB\-\-params\fR.
.TP
.I /usr/share/doc/phipolicy/examples/waivers.yaml
Example waivers, for \fB\-\-waivers\fR.
"#;
