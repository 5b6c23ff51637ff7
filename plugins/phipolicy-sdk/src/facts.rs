//! Typed fact builders: values that remember where in the target they were found.
//!
//! A plugin's facts are Rust types deriving `Serialize` and `JsonSchema`: the JSON the engine
//! receives is their serialisation, and their schema is what the engine validates that JSON against
//! before any policy reads it ([`check_schema_file`] keeps the checked-in schema fresh).
//!
//! ```
//! use phipolicy_sdk::Located;
//!
//! let port = Located::new(22u16, "/etc/ssh/sshd_config", 13);
//! assert_eq!(port.at(), "/etc/ssh/sshd_config:13");
//! assert_eq!(
//!     serde_json::to_value(&port).unwrap(),
//!     serde_json::json!({"value": 22, "path": "/etc/ssh/sshd_config", "line": 13})
//! );
//! ```

use schemars::JsonSchema;
use serde::Serialize;

/// The JSON the engine receives for typed facts: their serialisation (objects' keys sorted, as a
/// [`serde_json::Value`] keeps them).
pub fn to_json<T: Serialize>(facts: &T) -> Result<serde_json::Value, String> {
    serde_json::to_value(facts).map_err(|e| format!("serializing facts: {e}"))
}

/// A value found at `path:line` inside the target (line 0: the whole file or no line applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// The file it was found in.
    pub path: String,
    /// Its line (0: the whole file, or no line applies).
    pub line: u32,
}

impl<T> Located<T> {
    pub fn new(value: T, path: impl Into<String>, line: u32) -> Self {
        Located {
            value,
            path: path.into(),
            line,
        }
    }

    /// The same location with another value.
    pub fn map<U>(&self, f: impl FnOnce(&T) -> U) -> Located<U> {
        Located {
            value: f(&self.value),
            path: self.path.clone(),
            line: self.line,
        }
    }

    /// `path:line` for messages.
    pub fn at(&self) -> String {
        format!("{}:{}", self.path, self.line)
    }
}

/// A piece of evidence as the result document shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Evidence {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub detail: String,
}

/// A file that could not be read, as a fact (policies decide whether that is fatal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Unreadable {
    /// The path inside the target.
    pub path: String,
    /// Why it could not be read.
    pub error: String,
}

impl Unreadable {
    pub fn new(path: impl Into<String>, error: &crate::ReadError) -> Self {
        Unreadable {
            path: path.into(),
            error: error.to_string(),
        }
    }
}

/// A parse problem at `path:line`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ParseIssue {
    /// The file.
    pub path: String,
    /// The line (1-based).
    pub line: u32,
    /// What is wrong with it.
    pub message: String,
}
