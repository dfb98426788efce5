//! The module paths a Rust file names, read from its tokens rather than a
//! full parse: `syn` would cost the xtask build a crate for what comments,
//! strings, braces and `use` trees are enough to answer.

/// One path a file names, as written (`["super", "state", "AppState"]`),
/// with the inline modules (`mod tests { … }`) it was written inside.
#[derive(Debug, PartialEq)]
pub struct NamedPath {
    pub inline_modules: Vec<String>,
    pub segments: Vec<String>,
}

/// What a file holds that the module graph needs.
#[derive(Debug, Default)]
pub struct FilePaths {
    /// Every inline module, each as the chain of inline modules down to it.
    pub inline_modules: Vec<Vec<String>>,
    /// The file modules declared `#[cfg(test)] mod name;`, as inline
    /// modules chain plus name.
    pub test_modules: Vec<Vec<String>>,
    /// Paths outside `#[cfg(test)]` modules: tests may reach across the
    /// crate (a rule's test compares it with the API's schema) without
    /// making the modules they test depend on each other.
    pub paths: Vec<NamedPath>,
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSeparator,
    OpenBrace,
    CloseBrace,
    Comma,
    Semicolon,
    Star,
    Punct(char),
    /// A literal, or `$crate` and the like.
    Other,
}

/// An inline module being read: its name, the brace depth it opened at,
/// and whether it is compiled only for tests.
struct OpenModule {
    name: String,
    depth: usize,
    test_only: bool,
}

/// Every `use` path (grouped trees expanded) and every other path of two
/// segments or more.
pub fn named_paths(source: &str) -> FilePaths {
    let tokens = tokenize(source);
    let mut found = FilePaths::default();
    let mut open_modules: Vec<OpenModule> = Vec::new();
    let mut depth = 0;
    let mut test_attribute = false;
    let mut index = 0;
    let names = |open: &[OpenModule]| open.iter().map(|module| module.name.clone()).collect::<Vec<_>>();
    while index < tokens.len() {
        let in_test = open_modules.iter().any(|module| module.test_only);
        match &tokens[index] {
            Token::Punct('#') if starts_with_cfg_test(&tokens[index..]) => {
                test_attribute = true;
                index += 7;
                continue;
            }
            Token::OpenBrace => depth += 1,
            Token::CloseBrace => {
                if open_modules.last().is_some_and(|module| module.depth == depth) {
                    open_modules.pop();
                }
                depth -= 1;
            }
            Token::Ident(keyword) if keyword == "mod" => match (tokens.get(index + 1), tokens.get(index + 2)) {
                (Some(Token::Ident(name)), Some(Token::OpenBrace)) => {
                    let test_only = std::mem::take(&mut test_attribute);
                    open_modules.push(OpenModule { name: name.clone(), depth: depth + 1, test_only });
                    found.inline_modules.push(names(&open_modules));
                    index += 2;
                    continue;
                }
                (Some(Token::Ident(name)), Some(Token::Semicolon)) if test_attribute => {
                    found.test_modules.push([names(&open_modules), vec![name.clone()]].concat());
                }
                _ => {}
            },
            Token::Ident(keyword) if keyword == "use" => {
                index += 1;
                let mut trees = Vec::new();
                use_tree(&tokens, &mut index, Vec::new(), &mut trees);
                let scope = names(&open_modules);
                if !in_test {
                    found.paths.extend(
                        trees.into_iter().map(|segments| NamedPath { inline_modules: scope.clone(), segments }),
                    );
                }
                continue;
            }
            Token::Ident(first) if starts_a_path(&tokens, index) => {
                let mut segments = vec![first.clone()];
                index += 1;
                while tokens.get(index) == Some(&Token::PathSeparator) {
                    let Some(Token::Ident(next)) = tokens.get(index + 1) else { break };
                    segments.push(next.clone());
                    index += 2;
                }
                if !in_test {
                    found.paths.push(NamedPath { inline_modules: names(&open_modules), segments });
                }
                continue;
            }
            _ => {}
        }
        if matches!(tokens[index], Token::OpenBrace | Token::Semicolon) {
            test_attribute = false;
        }
        index += 1;
    }
    found
}

