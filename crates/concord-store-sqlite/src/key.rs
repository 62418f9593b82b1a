//! Encryption at rest with SQLCipher (rusqlite's `bundled-sqlcipher`: the
//! SQLCipher 4 amalgamation, AES-256-CBC pages with HMAC-SHA512, crypto from
//! the system's libcrypto). Without a key the database is an ordinary SQLite
//! file. A key is either 64 hex digits (a raw 256-bit key, used as is) or a
//! passphrase (SQLCipher derives the key with PBKDF2-HMAC-SHA512, 256,000
//! iterations, on every connection it opens).

use std::path::{Path, PathBuf};

use concord_store::{StoreError, StoreResult};
use rusqlite::Connection;

/// A database key. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct DbKey(String);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(…)")
    }
}

impl DbKey {
    /// A key from its text (surrounding whitespace, e.g. a key file's
    /// newline, is dropped). Empty text is refused.
    pub fn new(text: &str) -> Result<DbKey, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("the database key is empty".into());
        }
        Ok(DbKey(t.to_string()))
    }

    /// Whether it is a raw 256-bit key (64 hex digits).
    pub fn is_raw(&self) -> bool {
        self.0.len() == 64 && self.0.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The value of `PRAGMA key` / `PRAGMA rekey`.
    fn pragma_value(&self) -> String {
        if self.is_raw() {
            format!("x'{}'", self.0)
        } else {
            self.0.clone()
        }
    }
}

fn unreadable(path: &Path, keyed: bool) -> StoreError {
    let hint = if keyed {
        "the database key is wrong, or the file is not an encrypted Concord database"
    } else {
        "the file is encrypted (give its key: CONCORD_DB_KEY or --db-key-file) or is not a database"
    };
    StoreError::Backend(format!("cannot read {}: {hint}", path.display()))
}

/// Applies the key to a fresh connection (before anything else) and checks
/// the file can be read with it.
pub(crate) fn apply(conn: &Connection, path: &Path, key: Option<&DbKey>) -> StoreResult<()> {
    if let Some(k) = key {
        conn.pragma_update(None, "key", k.pragma_value())
            .map_err(|_| unreadable(path, true))?;
    }
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|_| ())
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            unreadable(path, key.is_some())
        }
        other => crate::error::backend(other),
    })
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Changes the key of the database at `path` (the server must be stopped):
/// encrypted → encrypted in place with `PRAGMA rekey`; plain → encrypted
/// and encrypted → plain by copying into a new file with `sqlcipher_export`
/// and renaming it over the old one once it opens with the new key.
pub fn rekey(path: &Path, old: Option<&DbKey>, new: Option<&DbKey>) -> StoreResult<()> {
    let conn = Connection::open(path).map_err(crate::error::backend)?;
    apply(&conn, path, old)?;
    // One file (no WAL) while the pages are rewritten.
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .map_err(crate::error::backend)?;
    match (old, new) {
        (Some(_), Some(n)) => {
            conn.pragma_update(None, "rekey", n.pragma_value())
                .map_err(crate::error::backend)?;
            drop(conn);
        }
        (None, None) => return Ok(()),
        _ => {
            let tmp: PathBuf = path.with_extension("db.rekey");
            let _ = std::fs::remove_file(&tmp);
            let target = tmp
                .to_str()
                .ok_or_else(|| StoreError::Backend("the database path is not UTF-8".into()))?;
            let key = new.map(DbKey::pragma_value).unwrap_or_default();
            conn.execute_batch(&format!(
                "ATTACH DATABASE {} AS rekeyed KEY {}; SELECT sqlcipher_export('rekeyed'); DETACH DATABASE rekeyed;",
                sql_text(target),
                sql_text(&key)
            ))
            .map_err(crate::error::backend)?;
            drop(conn);
            let check = Connection::open(&tmp).map_err(crate::error::backend)?;
            apply(&check, &tmp, new)?;
            drop(check);
            std::fs::rename(&tmp, path)
                .map_err(|e| StoreError::Backend(format!("cannot replace the database: {e}")))?;
        }
    }
    let check = Connection::open(path).map_err(crate::error::backend)?;
    apply(&check, path, new)
}
