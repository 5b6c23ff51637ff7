//! Library modules of a policy set: Rego modules whose package is `phipolicy.lib` (or below it)
//! hold helpers shared by the controls' policies and judge nothing themselves, so they are loaded
//! next to every control's module. Shared by the build script (`#[path]`), which compiles the
//! built-in policies, and the policy loader; it depends on nothing.

/// The package of the library modules; sub-packages (`phipolicy.lib.sshd`) are libraries too.
pub const LIBRARY_PACKAGE: &str = "phipolicy.lib";

/// Whether a module that declares `package` is a library module.
pub fn is_library(package: &str) -> bool {
    package
        .strip_prefix(LIBRARY_PACKAGE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The package a module declares (`package a.b.c` -> `a.b.c`): its first line that starts with
/// `package` (Rego allows nothing but comments and blank lines before it).
pub fn package_line(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .map(|p| p.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_are_the_lib_package_and_below() {
        assert!(is_library("phipolicy.lib"));
        assert!(is_library("phipolicy.lib.sshd"));
        assert!(!is_library("phipolicy.library"));
        assert!(!is_library("phipolicy.hipaa.auth_ssh"));
        assert!(!is_library("phipolicy.lib_test"));
    }
}
