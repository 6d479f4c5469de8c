//! No module of any workspace crate depends on a module that depends on it back, directly or
//! transitively: the module graph of every crate is acyclic.
//!
//! The workspace's crates are found by their `Cargo.toml` (under the workspace root, skipping
//! `target`, `fuzz` and hidden directories), so a crate added later is checked too. In each crate
//! every `.rs` file under `src/` is a module by its path (`lib.rs`/`main.rs`: the crate root;
//! `a.rs` and `a/mod.rs`: `a`; `a/b.rs`: `a::b`; `mod x { … }` blocks: `…::x`; each file under
//! `src/bin/` is a crate root of its own). A module *references* another when its code names it
//! through `crate::…` (also `$crate::…`) or `super::…`: in `use` items (grouped ones included)
//! and in paths in code. A path names the longest of its prefixes that is a module, so
//! `crate::a::b::C` references `a::b`, or `a` when `b` is not a module. Comments, strings and
//! anything under `#[cfg(test)]` (test modules may import their parent) are ignored. Paths
//! relative to the current module (`self::x`, `x::y`) are not references: a parent that
//! re-exports its children's items is how a module shows its parts.
//!
//! A module that uses its ancestor's items is fine; the test fails when the ancestor (or any
//! module it reaches) references it back. Every cycle is listed with the lines that make it.
//!
//! Only `std`: a small hand-written tokenizer, no parser crate.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string, char or number literal (its text does not matter here).
    Lit,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Rust source to tokens, without comments; literals become [`Tok::Lit`]. Not a full lexer, but
/// exact about what could hide or fake a path: comments (nested block comments too), strings
/// (raw, byte and C strings too), char literals versus lifetimes.
fn tokenize(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a quoted literal whose opening quote is at `i` (escapes honoured); returns the index
    // after its closing quote.
    let skip_quoted = |mut i: usize, quote: char, line: &mut usize| -> usize {
        i += 1;
        while i < c.len() && c[i] != quote {
            if c[i] == '\n' {
                *line += 1;
            }
            if c[i] == '\\' {
                i += 1;
                if i < c.len() && c[i] == '\n' {
                    *line += 1;
                }
            }
            i += 1;
        }
        i + 1
    };
    // Skips a raw string whose `r` is followed by `hashes` `#`s and the opening quote at `i`.
    let skip_raw = |mut i: usize, hashes: usize, line: &mut usize| -> usize {
        i += 1;
        while i < c.len() {
            if c[i] == '\n' {
                *line += 1;
            }
            if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
                return i + 1 + hashes;
            }
            i += 1;
        }
        i
    };
    while i < c.len() {
        let ch = c[i];
        let start_line = line;
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_quoted(i, '"', &mut line);
            out.push(Token {
                tok: Tok::Lit,
                line: start_line,
            });
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime / label ('a, 'static).
            if c.get(i + 1) == Some(&'\\') || c.get(i + 2) == Some(&'\'') {
                i = skip_quoted(i, '\'', &mut line);
                out.push(Token {
                    tok: Tok::Lit,
                    line: start_line,
                });
            } else {
                i += 1;
                while i < c.len() && is_ident_char(c[i]) {
                    i += 1;
                }
            }
        } else if is_ident_start(ch) {
            let begin = i;
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[begin..i].iter().collect();
            let next = c.get(i).copied();
            let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
            if raw_prefix && (next == Some('"') || next == Some('#')) {
                let mut hashes = 0;
                while c.get(i + hashes) == Some(&'#') {
                    hashes += 1;
                }
                if c.get(i + hashes) == Some(&'"') {
                    i = skip_raw(i + hashes, hashes, &mut line);
                    out.push(Token {
                        tok: Tok::Lit,
                        line: start_line,
                    });
                    continue;
                }
                if word == "r" && hashes == 1 && c.get(i + 1).is_some_and(|&x| is_ident_start(x)) {
                    // A raw identifier: r#type.
                    let begin = i + 1;
                    i = begin;
                    while i < c.len() && is_ident_char(c[i]) {
                        i += 1;
                    }
                    out.push(Token {
                        tok: Tok::Ident(c[begin..i].iter().collect()),
                        line: start_line,
                    });
                    continue;
                }
            }
            if matches!(word.as_str(), "b" | "c") && next == Some('"') {
                i = skip_quoted(i, '"', &mut line);
                out.push(Token {
                    tok: Tok::Lit,
                    line: start_line,
                });
                continue;
            }
            if word == "b" && next == Some('\'') {
                i = skip_quoted(i, '\'', &mut line);
                out.push(Token {
                    tok: Tok::Lit,
                    line: start_line,
                });
                continue;
            }
            out.push(Token {
                tok: Tok::Ident(word),
                line: start_line,
            });
        } else if ch.is_ascii_digit() {
            while i < c.len()
                && (is_ident_char(c[i])
                    || (c[i] == '.' && c.get(i + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Lit,
                line: start_line,
            });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Token {
                tok: Tok::PathSep,
                line: start_line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line: start_line,
            });
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// One file: the modules it defines and the paths it names
// ---------------------------------------------------------------------------------------------

type ModPath = Vec<String>;

/// A `crate::…` or `super::…` path named in a file, not yet resolved to a module.
#[derive(Clone, Debug)]
struct RawRef {
    /// The module whose code names it.
    from: ModPath,
    /// The module the path starts at (the crate root, or an ancestor for `super`).
    base: ModPath,
    /// The segments after `crate::` / `super::…::`.
    segments: Vec<String>,
    line: usize,
}

#[derive(Debug, Default)]
struct FileFacts {
    /// Modules defined inline (`mod x { … }`), by full path.
    inline_modules: Vec<ModPath>,
    /// File modules declared under `#[cfg(test)]` (`#[cfg(test)] mod tests;`), by full path.
    test_only_modules: Vec<ModPath>,
    refs: Vec<RawRef>,
}

fn is_punct(t: Option<&Token>, p: char) -> bool {
    matches!(t, Some(Token { tok: Tok::Punct(x), .. }) if *x == p)
}

fn is_ident(t: Option<&Token>, word: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Ident(x), .. }) if x == word)
}

