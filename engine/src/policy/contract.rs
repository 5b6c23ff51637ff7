//! The contract between the engine and a policy: the shapes of `metadata` ([`ControlMeta`]) and
//! `result` ([`Judgement`]), the declared shape of the facts a policy reads, and the checks that
//! turn a wrong shape into a named error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::evaluator::from_rego;
use super::{PolicyError, PolicySet, package_of};

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
    pub fn facts_problems(&self, facts: &serde_json::Value) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, types) in &self.facts {
            match facts.get(key) {
                None => problems.push(format!("no `{key}` fact")),
                Some(v) => {
                    let got = json_type(v);
                    if !types.iter().any(|t| t == got) {
                        problems.push(format!(
                            "`{key}` is {} {got}, the policy reads {}",
                            if got == "array" || got == "object" {
                                "an"
                            } else {
                                "a"
                            },
                            types.join(" or ")
                        ));
                    }
                }
            }
        }
        problems
    }
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub detail: String,
}

/// What a control's `result` rule returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judgement {
    pub status: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub remediation: Option<String>,
}

impl PolicySet {
    /// The control's `metadata`.
    pub fn metadata(&self, control: &str) -> Result<ControlMeta, PolicyError> {
        let (index, path) = self.file_of(control)?;
        let rule = format!("data.{}.metadata", package_of(&self.profile, control));
        let value = self
            .eval(index, rule, None)
            .map_err(|message| PolicyError::Eval {
                control: control.into(),
                path: path.clone(),
                message,
            })?;
        let json = from_rego(&value).map_err(|message| PolicyError::Metadata {
            control: control.into(),
            path: path.clone(),
            message,
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
        let rule = format!("data.{}.result", package_of(&self.profile, control));
        let value = self
            .eval(index, rule, Some(input))
            .map_err(|message| PolicyError::Eval {
                control: control.into(),
                path: path.clone(),
                message,
            })?;
        if value == regorus::Value::Undefined {
            return Err(PolicyError::Shape {
                control: control.into(),
                path,
                message: "`result` is undefined for this input".into(),
            });
        }
        let json = from_rego(&value).map_err(|message| PolicyError::Shape {
            control: control.into(),
            path: path.clone(),
            message,
        })?;
        let judgement: Judgement =
            serde_json::from_value(json).map_err(|e| PolicyError::Shape {
                control: control.into(),
                path: path.clone(),
                message: e.to_string(),
            })?;
        const STATUSES: [&str; 5] = ["pass", "fail", "error", "not_applicable", "manual"];
        if !STATUSES.contains(&judgement.status.as_str()) {
            return Err(PolicyError::Shape {
                control: control.into(),
                path,
                message: format!(
                    "status {:?} is not one of {}",
                    judgement.status,
                    STATUSES.join(", ")
                ),
            });
        }
        Ok(judgement)
    }
}
