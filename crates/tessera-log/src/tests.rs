//! The lines compared with `tracing_subscriber`'s own formats for the same events.

use super::*;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

/// Collects what is written, for one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[derive(Debug)]
struct Failure;
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the store is unreachable")
    }
}
impl std::error::Error for Failure {}

/// The same events each time: plain fields, a Display and a Debug value, a float, an error, a
/// raw identifier, inside two spans, and one outside any span.
fn events() {
    let outer = tracing::info_span!("request", id = 7_u64, path = "/oauth2/token");
    let _o = outer.enter();
    let inner = tracing::info_span!("grant");
    let _i = inner.enter();
    let remote: std::net::IpAddr = [127, 0, 0, 1].into();
    let err: &(dyn std::error::Error + 'static) = &Failure;
    tracing::info!(
        target: "tessera::token",
        grant = "client_credentials",
        client_id = %"billing",
        micros = 35_u64,
        delta = -3_i64,
        held = true,
        ratio = 0.5_f64,
        remote = %remote,
        scopes = ?["a.b.read", "c.d.write"],
        r#type = "jwt",
        error = err,
        "token issued"
    );
    drop(_i);
    drop(_o);
    tracing::warn!(target: "tessera::keys", "a key expires in {} days", 3);
}

/// The subscriber `init` installs for `format`, every level enabled, writing into `out`.
fn ours(format: Format, ansi: bool, out: &Captured) -> Dispatch {
    dispatch(EnvFilter::new("trace"), format, ansi, out.clone())
}

/// Lines of `events()` through `format` (ours), and through `tracing_subscriber`'s full or JSON
/// format, each without the time (compared separately).
fn both(json: bool) -> (String, String) {
    let mine = Captured::default();
    let theirs = Captured::default();
    let format = if json { Format::Json } else { Format::Text };
    tracing::dispatcher::with_default(&ours(format, false, &mine), events);
    if json {
        let s = tracing_subscriber::fmt()
            .with_writer(theirs.clone())
            .with_ansi(false)
            .json()
            .flatten_event(true)
            .finish();
        tracing::subscriber::with_default(s, events);
    } else {
        let s = tracing_subscriber::fmt()
            .with_writer(theirs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(s, events);
    }
    (mine.text(), theirs.text())
}

/// `2026-11-30T18:50:47.123456Z` at the start of `s`, then the rest.
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
fn text_lines_read_as_tracing_subscribers_full_format() {
    let (ours, theirs) = both(false);
    let ours: Vec<&str> = ours.lines().collect();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(theirs.len(), 2);
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(after_time(o), after_time(t));
    }
    assert_eq!(
        after_time(ours[0]),
        "  INFO request{id=7 path=\"/oauth2/token\"}:grant: tessera::token: token issued \
         grant=\"client_credentials\" client_id=billing micros=35 delta=-3 held=true ratio=0.5 \
         remote=127.0.0.1 scopes=[\"a.b.read\", \"c.d.write\"] type=\"jwt\" \
         error=the store is unreachable"
    );
    assert_eq!(
        after_time(ours[1]),
        "  WARN tessera::keys: a key expires in 3 days"
    );
}

#[test]
fn json_lines_hold_what_tracing_subscribers_json_format_holds() {
    let (ours, theirs) = both(true);
    let parse = |s: &str| -> Vec<serde_json::Value> {
        s.lines()
            .map(|l| serde_json::from_str(l).expect(l))
            .collect()
    };
    let (mut ours, mut theirs) = (parse(&ours), parse(&theirs));
    assert_eq!(ours.len(), 2);
    for (o, t) in ours.iter_mut().zip(theirs.iter_mut()) {
        let time = o["timestamp"].as_str().unwrap().to_owned();
        assert_eq!(after_time(&time), "");
        o.as_object_mut().unwrap().remove("timestamp");
        t.as_object_mut().unwrap().remove("timestamp");
    }
    assert_eq!(ours, theirs);
    assert_eq!(ours[0]["micros"], 35);
    assert_eq!(ours[0]["held"], true);
    assert_eq!(ours[0]["span"]["name"], "grant");
    assert_eq!(ours[0]["spans"][0]["id"], 7);
    assert!(ours[1].get("span").is_none());
}

#[test]
fn no_value_can_break_a_line_or_reach_the_terminal() {
    for json in [false, true] {
        let out = Captured::default();
        let forged = "x\n2026-01-01T00:00:00.000000Z  INFO tessera::token: token issued\u{1b}[2J";
        let log = || {
            let span = tracing::info_span!("s", display = %forged);
            let _s = span.enter();
            tracing::info!(target: "t", display = %forged, debug = ?forged, plain = forged, "{forged}");
        };
        // Text without colours (the level's would be escapes of our own); JSON with them on,
        // which must change nothing.
        let format = if json { Format::Json } else { Format::Text };
        tracing::dispatcher::with_default(&ours(format, json, &out), log);
        let text = out.text();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        if json {
            let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
            assert_eq!(v["display"], forged);
            assert_eq!(v["plain"], forged);
            assert_eq!(v["message"], forged);
            assert_eq!(v["span"]["display"], forged);
        }
    }
}

#[test]
fn the_level_is_coloured_only_for_a_terminal() {
    let out = Captured::default();
    tracing::dispatcher::with_default(&ours(Format::Text, true, &out), || {
        tracing::error!(target: "t", "down");
    });
    assert!(
        out.text().contains(" \u{1b}[31mERROR\u{1b}[0m t: down"),
        "{}",
        out.text()
    );
}

/// A value whose `Debug` logs an event of its own, while its line is being written.
struct Chatty;
impl std::fmt::Debug for Chatty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        tracing::info!(target: "inner", "from inside");
        f.write_str("chatty")
    }
}

