//! The layout rules, checked on every `make test`:
//! - the floors that `src/lib.rs`'s module docs list are the import order: a top-level module
//!   imports (`crate::…`) only from its own floor or below, and no two modules import each
//!   other, directly or around a cycle;
//! - no source file has more than 400 lines before its trailing `#[cfg(test)]` module;
//! - every relative link in `README.md` and `docs/*.md` points at a file (and heading) that
//!   exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for `lib.rs` and `main.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// `crate::name` paths in a file, as top-level module names.
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `db_secret_provisioner::` is not `crate::`
        }
        let name: String = text[i + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    // `use crate::{a, b::c}`
    for (i, _) in text.match_indices("crate::{") {
        let inner: String = text[i + 8..].chars().take_while(|c| *c != '}').collect();
        for part in inner.split(',') {
            let name: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The floors of `src/lib.rs`'s module docs: numbered lines naming modules as [`name`].
fn floors(lib: &str) -> BTreeMap<String, usize> {
    let mut floor = 0;
    let mut out = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("//!")) {
        let line = line.trim();
        if let Some((n, _)) = line.split_once(". ") {
            if let Ok(n) = n.parse::<usize>() {
                floor = n;
            }
        }
        if floor == 0 {
            continue;
        }
        for (i, _) in line.match_indices("[`") {
            let name: String = line[i + 2..].chars().take_while(|c| *c != '`').collect();
            out.entry(name).or_insert(floor);
        }
    }
    out
}

#[test]
fn modules_import_only_their_floor_or_below_and_form_no_cycle() {
    let src = root().join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let floors = floors(&lib);
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    let listed: BTreeSet<String> = floors.keys().cloned().collect();
    assert_eq!(
        declared, listed,
        "every module of lib.rs is on exactly one floor of its docs"
    );

    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for to in imports(&text) {
            if to == module || !declared.contains(&to) {
                continue;
            }
            if floors[&to] > floors[&module] {
                wrong.push(format!(
                    "{} (floor {}) imports {to} (floor {})",
                    file.strip_prefix(root()).unwrap().display(),
                    floors[&module],
                    floors[&to]
                ));
            }
            edges.entry(module.clone()).or_default().insert(to);
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the floors:\n{}",
        wrong.join("\n")
    );

    // A cycle is a path back to its start.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == m) {
            let mut cycle = path[start..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for to in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(to, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        if let Some(cycle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_checker_sees_imports_and_cycles() {
    let text = "use crate::model::Target;\nuse crate::{names, outcome::Kind};\nlet x = crate::error::Error::X;\nuse db_secret_provisioner::handler;";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["error", "model", "names", "outcome"]);
    let f = floors("//! 1. **A**: [`x`], [`y`]\n//! 2. **B**: [`z`]\n//!    and [`w`]\n");
    assert_eq!(
        f.into_iter().collect::<Vec<_>>(),
        [
            ("w".to_string(), 2),
            ("x".to_string(), 1),
            ("y".to_string(), 1),
            ("z".to_string(), 2)
        ]
    );
}

#[test]
fn no_source_file_is_longer_than_400_lines_before_its_tests() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let code = text
                .lines()
                .take_while(|l| l.trim_end() != "#[cfg(test)]")
                .count();
            (code > MAX_LINES).then(|| {
                format!(
                    "{}: {code} lines",
                    f.strip_prefix(root()).unwrap().display()
                )
            })
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines before the tests:\n{}",
        long.join("\n")
    );
}

/// GitHub's anchor for a heading: lowercase, spaces to `-`, only letters, digits, `-` and `_`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut in_code = false;
    markdown
        .lines()
        .filter(|l| {
            if l.starts_with("```") {
                in_code = !in_code;
            }
            !in_code && l.starts_with('#')
        })
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

/// The relative link targets of a Markdown text (outside code blocks).
fn links(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        for (i, _) in line.match_indices("](") {
            let target: String = line[i + 2..].chars().take_while(|c| *c != ')').collect();
            if !target.contains("://") && !target.starts_with("mailto:") {
                out.push(target);
            }
        }
    }
    out
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let mut pages = vec![root().join("README.md")];
    if let Ok(dir) = std::fs::read_dir(root().join("docs")) {
        pages.extend(
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "md")),
        );
    }
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for link in links(&text) {
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(path)
            };
            let name = page.strip_prefix(root()).unwrap().display().to_string();
            if !target.exists() {
                broken.push(format!("{name}: {link} (no such file)"));
            } else if !anchor.is_empty() && target.extension().is_some_and(|e| e == "md") {
                let target_text = std::fs::read_to_string(&target).unwrap();
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!("{name}: {link} (no such heading)"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_checker_finds_links_and_headings() {
    let md = "# Top Part\n## The `x` (y)\n[a](docs/a.md#top-part) [b](https://x)\n```\n[d](in/code.md)\n```\n[c](#the-x-y)\n";
    assert_eq!(links(md), ["docs/a.md#top-part", "#the-x-y"]);
    let a = anchors(md);
    assert!(a.contains("top-part") && a.contains("the-x-y"), "{a:?}");
}