/// Whether `tokens` begin with `#[cfg(test)]`.
fn starts_with_cfg_test(tokens: &[Token]) -> bool {
    matches!(
        tokens,
        [Token::Punct('#'), Token::Punct('['), Token::Ident(cfg), Token::Punct('('), Token::Ident(test), Token::Punct(')'), Token::Punct(']'), ..]
            if cfg == "cfg" && test == "test"
    )
}

/// Whether the identifier at `index` begins a path: `::` follows it, and
/// none comes before it (after `$crate` or a leading `::`, the path names no
/// module of this crate).
fn starts_a_path(tokens: &[Token], index: usize) -> bool {
    tokens.get(index + 1) == Some(&Token::PathSeparator) && (index == 0 || tokens[index - 1] != Token::PathSeparator)
}

/// Reads one `use` tree from `tokens[*index]`, pushing each full path it
/// names; `self` inside a group names the group's prefix.
fn use_tree(tokens: &[Token], index: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match tokens.get(*index) {
            Some(Token::PathSeparator) if path.is_empty() => {
                // `use ::name`: an external crate, never a module of this one.
                path.push("::".to_owned());
                *index += 1;
            }
            Some(Token::Ident(segment)) => {
                if segment != "self" {
                    path.push(segment.clone());
                }
                *index += 1;
                if tokens.get(*index) == Some(&Token::PathSeparator) {
                    *index += 1;
                    continue;
                }
                if tokens.get(*index) == Some(&Token::Ident("as".to_owned())) {
                    *index += 2;
                }
                out.push(path);
                return;
            }
            Some(Token::Star) => {
                *index += 1;
                out.push(path);
                return;
            }
            Some(Token::OpenBrace) => {
                *index += 1;
                while let Some(token) = tokens.get(*index) {
                    match token {
                        Token::CloseBrace => {
                            *index += 1;
                            return;
                        }
                        Token::Comma => *index += 1,
                        _ => use_tree(tokens, index, path.clone(), out),
                    }
                }
                return;
            }
            _ => return,
        }
    }
}

/// Identifiers and punctuation; comments vanish, and strings, characters,
/// numbers and `$crate` become `Other`.
fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let here = chars[at];
        let next = chars.get(at + 1).copied();
        if here == '/' && next == Some('/') {
            while at < chars.len() && chars[at] != '\n' {
                at += 1;
            }
        } else if here == '/' && next == Some('*') {
            at = skip_block_comment(&chars, at);
        } else if let Some(end) = string_literal_end(&chars, at) {
            at = end;
            tokens.push(Token::Other);
        } else if here == '\'' {
            at = skip_char_or_lifetime(&chars, at);
        } else if here == '$' && next.is_some_and(is_ident_start) {
            at = ident_end(&chars, at + 1);
            tokens.push(Token::Other);
        } else if here.is_ascii_digit() {
            at = ident_end(&chars, at);
            tokens.push(Token::Other);
        } else if is_ident_start(here) {
            let start = if here == 'r' && next == Some('#') { at + 2 } else { at };
            at = ident_end(&chars, start);
            tokens.push(Token::Ident(chars[start..at].iter().collect()));
        } else {
            at += 1;
            tokens.push(match here {
                ':' if next == Some(':') => {
                    at += 1;
                    Token::PathSeparator
                }
                '{' => Token::OpenBrace,
                '}' => Token::CloseBrace,
                ',' => Token::Comma,
                ';' => Token::Semicolon,
                '*' => Token::Star,
                _ if here.is_whitespace() => continue,
                _ => Token::Punct(here),
            });
        }
    }
    tokens
}

fn is_ident_start(character: char) -> bool {
    character.is_alphabetic() || character == '_'
}

fn ident_end(chars: &[char], mut at: usize) -> usize {
    while at < chars.len() && (chars[at].is_alphanumeric() || chars[at] == '_') {
        at += 1;
    }
    at
}

fn skip_block_comment(chars: &[char], mut at: usize) -> usize {
    let mut depth = 0;
    while at < chars.len() {
        if chars[at] == '/' && chars.get(at + 1) == Some(&'*') {
            depth += 1;
            at += 2;
        } else if chars[at] == '*' && chars.get(at + 1) == Some(&'/') {
            depth -= 1;
            at += 2;
            if depth == 0 {
                return at;
            }
        } else {
            at += 1;
        }
    }
    at
}

