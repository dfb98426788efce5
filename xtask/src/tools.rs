//! The external tools the scripted steps (`samples`, `compat`) drive: npm,
//! node, python3, pip and the generators they install.

use std::process::{Command, Stdio};

/// An error naming `tool` when it is not on the PATH, so that the step can
/// say what it did not run.
pub fn need(tool: &str) -> Result<(), String> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if found { Ok(()) } else { Err(format!("{tool} is not installed")) }
}

/// Runs a set-up command quietly; its output is shown only when it fails.
pub fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
