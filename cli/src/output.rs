//! What `appdeck` prints: results as JSON (the default, for scripts) or as
//! a table (`--format table`, for people), and any error as one line on
//! stderr: `error: <status> <code>: <message>`.

use appdeck_client::cli::{CliConfig, sdk};
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Json,
    Table,
}

/// An error already printed; the process only has to exit non-zero.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("the error was reported")
    }
}

impl std::error::Error for Reported {}

/// Whether `error` was printed already: ours, or an API error the generated
/// commands passed to `CliConfig::error` before returning it.
pub fn was_reported(error: &anyhow::Error) -> bool {
    error.is::<Reported>() || error.is::<sdk::Error<sdk::types::ErrorBody>>() || error.is::<sdk::Error<()>>()
}

/// Prints to stdout; a closed pipe (`appdeck apps list | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

pub struct Printer {
    format: Format,
}

impl Printer {
    pub fn new(format: Format) -> Self {
        Self { format }
    }

    /// One response body.
    pub fn item(&self, body: &Value) {
        match self.format {
            Format::Json => emit(&format!("{}\n", pretty(body))),
            Format::Table => emit(&table::of_response(body)),
        }
    }

    /// Every item of a list, as one JSON array or one table.
    pub fn list(&self, items: &[Value]) {
        match self.format {
            Format::Json => emit(&format!("{}\n", pretty(&Value::Array(items.to_vec())))),
            Format::Table => emit(&table::of_rows(items)),
        }
    }

    pub fn api_error<T: Serialize + std::fmt::Debug>(&self, error: &sdk::Error<T>) {
        eprintln!("error: {}", one_line(error));
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values serialise")
}

/// `404 not_found: App not found` for a documented error response; the
/// client's own words otherwise (connection refused, unexpected status…).
fn one_line<T: Serialize + std::fmt::Debug>(error: &sdk::Error<T>) -> String {
    match error {
        sdk::Error::ErrorResponse(response) => {
            let body = serde_json::to_value(response.as_ref()).unwrap_or(Value::Null);
            let code = body["code"].as_str().unwrap_or("error");
            let message = body["error"].as_str().unwrap_or("no message");
            format!("{} {code}: {message}", response.status().as_u16())
        }
        other => other.to_string().replace('\n', " "),
    }
}

impl CliConfig for Printer {
    fn success_item<T>(&self, value: &sdk::ResponseValue<T>)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
        self.item(&serde_json::to_value(value.as_ref()).expect("API types serialise"));
    }

    fn success_no_item(&self, _: &sdk::ResponseValue<()>) {}

    fn error<T>(&self, value: &sdk::Error<T>)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
        self.api_error(value);
    }

    fn list_start<T>(&self)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
    }

    fn list_item<T>(&self, value: &T)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
        self.item(&serde_json::to_value(value).expect("API types serialise"));
    }

    fn list_end_success<T>(&self)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
    }

    fn list_end_error<T>(&self, value: &sdk::Error<T>)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
        self.api_error(value);
    }
}

mod table {
    //! Plain-text tables: a response's object as `field  value` lines, a
    //! list as columns of its items' short fields.

    use serde_json::Value;

    /// Fields shown as list columns, when the items have them; a list of
    /// anything else shows every scalar field.
    const COLUMNS: &[&str] = &[
        "id",
        "name",
        "label",
        "url",
        "enabled",
        "event_type",
        "role",
        "environment",
        "status",
        "action",
        "actor",
        "target",
        "attempt_count",
        "next_attempt_at",
        "created_at",
        "expires_at",
    ];

    pub fn of_response(body: &Value) -> String {
        let Some(fields) = body.as_object() else { return format!("{}\n", cell(body)) };
        let mut rows: Vec<(String, String)> = Vec::new();
        for (name, value) in fields.iter().filter(|(name, _)| name.as_str() != "success") {
            match value.as_object() {
                // `{app: {...}}`: the object's own fields, one per line.
                Some(inner) => rows.extend(inner.iter().map(|(field, value)| (field.clone(), cell(value)))),
                None => rows.push((name.clone(), cell(value))),
            }
        }
        let rows: Vec<(String, String)> = rows.into_iter().map(|(name, value)| (escaped(&name), value)).collect();
        let width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
        rows.iter().map(|(name, value)| format!("{name:width$}  {value}\n")).collect()
    }

    pub fn of_rows(items: &[Value]) -> String {
        let Some(first) = items.first().and_then(Value::as_object) else { return "(none)\n".to_owned() };
        let mut columns: Vec<&str> = COLUMNS.iter().copied().filter(|column| first.contains_key(*column)).collect();
        if columns.is_empty() {
            columns = first.iter().filter(|(_, value)| !value.is_object()).map(|(name, _)| name.as_str()).collect();
        }
        let rows: Vec<Vec<String>> =
            items.iter().map(|item| columns.iter().map(|column| cell(&item[*column])).collect()).collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                rows.iter().map(|row| row[index].chars().count()).chain([column.len()]).max().unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:width$}")).collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut text = line(columns.iter().map(|column| column.to_uppercase()).collect());
        for row in rows {
            text.push_str(&line(row));
        }
        text
    }

    /// A value as a cell, with its control and bidi characters escaped.
    fn cell(value: &Value) -> String {
        escaped(&raw_cell(value))
    }

    fn raw_cell(value: &Value) -> String {
        match value {
            Value::Null => "-".to_owned(),
            Value::String(text) => text.clone(),
            Value::Object(fields) if fields.contains_key("label") => cell(&fields["label"]),
            Value::Object(fields) if fields.contains_key("type") && fields.contains_key("id") => {
                format!("{} {}", cell(&fields["type"]), cell(&fields["id"]))
            }
            other => other.to_string(),
        }
    }

    /// `text` with every control character (C0, DEL, C1) and bidirectional
    /// formatting character written as `\u{..}`, so that what the server
    /// stored (older data, or free text that may hold bidi characters) can
    /// neither send the terminal an escape sequence nor reorder what it shows.
    pub fn escaped(text: &str) -> String {
        let is_unsafe = |character: char| {
            character.is_control()
                || matches!(
                    character,
                    '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
                )
        };
        if !text.contains(is_unsafe) {
            return text.to_owned();
        }
        text.chars()
            .map(|character| {
                if is_unsafe(character) {
                    format!("\\u{{{:04x}}}", u32::from(character))
                } else {
                    character.to_string()
                }
            })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use serde_json::json;

        use super::*;

        #[test]
        fn tables_escape_control_and_bidi_characters() {
            let body = json!({"success": true, "app": {"name": "a\u{1b}[2Jb", "description": "x\u{202e}y\u{9b}z",
                "email_credentials": {"k\u{1b}": "v\u{7f}"}}});
            let text = of_response(&body);
            assert!(!text.contains(['\u{1b}', '\u{202e}', '\u{9b}', '\u{7f}']), "{text:?}");
            assert!(text.contains("a\\u{001b}[2Jb"), "{text:?}");
            assert!(text.contains("x\\u{202e}y\\u{009b}z"), "{text:?}");
            let rows = of_rows(&[json!({"id": "1", "name": "tab\there\u{2066}"})]);
            assert!(rows.contains("tab\\u{0009}here\\u{2066}"), "{rows:?}");
        }

        #[test]
        fn ordinary_text_is_printed_as_it_is() {
            assert_eq!(escaped("Storefront é 日本"), "Storefront é 日本");
        }
    }
}
