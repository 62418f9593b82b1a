//! `CONCORD_DB_KEY` / `--db-key-file` and `concord rekey` as an operator uses them.

use std::process::{Command, Output};

use super::BIN;

fn concord(args: &[&str], env_key: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("CONCORD_DATABASE_URL")
        .env_remove("CONCORD_DB_KEY_FILE");
    match env_key {
        Some(k) => c.env("CONCORD_DB_KEY", k),
        None => c.env_remove("CONCORD_DB_KEY"),
    };
    c.output().expect("run concord")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn keyed_database_opens_only_with_its_key_and_rekey_rotates_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let migrate = ["migrate", "--data-dir", data];
    let out = concord(&migrate, Some("first secret passphrase"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("encrypted"), "{}", text(&out));
    let db = std::fs::read(dir.path().join("data/concord.db")).unwrap();
    assert!(!db.windows(15).any(|w| w == b"SQLite format 3"));
    // Without the key, or with another: refused with a clear message.
    let out = concord(&migrate, None);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("the file is encrypted"),
        "{}",
        text(&out)
    );
    let out = concord(&migrate, Some("another passphrase"));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("the database key is wrong"),
        "{}",
        text(&out)
    );
    // Rotate to a raw key from a file.
    let new_key = dir.path().join("new.key");
    std::fs::write(
        &new_key,
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
    )
    .unwrap();
    let new_key = new_key.to_str().unwrap();
    let out = concord(
        &["rekey", "--data-dir", data, "--new-key-file", new_key],
        Some("first secret passphrase"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = concord(
        &["migrate", "--data-dir", data, "--db-key-file", new_key],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = concord(&migrate, Some("first secret passphrase"));
    assert!(!out.status.success(), "the old key no longer opens it");
    // Both ways of giving a key at once is a mistake.
    let out = concord(
        &["migrate", "--data-dir", data, "--db-key-file", new_key],
        Some("x"),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("not both"), "{}", text(&out));
}
