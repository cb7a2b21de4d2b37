//! The layout rules, checked on every `make check` and `make test`. They read the folders, not
//! the prose:
//! - each folder of `src/` is a floor and imports (`crate::…`) only the floors [`ALLOWED`]
//!   gives it: `model/` nothing above it, `rules/` and `aws/` only `model/` and `config/`,
//!   `jobs/` never `lambda/`; and no two modules import each other, directly or around a cycle;
//! - no file outside `src/aws/` builds an SDK client (every AWS call goes through `src/aws/`,
//!   where the IAM contract records them);
//! - the trigger's action is matched on only in `src/lambda/`;
//! - no source file has more than 400 lines before its trailing `#[cfg(test)]` module;
//! - every relative link in `README.md` and `docs/*.md` points at a file (and heading) that
//!   exists, and every repository path quoted in backticks there exists.
//!
//! Each checker is also fed a bad input, so that a checker that cannot fail is caught too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

/// The floors of `src/`, and what each may import besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("config", &["model"]),
    ("event", &["model"]),
    ("rules", &["model", "config"]),
    ("aws", &["model", "config"]),
    ("jobs", &["model", "config", "event", "rules", "aws"]),
    (
        "lambda",
        &["model", "config", "event", "rules", "aws", "jobs"],
    ),
];

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

fn src_files() -> Vec<(String, String)> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let rel = f
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&f).unwrap())
        })
        .collect()
}

/// The module a file of `src/` is, as a `::` path below the crate (`rules::drift` for
/// `src/rules/drift.rs` and for `src/rules/drift/x.rs`; `None` for `lib.rs` and `main.rs`).
fn module_of(rel: &str) -> Option<String> {
    let parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    let parts: Vec<&str> = parts.into_iter().filter(|p| *p != "mod").collect();
    match parts.as_slice() {
        [] | ["lib"] | ["main"] => None,
        [one] => Some(one.to_string()),
        [a, b, ..] => Some(format!("{a}::{b}")),
    }
}

/// A file's code before its trailing `#[cfg(test)]` module (tests may build fixtures from any
/// floor), without comment lines (docs may name any module).
fn code_of(text: &str) -> String {
    let code = text.split("\n#[cfg(test)]").next().unwrap_or(text);
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `crate::…` paths a file imports, each cut to two segments (`rules::drift`); a path of
/// one segment (`crate::jobs`) stays one. `use crate::{a, b::c}` counts too.
fn imports(text: &str) -> BTreeSet<String> {
    fn segments(s: &str, n: usize) -> Option<String> {
        let path: String = s
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let segs: Vec<&str> = path
            .split("::")
            .filter(|s| !s.is_empty())
            .take(n)
            .filter(|s| s.chars().next().is_some_and(|c| c.is_lowercase()))
            .collect();
        (!segs.is_empty()).then(|| segs.join("::"))
    }
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `db_secret_provisioner::` is not `crate::`
        }
        let rest = &text[i + 7..];
        if let Some(inner) = rest.strip_prefix('{') {
            let inner: String = inner.chars().take_while(|c| *c != '}').collect();
            out.extend(inner.split(',').filter_map(|p| segments(p.trim(), 2)));
        } else if let Some(p) = segments(rest, 2) {
            // `crate::model::{a, b}`: the two-segment prefix is the module.
            out.insert(p);
        }
    }
    out
}

/// The floor (first segment) of a module path.
fn floor(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// Imports that run against [`ALLOWED`]: `file imports module` lines.
fn wrong_imports(files: &[(String, String)]) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (rel, text) in files {
        let Some(module) = module_of(rel) else {
            continue;
        };
        let from = floor(&module);
        let Some(may) = allowed.get(from) else {
            wrong.push(format!("src/{rel}: {from}/ is not a floor of ALLOWED"));
            continue;
        };
        for to in imports(&code_of(text)) {
            let to_floor = floor(&to);
            if to_floor != from && !may.contains(&to_floor) {
                wrong.push(format!("src/{rel} ({from}/) imports {to}"));
            }
        }
    }
    wrong
}

