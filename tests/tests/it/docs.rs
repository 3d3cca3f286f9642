//! The documentation keeps its promises: every command it marks runnable
//! exists as written, the one that computes an event id computes the right
//! one, and every link between its pages resolves.
//!
//! A fenced `sh` block on the line after `<!-- runnable -->` in README.md or
//! `docs/*.md` is one a reader runs offline (against `make run`'s local
//! stack, or with nothing at all). In such blocks each `hookgate` command
//! must name a real subcommand and only flags its `--help` lists (the release
//! CLI, as `make test` builds it), with a known provider and existing files;
//! each `make` target and variable must be the Makefile's; each `cargo
//! lambda` subcommand and flag must be cargo-lambda's; each script must
//! exist. docs/development.md, "The docs and their checks", says the same
//! for writers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use hookgate::envelope::event_id;
use hookgate::providers::{REGISTRY, registered};
use hookgate_tests::function::bin_dir;

use crate::events::root;

/// The line that marks the next fenced block as runnable offline.
const MARKER: &str = "<!-- runnable -->";

/// The pages that are checked, relative to the repository root: README.md,
/// CHANGELOG.md and every page of `docs/`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md"), PathBuf::from("CHANGELOG.md")];
    let dir = root().join("docs");
    let mut docs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| Path::new("docs").join(p.file_name().expect("a file name")))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn read(page: &Path) -> String {
    std::fs::read_to_string(root().join(page)).unwrap_or_else(|e| panic!("{}: {e}", page.display()))
}

/// A runnable block: where it is and its text.
#[derive(Debug)]
struct Block {
    at: String,
    text: String,
}

/// The runnable blocks of `text`; a marker that is not followed by a shell
/// block is an error, so a marker cannot silently mark nothing.
fn runnable_blocks(page: &Path, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != MARKER {
            i += 1;
            continue;
        }
        let at = format!("{}:{}", page.display(), i + 1);
        let fence = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
        assert!(
            matches!(fence, "```sh" | "```bash" | "```shell"),
            "{at}: {MARKER} must be followed by a ```sh block, found {fence:?}"
        );
        let start = i + 2;
        let len = lines[start..]
            .iter()
            .position(|l| l.trim_start().starts_with("```"))
            .unwrap_or_else(|| panic!("{at}: the block is never closed"));
        blocks.push(Block {
            at,
            text: lines[start..start + len].join("\n"),
        });
        i = start + len + 1;
    }
    blocks
}

/// The simple commands of a shell block, as words: quotes removed, `\`
/// line continuations joined, comments dropped, split at `|`, `&&`, `||`
/// and `;`, and leading `VAR=value` assignments and `{ }` grouping left
/// out. Enough for the commands documentation shows; it is no shell.
fn commands(block: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = block.chars().peekable();
    let end_word = |words: &mut Vec<String>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        q => word.push(q),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => end_word(&mut words, &mut word, &mut in_word),
                Some(q) => {
                    in_word = true;
                    word.push(q);
                }
            },
            '#' if !in_word => {
                for q in chars.by_ref() {
                    if q == '\n' {
                        break;
                    }
                }
                commands.push(std::mem::take(&mut words));
            }
            '\n' | ';' | '|' | '&' => {
                end_word(&mut words, &mut word, &mut in_word);
                commands.push(std::mem::take(&mut words));
            }
            c if c.is_whitespace() => end_word(&mut words, &mut word, &mut in_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut words, &mut word, &mut in_word);
    commands.push(words);
    commands
        .into_iter()
        .map(|words| {
            words
                .into_iter()
                .filter(|w| w != "{" && w != "}")
                .skip_while(|w| is_assignment(w))
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
        .collect()
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A placeholder or a shell expansion: nothing to check on this machine.
fn is_placeholder(word: &str) -> bool {
    word.contains('<') || word.contains('$') || word.contains("...")
}

/// What a `--help` text says: subcommands, and each flag with whether it
/// takes a value.
#[derive(Debug, Default)]
struct Help {
    subcommands: BTreeSet<String>,
    flags: BTreeMap<String, bool>,
}

impl Help {
    fn parse(text: &str) -> Self {
        let mut help = Self::default();
        let mut in_commands = false;
        for line in text.lines() {
            if line.trim_end().ends_with("Commands:") {
                in_commands = true;
                continue;
            }
            if in_commands {
                match line.strip_prefix("  ") {
                    Some(rest) if !rest.starts_with(' ') && !rest.starts_with('-') => {
                        if let Some(name) = rest.split_whitespace().next() {
                            help.subcommands.insert(name.to_owned());
                        }
                        continue;
                    }
                    _ => in_commands = !line.trim().is_empty() && line.starts_with("    "),
                }
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            for (i, w) in words.iter().enumerate() {
                let w = w.trim_end_matches(',');
                let is_flag = (w.starts_with("--") && w.len() > 2)
                    || (w.len() == 2 && w.starts_with('-') && w != "--");
                if is_flag
                    && w.chars()
                        .skip(1)
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    let takes_value = words.get(i + 1).is_some_and(|n| n.starts_with('<'));
                    let entry = help.flags.entry(w.to_owned()).or_insert(false);
                    *entry |= takes_value;
                }
            }
        }
        help
    }
}

/// `program args... --help`, parsed.
fn help(program: &Path, args: &[&str]) -> Help {
    let out = Command::new(program)
        .args(args)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{} {args:?} --help: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?} --help failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Help::parse(&String::from_utf8_lossy(&out.stdout))
}

/// Checks the flags and arguments of a command against its help; returns
/// its positional arguments.
fn check_flags<'a>(at: &str, shown: &str, help: &Help, args: &'a [String]) -> Vec<&'a str> {
    let mut positional = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if !arg.starts_with('-') || arg == "-" {
            positional.push(arg.as_str());
            continue;
        }
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (arg.as_str(), None),
        };
        let takes_value = help
            .flags
            .get(flag)
            .unwrap_or_else(|| panic!("{at}: `{shown}` has no flag {flag}"));
        if *takes_value && inline_value.is_none() {
            let value = args
                .get(i)
                .unwrap_or_else(|| panic!("{at}: `{shown}` {flag} needs a value"));
            i += 1;
            if matches!(flag, "--key" | "--forge-body" | "--data-file" | "-F") {
                check_file(at, value);
            }
        }
    }
    positional
}

