//! Lines written by [`init`]'s pipeline (subscriber and non-blocking writer) into a writer of the
//! test's own.

use super::*;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};

/// Collects what is written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The lines `log` writes through the pipeline of `format` with the filter `filter`, once the
/// writer has written out everything (its guard dropped).
fn lines_with(filter: EnvFilter, format: Format, log: impl FnOnce()) -> Vec<String> {
    let out = Captured::default();
    let (dispatch, guard, _) = pipeline(filter, format, false, out.clone(), BUFFERED_LINES);
    tracing::dispatcher::with_default(&dispatch, log);
    drop(guard);
    out.text().lines().map(str::to_owned).collect()
}

fn lines(format: Format, log: impl FnOnce()) -> Vec<String> {
    lines_with(EnvFilter::new("trace"), format, log)
}

/// The gateway's access line, as `tessera_gateway::access_log` logs it.
fn access(path: &str) {
    tracing::info!(
        target: "tessera_gateway::access",
        route = "billing",
        method = "GET",
        path = path,
        status = 200_u16,
        duration_ms = 1.84_f64,
        upstream = "billing",
        retries = 0_u32,
        client = "127.0.0.1",
        reason = "-",
        "request"
    );
}

/// `2026-11-30T18:50:47.123456Z` (RFC 3339, UTC, microseconds) at the start of `s`, then the rest.
fn after_time(s: &str) -> &str {
    let (time, rest) = s.split_at(27);
    let b = time.as_bytes();
    assert!(
        b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[26] == b'Z',
        "not a time: {time}"
    );
    assert!(time[20..26].bytes().all(|c| c.is_ascii_digit()), "{time}");
    rest
}

#[test]
fn a_text_line_has_the_time_level_spans_target_message_and_fields() {
    let lines = lines(Format::Text, || {
        let span = tracing::info_span!("request", id = 7_u64);
        let _s = span.enter();
        tracing::info!(
            target: "tessera::token",
            grant = "client_credentials",
            client_id = "billing",
            expires_in = 600_u64,
            "token issued"
        );
        drop(_s);
        access("/billing/invoices");
    });
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        after_time(&lines[0]),
        "  INFO request{id=7}: tessera::token: token issued grant=\"client_credentials\" \
         client_id=\"billing\" expires_in=600"
    );
    assert_eq!(
        after_time(&lines[1]),
        "  INFO tessera_gateway::access: request route=\"billing\" method=\"GET\" \
         path=\"/billing/invoices\" status=200 duration_ms=1.84 upstream=\"billing\" retries=0 \
         client=\"127.0.0.1\" reason=\"-\""
    );
}