#[test]
fn a_value_that_logs_while_its_line_is_written_leaves_whole_lines() {
    for format in [Format::Text, Format::Json] {
        let out = Captured::default();
        tracing::dispatcher::with_default(&ours(format, false, &out), || {
            tracing::info!(target: "outer", value = ?Chatty, "outside");
            tracing::info!(target: "after", "next");
        });
        // `tracing` drops the event logged inside another's dispatch; the lines around it are
        // whole, and the next line starts afresh.
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("outside") && lines[0].contains("chatty"),
            "{text}"
        );
        assert!(
            lines[1].contains("next") && !lines[1].contains("chatty"),
            "{text}"
        );
    }
}

/// A line written directly and the same event through the subscriber, with the time cut off.
fn direct_and_traced(
    format: Format,
    ansi: bool,
    message: &str,
    texts: [&str; 2],
    count: u64,
    thousandths: u64,
) -> (String, String) {
    use direct::Value;
    let mut mine = String::new();
    direct::write_line(
        &mut mine,
        format,
        ansi,
        tracing::Level::INFO,
        "tessera_gateway::access",
        message,
        &[
            ("route", Value::Str(texts[0])),
            ("status", Value::U64(count)),
            ("duration_ms", Value::Thousandths(thousandths)),
            ("path", Value::Str(texts[1])),
            ("client", Value::Shown(texts[1])),
        ],
    )
    .unwrap();
    let traced = Captured::default();
    tracing::dispatcher::with_default(&ours(format, ansi, &traced), || {
        tracing::info!(
            target: "tessera_gateway::access",
            route = texts[0],
            status = count,
            duration_ms = thousandths as f64 / 1e3,
            path = texts[1],
            client = %texts[1],
            "{message}"
        );
    });
    let cut = |line: &str| match format {
        Format::Text => after_time(line).to_owned(),
        Format::Json => {
            let at = line.find("\",\"level\"").unwrap();
            after_time(&line[14..at]).to_owned() + &line[at..]
        }
    };
    (cut(&mine), cut(&traced.text()))
}

#[test]
fn direct_lines_are_the_lines_the_subscriber_writes() {
    for format in [Format::Text, Format::Json] {
        for ansi in [false, true] {
            for (n, ms) in [
                (0, 0),
                (7, 7),
                (10, 10),
                (200, 100),
                (404, 1840),
                (502, 12_000),
                (u64::MAX, 123_456_789),
            ] {
                let texts = ["api", "/a \"b\"\\\n\u{1b}[2J\u{202e}é"];
                let (mine, traced) = direct_and_traced(format, ansi, "request", texts, n, ms);
                assert_eq!(mine, traced, "{format:?} {ms}");
                assert!(mine.ends_with('\n') && mine.lines().count() == 1, "{mine}");
            }
            let (mine, traced) = direct_and_traced(format, ansi, "forged\nline", ["", "-"], 1, 1);
            assert_eq!(mine, traced);
        }
    }
}

#[test]
fn nothing_is_written_directly_without_inits_subscriber() {
    // No test installs the process's subscriber: the caller is told to log through `tracing`.
    assert!(!direct::write(
        tracing::Level::INFO,
        "t",
        "m",
        &[("a", direct::Value::U64(1))]
    ));
}
