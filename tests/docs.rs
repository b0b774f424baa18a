//! The examples in `docs/language.md` that are whole policies (fenced as
//! `toll`, not `toll,fragment`) check clean, and the test-file examples
//! (fenced as `toll-test`) parse, so the reference never teaches something
//! the checker rejects.

// A test fails by panicking; helpers here may unwrap and index freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

fn toll_blocks(markdown: &str) -> Vec<String> {
    fenced(markdown, "```toll")
}

/// The blocks of `markdown` fenced with `fence` exactly.
fn fenced(markdown: &str, fence: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, f) if f == fence => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn whole_policies_in_the_language_reference_check_clean() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md"))
            .unwrap();
    let policies: Vec<String> = toll_blocks(&doc)
        .into_iter()
        .filter(|b| {
            b.lines()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .is_some_and(|l| l.starts_with("policy "))
        })
        .collect();
    assert!(
        policies.len() >= 3,
        "found {} whole policies",
        policies.len()
    );
    for p in &policies {
        if let Err(d) = tollgate::pipeline::check(p) {
            panic!(
                "{}\n{p}",
                tollgate::diagnostic::render::render(&d, "docs/language.md", p, false)
            );
        }
    }
}

#[test]
fn test_file_examples_parse_and_are_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = 0;
    for doc in ["docs/testing.md", "docs/language.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for block in fenced(&text, "```toll-test") {
            found += 1;
            if let Err(d) = tollgate::syntax::parse_tests(&block) {
                panic!(
                    "{}\n{block}",
                    tollgate::diagnostic::render::render(&d, doc, &block, false)
                );
            }
            // The reference teaches the layout `fmt` gives.
            let formatted = tollgate::fmt::format_tests(&block).unwrap();
            assert_eq!(
                formatted, block,
                "a `toll-test` example of {doc} is not laid out as `tollgate fmt` lays it out"
            );
        }
    }
    assert!(found >= 3, "found {found} test-file examples");
}
