//! Whatever a runbook file holds, loading it never panics: every prefix of the bundled runbook,
//! and a few hostile values, give diagnostics or a runbook.

use std::io::Write;

#[test]
fn truncated_and_mangled_runbooks_never_panic() {
    let text = pushduty::templates::bundled_runbook().1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.toml");
    let mut cuts: Vec<usize> = (0..text.len()).step_by(53).collect();
    cuts.push(text.len());
    for cut in cuts {
        let Some(prefix) = text.get(..cut) else {
            continue;
        };
        std::fs::File::create(&path)
            .unwrap()
            .write_all(prefix.as_bytes())
            .unwrap();
        let _ = pushduty::runbook::load(Some(&path), &[]);
    }
    for hostile in [
        "",
        "\u{0}",
        "steps = 3",
        "steps = [1, 2]",
        "[[steps]]\nkind = 7",
        "name = \"x\"\n[schedule]\npush_day = 1",
        "[services.x]\nkind = []",
        "[repos]\nx = 1",
    ] {
        std::fs::write(&path, hostile).unwrap();
        assert!(
            pushduty::runbook::load(Some(&path), &[]).is_err(),
            "{hostile:?}"
        );
    }
}
