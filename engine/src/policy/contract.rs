//! The contract between the engine and a policy: the shapes of `metadata` ([`ControlMeta`]) and
//! `result` ([`Judgement`]), the declared shape of the facts a policy reads, and the checks that
//! turn a wrong shape into a named error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::evaluator::from_rego;
use super::{PolicyError, PolicySet};

/// What a control's `metadata` rule says (the source of `controls` and `explain`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlMeta {
    pub id: String,
    pub safeguard: String,
    pub cfr: Vec<String>,
    pub title: String,
    pub severity: String,
    pub description: String,
    #[serde(default)]
    pub parameters: Vec<String>,
    /// The top-level facts the policy reads and the JSON types each may have ("object",
    /// "array", "string", "number", "boolean", "null"): checked before judging, so facts of the
    /// wrong shape are an `error`, not a verdict.
    #[serde(default)]
    pub facts: BTreeMap<String, Vec<String>>,
    pub remediation: String,
}

impl ControlMeta {
    /// What is wrong with `facts` for this policy (empty when they have the declared shape).
    pub fn facts_problems(&self, facts: &serde_json::Value) -> Vec<FactProblem> {
        let mut problems = Vec::new();
        for (key, types) in &self.facts {
            match facts.get(key) {
                None => problems.push(FactProblem::Missing(key.clone())),
                Some(v) => {
                    let got = json_type(v);
                    if !types.iter().any(|t| t == got) {
                        problems.push(FactProblem::WrongType {
                            key: key.clone(),
                            got,
                            declared: types.clone(),
                        });
                    }
                }
            }
        }
        problems
    }
}

/// One way facts differ from what a policy declares it reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactProblem {
    #[error("no `{0}` fact")]
    Missing(String),
    #[error(
        "`{key}` is {article} {got}, the policy reads {declared}",
        article = if *got == "array" || *got == "object" { "an" } else { "a" },
        declared = declared.join(" or ")
    )]
    WrongType {
        key: String,
        got: &'static str,
        declared: Vec<String>,
    },
}

/// The JSON type name of a value, as policies declare it.
fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// One piece of evidence in a result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub detail: String,
}

/// What a control's `result` rule returns, checked ([`Verdict`] parsed once, here).
#[derive(Debug, Clone)]
pub struct Judgement {
    pub status: Verdict,
    pub reasons: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub remediation: Option<String>,
}

/// The status a policy may return (`waived` is the engine's, never a policy's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Error,
    NotApplicable,
    Manual,
}

impl Verdict {
    /// Every verdict with its name in Rego, in the order messages list them.
    pub const ALL: [(&'static str, Verdict); 5] = [
        ("pass", Verdict::Pass),
        ("fail", Verdict::Fail),
        ("error", Verdict::Error),
        ("not_applicable", Verdict::NotApplicable),
        ("manual", Verdict::Manual),
    ];

    fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }
}

impl From<Verdict> for crate::document::Status {
    fn from(v: Verdict) -> Self {
        use crate::document::Status;
        match v {
            Verdict::Pass => Status::Pass,
            Verdict::Fail => Status::Fail,
            Verdict::Error => Status::Error,
            Verdict::NotApplicable => Status::NotApplicable,
            Verdict::Manual => Status::Manual,
        }
    }
}

/// `result` as Rego returns it, before its status is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJudgement {
    status: String,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    evidence: Vec<Evidence>,
    #[serde(default)]
    remediation: Option<String>,
}

impl PolicySet {
    /// The control's `metadata`.
    pub fn metadata(&self, control: &str) -> Result<ControlMeta, PolicyError> {
        let (index, path) = self.file_of(control)?;
        let rule = format!("data.{}.metadata", self.package(control));
        let value = self
            .eval(index, rule, None)
            .map_err(|source| PolicyError::Eval {
                control: control.into(),
                path: path.clone(),
                source,
            })?;
        let json = from_rego(&value).map_err(|e| PolicyError::Metadata {
            control: control.into(),
            path: path.clone(),
            message: e.to_string(),
        })?;
        let meta: ControlMeta =
            serde_json::from_value(json).map_err(|e| PolicyError::Metadata {
                control: control.into(),
                path: path.clone(),
                message: e.to_string(),
            })?;
        if meta.id != control {
            return Err(PolicyError::Metadata {
                control: control.into(),
                path,
                message: format!("metadata.id is {:?}", meta.id),
            });
        }
        Ok(meta)
    }

    /// Evaluates the control's `result` with `input`.
    pub fn judge(
        &self,
        control: &str,
        input: &serde_json::Value,
    ) -> Result<Judgement, PolicyError> {
        let (index, path) = self.file_of(control)?;
        let rule = format!("data.{}.result", self.package(control));
        let value = self
            .eval(index, rule, Some(input))
            .map_err(|source| PolicyError::Eval {
                control: control.into(),
                path: path.clone(),
                source,
            })?;
        if value == regorus::Value::Undefined {
            return Err(PolicyError::Shape {
                control: control.into(),
                path,
                message: "`result` is undefined for this input".into(),
            });
        }
        let json = from_rego(&value).map_err(|e| PolicyError::Shape {
            control: control.into(),
            path: path.clone(),
            message: e.to_string(),
        })?;
        let raw: RawJudgement =
            serde_json::from_value(json).map_err(|e| PolicyError::Shape {
                control: control.into(),
                path: path.clone(),
                message: e.to_string(),
            })?;
        let Some(status) = Verdict::parse(&raw.status) else {
            let names: Vec<&str> = Verdict::ALL.iter().map(|(n, _)| *n).collect();
            return Err(PolicyError::Shape {
                control: control.into(),
                path,
                message: format!(
                    "status {:?} is not one of {}",
                    raw.status,
                    names.join(", ")
                ),
            });
        };
        let judgement = Judgement {
            status,
            reasons: raw.reasons,
            evidence: raw.evidence,
            remediation: raw.remediation,
        };
        Ok(judgement)
    }
}
