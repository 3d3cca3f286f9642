//! Replays every file of `fuzz/corpus/<target>/` through its target's
//! checks, so `cargo test` on stable runs what the fuzzers found.

use std::path::Path;

#[test]
fn every_corpus_replays() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut failed = Vec::new();
    for (name, check) in hookgate_fuzz_logic::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} holds no corpus", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            if outcome.is_err() {
                failed.push(format!("{name}/{}", file.file_name().unwrap().display()));
            }
        }
    }
    assert!(failed.is_empty(), "failing corpus files: {failed:#?}");
}

#[test]
fn every_target_has_a_fuzz_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz_targets");
    for (name, _) in hookgate_fuzz_logic::TARGETS {
        let path = dir.join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            text.contains(&format!("hookgate_fuzz_logic::{name}(")),
            "{name}"
        );
    }
}