/// A file a command reads must exist, unless it is a placeholder.
fn check_file(at: &str, path: &str) {
    if !is_placeholder(path) {
        assert!(
            root().join(path).exists(),
            "{at}: {path} does not exist in the repository"
        );
    }
}

fn check_hookgate(at: &str, args: &[String]) {
    let cli = bin_dir().join("hookgate");
    assert!(
        cli.is_file(),
        "{} is missing: build it first (make test does)",
        cli.display()
    );
    let top = help(&cli, &[]);
    let sub = args
        .first()
        .unwrap_or_else(|| panic!("{at}: `hookgate` without a command"));
    assert!(
        top.subcommands.contains(sub),
        "{at}: hookgate has no command {sub:?} (it has {:?})",
        top.subcommands
    );
    let mut path = vec![sub.as_str()];
    let mut rest = &args[1..];
    let mut leaf_help = help(&cli, &path);
    if !leaf_help.subcommands.is_empty() {
        let leaf = rest
            .first()
            .unwrap_or_else(|| panic!("{at}: `hookgate {sub}` needs a subcommand"));
        assert!(
            leaf_help.subcommands.contains(leaf),
            "{at}: `hookgate {sub}` has no subcommand {leaf:?}"
        );
        path.push(leaf.as_str());
        rest = &rest[1..];
        leaf_help = help(&cli, &path);
    }
    let shown = format!("hookgate {}", path.join(" "));
    let positional = check_flags(at, &shown, &leaf_help, rest);
    if matches!(sub.as_str(), "send" | "event") {
        let [provider, payload] = positional[..] else {
            panic!("{at}: `{shown}` takes a provider and a payload file, got {positional:?}");
        };
        assert!(
            registered(provider).is_some(),
            "{at}: {provider:?} is not a provider"
        );
        check_file(at, payload);
    } else {
        assert!(
            positional.is_empty(),
            "{at}: `{shown}` takes no arguments, got {positional:?}"
        );
    }
}

/// The Makefile's targets and variables.
fn makefile() -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(root().join("Makefile")).expect("the Makefile");
    let mut targets = BTreeSet::new();
    let mut variables = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with('\t') || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once('=') {
            let name = name.trim_end_matches([':', '?', '+', ' ']);
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                variables.insert(name.to_owned());
                continue;
            }
        }
        if let Some((names, _)) = line.split_once(':') {
            targets.extend(
                names
                    .split_whitespace()
                    .filter(|n| !n.contains('$') && !n.starts_with('.'))
                    .map(str::to_owned),
            );
        }
    }
    (targets, variables)
}

fn check_make(at: &str, args: &[String]) {
    let (targets, variables) = makefile();
    assert!(!args.is_empty(), "{at}: `make` without a target");
    for arg in args {
        match arg.split_once('=') {
            Some((name, _)) => assert!(
                variables.contains(name),
                "{at}: the Makefile has no variable {name}"
            ),
            None => assert!(
                targets.contains(arg),
                "{at}: the Makefile has no target {arg:?} (it has {targets:?})"
            ),
        }
    }
}

