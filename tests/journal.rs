//! The journal (issue 4 §8) on real files in a temp dir: pragmas, permissions, durability
//! across reopen and across `kill -9`, outcome rules, audit order, concurrent writers, damaged
//! files and hostile strings.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jiff::{SignedDuration, Timestamp};
use socdeck::journal::{
    ActionKind, ActionRecord, Approval, BUSY_TIMEOUT, FILE_NAME, Intent, Journal, JournalError,
    JournalHandle, Outcome, OutcomeStatus, SCHEMA_VERSION,
};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn intent(at: &str, kind: ActionKind, target: &str) -> Intent {
    Intent {
        at: t(at),
        analyst: "yamada".into(),
        org_key: "ABCD1234".into(),
        kind,
        alert_id: Some("a1b2c3".into()),
        device_id: Some(4711),
        target: target.into(),
        params: "toggle=ON".into(),
        approval: None,
    }
}

fn outcome(at: &str, status: OutcomeStatus, detail: &str) -> Outcome {
    Outcome {
        at: t(at),
        status,
        detail: detail.into(),
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// A journal path two directories below a fresh temp dir (neither directory exists yet).
fn fresh() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("data").join("socdeck").join(FILE_NAME);
    (tmp, path)
}

#[test]
fn open_sets_wal_full_sync_foreign_keys_and_busy_timeout() {
    let (_tmp, path) = fresh();
    let j = Journal::open(&path).unwrap();
    let s = j.settings().unwrap();
    assert_eq!(s.journal_mode, "wal");
    assert_eq!(s.synchronous, 2, "2 is FULL");
    assert!(s.foreign_keys);
    assert_eq!(s.busy_timeout_ms, BUSY_TIMEOUT.as_millis() as i64);
    assert!(s.busy_timeout_ms >= 1000);
    assert_eq!(s.user_version, SCHEMA_VERSION);
    assert_eq!(
        SCHEMA_VERSION, 3,
        "v1 actions, v2 drafts, v3 outbox and calls"
    );
    // WAL is a property of the file: a foreign connection sees it too.
    let other = rusqlite::Connection::open(&path).unwrap();
    let m: String = other
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(m, "wal");
    assert_eq!(j.path(), path);
}

#[test]
fn creates_directories_0700_and_file_0600() {
    let (tmp, path) = fresh();
    let j = Journal::open(&path).unwrap();
    j.record_intent(&intent("2026-01-01T00:00:00Z", ActionKind::Note, "x"))
        .unwrap();
    assert_eq!(mode(&tmp.path().join("data")), 0o700);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&path), 0o600);
    // SQLite gives the WAL the database's mode; the WAL holds the same data.
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600);
}

#[test]
fn reopen_keeps_everything() {
    let (_tmp, path) = fresh();
    let mut i = intent(
        "2026-01-02T03:04:05.123456789Z",
        ActionKind::QuarantineOn,
        "PC-1 (4711)",
    );
    i.approval = Some(Approval {
        approver: "Taro Yamada".into(),
        channel: "phone".into(),
        at: t("2026-01-02T03:00:00Z"),
    });
    i.alert_id = None;
    let o = outcome("2026-01-02T03:04:09Z", OutcomeStatus::Succeeded, "job 77");
    let id = {
        let j = Journal::open(&path).unwrap();
        let id = j.record_intent(&i).unwrap();
        j.record_outcome(id, &o).unwrap();
        id
    };
    let j = Journal::open(&path).unwrap();
    let got = j.get(id).unwrap().expect("the action survives reopening");
    assert_eq!(
        got,
        ActionRecord {
            id,
            intent: i,
            outcome: Some(o)
        }
    );
    assert!(j.unresolved().unwrap().is_empty());
    assert_eq!(j.get(id + 1).unwrap(), None);
}

