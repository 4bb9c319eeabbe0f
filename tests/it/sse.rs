//! The SSE decoder against every rule of the WHATWG event-stream interpretation; every input is
//! also fed split at every byte position, byte by byte, and in random chunks, and must give the
//! same events.

use managed_agents::sse::{Decoder, EventReader, SseError};
use std::time::Duration;

/// (event type, data, last event id, retry in ms)
type Ev = (String, String, String, Option<u64>);

fn collect(d: &mut Decoder, out: &mut Vec<Ev>) {
    while let Some(ev) = d.next_event() {
        let ev = ev.unwrap();
        out.push((
            ev.event().to_string(),
            ev.data().to_string(),
            ev.last_event_id().to_string(),
            ev.retry().map(|r| r.as_millis() as u64),
        ));
    }
}

fn decode_chunks(chunks: &[&[u8]]) -> Vec<Ev> {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        collect(&mut d, &mut out);
    }
    // the zero-copy path gives exactly the same events
    let mut z = Decoder::new();
    let mut zero_copy = Vec::new();
    for c in chunks {
        z.decode(c, |ev| {
            let ev = ev.unwrap();
            zero_copy.push((
                ev.event().to_string(),
                ev.data().to_string(),
                ev.last_event_id().to_string(),
                ev.retry().map(|r| r.as_millis() as u64),
            ));
        });
    }
    assert_eq!(zero_copy, out, "decode() and feed() disagree on {chunks:?}");
    // and so does the reader's borrowing path, reading one chunk at a time
    let mut r = EventReader::new(Chunks(chunks.iter().map(|c| c.to_vec()).collect()));
    let mut borrowed = Vec::new();
    while let Some(ev) = r.next_ref() {
        let ev = ev.unwrap();
        borrowed.push((
            ev.event().to_string(),
            ev.data().to_string(),
            ev.last_event_id().to_string(),
            ev.retry().map(|r| r.as_millis() as u64),
        ));
    }
    assert_eq!(
        borrowed, out,
        "next_ref() and feed() disagree on {chunks:?}"
    );
    out
}

/// A reader that hands out the given chunks, one per read.
struct Chunks(std::collections::VecDeque<Vec<u8>>);
impl std::io::Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(mut c) = self.0.pop_front() else {
            return Ok(0);
        };
        if c.is_empty() {
            return self.read(buf);
        }
        let n = c.len().min(buf.len());
        buf[..n].copy_from_slice(&c[..n]);
        if n < c.len() {
            self.0.push_front(c.split_off(n));
        }
        Ok(n)
    }
}