fn is_sep(t: Option<&Token>) -> bool {
    matches!(
        t,
        Some(Token {
            tok: Tok::PathSep,
            ..
        })
    )
}

/// Reads a path (tree) starting at `i`, right after a `crate::` / `super::`: `a::b::C`,
/// `a::{b, c::D, self}`, `a::*`. Returns every path it names (segments) and the index after it.
fn path_tree(toks: &[Token], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        match toks.get(i).map(|t| &t.tok) {
            Some(Tok::Ident(word)) if word == "self" => i += 1,
            Some(Tok::Ident(word)) => {
                prefix.push(word.clone());
                i += 1;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                let mut all = Vec::new();
                while i < toks.len() && !is_punct(toks.get(i), '}') {
                    if is_punct(toks.get(i), ',') {
                        i += 1;
                        continue;
                    }
                    let before = i;
                    let (subs, next) = path_tree(toks, i);
                    for sub in subs {
                        all.push(prefix.iter().cloned().chain(sub).collect());
                    }
                    // Skip what a path does not consume (`as x`) up to the next item.
                    i = next.max(before + 1);
                    while i < toks.len()
                        && !is_punct(toks.get(i), ',')
                        && !is_punct(toks.get(i), '}')
                    {
                        i += 1;
                    }
                }
                return (all, i + 1);
            }
            _ => return (vec![prefix], i),
        }
        if is_sep(toks.get(i)) {
            i += 1;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// Index after the item starting at `i`: through its `;`, or its `{ … }` block when one comes
/// first.
fn item_end(toks: &[Token], mut i: usize) -> usize {
    while i < toks.len() {
        if is_punct(toks.get(i), ';') {
            return i + 1;
        }
        if is_punct(toks.get(i), '{') {
            let mut depth = 0usize;
            while i < toks.len() {
                if is_punct(toks.get(i), '{') {
                    depth += 1;
                } else if is_punct(toks.get(i), '}') {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                i += 1;
            }
        }
        i += 1;
    }
    i
}

/// The name of the module an item declares, when the item at `i` is `[vis] mod NAME`, and
/// whether a block (`{`) follows.
fn mod_decl(toks: &[Token], mut i: usize) -> Option<(String, bool)> {
    if is_ident(toks.get(i), "pub") {
        i += 1;
        if is_punct(toks.get(i), '(') {
            while i < toks.len() && !is_punct(toks.get(i), ')') {
                i += 1;
            }
            i += 1;
        }
    }
    if !is_ident(toks.get(i), "mod") {
        return None;
    }
    let Some(Token {
        tok: Tok::Ident(name),
        ..
    }) = toks.get(i + 1)
    else {
        return None;
    };
    Some((name.clone(), is_punct(toks.get(i + 2), '{')))
}

/// Index after an attribute starting at `i` (`#[…]` or `#![…]`), and whether it is exactly
/// `#[cfg(test)]`.
fn attribute(toks: &[Token], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    if is_punct(toks.get(j), '!') {
        j += 1;
    }
    if !is_punct(toks.get(j), '[') {
        return None;
    }
    let open = j;
    let mut depth = 0usize;
    while j < toks.len() {
        if is_punct(toks.get(j), '[') {
            depth += 1;
        } else if is_punct(toks.get(j), ']') {
            depth -= 1;
            if depth == 0 {
                break;
            }
        }
        j += 1;
    }
    let inner: Vec<&Tok> = toks[open + 1..j].iter().map(|t| &t.tok).collect();
    let cfg_test = matches!(
        inner.as_slice(),
        [Tok::Ident(cfg), Tok::Punct('('), Tok::Ident(test), Tok::Punct(')')]
            if cfg == "cfg" && test == "test"
    );
    Some((j + 1, cfg_test))
}

/// What a file of module `module` defines and names.
fn file_facts(module: &ModPath, src: &str) -> FileFacts {
    let toks = tokenize(src);
    let mut facts = FileFacts::default();
    // Open inline modules: (path, brace depth inside their block).
    let mut scopes: Vec<(ModPath, usize)> = vec![(module.clone(), 0)];
    let mut depth = 0usize;
    let mut test_only_next = false;
    let mut i = 0;
    while i < toks.len() {
        let current = scopes.last().map(|s| s.0.clone()).unwrap_or_default();
        if is_punct(toks.get(i), '#') {
            if let Some((next, cfg_test)) = attribute(&toks, i) {
                if cfg_test && is_punct(toks.get(i + 1), '!') && scopes.len() == 1 {
                    // `#![cfg(test)]`: the whole file is a test module.
                    facts.test_only_modules.push(module.clone());
                    facts.refs.clear();
                    return facts;
                }
                test_only_next |= cfg_test;
                i = next;
                continue;
            }
        }
        if test_only_next {
            test_only_next = false;
            if let Some((name, false)) = mod_decl(&toks, i) {
                let mut path = current.clone();
                path.push(name);
                facts.test_only_modules.push(path);
            }
            i = item_end(&toks, i);
            continue;
        }
        if let Some((name, true)) = mod_decl(&toks, i) {
            let mut path = current.clone();
            path.push(name);
            facts.inline_modules.push(path.clone());
            // Continue at the block's `{`, which opens the scope.
            while !is_punct(toks.get(i), '{') {
                i += 1;
            }
            depth += 1;
            scopes.push((path, depth));
            i += 1;
            continue;
        }
        match &toks[i].tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                if scopes.len() > 1 && scopes.last().is_some_and(|s| s.1 == depth) {
                    scopes.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(word) if (word == "crate" || word == "super") && is_sep(toks.get(i + 1)) => {
                // `pub(in crate::a)` restricts visibility; it does not use `a`.
                let visibility = i > 0 && is_ident(toks.get(i - 1), "in");
                let line = toks[i].line;
                let mut base = if word == "crate" {
                    Vec::new()
                } else {
                    current.clone()
                };
                let mut j = i;
                let mut above_root = false;
                while is_ident(toks.get(j), "super") && is_sep(toks.get(j + 1)) {
                    above_root |= base.pop().is_none();
                    j += 2;
                }
                if word == "crate" {
                    j += 2;
                }
                let (paths, next) = path_tree(&toks, j);
                if !visibility && !above_root {
                    for segments in paths {
                        facts.refs.push(RawRef {
                            from: current.clone(),
                            base: base.clone(),
                            segments,
                            line,
                        });
                    }
                }
                i = next.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    facts
}

// ---------------------------------------------------------------------------------------------
// One module tree (a crate root and its modules)
// ---------------------------------------------------------------------------------------------

/// A crate root's files: paths relative to the root's directory, with their text.
struct Tree {
    /// How the report names it (`storage/src`, `src/bin/x.rs`).
    label: String,
    files: Vec<(PathBuf, String)>,
}

/// One reference between two modules, and where it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    at: String,
}

#[derive(Debug, Default)]
struct Graph {
    modules: BTreeSet<String>,
    edges: Vec<Edge>,
}

fn show(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}

/// The module a file is, by its path: `lib.rs`/`main.rs` → root, `a/mod.rs` and `a.rs` → `a`,
/// `a/b.rs` → `a::b`.
fn module_of(rel: &Path) -> ModPath {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.strip_suffix(".rs").unwrap_or(&file).to_owned();
    let root_file = parts.is_empty() && (stem == "lib" || stem == "main");
    if stem != "mod" && !root_file {
        parts.push(stem);
    }
    parts
}

fn graph_of(tree: &Tree) -> Graph {
    let mut modules: BTreeSet<ModPath> = BTreeSet::new();
    let mut facts = Vec::new();
    for (rel, src) in &tree.files {
        let module = module_of(rel);
        let f = file_facts(&module, src);
        modules.insert(module);
        modules.extend(f.inline_modules.iter().cloned());
        facts.push((rel, f));
    }
    // Modules compiled for tests only, and everything in them, are not part of the graph.
    let test_only: Vec<ModPath> = facts
        .iter()
        .flat_map(|(_, f)| f.test_only_modules.iter().cloned())
        .collect();
    let in_test_only = |m: &ModPath| test_only.iter().any(|t| m.starts_with(t));
    modules.retain(|m| !in_test_only(m));
    let mut graph = Graph {
        modules: modules.iter().map(|m| show(m)).collect(),
        edges: Vec::new(),
    };
    for (rel, f) in &facts {
        for r in &f.refs {
            if in_test_only(&r.from) {
                continue;
            }
            let mut target = r.base.clone();
            target.extend(r.segments.iter().cloned());
            while target.len() > r.base.len() && !modules.contains(&target) {
                target.pop();
            }
            if target == r.from || in_test_only(&target) {
                continue;
            }
            graph.edges.push(Edge {
                from: show(&r.from),
                to: show(&target),
                at: format!("{}/{}:{}", tree.label, rel.display(), r.line),
            });
        }
    }
    graph.edges.sort();
    graph.edges.dedup();
    graph
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        adj: BTreeMap<&'g str, BTreeSet<&'g str>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let succ: Vec<&str> = s.adj.get(v).into_iter().flatten().copied().collect();
        for w in succ {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        adj: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for e in &graph.edges {
        s.adj.entry(&e.from).or_default().insert(&e.to);
    }
    let nodes: Vec<&str> = s.adj.keys().copied().collect();
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// One shortest loop through `component`'s first module, e.g. `a -> b -> a`.
fn one_loop(graph: &Graph, component: &[String]) -> String {
    let inside = |m: &str| component.iter().any(|c| c == m);
    let start = &component[0];
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.as_str()]);
    while let Some(v) = queue.pop_front() {
        for e in graph.edges.iter().filter(|e| e.from == v && inside(&e.to)) {
            if e.to == *start {
                let mut path = vec![start.as_str(), v];
                let mut at = v;
                while at != start.as_str() {
                    at = came_from[at];
                    path.push(at);
                }
                path.reverse();
                path.pop();
                return path.join(" -> ") + " -> " + start;
            }
            if !came_from.contains_key(e.to.as_str()) && e.to != *start {
                came_from.insert(&e.to, v);
                queue.push_back(&e.to);
            }
        }
    }
    component.join(" <-> ")
}

/// The report of every cycle in `graph` (empty when there is none).
fn cycle_report(graph: &Graph) -> String {
    let mut report = String::new();
    for component in cycles(graph) {
        let _ = writeln!(report, "  cycle: {}", one_loop(graph, &component));
        for e in &graph.edges {
            if component.contains(&e.from) && component.contains(&e.to) {
                let _ = writeln!(report, "    {} -> {}   ({})", e.from, e.to, e.at);
            }
        }
    }
    report
}

// ---------------------------------------------------------------------------------------------
// The workspace
// ---------------------------------------------------------------------------------------------

fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name == "fuzz"
}

/// Directories under `dir` (itself included) that hold a `Cargo.toml` and a `src/`.
fn crate_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("Cargo.toml").is_file() && dir.join("src").is_dir() {
        out.push(dir.to_path_buf());
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| !skipped_dir(&p.file_name().unwrap_or_default().to_string_lossy()))
        .collect();
    subdirs.sort();
    for sub in subdirs {
        crate_dirs(&sub, out);
    }
}

/// `.rs` files under `dir`, relative to `base`, leaving out `exclude` and nested crates.
fn rs_files(dir: &Path, base: &Path, exclude: Option<&Path>, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if Some(p.as_path()) == exclude {
            continue;
        }
        if p.is_dir() {
            if !p.join("Cargo.toml").exists() {
                rs_files(&p, base, exclude, out);
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            out.push((p.strip_prefix(base).unwrap().to_path_buf(), text));
        }
    }
}

/// The module trees of one crate: `src/` (lib and main share it), and each binary of `src/bin/`.
fn trees_of(root: &Path, crate_dir: &Path) -> Vec<Tree> {
    let src = crate_dir.join("src");
    let label = |p: &Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let bin = src.join("bin");
    let mut files = Vec::new();
    rs_files(&src, &src, Some(&bin), &mut files);
    let mut trees = vec![Tree {
        label: label(&src),
        files,
    }];
    if let Ok(entries) = fs::read_dir(&bin) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() && p.join("main.rs").is_file() {
                let mut files = Vec::new();
                rs_files(&p, &p, None, &mut files);
                trees.push(Tree {
                    label: label(&p),
                    files,
                });
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&p).unwrap();
                trees.push(Tree {
                    label: label(&p),
                    files: vec![(PathBuf::from("main.rs"), text)],
                });
            }
        }
    }
    trees
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

fn synthetic(files: &[(&str, &str)]) -> Graph {
    graph_of(&Tree {
        label: "synthetic/src".into(),
        files: files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
            .collect(),
    })
}

/// The checker finds planted cycles and ignores what is not a reference; run before the
/// workspace check too, so a checker that finds nothing cannot pass.
fn self_check() {
    // Two modules that import each other: a `use` one way, a path in code the other way.
    let g = synthetic(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::Thing;\npub struct A;\n"),
        (
            "b.rs",
            "pub struct Thing;\npub fn f() -> crate::a::A { crate::a::A }\n",
        ),
    ]);
    assert_eq!(
        cycles(&g),
        vec![vec!["a".to_owned(), "b".to_owned()]],
        "{g:#?}"
    );
    assert!(
        cycle_report(&g).contains("a -> b -> a"),
        "{}",
        cycle_report(&g)
    );
    assert!(cycle_report(&g).contains("synthetic/src/a.rs:1"));

    // Transitively, through a grouped `use`, a nested module and `super::`; `b::c::D` names the
    // module `b::c`, `crate::c::X` names `c` (X is not a module).
    let g = synthetic(&[
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a.rs", "use crate::{b::c::D, c as cc};"),
        ("b/mod.rs", "pub mod c;"),
        ("b/c.rs", "pub struct D; use super::super::c::X;"),
        ("c.rs", "pub struct X; fn f() { let _ = crate::a::g(); }"),
    ]);
    assert_eq!(
        cycles(&g),
        vec![vec!["a".to_owned(), "b::c".to_owned(), "c".to_owned()]],
        "{g:#?}"
    );

    // A child using its parent's items is fine, until the parent names the child back.
    let child_uses_parent = [
        ("lib.rs", "mod p;"),
        ("p/mod.rs", "mod q; pub struct P; pub use q::Q;"),
        ("p/q.rs", "use super::P; pub struct Q;"),
    ];
    assert!(cycles(&synthetic(&child_uses_parent)).is_empty());
    let mut knot = child_uses_parent;
    knot[1].1 = "mod q; pub struct P; fn f(_: crate::p::q::Q) {}";
    assert_eq!(
        cycles(&synthetic(&knot)),
        vec![vec!["p".to_owned(), "p::q".to_owned()]]
    );

    // Inline modules are modules: `super` inside one is its file's module.
    let g = synthetic(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "pub mod inner { use super::super::b::B; }"),
        ("b.rs", "pub struct B; use crate::a::inner;"),
    ]);
    assert_eq!(
        cycles(&g),
        vec![vec!["a::inner".to_owned(), "b".to_owned()]],
        "{g:#?}"
    );

    // Not references: test modules, comments, strings, char literals, visibility paths.
    let g = synthetic(&[
        (
            "lib.rs",
            "pub mod a;\npub mod b;\n#[cfg(test)]\nmod tests;\n",
        ),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        (
            "b.rs",
            r####"pub struct B;
// crate::a::A
/* nested /* crate::a::A */ crate::a::A */
const S: &str = "crate::a::A \" crate::a::A";
const R: &str = r#"crate::a::A "# ;
const C: char = '"'; const L: &'static str = "";
pub(in crate::a) fn f() {}
#[cfg(test)]
mod tests {
    use crate::a::A;
    fn g() { super::super::a::A; }
}
#[cfg(test)]
use crate::a::A as TestA;
pub fn h() {}
"####,
        ),
        ("tests.rs", "use crate::a::A; use crate::b::B;"),
    ]);
    assert!(cycles(&g).is_empty(), "{}", cycle_report(&g));
    assert!(g.edges.iter().any(|e| e.from == "a" && e.to == "b"));
    assert!(!g.modules.contains("tests"));
}

#[test]
fn the_checker_finds_planted_cycles() {
    self_check();
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    self_check();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let mut crates = Vec::new();
    crate_dirs(&root, &mut crates);
    assert!(
        crates.iter().any(|c| c.ends_with("storage")) && crates.len() >= 3,
        "the workspace's crates were not found under {}: {crates:?}",
        root.display()
    );
    let mut report = String::new();
    let (mut files, mut edges) = (0, 0);
    for dir in &crates {
        for tree in trees_of(&root, dir) {
            let graph = graph_of(&tree);
            files += tree.files.len();
            edges += graph.edges.len();
            let cycles = cycle_report(&graph);
            if !cycles.is_empty() {
                let _ = write!(report, "{}:\n{cycles}", tree.label);
            }
        }
    }
    println!(
        "module graph: {} crates, {files} files, {edges} references between modules",
        crates.len()
    );
    assert!(
        files > 20 && edges > 20,
        "too little was read: {files} files, {edges} references"
    );
    assert!(
        report.is_empty(),
        "module cycles (a module that imports a module that imports it back):\n{report}"
    );
}