#[test]
fn intent_without_outcome_is_unresolved_after_reopen() {
    let (_tmp, path) = fresh();
    let (done, pending) = {
        let j = Journal::open(&path).unwrap();
        let done = j
            .record_intent(&intent("2026-01-01T00:00:00Z", ActionKind::Ban, "sha"))
            .unwrap();
        j.record_outcome(
            done,
            &outcome("2026-01-01T00:00:01Z", OutcomeStatus::Failed, "403"),
        )
        .unwrap();
        let pending = j
            .record_intent(&intent(
                "2026-01-01T00:01:00Z",
                ActionKind::QuarantineOn,
                "PC-1",
            ))
            .unwrap();
        (done, pending)
        // Dropped here without an outcome for `pending`: the process "died".
    };
    let j = Journal::open(&path).unwrap();
    let un = j.unresolved().unwrap();
    assert_eq!(un.len(), 1);
    assert_eq!(un[0].id, pending);
    assert_ne!(un[0].id, done);
    assert_eq!(un[0].outcome, None);
    assert!(un[0].is_unresolved());
    assert_eq!(un[0].intent.kind, ActionKind::QuarantineOn);
}

#[test]
fn unclear_then_reconciled_keeps_history() {
    let (_tmp, path) = fresh();
    let j = Journal::open(&path).unwrap();
    let id = j
        .record_intent(&intent(
            "2026-01-01T00:00:00Z",
            ActionKind::QuarantineOn,
            "PC",
        ))
        .unwrap();
    let unclear = outcome("2026-01-01T00:00:30Z", OutcomeStatus::Unclear, "timeout");
    j.record_outcome(id, &unclear).unwrap();
    let un = j.unresolved().unwrap();
    assert_eq!(un.len(), 1, "unclear is still unresolved");
    assert_eq!(
        un[0].outcome.as_ref().unwrap().status,
        OutcomeStatus::Unclear
    );

    // Unclear again is refused: only a final outcome may follow.
    let err = j
        .record_outcome(
            id,
            &outcome("2026-01-01T00:01:00Z", OutcomeStatus::Unclear, ""),
        )
        .unwrap_err();
    assert!(matches!(err, JournalError::OutcomeConflict { .. }), "{err}");

    let rec = outcome(
        "2026-01-01T00:05:00Z",
        OutcomeStatus::Reconciled,
        "device reports quarantined",
    );
    j.record_outcome(id, &rec).unwrap();
    assert!(j.unresolved().unwrap().is_empty());
    assert_eq!(j.get(id).unwrap().unwrap().outcome, Some(rec.clone()));
    assert_eq!(j.outcomes(id).unwrap(), vec![unclear, rec]);

    // A final outcome is final.
    let err = j
        .record_outcome(
            id,
            &outcome("2026-01-01T00:06:00Z", OutcomeStatus::Failed, ""),
        )
        .unwrap_err();
    match err {
        JournalError::OutcomeConflict { id: e, latest, new } => {
            assert_eq!(
                (e, latest, new),
                (id, OutcomeStatus::Reconciled, OutcomeStatus::Failed)
            );
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(j.outcomes(id).unwrap().len(), 2);
}

#[test]
fn second_outcome_after_a_final_one_is_refused() {
    let (_tmp, path) = fresh();
    let j = Journal::open(&path).unwrap();
    let id = j
        .record_intent(&intent("2026-01-01T00:00:00Z", ActionKind::Triage, "a1"))
        .unwrap();
    j.record_outcome(
        id,
        &outcome("2026-01-01T00:00:01Z", OutcomeStatus::Succeeded, ""),
    )
    .unwrap();
    let err = j
        .record_outcome(
            id,
            &outcome("2026-01-01T00:00:02Z", OutcomeStatus::Reconciled, ""),
        )
        .unwrap_err();
    assert!(matches!(err, JournalError::OutcomeConflict { .. }), "{err}");
    let err = j
        .record_outcome(
            9999,
            &outcome("2026-01-01T00:00:02Z", OutcomeStatus::Failed, ""),
        )
        .unwrap_err();
    assert!(matches!(err, JournalError::UnknownAction(9999)), "{err}");
}

#[test]
fn audit_is_newest_first_with_since_and_limit() {
    let (_tmp, path) = fresh();
    let j = Journal::open(&path).unwrap();
    // Written out of time order on purpose: audit orders by intent time, then id.
    let times = [
        "2026-01-01T10:00:00Z",
        "2026-01-01T08:00:00Z",
        "2026-01-01T12:00:00Z",
        "2026-01-01T12:00:00Z",
        "2026-01-01T09:00:00Z",
    ];
    let ids: Vec<i64> = times
        .iter()
        .enumerate()
        .map(|(n, at)| {
            j.record_intent(&intent(at, ActionKind::Note, &format!("n{n}")))
                .unwrap()
        })
        .collect();
    j.record_outcome(
        ids[0],
        &outcome("2026-01-01T10:00:01Z", OutcomeStatus::Succeeded, ""),
    )
    .unwrap();

    let all = j.audit(None, 100).unwrap();
    let order: Vec<i64> = all.iter().map(|r| r.id).collect();
    assert_eq!(order, vec![ids[3], ids[2], ids[0], ids[4], ids[1]]);
    assert_eq!(
        all[2].outcome.as_ref().unwrap().status,
        OutcomeStatus::Succeeded
    );
    assert_eq!(all[0].outcome, None);

    let since = j.audit(Some(t("2026-01-01T09:00:00Z")), 100).unwrap();
    let order: Vec<i64> = since.iter().map(|r| r.id).collect();
    assert_eq!(
        order,
        vec![ids[3], ids[2], ids[0], ids[4]],
        "since is inclusive"
    );

    let two = j.audit(None, 2).unwrap();
    assert_eq!(
        two.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[3], ids[2]]
    );
    assert!(j.audit(None, 0).unwrap().is_empty());
    assert!(
        j.audit(Some(t("2027-01-01T00:00:00Z")), 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn two_journals_on_one_file_from_two_threads_both_write() {
    let (_tmp, path) = fresh();
    Journal::open(&path).unwrap();
    const N: usize = 150;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let j = Journal::open(&path).unwrap();
                for n in 0..N {
                    let id = j
                        .record_intent(&intent(
                            "2026-01-01T00:00:00Z",
                            ActionKind::Note,
                            &format!("w{w}-{n}"),
                        ))
                        .unwrap_or_else(|e| panic!("writer {w} intent {n}: {e}"));
                    // Half the outcomes: exercises the immediate transaction under contention.
                    if n % 2 == 0 {
                        j.record_outcome(
                            id,
                            &outcome("2026-01-01T00:00:01Z", OutcomeStatus::Succeeded, ""),
                        )
                        .unwrap_or_else(|e| panic!("writer {w} outcome {n}: {e}"));
                    }
                    // Readers interleave with the writers.
                    j.unresolved().unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("no writer failed");
    }
    let j = Journal::open(&path).unwrap();
    let all = j.audit(None, 10 * N).unwrap();
    assert_eq!(all.len(), 2 * N);
    assert_eq!(j.unresolved().unwrap().len(), N);
    for w in 0..2 {
        assert_eq!(
            all.iter()
                .filter(|r| r.intent.target.starts_with(&format!("w{w}-")))
                .count(),
            N
        );
    }
}

#[test]
fn garbage_file_gives_a_clear_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("journal.db");
    // Deterministic noise, longer than SQLite's 100-byte header.
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    fs::write(&path, &bytes).unwrap();
    let err = Journal::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, JournalError::Open { .. }), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("move it aside"), "{msg}");
    // The damaged file is left as it was, for whoever investigates.
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn unreadable_location_gives_an_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let path = tmp.path().join("journal.db");
    fs::create_dir(&path).unwrap();
    let msg = Journal::open(&path).unwrap_err().to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    // A regular file where the directory should be.
    let blocker = tmp.path().join("file");
    fs::write(&blocker, "x").unwrap();
    let path = blocker.join("journal.db");
    let msg = Journal::open(&path).unwrap_err().to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

#[test]
fn newer_schema_is_refused() {
    let (_tmp, path) = fresh();
    Journal::open(&path).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let err = Journal::open(&path).unwrap_err();
    assert!(
        matches!(err, JournalError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn hostile_strings_round_trip_byte_exact() {
    let (_tmp, path) = fresh();
    let note: String =
        "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\0\u{202e}日本語\r\n".repeat(1 + (1 << 20) / 30);
    assert!(note.len() >= 1 << 20);
    let big_param = format!("level=High;{}", "p\0q".repeat(40_000));
    assert!(big_param.len() > 100_000);
    let hostile = Intent {
        at: t("2026-01-01T00:00:00Z"),
        analyst: "ana\0lyst\u{1b}[31m".into(),
        org_key: "ORG\u{0}KEY".into(),
        kind: ActionKind::Note,
        alert_id: Some("'); DROP TABLE actions; --".into()),
        device_id: Some(i64::MIN),
        target: note.clone(),
        params: big_param,
        approval: Some(Approval {
            approver: "\u{200b}\u{feff}".into(),
            channel: "".into(),
            at: t("1970-01-01T00:00:00Z"),
        }),
    };
    let out = outcome("2026-01-01T00:00:01Z", OutcomeStatus::Failed, &note);
    let id = {
        let j = Journal::open(&path).unwrap();
        let id = j.record_intent(&hostile).unwrap();
        j.record_outcome(id, &out).unwrap();
        id
    };
    let j = Journal::open(&path).unwrap();
    let got = j.get(id).unwrap().unwrap();
    assert!(got.intent == hostile, "intent changed on the way through");
    assert!(got.outcome.as_ref() == Some(&out), "outcome changed");
    assert_eq!(got.intent.target.as_bytes(), note.as_bytes());
    assert_eq!(
        j.audit(None, 10).unwrap().len(),
        1,
        "the table is still there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_handle_round_trip_from_clones() {
    let (_tmp, path) = fresh();
    let h = JournalHandle::open(path.clone()).await.unwrap();
    assert_eq!(h.path(), path);
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let h = h.clone();
            tokio::spawn(async move {
                let at =
                    Timestamp::from_second(1_767_225_600).unwrap() + SignedDuration::from_secs(n);
                let id = h
                    .intent(Intent {
                        at,
                        ..intent("2026-01-01T00:00:00Z", ActionKind::Take, "a")
                    })
                    .await
                    .unwrap();
                if n % 2 == 1 {
                    h.outcome(
                        id,
                        outcome("2026-01-01T00:10:00Z", OutcomeStatus::Succeeded, "ok"),
                    )
                    .await
                    .unwrap();
                }
                id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    let audit = h.audit(None, 100).await.unwrap();
    assert_eq!(audit.len(), 8);
    assert!(audit.windows(2).all(|w| w[0].intent.at >= w[1].intent.at));
    assert_eq!(h.unresolved().await.unwrap().len(), 4);
    let err = h
        .outcome(
            ids[1],
            outcome("2026-01-01T00:11:00Z", OutcomeStatus::Failed, ""),
        )
        .await;
    assert!(matches!(err, Err(JournalError::OutcomeConflict { .. })));
}

// ---------------------------------------------------------------------------------------------
// kill -9 between intent and outcome

const CHILD_ENV: &str = "SOCDECK_JOURNAL_TEST_CHILD";
const MARK: &str = "socdeck-intent-recorded ";

/// Not a test of its own: [`intent_survives_sigkill_before_outcome`] runs the test binary again
/// with only this function selected. It records an intent, says so, and waits to be killed.
#[test]
#[ignore = "helper: run as a child process by intent_survives_sigkill_before_outcome"]
fn child_records_intent_then_waits_to_be_killed() {
    let path = std::env::var(CHILD_ENV).expect("run by the parent test");
    let j = Journal::open(Path::new(&path)).unwrap();
    let id = j
        .record_intent(&intent(
            "2026-01-01T00:00:00Z",
            ActionKind::QuarantineOn,
            "PC-9 (9)",
        ))
        .unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{MARK}{id}").unwrap();
    out.flush().unwrap();
    drop(out);
    // Never reaches an outcome; the journal stays open until SIGKILL.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[test]
fn intent_survives_sigkill_before_outcome() {
    let (_tmp, path) = fresh();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_records_intent_then_waits_to_be_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut id = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints "test NAME ... " on the same line before the marker.
        if let Some(at) = line.find(MARK) {
            id = Some(line[at + MARK.len()..].trim().parse::<i64>().unwrap());
            break;
        }
    }
    let id = id.expect("the child recorded an intent");
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no SQLite close.
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "the child died of SIGKILL");

    let j = Journal::open(&path).unwrap();
    let un = j.unresolved().unwrap();
    assert_eq!(un.len(), 1);
    assert_eq!(un[0].id, id);
    assert_eq!(un[0].intent.target, "PC-9 (9)");
    assert_eq!(un[0].outcome, None);
    // And it can now be reconciled.
    j.record_outcome(
        id,
        &outcome(
            "2026-01-01T00:05:00Z",
            OutcomeStatus::Reconciled,
            "quarantined",
        ),
    )
    .unwrap();
    assert!(j.unresolved().unwrap().is_empty());
}