/// The specification's algorithm written as plainly as possible, on a whole input, as an
/// independent oracle: split into lines, then process each line as the standard says.
fn oracle(input: &[u8]) -> Vec<Ev> {
    let text =
        String::from_utf8_lossy(input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input)).into_owned();
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    let mut ended = false;
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut cur));
                ended = true;
            }
            '\n' => {
                lines.push(std::mem::take(&mut cur));
                ended = true;
            }
            c => {
                cur.push(c);
                ended = false;
            }
        }
    }
    let _ = ended; // an unfinished last line is never processed
    let (mut event, mut data, mut id, mut retry) =
        (String::new(), String::new(), String::new(), None);
    let mut out = Vec::new();
    for line in lines {
        if line.is_empty() {
            if data.is_empty() {
                event.clear();
                continue;
            }
            data.pop(); // the trailing LF
            let kind = if event.is_empty() {
                "message".to_string()
            } else {
                event.clone()
            };
            out.push((kind, std::mem::take(&mut data), id.clone(), retry));
            event.clear();
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match name {
            "event" => event = value.to_string(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id = value.to_string(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                retry = Some(value.parse::<u64>().unwrap_or(u64::MAX));
            }
            _ => {}
        }
    }
    out
}

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Decodes `input` whole, split at every position, byte by byte and in random chunks; all must agree.
fn decode(input: &[u8]) -> Vec<Ev> {
    let whole = decode_chunks(&[input]);
    assert_eq!(
        whole,
        oracle(input),
        "the decoder and the oracle disagree on {input:?}"
    );
    for i in 0..=input.len() {
        assert_eq!(
            decode_chunks(&[&input[..i], &input[i..]]),
            whole,
            "split at {i} of {:?}",
            String::from_utf8_lossy(input)
        );
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(decode_chunks(&bytes), whole, "byte by byte");
    let mut rng = Rng(0x9E3779B97F4A7C15 ^ input.len() as u64);
    for _ in 0..50 {
        let mut chunks = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let n = 1 + (rng.next() % 7) as usize;
            let n = n.min(rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        assert_eq!(decode_chunks(&chunks), whole, "random chunks");
    }
    whole
}

fn ev(event: &str, data: &str, id: &str, retry: Option<u64>) -> Ev {
    (event.into(), data.into(), id.into(), retry)
}

#[test]
fn line_ends_lf_cr_crlf_and_mixed() {
    let want = vec![
        ev("message", "a", "", None),
        ev("message", "b", "", None),
        ev("message", "c", "", None),
    ];
    assert_eq!(decode(b"data: a\n\ndata: b\n\ndata: c\n\n"), want);
    assert_eq!(decode(b"data: a\r\rdata: b\r\rdata: c\r\r"), want);
    assert_eq!(
        decode(b"data: a\r\n\r\ndata: b\r\n\r\ndata: c\r\n\r\n"),
        want
    );
    assert_eq!(decode(b"data: a\r\n\ndata: b\r\rdata: c\n\r\n"), want);
}

#[test]
fn a_cr_then_lf_in_the_next_read_is_one_line_end() {
    // if the LF were a second line end, it would dispatch "x" early and lose nothing, but then
    // `data: y` would join a different event: check the events are exactly two
    let out = decode_chunks(&[b"data: x\r", b"\ndata: y\n\n"]);
    assert_eq!(out, vec![ev("message", "x\ny", "", None)]);
}

#[test]
fn a_leading_bom_is_skipped_once() {
    assert_eq!(
        decode(b"\xEF\xBB\xBFdata: a\n\n"),
        vec![ev("message", "a", "", None)]
    );
    // a second BOM is part of the field name, which is then unknown
    assert_eq!(
        decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n"),
        vec![ev("message", "b", "", None)]
    );
}

#[test]
fn comments_are_ignored() {
    assert_eq!(
        decode(b": heartbeat\n:\ndata: a\n: inside\n\n"),
        vec![ev("message", "a", "", None)]
    );
    // a comment alone dispatches nothing
    assert_eq!(decode(b": ping\n\n: ping\n\n"), vec![]);
}

#[test]
fn a_field_without_colon_has_an_empty_value() {
    assert_eq!(decode(b"data\n\n"), vec![ev("message", "", "", None)]);
    assert_eq!(
        decode(b"data\ndata\n\n"),
        vec![ev("message", "\n", "", None)]
    );
    assert_eq!(
        decode(b"event\ndata: a\n\n"),
        vec![ev("message", "a", "", None)]
    );
}

#[test]
fn exactly_one_leading_space_is_stripped() {
    assert_eq!(decode(b"data:a\n\n"), vec![ev("message", "a", "", None)]);
    assert_eq!(decode(b"data: a\n\n"), vec![ev("message", "a", "", None)]);
    assert_eq!(
        decode(b"data:  a \n\n"),
        vec![ev("message", " a ", "", None)]
    );
    assert_eq!(
        decode(b"data:\ta\n\n"),
        vec![ev("message", "\ta", "", None)]
    );
    assert_eq!(
        decode(b"data: a: b\n\n"),
        vec![ev("message", "a: b", "", None)]
    );
}

#[test]
fn data_lines_are_joined_with_lf() {
    assert_eq!(
        decode(b"data: a\ndata: b\ndata:\ndata: c\n\n"),
        vec![ev("message", "a\nb\n\nc", "", None)]
    );
}

#[test]
fn the_event_type_defaults_to_message_and_resets_after_dispatch() {
    assert_eq!(
        decode(b"event: add\ndata: 1\n\ndata: 2\n\nevent: x\n\ndata: 3\n\n"),
        vec![
            ev("add", "1", "", None),
            ev("message", "2", "", None),
            ev("message", "3", "", None)
        ]
    );
    assert_eq!(
        decode(b"event:\ndata: a\n\n"),
        vec![ev("message", "a", "", None)]
    );
}

#[test]
fn the_last_event_id_carries_over_and_ignores_nul() {
    assert_eq!(
        decode(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n"),
        vec![
            ev("message", "a", "1", None),
            ev("message", "b", "1", None),
            ev("message", "c", "1", None),
            ev("message", "d", "", None)
        ]
    );
    // an id set without data still counts for later events
    assert_eq!(
        decode(b"id: 7\n\ndata: a\n\n"),
        vec![ev("message", "a", "7", None)]
    );
}

#[test]
fn retry_is_taken_only_when_all_ascii_digits() {
    assert_eq!(
        decode(b"retry: 1500\ndata: a\n\n"),
        vec![ev("message", "a", "", Some(1500))]
    );
    assert_eq!(
        decode(b"retry: 1500\nretry: 15x\nretry: -1\nretry:\nretry:  2\ndata: a\n\n"),
        vec![ev("message", "a", "", Some(1500))]
    );
}

#[test]
fn unknown_fields_are_ignored() {
    assert_eq!(
        decode(b"foo: bar\nDATA: x\ndata: a\n\n"),
        vec![ev("message", "a", "", None)]
    );
}

#[test]
fn an_unfinished_event_at_the_end_is_not_dispatched() {
    assert_eq!(
        decode(b"data: a\n\ndata: b\n"),
        vec![ev("message", "a", "", None)]
    );
    assert_eq!(
        decode(b"data: a\n\ndata: b"),
        vec![ev("message", "a", "", None)]
    );
    let r: Vec<_> = EventReader::new(&b"data: a\n\ndata: b\n"[..])
        .map(|e| e.unwrap().into_data())
        .collect();
    assert_eq!(r, ["a"]);
}

#[test]
fn invalid_utf8_is_replaced() {
    assert_eq!(
        decode(b"data: a\xFFb\n\n"),
        vec![ev("message", "a\u{FFFD}b", "", None)]
    );
    assert_eq!(
        decode(b"data: \xE2\x82\n\n"),
        vec![ev("message", "\u{FFFD}", "", None)]
    );
    assert_eq!(
        decode("data: héllo €\n\n".as_bytes()),
        vec![ev("message", "héllo €", "", None)]
    );
}

#[test]
fn lines_and_events_over_their_limits_are_errors() {
    let mut d = Decoder::with_limits(16, 1024);
    d.feed(b"data: 0123456789abcdef\n\n");
    assert!(matches!(
        d.next_event(),
        Some(Err(SseError::LineTooLong { limit: 16 }))
    ));
    assert!(d.next_event().is_none(), "spent after an error");

    // a line with no end yet is refused as soon as it passes the limit
    let mut d = Decoder::with_limits(16, 1024);
    d.feed(&[b'x'; 17]);
    assert!(matches!(
        d.next_event(),
        Some(Err(SseError::LineTooLong { .. }))
    ));

    let mut d = Decoder::with_limits(64, 10);
    d.feed(b"data: 12345\ndata: 67890\n\n");
    assert!(matches!(
        d.next_event(),
        Some(Err(SseError::EventTooLarge { limit: 10 }))
    ));
}

#[test]
fn the_reader_yields_events_and_read_errors() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                self.0 += 1;
                let b = b"data: first\n\n";
                buf[..b.len()].copy_from_slice(b);
                Ok(b.len())
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset",
                ))
            }
        }
    }
    let mut r = EventReader::new(Failing(0));
    assert_eq!(r.next().unwrap().unwrap().data(), "first");
    assert!(matches!(r.next(), Some(Err(SseError::Io(_)))));
    assert!(r.next().is_none());
}

