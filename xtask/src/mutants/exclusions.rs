//! The reviewed exclusions file (`.ci/mutants-exclusions`): mutants that no
//! test can kill, each with the reason a reviewer accepted.

use regex::Regex;

/// One excluded mutant pattern and why it may survive.
#[derive(Debug)]
pub struct Exclusion {
    /// Matched against the mutant's name as cargo-mutants prints it
    /// (`file:line:col: replace … with …`), as its `--exclude-re` does.
    pub pattern: String,
    pub reason: String,
}

/// Parses the file: `#` lines are comments; an entry is a `why: …` line and
/// the pattern on the next line. A pattern without a reason is an error, so
/// that nothing is excluded silently.
pub fn parse(text: &str) -> Result<Vec<Exclusion>, String> {
    let mut exclusions = Vec::new();
    let mut reason: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let number = index + 1;
        if let Some(why) = line.strip_prefix("why:") {
            if reason.is_some() {
                return Err(format!("line {number}: a second `why:` before the pattern of the first"));
            }
            let why = why.trim();
            if why.is_empty() {
                return Err(format!("line {number}: `why:` says nothing"));
            }
            reason = Some(why.to_owned());
            continue;
        }
        let Some(reason) = reason.take() else {
            return Err(format!("line {number}: the pattern `{line}` has no `why:` line before it"));
        };
        Regex::new(line).map_err(|error| format!("line {number}: `{line}` is not a regex: {error}"))?;
        exclusions.push(Exclusion { pattern: line.to_owned(), reason });
    }
    match reason {
        Some(reason) => Err(format!("the last `why: {reason}` has no pattern after it")),
        None => Ok(exclusions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_a_reason_then_a_pattern() {
        let text = "# comment\n\nwhy: only logs\nserver/src/a\\.rs:.*: replace log_it with \\(\\)\n";

        let exclusions = parse(text).unwrap();

        assert_eq!(exclusions.len(), 1);
        assert_eq!(exclusions[0].reason, "only logs");
        assert_eq!(exclusions[0].pattern, "server/src/a\\.rs:.*: replace log_it with \\(\\)");
    }

    #[test]
    fn a_pattern_without_a_reason_is_refused() {
        let error = parse("server/src/a.rs:.*\n").unwrap_err();

        assert!(error.contains("line 1") && error.contains("no `why:`"), "{error}");
    }

    #[test]
    fn an_empty_reason_a_reason_without_a_pattern_and_a_bad_regex_are_refused() {
        assert!(parse("why:\npattern\n").is_err());
        assert!(parse("why: equivalent\n").is_err());
        assert!(parse("why: a\nwhy: b\npattern\n").is_err());
        assert!(parse("why: equivalent\nreplace (\n").is_err());
    }

    #[test]
    fn the_committed_file_parses() {
        let path = crate::spec::workspace_root().join(super::super::EXCLUSIONS_FILE);
        let text = std::fs::read_to_string(&path).expect("the exclusions file exists");

        let parsed = parse(&text);

        assert!(parsed.is_ok(), "{}: {}", path.display(), parsed.unwrap_err());
    }
}
