//! The typed facts contract: a plugin's facts are validated against that plugin's JSON Schema
//! before any policy reads them. The built-in plugins' schemas (`policies/hipaa/schemas/<id>.json`,
//! generated from their Rust fact types and kept fresh by each plugin's `schema_is_fresh` test)
//! are embedded by `build.rs` and compiled once per process. They apply to whichever plugin has
//! that id, a third-party plugin replacing a built-in one included: the built-in policies read
//! that shape. A plugin without a schema keeps the older check, the top-level facts its policies
//! declare in `metadata.facts` ([`super::ControlMeta::facts_problems`]).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::limits::MAX_REPORTED_SCHEMA_VIOLATIONS;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin_schemas.rs"));
}

/// Each built-in schema compiled, by plugin id (an embedded schema that does not compile is a
/// defect of this build: its plugin's controls are `error` with the compiler's message, and
/// `every_builtin_schema_compiles` fails).
static VALIDATORS: LazyLock<BTreeMap<&'static str, Result<jsonschema::Validator, String>>> =
    LazyLock::new(|| {
        embedded::SCHEMAS
            .iter()
            .map(|(id, text)| {
                let compiled = serde_json::from_str::<Value>(text)
                    .map_err(|e| format!("not JSON: {e}"))
                    .and_then(|schema| {
                        jsonschema::validator_for(&schema).map_err(|e| e.to_string())
                    });
                (*id, compiled)
            })
            .collect()
    });

/// Where a built-in plugin's schema is kept in the repository (for messages).
pub fn schema_file(plugin: &str) -> String {
    format!("policies/hipaa/schemas/{plugin}.json")
}

/// The plugin ids that have an embedded schema, sorted.
pub fn plugins_with_schema() -> Vec<&'static str> {
    VALIDATORS.keys().copied().collect()
}

/// One place where facts differ from their plugin's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON Pointer to the offending value (`/documents/0/size`; empty for the whole document).
    pub path: String,
    /// The schema keyword that failed (`type`, `required`, `enum`, ...).
    pub keyword: String,
    /// What is wrong, without the offending value (facts may hold file contents).
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.path.is_empty() {
            "the top level"
        } else {
            &self.path
        };
        write!(f, "at {at}: {} (`{}`)", self.message, self.keyword)
    }
}

/// The outcome of checking one plugin's facts against its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The plugin has no schema: the policies' `metadata.facts` check applies instead.
    NoSchema,
    /// The facts match the schema.
    Valid,
    /// They do not: the first violations (at most [`MAX_REPORTED_SCHEMA_VIOLATIONS`]) and how
    /// many there are in all.
    Invalid {
        violations: Vec<Violation>,
        total: usize,
    },
    /// The embedded schema does not compile (a defect of this build).
    BrokenSchema(String),
}

/// Checks `facts` against the schema of `plugin`.
pub fn check(plugin: &str, facts: &Value) -> Checked {
    let Some(compiled) = VALIDATORS.get(plugin) else {
        return Checked::NoSchema;
    };
    let validator = match compiled {
        Ok(v) => v,
        Err(e) => return Checked::BrokenSchema(e.clone()),
    };
    let mut violations = Vec::new();
    let mut total = 0;
    for error in validator.iter_errors(facts) {
        total += 1;
        if violations.len() < MAX_REPORTED_SCHEMA_VIOLATIONS {
            let schema_path = error.schema_path().to_string();
            violations.push(Violation {
                path: error.instance_path().to_string(),
                keyword: schema_path.rsplit('/').next().unwrap_or_default().to_string(),
                message: error.masked().to_string(),
            });
        }
    }
    if total == 0 {
        Checked::Valid
    } else {
        Checked::Invalid { violations, total }
    }
}