#[test]
fn random_streams_decode_the_same_however_they_are_cut() {
    let pieces: [&[u8]; 14] = [
        b"data: x",
        b"data",
        b":",
        b" ",
        b"\n",
        b"\r",
        b"\r\n",
        b"event: e",
        b"id: 1",
        b": c",
        b"retry: 9",
        b"\xEF\xBB\xBF",
        "é".as_bytes(),
        b"\xFF",
    ];
    let mut rng = Rng(42);
    for _ in 0..300 {
        let mut input = Vec::new();
        for _ in 0..(rng.next() % 30) {
            input.extend_from_slice(pieces[(rng.next() % pieces.len() as u64) as usize]);
        }
        decode(&input);
    }
}

#[test]
fn retry_values_are_durations() {
    let mut d = Decoder::new();
    d.feed(b"retry: 250\ndata: a\n\n");
    assert_eq!(
        d.next_event().unwrap().unwrap().retry(),
        Some(Duration::from_millis(250))
    );
}

#[test]
fn bytes_fed_and_not_yet_read_come_before_a_decoded_chunk() {
    let mut d = Decoder::new();
    d.feed(b"data: a\n\ndata: b");
    let mut got = Vec::new();
    d.decode(b"c\n\ndata: d\n\n", |ev| {
        got.push(ev.unwrap().data().to_string())
    });
    assert_eq!(got, ["a", "bc", "d"]);
    assert!(d.next_event().is_none());
}

#[test]
fn a_retry_in_a_frame_without_data_is_the_reconnection_time() {
    // nothing is dispatched, yet the stream's reconnection time is set, on every path
    let input = b"retry: 4000\n\n: keep-alive\n\nretry: 5000\nevent: ping\n\n";
    let mut d = Decoder::new();
    d.feed(input);
    assert!(d.next_event().is_none());
    assert_eq!(d.retry(), Some(Duration::from_millis(5000)));
    let mut r = EventReader::new(&input[..]);
    assert!(r.next_ref().is_none());
    assert_eq!(r.decoder().retry(), Some(Duration::from_millis(5000)));
    // an invalid value leaves it as it was
    let mut d = Decoder::new();
    d.decode(b"retry: 300\n\nretry: 3s\n\n", |_| {
        panic!("nothing to dispatch")
    });
    assert_eq!(d.retry(), Some(Duration::from_millis(300)));
    assert_eq!(Decoder::new().retry(), None);
}