/// Where the string literal starting at `at` ends, if one starts there:
/// `"…"`, `b"…"`, `c"…"` and their raw forms `r#"…"#`.
fn string_literal_end(chars: &[char], at: usize) -> Option<usize> {
    let preceded_by_ident = at > 0 && (chars[at - 1].is_alphanumeric() || chars[at - 1] == '_');
    if preceded_by_ident {
        return None;
    }
    let mut quote = at;
    if matches!(chars[quote], 'b' | 'c') {
        quote += 1;
    }
    let raw = chars.get(quote) == Some(&'r');
    if raw {
        quote += 1;
    }
    let mut hashes = 0;
    while raw && chars.get(quote + hashes) == Some(&'#') {
        hashes += 1;
    }
    quote += hashes;
    if chars.get(quote) != Some(&'"') {
        return None;
    }
    let mut end = quote + 1;
    while end < chars.len() {
        if !raw && chars[end] == '\\' {
            end += 2;
            continue;
        }
        if chars[end] == '"' && chars[end + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes {
            return Some(end + 1 + hashes);
        }
        end += 1;
    }
    Some(end)
}

/// Skips `'x'`, `'\n'`, `'\u{1F600}'`, or a lifetime's quote (its name is
/// then read as an identifier, which names no module).
fn skip_char_or_lifetime(chars: &[char], at: usize) -> usize {
    if chars.get(at + 1) == Some(&'\\') {
        let mut end = at + 3;
        while end < chars.len() && chars[end] != '\'' {
            end += 1;
        }
        return end + 1;
    }
    if chars.get(at + 2) == Some(&'\'') {
        return at + 3;
    }
    at + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(source: &str) -> Vec<String> {
        named_paths(source)
            .paths
            .into_iter()
            .map(|path| [path.inline_modules.join("/"), path.segments.join("::")].join(" "))
            .collect()
    }

    #[test]
    fn grouped_use_trees_expand_into_one_path_each() {
        let source = "use crate::{auth::{self, Caller}, state::AppState as State, error::*};";
        assert_eq!(paths(source), [" crate::auth", " crate::auth::Caller", " crate::state::AppState", " crate::error"]);
    }

    #[test]
    fn paths_in_code_are_read_and_comments_and_strings_are_not() {
        let source = r##"
            //! See crate::docs::Comment.
            /* crate::block /* nested */ crate::still_comment */
            fn f<'a>(x: &'a str) -> char {
                let _ = "crate::in_string";
                let _ = r#"crate::"in raw"#;
                let _ = '"';
                super::sibling::call(crate::other::Type::<u8>::new());
                '\''
            }
        "##;
        assert_eq!(paths(source), [" super::sibling::call", " crate::other::Type"]);
    }

    #[test]
    fn paths_inside_an_inline_module_say_so() {
        let source = "mod tests { use super::*; mod deeper { fn f() { super::helper(); } } }\nuse crate::after;";
        let found = named_paths(source);
        assert_eq!(found.inline_modules, [vec!["tests".to_owned()], vec!["tests".to_owned(), "deeper".to_owned()]]);
        assert_eq!(paths(source), ["tests super", "tests/deeper super::helper", " crate::after"]);
    }

    #[test]
    fn test_only_modules_are_noted_and_their_paths_left_out() {
        let source =
            "#[cfg(test)]\nmod drift_tests;\nmod plain;\n#[cfg(test)]\nmod tests { use crate::api; }\nuse crate::kept;";
        let found = named_paths(source);
        assert_eq!(found.test_modules, [vec!["drift_tests".to_owned()]]);
        assert_eq!(paths(source), [" crate::kept"]);
    }

    #[test]
    fn a_test_attribute_on_a_function_marks_no_module() {
        let source = "#[cfg(test)]\nfn helper() {}\nmod tests { use crate::kept; }";
        assert_eq!(paths(source), ["tests crate::kept"]);
    }

    #[test]
    fn macro_crate_paths_and_leading_colons_name_no_module_of_this_crate() {
        assert_eq!(paths("use ::std::fmt; $crate::x::y();"), [" ::::std::fmt"]);
    }
}
