//! The proof that the matrix catches a break the classifier might call
//! compatible: a new response enum value. A copy of the oldest release
//! without `none` in `EngagementPlatform` stands for a client generated
//! before the server could send `none`; the server sends it for every app
//! made without an engagement platform. `spec breaking` is asked what it
//! calls that change (oasdiff's rule only warns), and each language's
//! client of the copy runs its scenario: the step that creates an app must
//! fail in every language, since its strict decode refuses the value.

use std::{fs, path::Path};

use super::{
    languages::{Language, Runners},
    verdict,
};

const SCHEMA: &str = "EngagementPlatform";
const VALUE: &str = "none";
/// The first step whose response carries an app.
const STEP: &str = "app-create";

pub fn run(runners: &Runners, target: &Path, work: &Path) -> Result<(), String> {
    let (version, path) = crate::spec::history::releases()?.into_iter().next().ok_or("no released spec")?;
    let text = fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut crafted = crate::spec::parse_yaml(&text)?;
    let values = crafted["components"]["schemas"][SCHEMA]["enum"]
        .as_array_mut()
        .ok_or(format!("{version} has no enum {SCHEMA}: choose another response-only enum value for the self-test"))?;
    values.retain(|value| value != VALUE);
    let crafted_path = work.join("self-test").join("openapi.yaml");
    fs::create_dir_all(crafted_path.parent().expect("a directory")).map_err(|error| error.to_string())?;
    // JSON is YAML, and every generator reads it as such.
    fs::write(&crafted_path, serde_json::to_string_pretty(&crafted).map_err(|error| error.to_string())?)
        .map_err(|error| format!("{}: {error}", crafted_path.display()))?;

    println!("\ncompat self-test: the client of {version} without `{VALUE}` in {SCHEMA}, which the server sends");
    let changes = crate::spec::breaking::compare(&crafted, &crate::spec::load_spec()?);
    let classified = changes
        .iter()
        .find(|change| change.rule == "response-enum-value-added" && change.pointer.contains(SCHEMA))
        .ok_or("compat self-test: `spec breaking` does not report the new response enum value at all")?;
    println!("  spec breaking: {classified}");
    let mut failures = Vec::new();
    if classified.severity != crate::spec::breaking::Severity::Breaking {
        failures.push("`spec breaking` does not call a new response enum value breaking".to_owned());
    }

    for language in Language::ALL {
        if let Some(reason) = runners.not_run.get(&language) {
            println!("  {language}: NOT RUN ({reason})");
            continue;
        }
        let mut scenario = runners.prepare_release(language, "self-test", &crafted_path)?;
        let (_server, base_url, token) = crate::samples::start_server(target, work)?;
        let output = scenario.arg(&base_url).arg(&token).output().map_err(|error| format!("{scenario:?}: {error}"))?;
        match verdict::reported_steps(&String::from_utf8_lossy(&output.stdout)).get(STEP) {
            Some(verdict::Reported::Failed(failure)) => println!("  compat, {language}: {STEP} failed: {failure}"),
            Some(verdict::Reported::Passed) => {
                println!("  compat, {language}: {STEP} passed");
                failures.push(format!("the {language} client decoded `{VALUE}` although its spec does not list it"));
            }
            None => failures.push(format!("the {language} scenario did not report {STEP}")),
        }
    }
    if failures.is_empty() {
        println!("compat self-test: the break is caught in every language that ran");
        Ok(())
    } else {
        Err(format!("compat self-test: {}", failures.join("; ")))
    }
}