/// A cycle among the modules (two segments deep), if there is one.
fn cycle(files: &[(String, String)]) -> Option<Vec<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in files {
        let Some(module) = module_of(rel) else {
            continue;
        };
        for to in imports(&code_of(text)) {
            // A folder's own `mod.rs` re-exports its children: not an edge.
            if to != module
                && !module.starts_with(&format!("{to}::"))
                && !to.starts_with(&format!("{module}::"))
            {
                edges.entry(module.clone()).or_default().insert(to);
            }
        }
    }
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
    edges
        .keys()
        .find_map(|m| visit(m, &edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_floors_are_the_folders_of_src() {
    let mut top: Vec<String> = std::fs::read_dir(root().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    let mut expected: Vec<String> = ALLOWED.iter().map(|(f, _)| f.to_string()).collect();
    expected.extend(["lib.rs".to_string(), "main.rs".to_string()]);
    expected.sort();
    assert_eq!(
        top, expected,
        "src/ holds the floors, lib.rs and main.rs only"
    );
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    for (f, _) in ALLOWED {
        assert!(
            lib.contains(&format!("[`{f}`]")),
            "src/lib.rs names the floor {f}"
        );
        assert!(
            lib.contains(&format!("pub mod {f};")),
            "src/lib.rs declares {f}"
        );
    }
}

#[test]
fn floors_import_only_what_they_may_and_form_no_cycle() {
    let files = src_files();
    let wrong = wrong_imports(&files);
    assert!(
        wrong.is_empty(),
        "imports against the floors:\n{}",
        wrong.join("\n")
    );
    if let Some(c) = cycle(&files) {
        panic!("import cycle: {}", c.join(" → "));
    }
}

#[test]
fn the_import_checker_can_fail() {
    let text = "use crate::model::Target;\nuse crate::{config, jobs::create::X};\nlet x = crate::model::error::Error::X;\nuse db_secret_provisioner::lambda;";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["config", "jobs::create", "model", "model::error"]);
    assert_eq!(
        found,
        ["config", "jobs::create", "model::error", "model::Target"]
            .map(String::from)
            .into_iter()
            .filter(|s| s != "model::Target")
            .chain(["model".to_string()])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    let bad = vec![
        (
            "model/tags.rs".to_string(),
            "use crate::rules::drift::x;".to_string(),
        ),
        (
            "rules/trust.rs".to_string(),
            "use crate::event::Request;".to_string(),
        ),
        (
            "aws/clients.rs".to_string(),
            "use crate::jobs::Job;".to_string(),
        ),
        (
            "jobs/create.rs".to_string(),
            "use crate::lambda::Handler;".to_string(),
        ),
        (
            "jobs/follow.rs".to_string(),
            "use crate::rules::drift;".to_string(),
        ),
    ];
    assert_eq!(wrong_imports(&bad).len(), 4, "{:?}", wrong_imports(&bad));
    let looped = vec![
        (
            "rules/a.rs".to_string(),
            "use crate::rules::b::X;".to_string(),
        ),
        (
            "rules/b.rs".to_string(),
            "use crate::rules::a::Y;".to_string(),
        ),
    ];
    assert!(cycle(&looped).is_some());
    assert!(cycle(&bad).is_none());
}

/// The files outside `src/{home}` with a line of code (tests and comments aside) that `bad`
/// matches.
fn lines_outside(files: &[(String, String)], home: &str, bad: fn(&str) -> bool) -> Vec<String> {
    files
        .iter()
        .filter(|(rel, text)| {
            !rel.starts_with(home) && code_of(text).lines().any(|l| bad(l.trim_start()))
        })
        .map(|(rel, _)| format!("src/{rel}"))
        .collect()
}

/// Building an SDK client or loading an SDK configuration.
fn builds_a_client(l: &str) -> bool {
    l.contains("aws_config::")
        || (l.contains("aws_sdk_")
            && ["Client::new", "from_conf", "Client::builder"]
                .iter()
                .any(|c| l.contains(c)))
}

/// A match arm on the trigger's action.
fn matches_the_action(l: &str) -> bool {
    (l.starts_with("Action::") || l.starts_with("| Action::")) && l.contains("=>")
}

#[test]
fn only_src_aws_builds_sdk_clients_and_only_src_lambda_dispatches() {
    let files = src_files();
    let clients = lines_outside(&files, "aws/", builds_a_client);
    assert!(
        clients.is_empty(),
        "SDK clients built outside src/aws/: {clients:?}"
    );
    let dispatch = lines_outside(&files, "lambda/", matches_the_action);
    assert!(
        dispatch.is_empty(),
        "matches on Action outside src/lambda/: {dispatch:?}"
    );
    let bad = vec![
        (
            "jobs/x.rs".to_string(),
            "let c = aws_sdk_rds::Client::new(&conf);".to_string(),
        ),
        (
            "jobs/create.rs".to_string(),
            "match a {\n    Action::Retire => x,\n}".to_string(),
        ),
        (
            "aws/clients.rs".to_string(),
            "let c = aws_sdk_rds::Client::new(&conf);".to_string(),
        ),
    ];
    assert_eq!(
        lines_outside(&bad, "aws/", builds_a_client),
        ["src/jobs/x.rs"]
    );
    assert_eq!(
        lines_outside(&bad, "lambda/", matches_the_action),
        ["src/jobs/create.rs"]
    );
}

#[test]
fn no_source_file_is_longer_than_400_lines_before_its_tests() {
    let long: Vec<String> = src_files()
        .iter()
        .filter_map(|(rel, text)| {
            let code = text
                .lines()
                .take_while(|l| l.trim_end() != "#[cfg(test)]")
                .count();
            (code > MAX_LINES).then(|| format!("src/{rel}: {code} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines before the tests:\n{}",
        long.join("\n")
    );
}

/// The pages whose paths and links are checked: README.md and docs/*.md.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    if let Ok(dir) = std::fs::read_dir(root().join("docs")) {
        pages.extend(
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "md")),
        );
    }
    pages.sort();
    pages
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose_lines(markdown: &str) -> Vec<&str> {
    let mut in_code = false;
    markdown
        .lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                return false;
            }
            !in_code
        })
        .collect()
}