#[test]
fn a_json_line_has_the_time_level_message_fields_target_and_spans() {
    let lines = lines(Format::Json, || {
        let outer = tracing::info_span!("request", id = 7_u64);
        let _o = outer.enter();
        let inner = tracing::info_span!("grant", grant = "client_credentials");
        let _i = inner.enter();
        access("/billing/invoices");
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(after_time(v["timestamp"].as_str().unwrap()), "");
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["target"], "tessera_gateway::access");
    assert_eq!(v["message"], "request");
    assert_eq!(v["route"], "billing");
    assert_eq!(v["path"], "/billing/invoices");
    assert_eq!(v["status"], 200);
    assert_eq!(v["duration_ms"], 1.84);
    assert_eq!(v["retries"], 0);
    assert_eq!(v["span"]["name"], "grant");
    assert_eq!(v["span"]["grant"], "client_credentials");
    assert_eq!(v["spans"][0]["name"], "request");
    assert_eq!(v["spans"][0]["id"], 7);
    assert_eq!(v["spans"][1]["name"], "grant");
    // The event's fields are members of the line itself, not of a `fields` object.
    assert!(v.get("fields").is_none(), "{v}");
}

#[test]
fn a_control_character_in_a_field_value_cannot_break_a_line_or_reach_the_terminal() {
    let forged = "/a\n2026-01-01T00:00:00.000000Z  INFO tessera::token: token issued\r\t\u{1b}[2J\"\u{9b}\u{202e}";
    let text = lines(Format::Text, || access(forged));
    assert_eq!(text.len(), 1, "{text:?}");
    for c in ['\u{1b}', '\r', '\u{9b}', '\u{202e}'] {
        assert!(!text[0].contains(c), "{c:?} in {text:?}");
    }
    assert!(
        text[0].contains(r#"path="/a\n2026-01-01T00:00:00.000000Z  INFO tessera::token: token issued\r\t\u{1b}[2J\"\u{9b}\u{202e}""#),
        "{text:?}"
    );
    let json = lines(Format::Json, || access(forged));
    assert_eq!(json.len(), 1, "{json:?}");
    assert!(
        !json[0].contains('\u{1b}') && !json[0].contains('\r'),
        "{json:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    assert_eq!(v["path"], forged);
}

#[test]
fn terminal_escapes_in_the_message_are_neutralised() {
    let text = lines(Format::Text, || {
        tracing::warn!(target: "t", "refused {}", "\u{1b}[2J\u{7}");
    });
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(
        !text[0].contains('\u{1b}') && !text[0].contains('\u{7}'),
        "{text:?}"
    );
    assert!(
        after_time(&text[0]).ends_with(r"  WARN t: refused \x1b[2J\x07"),
        "{text:?}"
    );
}

#[test]
fn rust_log_wins_over_the_level_and_can_silence_the_access_lines() {
    let both = || {
        access("/a");
        tracing::info!(target: "tessera_gateway::reload", "configuration reloaded");
    };
    let filter = super::filter(Some("info,tessera_gateway::access=off"), "debug");
    let out = lines_with(filter, Format::Text, both);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].contains("configuration reloaded"), "{out:?}");

    let out = lines_with(super::filter(None, "warn"), Format::Text, both);
    assert!(out.is_empty(), "{out:?}");
    // A `RUST_LOG` that does not parse leaves the configured level in force.
    let out = lines_with(super::filter(Some("=[bad"), "info"), Format::Text, both);
    assert_eq!(out.len(), 2, "{out:?}");
    let out = lines_with(super::filter(None, "=[bad"), Format::Text, both);
    assert_eq!(out.len(), 2, "{out:?}");
}

/// A writer that blocks every write until its gate opens.
struct Gated {
    gate: Arc<(Mutex<bool>, Condvar)>,
    out: Captured,
}

impl Write for Gated {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let (open, opened) = &*self.gate;
        let mut open = open.lock().unwrap();
        while !*open {
            open = opened.wait(open).unwrap();
        }
        drop(open);
        self.out.write(data)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn lines_are_dropped_and_counted_when_the_writer_cannot_keep_up() {
    const SENT: usize = 50;
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let out = Captured::default();
    let writer = Gated {
        gate: Arc::clone(&gate),
        out: out.clone(),
    };
    let (dispatch, guard, dropped) =
        pipeline(EnvFilter::new("info"), Format::Text, false, writer, 2);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..SENT {
            tracing::info!(target: "t", i, "line");
        }
    });
    // At most one line in the writer and two waiting: the others were dropped as they came.
    let count = dropped.dropped_lines();
    assert!(count >= SENT - 3, "dropped {count}");

    // The count reaches the counter the `metrics` facade's recorder renders.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || dropped::publish(&dropped));
    let rendered = handle.render();
    assert!(
        rendered
            .lines()
            .any(|l| l == format!("{DROPPED_LINES_METRIC} {count}")),
        "{rendered}"
    );

    // Once the writer moves again, the lines kept are written out, and only those.
    {
        let (open, opened) = &*gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while out.text().lines().count() + count < SENT {
        assert!(
            std::time::Instant::now() < deadline,
            "lines kept never written: {}",
            out.text()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(guard);
    assert_eq!(out.text().lines().count() + count, SENT, "{}", out.text());
    assert_eq!(dropped.dropped_lines(), count);
}
