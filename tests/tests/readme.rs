//! The README is the workspace: every `rust` block the README marks with
//! `<!-- examples/NAME.rs … -->` must equal that file byte for byte, and every program in
//! `examples/` must appear in the README. `.ci/run` runs the examples themselves, so the README
//! can never show code that does not compile or run.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// `(file name, code)` of every marked block, in README order.
fn marked_blocks(readme: &str) -> Vec<(String, String)> {
    const MARK: &str = "<!-- examples/";
    let mut out = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find(MARK) {
        rest = &rest[at + MARK.len()..];
        let name_end = rest.find(".rs").expect("a marker names a .rs file");
        let name = format!("{}.rs", &rest[..name_end]);
        let open = rest
            .find("```rust\n")
            .expect("a marker is followed by a rust block");
        let body = &rest[open + "```rust\n".len()..];
        let close = body.find("\n```").expect("the rust block is closed");
        out.push((name, format!("{}\n", &body[..close])));
        rest = &body[close..];
    }
    out
}

#[test]
fn every_readme_example_is_the_file_it_names_and_every_example_is_in_the_readme() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = marked_blocks(&readme);
    let mut files: Vec<String> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rs"))
        .collect();
    files.sort();
    assert!(
        files.contains(&"embed.rs".to_string()) && files.contains(&"bus.rs".to_string()),
        "{files:?}"
    );
    for (name, code) in &blocks {
        let file = std::fs::read_to_string(root.join("examples").join(name))
            .unwrap_or_else(|e| panic!("README marks examples/{name}, which cannot be read: {e}"));
        assert_eq!(
            code, &file,
            "the README's block for examples/{name} differs from the file"
        );
    }
    for file in &files {
        assert!(
            blocks.iter().any(|(name, _)| name == file),
            "examples/{file} is not shown in the README"
        );
    }
}

#[test]
fn a_changed_block_is_caught() {
    let readme = "text\n<!-- examples/x.rs -->\n```rust\nfn main() {}\n```\nmore";
    let blocks = marked_blocks(readme);
    assert_eq!(
        blocks,
        vec![("x.rs".to_string(), "fn main() {}\n".to_string())]
    );
    assert_ne!(blocks[0].1, "fn main() { }\n");
}

/// The package name in a `Cargo.toml`'s `[package]` section.
fn package_name(manifest: &str) -> Option<String> {
    let package = manifest.split("[package]").nth(1)?;
    package.lines().find_map(|l| {
        let value = l.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_string())
    })
}

/// The README's layout table is the workspace: one row per crate folder (workspace members and
/// the excluded fuzz crate), each naming the package its `Cargo.toml` declares.
#[test]
fn the_readme_layout_table_is_the_workspace() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let table = readme
        .split("| folder | crate | holds |")
        .nth(1)
        .expect("the layout table");
    let rows: Vec<(String, String)> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').trim_end_matches('/').to_string(),
                cells[2].trim_matches('`').to_string(),
            )
        })
        .collect();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|m| m.split(']').next())
        .expect("workspace members");
    let mut folders: Vec<String> = members
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .map(|m| if m == "." { "src".to_string() } else { m })
        .collect();
    folders.push("fuzz".into());
    for folder in &folders {
        let dir = if folder == "src" {
            root.clone()
        } else {
            root.join(folder)
        };
        let name = package_name(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap())
            .expect("a package name");
        assert!(
            rows.iter().any(|(f, c)| f == folder && *c == name),
            "the layout table has no row `{folder}/` | `{name}`: {rows:?}"
        );
    }
    for (folder, _) in &rows {
        assert!(
            folders.contains(folder),
            "the layout table lists `{folder}/`, which is not a crate of the workspace"
        );
    }
}
