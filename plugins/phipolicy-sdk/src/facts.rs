//! Typed fact builders: values that remember where in the target they were found.

use serde::Serialize;

/// A value found at `path:line` inside the target (line 0: the whole file or no line applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    pub value: T,
    pub path: String,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub detail: String,
}

/// A file that could not be read, as a fact (policies decide whether that is fatal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub path: String,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseIssue {
    pub path: String,
    pub line: u32,
    pub message: String,
}