impl Checked {
    /// Why the plugin's controls are `error`, when they are: one line naming the schema, the
    /// JSON paths and the keywords.
    pub fn problem(&self, plugin: &str) -> Option<String> {
        match self {
            Checked::NoSchema | Checked::Valid => None,
            Checked::BrokenSchema(e) => Some(format!(
                "the schema of its facts ({}) does not compile: {e}",
                schema_file(plugin)
            )),
            Checked::Invalid { violations, total } => {
                let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
                let more = total - violations.len();
                let more = if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                };
                Some(format!(
                    "they do not match its schema ({}): {}{more}",
                    schema_file(plugin),
                    listed.join("; ")
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Built-in plugins whose facts have no schema yet (their policies' `metadata.facts` is
    /// checked instead). The list can only shrink: a plugin converted to typed facts must leave
    /// it, and a new built-in plugin cannot join it silently. Every built-in plugin has one now.
    const WITHOUT_SCHEMA: &[&str] = &[];

    #[test]
    fn every_builtin_schema_compiles() {
        for (id, compiled) in VALIDATORS.iter() {
            if let Err(e) = compiled {
                panic!("{}: {e}", schema_file(id));
            }
        }
    }

    #[test]
    fn the_plugins_without_a_schema_are_listed() {
        let builtin: Vec<&str> = crate::build_info::BuildInfo::current()
            .plugins
            .iter()
            .map(|p| p.id)
            .collect();
        let with = plugins_with_schema();
        let without: Vec<&str> = builtin
            .iter()
            .copied()
            .filter(|id| !with.contains(id))
            .collect();
        assert_eq!(
            without, WITHOUT_SCHEMA,
            "built-in plugins without a facts schema (policies/hipaa/schemas/<id>.json)"
        );
        for id in &with {
            assert!(
                builtin.contains(id),
                "{} is the schema of no built-in plugin",
                schema_file(id)
            );
        }
    }

    #[test]
    fn a_wrong_shaped_fact_is_named_by_path_and_keyword() {
        let facts = json!({"documents": [
            {"path": "/etc/hipaa/emergency-access.md", "exists": true, "size": "large", "error": null}
        ]});
        let checked = check("emergency-access", &facts);
        let Checked::Invalid { violations, total } = &checked else {
            panic!("accepted: {checked:?}");
        };
        assert_eq!(*total, 1);
        assert_eq!(violations[0].path, "/documents/0/size");
        assert_eq!(violations[0].keyword, "type");
        let problem = checked.problem("emergency-access").expect("a problem");
        assert!(
            problem.contains("policies/hipaa/schemas/emergency-access.json")
                && problem.contains("at /documents/0/size: ")
                && problem.contains("(`type`)")
                && !problem.contains("large"),
            "{problem}"
        );
    }

    #[test]
    fn missing_facts_and_many_violations() {
        let checked = check("emergency-access", &json!({}));
        let problem = checked.problem("emergency-access").expect("a problem");
        assert!(
            problem.contains("at the top level: ") && problem.contains("(`required`)"),
            "{problem}"
        );
        let documents: Vec<Value> = (0..MAX_REPORTED_SCHEMA_VIOLATIONS + 2)
            .map(|_| json!({"path": 1, "exists": true, "error": null}))
            .collect();
        let checked = check("emergency-access", &json!({ "documents": documents }));
        let Checked::Invalid { violations, total } = &checked else {
            panic!("accepted: {checked:?}");
        };
        assert_eq!(violations.len(), MAX_REPORTED_SCHEMA_VIOLATIONS);
        assert_eq!(*total, MAX_REPORTED_SCHEMA_VIOLATIONS + 2);
        let problem = checked.problem("emergency-access").expect("a problem");
        assert!(problem.ends_with("; and 2 more"), "{problem}");
    }

    #[test]
    fn facts_a_plugin_produced_are_valid_and_unknown_plugins_have_no_schema() {
        let facts = json!({"documents": [
            {"path": "/etc/hipaa/emergency-access.md", "exists": false, "error": null}
        ]});
        assert_eq!(check("emergency-access", &facts), Checked::Valid);
        assert_eq!(check("emergency-access", &facts).problem("emergency-access"), None);
        assert_eq!(check("no-such-plugin", &facts), Checked::NoSchema);
    }
}
