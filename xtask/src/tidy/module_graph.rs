//! The module-cycle rule. Under every module, its child `a` depends on its
//! child `b` when a file in `a`'s subtree names a path into `b`'s; among
//! siblings those dependencies must form no cycle, so that any module can be
//! read, tested and moved after the ones it uses. A parent and its own
//! children may name each other freely, and so may test-only code
//! (`#[cfg(test)]` modules), which nothing depends on.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    fmt,
};

use super::rust_paths::{self, NamedPath};

/// A module's path below its source root, `["auth", "failed_attempts"]`.
type ModulePath = Vec<String>;

/// Where one dependency between siblings was first seen.
#[derive(Clone)]
struct Witness {
    file: String,
    written: String,
}

/// The dependencies among one module's children: child, child it uses, where.
type SiblingGraph = BTreeMap<String, BTreeMap<String, Witness>>;

/// Siblings that depend on each other in a ring.
pub struct Cycle {
    /// The module whose children these are, as a path: `server/src/bench`.
    parent: String,
    /// The ring, first child repeated at the end.
    children: Vec<String>,
    witnesses: Vec<Witness>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "module cycle under {}: {}", self.parent, self.children.join(" -> "))?;
        for (pair, witness) in self.children.windows(2).zip(&self.witnesses) {
            write!(formatter, "\n    {} -> {}: {} names {}", pair[0], pair[1], witness.file, witness.written)?;
        }
        Ok(())
    }
}

/// The cycles among sibling modules of every source root (`*/src`) in
/// `files`, given as (path from the workspace root, text).
pub fn module_cycles(files: &[(String, String)]) -> Vec<Cycle> {
    let mut parsed = Vec::new();
    let mut modules: BTreeMap<String, BTreeSet<ModulePath>> = BTreeMap::new();
    let mut test_modules: BTreeSet<(String, ModulePath)> = BTreeSet::new();
    for (path, text) in files {
        let Some((root, module)) = file_module(path) else { continue };
        let found = rust_paths::named_paths(text);
        let known = modules.entry(root.clone()).or_default();
        for depth in 0..=module.len() {
            known.insert(module[..depth].to_vec());
        }
        for inline in &found.inline_modules {
            known.insert([module.clone(), inline.clone()].concat());
        }
        for test_module in &found.test_modules {
            test_modules.insert((root.clone(), [module.clone(), test_module.clone()].concat()));
        }
        parsed.push((path, root, module, found.paths));
    }

    let mut graphs: BTreeMap<(String, ModulePath), SiblingGraph> = BTreeMap::new();
    for (path, root, module, named) in parsed {
        let known = &modules[&root];
        let test_only =
            (1..=module.len()).any(|depth| test_modules.contains(&(root.clone(), module[..depth].to_vec())));
        if test_only {
            continue;
        }
        for NamedPath { inline_modules, segments } in named {
            let scope = [module.clone(), inline_modules].concat();
            let Some(target) = resolve(&scope, &segments, known) else { continue };
            let shared = scope.iter().zip(&target).take_while(|(left, right)| left == right).count();
            if scope.len() == shared || target.len() == shared || !known.contains(&target[..=shared]) {
                continue;
            }
            let witness = Witness { file: path.clone(), written: segments.join("::") };
            graphs
                .entry((root.clone(), scope[..shared].to_vec()))
                .or_default()
                .entry(scope[shared].clone())
                .or_default()
                .entry(target[shared].clone())
                .or_insert(witness);
        }
    }

    let mut cycles = Vec::new();
    for ((root, parent), graph) in &graphs {
        for children in rings_through_every_edge(graph) {
            let witnesses = children.windows(2).map(|pair| graph[&pair[0]][&pair[1]].clone()).collect();
            let parent = [root.as_str()].into_iter().chain(parent.iter().map(String::as_str)).collect::<Vec<_>>();
            cycles.push(Cycle { parent: parent.join("/"), children, witnesses });
        }
    }
    cycles
}

/// The source root and module a file is, from its path alone:
/// `server/src/auth/mod.rs` is `auth` under `server/src`.
fn file_module(path: &str) -> Option<(String, ModulePath)> {
    let (crate_dir, below) = path.split_once("/src/")?;
    let mut module: ModulePath = below.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if module.last().is_some_and(|name| name == "mod") || matches!(below, "lib.rs" | "main.rs") {
        module.pop();
    }
    Some((format!("{crate_dir}/src"), module))
}