fn check_cargo_lambda(at: &str, args: &[String]) {
    let bin = root().join(".venv/bin/cargo-lambda");
    assert!(
        bin.is_file(),
        "{} is missing: run `make setup` (make test does)",
        bin.display()
    );
    let sub = args
        .first()
        .unwrap_or_else(|| panic!("{at}: `cargo lambda` without a command"));
    let top = help(&bin, &["lambda"]);
    assert!(
        top.subcommands.contains(sub),
        "{at}: cargo lambda has no command {sub:?} (it has {:?})",
        top.subcommands
    );
    let shown = format!("cargo lambda {sub}");
    check_flags(
        at,
        &shown,
        &help(&bin, &["lambda", sub.as_str()]),
        &args[1..],
    );
}

/// Checks one command of a runnable block; commands of other programs
/// (`export`, `git`, `sha256sum`, ...) are left alone.
fn check_command(at: &str, words: &[String]) {
    match words {
        [program, args @ ..] if program == "hookgate" => check_hookgate(at, args),
        [program, args @ ..] if program == "make" => check_make(at, args),
        [cargo, lambda, args @ ..] if cargo == "cargo" && lambda == "lambda" => {
            check_cargo_lambda(at, args);
        }
        [script, ..] if script.starts_with("scripts/") => check_file(at, script),
        [python, script, ..] if python.starts_with("python") && script.starts_with("scripts/") => {
            check_file(at, script);
        }
        _ => {}
    }
}

#[test]
fn runnable_commands_exist_as_written() {
    let mut checked = 0;
    for page in pages() {
        for block in runnable_blocks(&page, &read(&page)) {
            for words in commands(&block.text) {
                check_command(&block.at, &words);
                checked += 1;
            }
        }
    }
    // The README's quickstart alone has more: the marker must be in use.
    assert!(checked >= 5, "only {checked} runnable commands found");
}

/// The block that computes an event id from a file gives the id the
/// functions compute, and the id it shows as its output.
#[test]
fn event_id_command_hashes_the_exact_bytes() {
    let page = Path::new("docs/operations.md");
    let blocks = runnable_blocks(page, &read(page));
    let block = blocks
        .iter()
        .find(|b| b.text.contains("sha256sum"))
        .unwrap_or_else(|| panic!("{}: no runnable block computes an event id", page.display()));
    let provider = REGISTRY
        .iter()
        .map(|r| r.slug)
        .find(|slug| block.text.contains(&format!("{slug}\\n")))
        .unwrap_or_else(|| panic!("{}: no `<provider>\\n` is hashed", block.at));
    let file = block
        .text
        .split(|c: char| c.is_whitespace() || "\"'();|{}".contains(c))
        .find(|w| w.starts_with("samples/"))
        .unwrap_or_else(|| panic!("{}: no file of samples/ is hashed", block.at));
    let body = std::fs::read(root().join(file)).expect("the hashed file");
    let want = event_id(provider, &body);

    assert_eq!(run_sh(&block.text), want, "{}: the command's id", block.at);
    assert!(
        block.text.contains(&format!("# {want}")),
        "{}: the output shown is not {want}",
        block.at
    );

    // The same command on a file that ends with a newline, which `$(cat
    // file)` would drop: the id must still be that of the exact bytes.
    let dir = std::env::temp_dir().join(format!("hookgate-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let copy = dir.join("with-newline.json");
    let mut with_newline = body.clone();
    with_newline.push(b'\n');
    std::fs::write(&copy, &with_newline).expect("the copy is written");
    let on_copy = block.text.replace(file, &copy.display().to_string());
    let got = run_sh(&on_copy);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        got,
        event_id(provider, &with_newline),
        "{}: the command drops bytes of a file that ends with a newline",
        block.at
    );
}

/// Runs a shell snippet in the repository root; the first word it prints.
fn run_sh(script: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(root())
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "`{script}` failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces
/// to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The lines of a page outside fenced blocks.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .map(|(i, line)| (i + 1, line))
        .collect()
}

/// Every anchor a page's headings make, repeats numbered as GitHub does.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        let Some(heading) = line.get(hashes..).filter(|_| (1..=6).contains(&hashes)) else {
            continue;
        };
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let n = seen.entry(base.clone()).or_insert(0);
        anchors.insert(if *n == 0 { base } else { format!("{base}-{n}") });
        *n += 1;
    }
    anchors
}

/// The targets of the inline links `[text](target)` on a line, code spans
/// left out.
fn links(line: &str) -> Vec<String> {
    let mut text = String::new();
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            text.push(c);
        }
    }
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            rest.find(')').map(|end| rest[..end].to_owned())
        })
        .collect()
}

