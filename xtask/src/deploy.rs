//! `cargo xtask validate-deploy`: the deployment examples under deploy/ checked offline: the
//! Kubernetes manifests against the API schemas `kubernetes-validate` bundles (strict: unknown
//! fields are errors), and the Ansible playbook with `ansible-playbook --syntax-check` (modules
//! resolved, no host contacted). Both tools live in the validators' virtualenv under target/.

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::{run, workspace};

/// The Kubernetes version whose schemas the manifests must satisfy (the oldest supported
/// release the manifests target; `kubernetes-validate` ships the schemas, nothing is fetched).
const KUBERNETES_VERSION: &str = "1.32.0";

pub fn validate_deploy() -> Result<()> {
    let started = Instant::now();
    let py = crate::reports::venv()?;
    let deploy = workspace().join("deploy");
    let mut manifests: Vec<_> = std::fs::read_dir(deploy.join("kubernetes"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    manifests.sort();
    if manifests.is_empty() {
        bail!("no manifests under {}", deploy.join("kubernetes").display());
    }
    run(Command::new(py.join("kubernetes-validate"))
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(&manifests))?;
    let tmp = crate::target_dir().join("ansible-home");
    std::fs::create_dir_all(&tmp)?;
    let config = tmp.join("ansible.cfg");
    std::fs::write(&config, "")?;
    run(Command::new(py.join("ansible-playbook"))
        .args(["--syntax-check", "-i", "localhost,"])
        .arg(deploy.join("ansible/scan.yml"))
        // No user configuration, no writes to the home directory.
        .env("ANSIBLE_CONFIG", &config)
        .env("ANSIBLE_LOCAL_TEMP", &tmp)
        .env("ANSIBLE_HOME", &tmp))?;
    eprintln!(
        "xtask: deploy/ manifests and playbook valid ({} manifests) in {:.1?}",
        manifests.len(),
        started.elapsed()
    );
    Ok(())
}