/// The path `segments` names from module `scope`, from its source root;
/// `None` when it leaves the crate (another crate, a local item, `Self`).
fn resolve(scope: &[String], segments: &[String], known: &BTreeSet<ModulePath>) -> Option<ModulePath> {
    let (first, rest) = segments.split_first()?;
    let mut base = scope.to_vec();
    let mut rest = rest;
    match first.as_str() {
        "crate" => base.clear(),
        "self" => {}
        "super" => {
            base.pop()?;
            while rest.first().is_some_and(|next| next == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        child if known.contains(&[scope, &[child.to_owned()]].concat()) => rest = segments,
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// For each dependency that lies on a ring, the shortest ring through it,
/// each ring once and starting from its least child. Every ring would be
/// too many to read (they multiply), and fixing these breaks them all.
fn rings_through_every_edge(graph: &SiblingGraph) -> Vec<Vec<String>> {
    let mut rings: Vec<Vec<String>> = Vec::new();
    for (from, targets) in graph {
        for to in targets.keys() {
            let Some(way_back) = shortest_path(graph, to, from) else { continue };
            let mut ring = [vec![from.clone()], way_back].concat();
            ring.pop();
            let least = (0..ring.len()).min_by_key(|&at| &ring[at]).expect("a ring has children");
            ring.rotate_left(least);
            ring.push(ring[0].clone());
            if !rings.contains(&ring) {
                rings.push(ring);
            }
        }
    }
    rings.sort();
    rings
}

/// The children from `start` to `goal` along the fewest dependencies.
fn shortest_path(graph: &SiblingGraph, start: &String, goal: &String) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut frontier = VecDeque::from([start]);
    while let Some(current) = frontier.pop_front() {
        if current == goal {
            let mut path = vec![current.clone()];
            while let Some(previous) = came_from.get(path.last().expect("the path has its goal")) {
                path.push((*previous).clone());
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(current).into_iter().flat_map(BTreeMap::keys) {
            if next != start && !came_from.contains_key(next) {
                came_from.insert(next, current);
                frontier.push_back(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycles(files: &[(&str, &str)]) -> Vec<String> {
        let files: Vec<_> = files.iter().map(|(path, text)| (path.to_string(), text.to_string())).collect();
        module_cycles(&files).iter().map(|cycle| cycle.to_string().lines().next().unwrap().to_owned()).collect()
    }

    #[test]
    fn two_siblings_naming_each_other_are_a_cycle() {
        let found = cycles(&[
            ("app/src/lib.rs", "mod auth; mod state;"),
            ("app/src/auth.rs", "use crate::state::AppState;"),
            ("app/src/state.rs", "fn f() -> crate::auth::Caller { todo!() }"),
        ]);
        assert_eq!(found, ["module cycle under app/src: auth -> state -> auth"]);
    }

    #[test]
    fn the_report_names_a_file_for_each_step() {
        let files = [
            ("app/src/auth.rs".to_owned(), "use crate::state::AppState;".to_owned()),
            ("app/src/state.rs".to_owned(), "use crate::auth;".to_owned()),
        ];
        let report = module_cycles(&files)[0].to_string();
        assert!(report.contains("auth -> state: app/src/auth.rs names crate::state::AppState"), "{report}");
        assert!(report.contains("state -> auth: app/src/state.rs names crate::auth"), "{report}");
    }

    #[test]
    fn a_dag_passes() {
        let found = cycles(&[
            ("app/src/a.rs", "use crate::b::B; use crate::c::C;"),
            ("app/src/b.rs", "use crate::c::C;"),
            ("app/src/c.rs", "pub struct C;"),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn grouped_use_trees_are_followed() {
        let found = cycles(&[
            ("app/src/a.rs", "use crate::{b::B, c::{self, C}};"),
            ("app/src/b.rs", ""),
            ("app/src/c.rs", "use crate::{a::A};"),
        ]);
        assert_eq!(found, ["module cycle under app/src: a -> c -> a"]);
    }

    #[test]
    fn super_resolves_from_the_file_and_from_inline_modules() {
        let found = cycles(&[
            ("x/src/bench/mod.rs", "mod database; mod seed;"),
            ("x/src/bench/database.rs", "use super::seed::Row;"),
            ("x/src/bench/seed.rs", "mod tests { use super::super::database::Db; }"),
        ]);
        assert_eq!(found, ["module cycle under x/src/bench: database -> seed -> database"]);
    }

    #[test]
    fn dependencies_between_grandchildren_are_lifted_to_their_ancestors() {
        let found = cycles(&[
            ("s/src/auth/failed_attempts.rs", "use crate::rate_limit::redis::RedisLimits;"),
            ("s/src/rate_limit/redis.rs", "use crate::auth::failed_attempts::Allowance;"),
        ]);
        assert_eq!(found, ["module cycle under s/src: auth -> rate_limit -> auth"]);
    }

    #[test]
    fn a_parent_and_its_children_may_name_each_other() {
        let found = cycles(&[
            ("s/src/lib.rs", "mod auth; fn f() { auth::check(); }"),
            ("s/src/auth/mod.rs", "mod format; use format::Parsed; use crate::Settings;"),
            ("s/src/auth/format.rs", "use super::Caller; use crate::auth::helper;"),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn test_only_code_makes_no_dependency() {
        let found = cycles(&[
            ("s/src/a/mod.rs", "#[cfg(test)]\nmod a_tests;\nuse crate::b::B;"),
            ("s/src/a/a_tests.rs", ""),
            ("s/src/b.rs", "#[cfg(test)]\nmod tests { use crate::a::A; }"),
        ]);
        assert!(found.is_empty(), "{found:?}");
        let found = cycles(&[
            ("s/src/a/mod.rs", "#[cfg(test)]\nmod a_tests;\nuse crate::b::B;"),
            ("s/src/a/a_tests.rs", "use crate::b::B;"),
            ("s/src/b.rs", "use crate::a::a_tests::Fixture;"),
        ]);
        assert_eq!(found, ["module cycle under s/src: a -> b -> a"]);
    }

    #[test]
    fn the_shortest_ring_through_each_dependency_is_reported() {
        let found = cycles(&[
            ("s/src/a.rs", "use crate::{b::B, c::C};"),
            ("s/src/b.rs", "use crate::{a::A, c::C};"),
            ("s/src/c.rs", "use crate::a::A;"),
        ]);
        let expected = ["a -> b -> a", "a -> b -> c -> a", "a -> c -> a"];
        assert_eq!(found, expected.map(|ring| format!("module cycle under s/src: {ring}")));
    }

    #[test]
    fn each_ring_is_reported_once_and_other_crates_are_ignored() {
        let found = cycles(&[
            ("s/src/a.rs", "use crate::b::B; use crate::c::C; use other_crate::a::b;"),
            ("s/src/b.rs", "use crate::a::A;"),
            ("s/src/c.rs", "use crate::a::A;"),
        ]);
        assert_eq!(found, ["module cycle under s/src: a -> b -> a", "module cycle under s/src: a -> c -> a"]);
    }
}
