//! Organisation parameters as a plugin receives them (a JSON object chosen by the engine).

use serde_json::{Map, Value};

/// The parameters in force for this run.
#[derive(Debug, Clone, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    /// Parses the JSON object the engine passes to `collect`.
    pub fn from_json(json: &str) -> Result<Self, String> {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(map)) => Ok(Params(map)),
            Ok(_) => Err("parameters are not a JSON object".into()),
            Err(e) => Err(format!("parameters are not valid JSON: {e}")),
        }
    }

    /// From an already-built map (tests).
    pub fn from_map(map: Map<String, Value>) -> Self {
        Params(map)
    }

    /// All parameters.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn string(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn string_list(&self, name: &str) -> Vec<String> {
        match self.0.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }
}
