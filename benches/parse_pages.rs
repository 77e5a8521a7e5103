//! Benchmark: the client's parse of alert search pages alone, without network or TLS.
//!
//! ```text
//! cargo bench --bench parse_pages                 # 10 000 simulator alerts, 10 pages, 15 runs
//! cargo bench --bench parse_pages -- --runs 31
//! ```
//!
//! The simulator's generator (seed 20240607, as `fetch_alerts`) makes the alerts; they are
//! serialized into pages of 1 000 exactly as `socdeck sim` serves them. Each run parses every
//! page with [`PageReader`] into `AlertSummary`s, fed in 16 KB pieces (one TLS record each, as
//! the body arrives from hyper), then in one piece (the parse without the chunking), and then
//! as one whole body through serde_json alone (the route an unusual page takes). The minimum and median of the runs are printed: the
//! figures `fetch_alerts` cannot separate from the noise of two processes and a TLS stack.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use socdeck::cbc::model::{AlertPageInto, AlertSummary};
use socdeck::cbc::page::PageReader;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(15usize)
        .max(1);
    let pages = pages(10_000, 1000);
    let bytes: usize = pages.iter().map(Vec::len).sum();
    eprintln!(
        "parse_pages: {} pages, {:.1} MB of JSON, {runs} runs",
        pages.len(),
        bytes as f64 / 1e6
    );

    let streamed = measure(runs, || {
        let mut out: Vec<AlertSummary> = Vec::with_capacity(10_000);
        for page in &pages {
            let mut r = PageReader::new(&mut out);
            for chunk in page.chunks(16 * 1024) {
                r.feed(chunk).expect("page parses");
            }
            r.finish().expect("page parses");
        }
        out.len()
    });
    let one_chunk = measure(runs, || {
        let mut out: Vec<AlertSummary> = Vec::with_capacity(10_000);
        for page in &pages {
            let mut r = PageReader::new(&mut out);
            r.feed(page).expect("page parses");
            r.finish().expect("page parses");
        }
        out.len()
    });
    let whole = measure(runs, || {
        let mut out: Vec<AlertSummary> = Vec::with_capacity(10_000);
        for page in &pages {
            let text = std::str::from_utf8(page).expect("UTF-8");
            let mut de = serde_json::Deserializer::from_str(text);
            serde::de::DeserializeSeed::deserialize(AlertPageInto(&mut out), &mut de)
                .expect("page parses");
        }
        out.len()
    });
    for (name, (count, min, median)) in [
        ("streamed, 16 KB pieces", streamed),
        ("streamed, one piece", one_chunk),
        ("serde_json, whole body", whole),
    ] {
        println!(
            "{name:<22} {count} alerts  min {:>6.1} ms  median {:>6.1} ms  ({:.0} MB/s at the minimum)",
            ms(min),
            ms(median),
            bytes as f64 / 1e6 / min.as_secs_f64()
        );
    }
    ExitCode::SUCCESS
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `f` `runs` times (after one warm-up): its result, the minimum and the median time.
fn measure(runs: usize, mut f: impl FnMut() -> usize) -> (usize, Duration, Duration) {
    let count = f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let n = std::hint::black_box(f());
            assert_eq!(n, count);
            t.elapsed()
        })
        .collect();
    times.sort();
    (count, times[0], times[times.len() / 2])
}

/// `n` simulator alerts as pages of `rows`, serialized like the simulator's search response.
fn pages(n: usize, rows: usize) -> Vec<Vec<u8>> {
    use socdeck::sim::scenario::Generator;
    use socdeck::sim::world::StorySource;
    let now = jiff::Timestamp::now();
    let mut g = Generator::new_at(20_240_607, 1, n, now);
    let alerts: Vec<serde_json::Value> = g
        .backlog(now)
        .into_iter()
        .flat_map(|(_, story)| story.alerts)
        .map(serde_json::Value::Object)
        .collect();
    alerts
        .chunks(rows)
        .map(|page| {
            serde_json::to_vec(&serde_json::json!({
                "results": page,
                "num_found": alerts.len(),
                "num_available": alerts.len(),
            }))
            .expect("serializes")
        })
        .collect()
}
