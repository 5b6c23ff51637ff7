//! Shell scripts read for the commands they run, with the assignments in effect for each.

use super::*;

/// A shell script read for the commands it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellScript {
    pub commands: Vec<Command>,
    /// Top-level assignments (`NAME=value`, `export NAME=value`) in file order.
    pub assignments: Vec<Assignment>,
    /// Files read with `.` or `source`, with where.
    pub sourced: Vec<(String, u32)>,
    /// Why the script was not read to its end (more than [`MAX_ASSIGNMENTS`] assignments).
    pub truncated: Option<String>,
}

/// Reads a shell script line by line (continuation lines joined): assignments on their own apply
/// to later commands, `export`/`readonly` assignments too. A `.`/`source` line is listed and
/// `source` is asked for the assignments the sourced file makes (they apply to later commands).
pub fn parse_shell_script(
    text: &str,
    path: &str,
    inherited: &[Assignment],
    source: &mut dyn FnMut(&str, u32) -> Vec<Assignment>,
) -> ShellScript {
    let mut script = ShellScript {
        commands: Vec::new(),
        assignments: Vec::new(),
        sourced: Vec::new(),
        truncated: None,
    };
    let mut env = inherited.to_vec();
    let mut logical = String::new();
    let mut start = 0u32;
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if logical.is_empty() {
            start = line;
        }
        if let Some(body) = raw.strip_suffix('\\') {
            logical.push_str(body);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let text = std::mem::take(&mut logical);
        if env.len() > MAX_ASSIGNMENTS {
            script.truncated = Some(format!(
                "more than {MAX_ASSIGNMENTS} variable assignments (line {start}): the rest of the script was not read"
            ));
            break;
        }
        for mut command in commands_of(&text, &env, path, start) {
            let exported = matches!(
                command.words.first().map(String::as_str),
                Some("export" | "readonly" | "declare" | "local")
            );
            if exported {
                for w in command.words.iter().skip(1) {
                    if let Some((n, v)) = as_assignment(w) {
                        let a = Assignment {
                            name: n.to_string(),
                            value: v.to_string(),
                            path: path.to_string(),
                            line: start,
                        };
                        env.push(a.clone());
                        script.assignments.push(a);
                    }
                }
                continue;
            }
            if command.words.is_empty() {
                // Only assignments: they stay in effect for the rest of the script.
                let own: Vec<Assignment> = command.env.split_off(env.len().min(command.env.len()));
                env.extend(own.iter().cloned());
                script.assignments.extend(own);
                continue;
            }
            if matches!(
                command.words.first().map(String::as_str),
                Some("." | "source")
            ) && let Some(file) = command.words.get(1)
            {
                script.sourced.push((file.clone(), start));
                let own = source(file, start);
                env.extend(own.iter().cloned());
                script.assignments.extend(own);
            }
            script.commands.push(command);
        }
    }
    script
}
