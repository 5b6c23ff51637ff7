//! The one YAML reader of the operator's files (the profile, `--params`, `--waivers`): serde-saphyr
//! (serde_yaml is deprecated and archived), with its budget bounding what a hostile file may make
//! it do (alias expansion, nesting depth, node and event counts), YAML 1.2 booleans (`yes` and `on`
//! stay strings, as serde_yaml read them), no duplicate keys, and errors that name the line.

use serde::de::DeserializeOwned;

/// Limits of one YAML document read by phipolicy. An operator's file is a few hundred lines: these
/// are far above any real one and far below what a "billion laughs" document asks for.
pub mod limits {
    /// Aliases (`*name`) one document may use.
    pub const MAX_ALIASES: usize = 1_000;
    /// Events replayed from aliases in all: what alias expansion may cost.
    pub const MAX_REPLAYED_EVENTS: usize = 100_000;
    /// Nesting depth of collections.
    pub const MAX_DEPTH: usize = 64;
    /// Nodes (collections and scalars) of one document.
    pub const MAX_NODES: usize = 250_000;
}

/// Why a YAML document was refused: where (1-based line and column, when known) and what. It is
/// shown after the file's name, `FILE:LINE:COLUMN: message` (`{path}:{error}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*line, *column))]
pub struct YamlError {
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
}

fn location(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{l}:{c}: "),
        (Some(l), None) => format!("{l}: "),
        _ => " ".to_string(),
    }
}

/// Parses one YAML document into `T` under [`limits`].
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.strict_booleans = true;
    if let Some(budget) = options.budget.as_mut() {
        budget.max_aliases = limits::MAX_ALIASES;
        budget.max_depth = limits::MAX_DEPTH;
        budget.max_nodes = limits::MAX_NODES;
    }
    options.alias_limits.max_total_replayed_events = limits::MAX_REPLAYED_EVENTS;
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let location = e.location().filter(|l| l.line() > 0);
        YamlError {
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()).filter(|c| *c > 0),
            message: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn errors_name_the_line() {
        let e = from_str::<BTreeMap<String, Vec<String>>>("a: [x\nb: y\n").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        let e = from_str::<BTreeMap<String, String>>("a: x\na: y\n").unwrap_err();
        assert_eq!(e.line, Some(2), "duplicate keys are refused: {e}");
    }

    #[test]
    fn yes_and_on_stay_strings_and_dates_are_strings() {
        let v: BTreeMap<String, serde_json::Value> =
            from_str("a: yes\nb: on\nc: 2027-06-30\nd: true\n").unwrap();
        assert_eq!(v["a"], "yes");
        assert_eq!(v["b"], "on");
        assert_eq!(v["c"], "2027-06-30");
        assert_eq!(v["d"], true);
    }

    /// "Billion laughs": nine levels of nine aliases each would expand to 9^9 strings.
    #[test]
    fn alias_bombs_are_refused_quickly() {
        let mut doc = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let (prev, next) = (w[0], w[1]);
            doc.push_str(&format!(
                "{next}: &{next} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        let started = std::time::Instant::now();
        let e = from_str::<serde_json::Value>(&doc).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = format!("a: {}{}\n", "[".repeat(500), "]".repeat(500));
        assert!(from_str::<serde_json::Value>(&doc).is_err());
    }
}
