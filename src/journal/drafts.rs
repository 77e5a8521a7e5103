//! Report drafts in the journal: one row per (org, alert, report kind), replaced on every save,
//! so a crash, a dropped SSH link or `kill -9` loses at most the autosave window.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Journal, JournalError, JournalHandle};

pub(super) const MIGRATION: &str = "CREATE TABLE drafts (
        org_key    TEXT    NOT NULL,
        alert_id   TEXT    NOT NULL,
        kind       TEXT    NOT NULL,
        text       TEXT    NOT NULL,
        saved_ns   INTEGER NOT NULL,
        PRIMARY KEY (org_key, alert_id, kind)
     );";

/// A saved draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub org_key: String,
    pub alert_id: String,
    /// `first` or `second`.
    pub kind: String,
    pub text: String,
    pub saved: Timestamp,
}

impl Journal {
    /// Saves (replaces) a draft; durable when it returns.
    pub fn save_draft(
        &self,
        org_key: &str,
        alert_id: &str,
        kind: &str,
        text: &str,
        at: Timestamp,
    ) -> Result<(), JournalError> {
        let at = super::to_ns(at)?;
        self.conn
            .execute(
                "INSERT INTO drafts (org_key, alert_id, kind, text, saved_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (org_key, alert_id, kind)
                 DO UPDATE SET text = excluded.text, saved_ns = excluded.saved_ns",
                params![org_key, alert_id, kind, text, at],
            )
            .map(drop)
            .map_err(self.sql())
    }

    pub fn load_draft(
        &self,
        org_key: &str,
        alert_id: &str,
        kind: &str,
    ) -> Result<Option<Draft>, JournalError> {
        self.conn
            .query_row(
                "SELECT text, saved_ns FROM drafts
                 WHERE org_key = ?1 AND alert_id = ?2 AND kind = ?3",
                params![org_key, alert_id, kind],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map_err(self.sql())
            .map(|o| {
                o.map(|(text, saved)| Draft {
                    org_key: org_key.into(),
                    alert_id: alert_id.into(),
                    kind: kind.into(),
                    text,
                    saved: super::from_ns(saved),
                })
            })
    }

    pub fn discard_draft(
        &self,
        org_key: &str,
        alert_id: &str,
        kind: &str,
    ) -> Result<(), JournalError> {
        self.conn
            .execute(
                "DELETE FROM drafts WHERE org_key = ?1 AND alert_id = ?2 AND kind = ?3",
                params![org_key, alert_id, kind],
            )
            .map(drop)
            .map_err(self.sql())
    }
}

impl JournalHandle {
    /// [`Journal::save_draft`] on the calling thread: used on the way out of the process
    /// (a signal), where the runtime will not wait for a task.
    pub fn save_draft_now(
        &self,
        org_key: &str,
        alert_id: &str,
        kind: &str,
        text: &str,
        at: Timestamp,
    ) -> Result<(), JournalError> {
        super::lock(&self.inner).save_draft(org_key, alert_id, kind, text, at)
    }

    pub async fn save_draft(
        &self,
        org_key: String,
        alert_id: String,
        kind: &'static str,
        text: String,
        at: Timestamp,
    ) -> Result<(), JournalError> {
        self.run(move |j| j.save_draft(&org_key, &alert_id, kind, &text, at))
            .await
    }

    pub async fn load_draft(
        &self,
        org_key: String,
        alert_id: String,
        kind: &'static str,
    ) -> Result<Option<Draft>, JournalError> {
        self.run(move |j| j.load_draft(&org_key, &alert_id, kind))
            .await
    }

    pub async fn discard_draft(
        &self,
        org_key: String,
        alert_id: String,
        kind: &'static str,
    ) -> Result<(), JournalError> {
        self.run(move |j| j.discard_draft(&org_key, &alert_id, kind))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_replaced_reloaded_and_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let t: Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        {
            let j = Journal::open(&path).unwrap();
            assert_eq!(j.load_draft("O", "a", "first").unwrap(), None);
            j.save_draft("O", "a", "first", "一報 v1", t).unwrap();
            j.save_draft("O", "a", "first", "一報 v2\u{1b}[2J", t)
                .unwrap();
            j.save_draft("O", "a", "second", "二報", t).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let d = j.load_draft("O", "a", "first").unwrap().unwrap();
        assert_eq!((d.text.as_str(), d.saved), ("一報 v2\u{1b}[2J", t));
        j.discard_draft("O", "a", "first").unwrap();
        assert_eq!(j.load_draft("O", "a", "first").unwrap(), None);
        assert!(j.load_draft("O", "a", "second").unwrap().is_some());
    }
}