/// The backticked tokens of a Markdown text that name repository paths: the first segment is
/// one of `entries` (the repository's top-level files and folders); a `:line` suffix is cut.
fn quoted_paths(markdown: &str, entries: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose_lines(markdown) {
        for (n, token) in line.split('`').enumerate() {
            if n % 2 == 0 || token.is_empty() || token.contains(char::is_whitespace) {
                continue;
            }
            let first = token.split('/').next().unwrap_or("");
            let is_entry = entries.contains(first) && (token.contains('/') || token == first);
            if !is_entry {
                continue;
            }
            let path = match token.rsplit_once(':') {
                Some((p, line))
                    if !line.is_empty() && line.chars().all(|c| c.is_ascii_digit() || c == '-') =>
                {
                    p
                }
                _ => token,
            };
            out.push(path.to_string());
        }
    }
    out
}

/// Whether `pattern` (`*` within a segment, `**` across segments) matches `path`.
fn glob_matches(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| go(rest, &s[i..])),
            [b'*', rest @ ..] => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| go(rest, &s[i..])),
            [c, rest @ ..] => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// Every file of the repository (relative, `/`-separated), without build output and tools.
fn repository_files() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if BUILD_OUTPUTS.contains(&name.as_str()) || name.starts_with(".venv") {
                continue;
            }
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &root(), &mut out);
    out
}

/// The quoted paths of `text` that name nothing in `files`.
fn missing_paths(text: &str, entries: &BTreeSet<String>, files: &[String]) -> Vec<String> {
    quoted_paths(text, entries)
        .into_iter()
        .filter(|p| {
            // `<family>` stands for any name: a glob's `*`.
            let mut p = p.trim_end_matches('/').to_string();
            while let (Some(a), Some(b)) = (p.find('<'), p.find('>')) {
                if b < a {
                    break;
                }
                p.replace_range(a..=b, "*");
            }
            let p = p.as_str();
            if p.contains('*') {
                !files.iter().any(|f| glob_matches(p, f))
            } else {
                !files
                    .iter()
                    .any(|f| f == p || f.starts_with(&format!("{p}/")))
            }
        })
        .collect()
}

fn top_level_entries() -> BTreeSet<String> {
    std::fs::read_dir(root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // Build outputs (`make sam-build` leaves `.aws-sam/`) are not the repository's.
        .filter(|n| !BUILD_OUTPUTS.contains(&n.as_str()) && !n.starts_with(".venv"))
        .collect()
}

/// Folders the builds make, which the walk and the top-level entries leave out.
const BUILD_OUTPUTS: [&str; 5] = ["target", "node_modules", ".git", "cdk.out", ".aws-sam"];

#[test]
fn every_repository_path_quoted_in_the_docs_exists() {
    let entries = top_level_entries();
    let files = repository_files();
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        missing.extend(
            missing_paths(&text, &entries, &files)
                .into_iter()
                .map(|p| format!("{name}: `{p}`")),
        );
    }
    assert!(
        missing.is_empty(),
        "paths the docs quote that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_path_checker_can_fail() {
    let entries: BTreeSet<String> = ["src", "docs", "Makefile"].map(String::from).into();
    let files = ["src/lib.rs", "src/jobs/create.rs", "docs/a.md", "Makefile"].map(String::from);
    let md = "`src/lib.rs:12` `src/store.rs` `src/jobs/` `src/*.rs` `src/**/create.rs` `src/nope/*.rs` `src/jobs/<job>.rs` `Makefile` `make check` `other/x`\n```\n`src/in-code.rs`\n```\n";
    assert_eq!(
        quoted_paths(md, &entries),
        [
            "src/lib.rs",
            "src/store.rs",
            "src/jobs/",
            "src/*.rs",
            "src/**/create.rs",
            "src/nope/*.rs",
            "src/jobs/<job>.rs",
            "Makefile"
        ]
    );
    assert_eq!(
        missing_paths(md, &entries, &files),
        ["src/store.rs", "src/nope/*.rs"]
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
    let mut out = Vec::new();
    for line in prose_lines(markdown) {
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
    let mut broken = Vec::new();
    for page in &pages() {
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