#[test]
fn links_between_pages_resolve() {
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        let dir = page.parent().unwrap_or(Path::new(""));
        for (n, line) in prose(&text) {
            for target in links(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let at = format!("{}:{n}", page.display());
                let (file, anchor) = target.split_once('#').unwrap_or((target.as_str(), ""));
                let resolved = if file.is_empty() {
                    page.clone()
                } else {
                    normalize(&dir.join(file))
                };
                assert!(
                    root().join(&resolved).exists(),
                    "{at}: {target} names {}, which does not exist",
                    resolved.display()
                );
                if !anchor.is_empty() {
                    assert!(
                        resolved.extension().is_some_and(|e| e == "md"),
                        "{at}: {target} has an anchor into a file that is not a page"
                    );
                    let anchors = anchors(&read(&resolved));
                    assert!(
                        anchors.contains(anchor),
                        "{at}: {target}: {} has no heading #{anchor}",
                        resolved.display()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} links found");
}

/// `docs/../README.md` as `README.md`; a link may not leave the repository.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                assert!(out.pop(), "{} leaves the repository", path.display());
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn the_checkers_see_what_they_should() {
    // Quotes, continuations, comments, grouping and separators.
    let cmds = commands(
        "A=1 hookgate send redner 'a b' \\\n  --url \"http://x\"  # note\n{ printf 'p\\n'; cat f; } | sha256sum",
    );
    assert_eq!(
        cmds,
        [
            vec!["hookgate", "send", "redner", "a b", "--url", "http://x"],
            vec!["printf", "p\\n"],
            vec!["cat", "f"],
            vec!["sha256sum"],
        ]
    );
    assert_eq!(
        slug("The local stack: `make run`"),
        "the-local-stack-make-run"
    );
    assert_eq!(slug("sync.so"), "syncso");
    assert_eq!(
        slug("Retries: what the no-loss promise rests on"),
        "retries-what-the-no-loss-promise-rests-on"
    );
    let a = anchors("# A\n## A\n```\n# not a heading\n```\n### B c\n");
    assert_eq!(a, BTreeSet::from(["a", "a-1", "b-c"].map(String::from)));
    assert_eq!(links("see [x](a.md#b) and `[y](c.md)`"), ["a.md#b"]);
    let help = Help::parse(
        "Commands:\n  send  Send it\n  help  Help\n\nOptions:\n      --url <URL>  The URL\n      --json  Raw\n  -h, --help  Help\n",
    );
    assert_eq!(
        help.subcommands,
        BTreeSet::from(["send", "help"].map(String::from))
    );
    assert_eq!(help.flags.get("--url"), Some(&true));
    assert_eq!(help.flags.get("--json"), Some(&false));
    assert_eq!(help.flags.get("-h"), Some(&false));
    let (targets, variables) = makefile();
    assert!(targets.contains("test") && targets.contains("run"));
    assert!(variables.contains("FUZZ_SECONDS"));
}

/// A small count as the docs write it.
fn in_words(n: usize) -> &'static str {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    WORDS
        .get(n)
        .copied()
        .unwrap_or_else(|| panic!("{n} is more than the docs spell out"))
}

/// What the template declares, the docs describe: every parameter and
/// output in docs/deploy.md, every alarm in docs/operations.md's alarm
/// table, and the number of alarms, with and without the HTTP API, where
/// both pages state it.
#[test]
fn the_template_is_documented() {
    let t = crate::template::template();
    // Whitespace folded, so that rewrapping a paragraph changes nothing.
    let flat = |page: &str| {
        read(Path::new(page))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let deploy = flat("docs/deploy.md");
    let operations = flat("docs/operations.md");
    for section in ["Parameters", "Outputs"] {
        let names = t[section]
            .as_object()
            .unwrap_or_else(|| panic!("the template has {section}"));
        for name in names.keys() {
            assert!(
                deploy.contains(&format!("`{name}`")),
                "docs/deploy.md does not describe the template's {section} entry {name}"
            );
        }
    }
    let resources = t["Resources"].as_object().expect("Resources");
    let alarms: Vec<(&String, bool)> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(id, r)| (id, r.get("Condition").is_none()))
        .collect();
    for (id, _) in &alarms {
        assert!(
            operations.contains(&format!("| `{id}`")),
            "docs/operations.md's alarm table has no row for {id}"
        );
    }
    let all = in_words(alarms.len());
    let unconditional = in_words(alarms.iter().filter(|(_, always)| *always).count());
    let said = format!("{all} alarms ({unconditional} with `Front=FunctionUrl`");
    assert!(
        operations.contains(&said),
        "docs/operations.md does not say \"{said}\""
    );
    let said = format!("{all} CloudWatch alarms ({unconditional} with `Front=FunctionUrl`");
    assert!(
        deploy.contains(&said),
        "docs/deploy.md does not say \"{said}\""
    );
}
