//! The shared fixture folders, found the same way by every test.
//!
//! The real Codex rollouts live outside the project, in `../shared/fixtures/<name>` next to the
//! workspace. A test that needs one asks [`fixtures_dir`] (or [`fixture_files`]):
//!
//! - when the folder is there, it gets its path;
//! - when it is missing and the environment variable `CI` is set (non-empty), the test **fails**
//!   with a message saying where the folder was looked for: in CI a missing fixture must not turn
//!   a fixture test into a silent pass;
//! - when it is missing outside CI, the test is skipped: `None`, after a `skipping: …` message
//!   on stderr (shown with `--nocapture`).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `../shared/fixtures/codex`: real Codex rollouts of every format era (see `SOURCES.md` there).
pub const CODEX: &str = "codex";
/// `../shared/fixtures/codex-paginated`.
pub const CODEX_PAGINATED: &str = "codex-paginated";
/// `../shared/fixtures/codex-0.171`.
pub const CODEX_0_171: &str = "codex-0.171";

/// The environment variable that makes a missing fixture folder a failure.
pub const CI_VAR: &str = "CI";

/// Where the shared fixture folders are looked for: `../shared/fixtures` from the workspace root.
pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
}

/// The fixture folder `name` (one of [`CODEX`], [`CODEX_PAGINATED`], [`CODEX_0_171`]), or `None`
/// when it is missing outside CI. Panics when it is missing and `CI` is set.
pub fn fixtures_dir(name: &str) -> Option<PathBuf> {
    existing_dir(
        &fixtures_root().join(name),
        std::env::var_os(CI_VAR).as_deref(),
    )
}

/// `../shared/fixtures/codex`; see [`fixtures_dir`].
pub fn codex_dir() -> Option<PathBuf> {
    fixtures_dir(CODEX)
}

/// `../shared/fixtures/codex-paginated`; see [`fixtures_dir`].
pub fn codex_paginated_dir() -> Option<PathBuf> {
    fixtures_dir(CODEX_PAGINATED)
}

/// `../shared/fixtures/codex-0.171`; see [`fixtures_dir`].
pub fn codex_0_171_dir() -> Option<PathBuf> {
    fixtures_dir(CODEX_0_171)
}

/// The files directly in the fixture folder `name` whose names end with `.<extension>`, sorted;
/// like [`fixtures_dir`], a folder without any such file is a failure in CI and a skip outside.
pub fn fixture_files(name: &str, extension: &str) -> Option<Vec<PathBuf>> {
    files_in(
        &fixtures_dir(name)?,
        extension,
        std::env::var_os(CI_VAR).as_deref(),
    )
}

/// `../shared/reference/<name>` (Codex's published schema, …), with the fixtures' rule: `None`
/// after a `skipping` message when missing outside CI, a panic in CI.
pub fn shared_reference(name: &str) -> Option<PathBuf> {
    let path = fixtures_root().join("../reference").join(name);
    if path.is_file() {
        return Some(path);
    }
    missing(
        &format!("reference file {} not found", path.display()),
        std::env::var_os(CI_VAR).as_deref(),
    )
}

/// True when `ci` (the value of `CI`) says this is a CI run: set and not empty.
pub fn in_ci(ci: Option<&OsStr>) -> bool {
    ci.is_some_and(|v| !v.is_empty())
}

/// `dir` when it is a folder; otherwise a panic when `ci` says CI (see [`in_ci`]), or `None` after
/// a `skipping` message. [`fixtures_dir`] with the value of `CI` as a parameter, for tests.
pub fn existing_dir(dir: &Path, ci: Option<&OsStr>) -> Option<PathBuf> {
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    missing(&format!("fixture folder {} not found", dir.display()), ci)
}

/// The files of `dir` ending with `.<extension>`, sorted; none is handled like a missing folder.
pub fn files_in(dir: &Path, extension: &str, ci: Option<&OsStr>) -> Option<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading fixture folder {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("reading fixture folder {}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == extension))
        .collect();
    if files.is_empty() {
        return missing(
            &format!("no .{extension} file in fixture folder {}", dir.display()),
            ci,
        );
    }
    files.sort();
    Some(files)
}

fn missing<T>(what: &str, ci: Option<&OsStr>) -> Option<T> {
    if in_ci(ci) {
        panic!(
            "{what}, and {CI_VAR} is set: in CI the shared fixtures must be present (a fixture \
             test must not pass without running). Provide ../shared/fixtures next to the \
             workspace, or unset {CI_VAR} to skip fixture tests locally."
        );
    }
    eprintln!(
        "skipping: {what} (the shared fixtures live outside the project, in ../shared/fixtures \
         next to the workspace; with {CI_VAR} set this is a failure)"
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing_dir() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("no-such-fixtures");
        (tmp, dir)
    }

    #[test]
    #[should_panic(expected = "CI is set: in CI the shared fixtures must be present")]
    fn a_missing_folder_fails_in_ci() {
        let (_tmp, dir) = missing_dir();
        existing_dir(&dir, Some(OsStr::new("true")));
    }

    #[test]
    #[should_panic(expected = "no .jsonl file in fixture folder")]
    fn an_empty_folder_fails_in_ci() {
        let tmp = tempfile::tempdir().unwrap();
        files_in(tmp.path(), "jsonl", Some(OsStr::new("1")));
    }

    #[test]
    fn a_missing_folder_is_skipped_outside_ci() {
        let (_tmp, dir) = missing_dir();
        assert_eq!(existing_dir(&dir, None), None);
        // An empty CI is no CI.
        assert_eq!(existing_dir(&dir, Some(OsStr::new(""))), None);
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(files_in(tmp.path(), "jsonl", None), None);
    }

    #[test]
    fn a_present_folder_is_returned_with_its_files_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["b.jsonl", "a.jsonl", "notes.md"] {
            std::fs::write(tmp.path().join(name), "").unwrap();
        }
        let ci = Some(OsStr::new("true"));
        assert_eq!(existing_dir(tmp.path(), ci), Some(tmp.path().to_path_buf()));
        assert_eq!(
            files_in(tmp.path(), "jsonl", ci),
            Some(vec![tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl")])
        );
    }

    #[test]
    fn the_folders_are_under_shared_fixtures() {
        for name in [CODEX, CODEX_PAGINATED, CODEX_0_171] {
            let dir = fixtures_root().join(name);
            assert!(dir.ends_with(Path::new("shared/fixtures").join(name)));
        }
    }
}
