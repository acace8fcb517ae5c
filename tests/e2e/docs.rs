//! The documentation's links: every relative link in `README.md`, `docs/*.md` and
//! `bin/reth-rollup/README.md` names a file or directory inside this repository, so the docs
//! work in any clone. Web links (`http(s)://`, `mailto:`) and pure `#anchor` links are not
//! checked; a link's own `#anchor` or `?query` is ignored.

use std::path::{Component, Path, PathBuf};

/// The repository root (this test target belongs to `bin/rollup-node`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("bin/rollup-node lies two levels below the repository root")
        .to_path_buf()
}

/// The markdown files whose links are checked, relative to the root.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("readable docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| path.strip_prefix(root).unwrap().to_path_buf())
        .collect();
    docs.sort();
    files.extend(docs);
    let reth = PathBuf::from("bin/reth-rollup/README.md");
    if root.join(&reth).exists() {
        files.push(reth);
    }
    files
}

/// Removes inline code spans (`` `…` ``), so code such as `a[i](x)` is not read as a link.
fn without_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let fence = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(fence) {
            Some(end) => rest = &after[end + ticks..],
            // An unmatched backtick is literal text.
            None => {
                out.push_str(fence);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The targets of the inline links `[text](target)` / `![alt](target)` and the reference
/// definitions `[label]: target` in `text`, with their line numbers, outside fenced code blocks.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    let mut in_fence = false;
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let line = without_code_spans(raw);
        // Reference definitions: `[label]: target "title"`.
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some(close) = trimmed.find("]:")
            && !trimmed[1..close].contains(']')
        {
            if let Some(target) = trimmed[close + 2..].split_whitespace().next() {
                targets.push((line_number, target.trim_matches(['<', '>']).to_string()));
            }
            continue;
        }
        // Inline links: every `](`, up to the matching `)` (parentheses inside nest).
        let mut rest = line.as_str();
        while let Some(open) = rest.find("](") {
            let after = &rest[open + 2..];
            let mut depth = 0usize;
            let mut end = None;
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => {
                        end = Some(i);
                        break;
                    }
                    ')' => depth -= 1,
                    _ => {}
                }
            }
            let Some(end) = end else { break };
            let inside = after[..end].trim();
            // `(target "title")`: the target is the first word; `<…>` may wrap it.
            let target = if let Some(stripped) = inside.strip_prefix('<') {
                stripped.split('>').next().unwrap_or_default()
            } else {
                inside.split_whitespace().next().unwrap_or_default()
            };
            targets.push((line_number, target.to_string()));
            rest = &after[end + 1..];
        }
    }
    targets
}

/// Whether `target` leaves the repository's files: a web link or a pure anchor is `None`
/// (not checked); otherwise the path part, relative to the document.
fn local_path(target: &str) -> Option<&str> {
    let lower = target.to_ascii_lowercase();
    if target.is_empty()
        || target.starts_with('#')
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
    {
        return None;
    }
    let end = target.find(['#', '?']).unwrap_or(target.len());
    Some(&target[..end])
}

/// `path` with `.` and `..` folded, without touching the file system (so a link into a
/// missing directory is still judged by where it points).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Every problem with the links of the document `doc` (relative to `root`).
fn broken_links(root: &Path, doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join(doc))
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", doc.display()));
    let dir = doc.parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for (line, target) in link_targets(&text) {
        let Some(path) = local_path(&target) else {
            continue;
        };
        let at = format!("{}:{line}: link `{target}`", doc.display());
        if path.is_empty() {
            continue;
        }
        if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
            problems.push(format!(
                "{at} is absolute or has a scheme: use a path relative to the document"
            ));
            continue;
        }
        let resolved = normalize(&dir.join(path));
        if resolved.starts_with("..") {
            problems.push(format!(
                "{at} points outside the repository: docs must work in any clone"
            ));
            continue;
        }
        if !root.join(&resolved).exists() {
            problems.push(format!(
                "{at} names {}, which does not exist",
                resolved.display()
            ));
        }
    }
    problems
}

#[test]
fn docs_links_resolve_inside_the_repository() {
    let root = repo_root();
    let docs = documents(&root);
    assert!(
        docs.len() > 2,
        "expected README.md and docs/*.md, found {docs:?}"
    );
    let problems: Vec<String> = docs
        .iter()
        .flat_map(|doc| broken_links(&root, doc))
        .collect();
    assert!(
        problems.is_empty(),
        "broken documentation links:\n  {}",
        problems.join("\n  ")
    );
}

/// Where `text` points outside the repository: web and mail links, and bare web addresses a
/// renderer would turn into links (outside code spans and fenced blocks).
fn outside_links(text: &str) -> Vec<(usize, String)> {
    let mut found: Vec<(usize, String)> = link_targets(text)
        .into_iter()
        .filter(|(_, target)| local_path(target).is_none() && !target.starts_with('#'))
        .collect();
    let mut in_fence = false;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        let plain = without_code_spans(raw).to_ascii_lowercase();
        if !in_fence
            && ["http://", "https://", "www."]
                .iter()
                .any(|w| plain.contains(w))
        {
            found.push((index + 1, raw.trim().to_owned()));
        }
    }
    found
}

/// README.md links nothing outside the repository: a reader of a checkout has everything.
#[test]
fn readme_links_nothing_outside_the_repository() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let outside = outside_links(&text);
    assert!(
        outside.is_empty(),
        "README.md points outside the repository (put addresses in code spans):\n  {}",
        outside
            .iter()
            .map(|(line, what)| format!("line {line}: {what}"))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    let sample = "\
[web](https://example.com) and [ok](docs/a.md), open **http://127.0.0.1:9545/** or
`http://127.0.0.1:9545/` or [top](#top)
```sh
curl http://127.0.0.1:9545/
```
";
    let lines: Vec<usize> = outside_links(sample).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [1, 1]);
}

#[test]
fn docs_link_parser_finds_what_a_reader_clicks() {
    let text = "\
See [the design](docs/architecture.md#heads) and ![logo](img/a.png \"Logo\").
Not a link: `a[i](x)`; [web](https://example.com); [anchor](#top); [b](<with space.md>).
```sh
[not](inside-a-fence.md)
```
[ref]: ../shared/DESIGN.md
";
    let targets: Vec<String> = link_targets(text).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        targets,
        [
            "docs/architecture.md#heads",
            "img/a.png",
            "https://example.com",
            "#top",
            "with space.md",
            "../shared/DESIGN.md",
        ]
    );
    assert_eq!(local_path("docs/a.md#x"), Some("docs/a.md"));
    assert_eq!(local_path("https://example.com/a.md"), None);
    assert_eq!(local_path("#x"), None);
    assert_eq!(
        normalize(Path::new("docs/../../shared/DESIGN.md")),
        PathBuf::from("../shared/DESIGN.md")
    );

    // Outside the repository, absolute, and missing are each reported; a good link is not.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("docs")).unwrap();
    std::fs::write(root.path().join("docs/ok.md"), "").unwrap();
    std::fs::write(
        root.path().join("README.md"),
        "[a](docs/ok.md) [b](../shared/DESIGN.md) [c](/etc/passwd) [d](docs/missing.md) [e](docs/../docs/ok.md#x)\n",
    )
    .unwrap();
    let problems = broken_links(root.path(), Path::new("README.md"));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0].contains("outside the repository"),
        "{problems:#?}"
    );
    assert!(problems[1].contains("absolute"), "{problems:#?}");
    assert!(problems[2].contains("does not exist"), "{problems:#?}");
}
