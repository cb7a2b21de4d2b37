//! The demo is a front door too: every `make demo` command that README.md and docs/ show runs
//! verbatim (the same event files and `ENGINE`), each event answered, with no panic. It runs
//! the demo's own binary (`examples/local_invoke.rs`, which `make demo` runs after building),
//! against a moto of its own.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{built_binary, project_dir};

/// The `make demo …` commands quoted in README.md and docs/*.md, as (EVENT, ENGINE).
fn demo_commands() -> Vec<(Vec<String>, Option<String>)> {
    let mut pages = vec![project_dir().join("README.md")];
    pages.extend(
        std::fs::read_dir(project_dir().join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    let mut out = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        for (i, _) in text.match_indices("make demo") {
            let rest = &text[i + "make demo".len()..];
            let command: String = rest
                .chars()
                .take_while(|c| *c != '`' && *c != '\n' && *c != '#')
                .collect();
            out.push(parse(&command));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `EVENT="a b"` / `EVENT=a` and `ENGINE=x` of a `make demo` command's arguments.
fn parse(args: &str) -> (Vec<String>, Option<String>) {
    let mut events = Vec::new();
    let mut engine = None;
    let mut rest = args.trim();
    while !rest.is_empty() {
        let (word, after) = if let Some(v) = rest.strip_prefix("EVENT=\"") {
            let end = v.find('"').unwrap_or(v.len());
            events.extend(v[..end].split_whitespace().map(String::from));
            ("", v.get(end + 1..).unwrap_or(""))
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if let Some(v) = word.strip_prefix("EVENT=") {
            events.push(v.to_string());
        } else if let Some(v) = word.strip_prefix("ENGINE=") {
            engine = Some(v.to_string());
        }
        rest = after.trim_start();
    }
    (events, engine)
}

fn demo_binary() -> PathBuf {
    built_binary()
        .parent()
        .unwrap()
        .join("examples/local_invoke")
}

#[test]
fn the_demo_commands_are_read_from_the_docs() {
    assert_eq!(
        parse(r#"EVENT="events/a.json events/b.json" ENGINE=docdb"#),
        (
            vec!["events/a.json".into(), "events/b.json".into()],
            Some("docdb".into())
        )
    );
    assert_eq!(parse(""), (vec![], None));
    let commands = demo_commands();
    assert!(commands.len() >= 3, "{commands:?}");
    assert!(
        commands.iter().any(|(events, _)| events.len() == 2),
        "{commands:?}"
    );
}

#[test]
fn every_demo_command_in_the_docs_runs() {
    let binary = demo_binary();
    assert!(
        binary.exists(),
        "{} is missing: cargo test builds the examples",
        binary.display()
    );
    for (events, engine) in demo_commands() {
        let mut cmd = Command::new(&binary);
        cmd.current_dir(project_dir())
            .args(&events)
            .env("ENGINE", engine.clone().unwrap_or_default());
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!("make demo EVENT={events:?} ENGINE={engine:?}");
        assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
        let answered =
            stdout.matches("\noutcome: ").count() + stdout.starts_with("outcome: ") as usize;
        assert_eq!(
            answered,
            events.len().max(1),
            "{what}: every event is answered:\n{stdout}"
        );
    }
}
