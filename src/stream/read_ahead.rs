//! An event stream's body read ahead on a thread of its own: the socket is read while the
//! caller decodes what came before, in buffers that go round between the two, bounded by the
//! bytes they hold (not by their number), and the connection is cut (its socket shut down,
//! unless the body was read to its end) and the thread joined when the stream lets go of it.
//!
//! What a read brings is handed over in the buffer it was read into when it filled most of it
//! (a fast body: nothing is copied), and otherwise as a copy of its own size, the buffer kept
//! for the next read (a live session: one small event a read, each held in about its own
//! size). The buffer a read goes into starts small and doubles each time a read fills most of
//! it, up to [`CHUNK`]; a stream whose reads stay small goes back down.

use crate::sockets::Held;
use crate::sse::{Chunks, Decoder, EventRef, SseError};
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The largest buffer a read goes into: a connection's input buffer (one read of the body
/// brings at most what that holds).
pub(crate) const CHUNK: usize = crate::client::INPUT_BUFFER;

/// The smallest buffer a read goes into, where a stream starts.
const MIN_CHUNK: usize = 4 * 1024;

/// The most bytes read ahead of the decoding: held by buffers handed over and not yet given
/// back, the one the caller is decoding included. Enough to ride out the reading or the
/// decoding thread waiting for a core on a busy machine; the reading thread waits when the
/// next read could pass it.
pub(crate) const AHEAD: usize = 1024 * 1024;

/// The stack of the reading thread: it reads the body (TLS included) and hands buffers over.
/// Only the pages it touches cost memory (tens of KiB); the room left is for a TLS library's
/// reads and a tracing subscriber's work on this thread.
const STACK: usize = 512 * 1024;

/// What the reading thread hands over: a buffer and how many bytes at its start are new (0:
/// the body ended), or the error that ended the reading.
type Filled = io::Result<(Vec<u8>, usize)>;

/// The events of a body read on its own thread.
pub(crate) struct ReadAhead {
    chunks: Chunks,
    /// Filled buffers, in order; `None` once let go of (the thread then stops).
    filled: Option<Receiver<Filled>>,
    /// Buffers decoded, back to the thread.
    spent: Option<Sender<Vec<u8>>>,
    /// The bytes of the buffers the reading thread made and has not seen again: handed over
    /// (the caller's included) or kept for its next read.
    #[cfg_attr(not(test), allow(dead_code))]
    held: Arc<AtomicUsize>,
    /// The connection the body comes on: cutting it wakes a read blocked on its socket.
    connection: Option<Held>,
    thread: Option<JoinHandle<()>>,
    /// The span of the call that opened the connection, ended when the connection is let go.
    #[cfg(feature = "tracing")]
    pub(crate) span: Option<crate::trace::ConnectionSpan>,
}

impl ReadAhead {
    /// Starts reading `body` (which comes on `connection`, if known) on a new thread.
    pub(crate) fn start(
        body: impl Read + Send + 'static,
        connection: Option<Held>,
    ) -> io::Result<ReadAhead> {
        let (filled_tx, filled) = channel::<Filled>();
        let (spent, spent_rx) = channel::<Vec<u8>>();
        let held = Arc::new(AtomicUsize::new(0));
        let reader = Reader {
            spent: spent_rx,
            filled: filled_tx,
            held: held.clone(),
            ahead: 0,
            size: MIN_CHUNK,
            spare: None,
        };
        let thread = std::thread::Builder::new()
            .name("managed-agents-events".into())
            .stack_size(STACK)
            .spawn(move || reader.run(body))?;
        Ok(ReadAhead {
            chunks: Chunks::new(Decoder::new(), Vec::new()),
            filled: Some(filled),
            spent: Some(spent),
            held,
            connection,
            thread: Some(thread),
            #[cfg(feature = "tracing")]
            span: None,
        })
    }

    /// The decoder (for its reconnection time).
    pub(crate) fn decoder(&self) -> &Decoder {
        self.chunks.decoder()
    }

    /// Returns the bytes the read-ahead holds: the buffers handed over and not yet given back
    /// (the one being decoded included) and the one kept for the next read. At most
    /// [`AHEAD`] plus one buffer of [`CHUNK`].
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// The next event, borrowed from the buffer it lies in; as [`EventReader::next_ref`](crate::sse::EventReader::next_ref).
    pub(crate) fn next_ref(&mut self) -> Option<Result<EventRef<'_>, SseError>> {
        let (filled, spent) = (&self.filled, &self.spent);
        self.chunks.next_ref(|chunk| {
            let Some(filled) = filled else {
                return Ok(0);
            };
            let (buf, n) = match filled.recv() {
                Ok(got) => got?,
                // the thread sends the end or an error before it stops; this is a thread that died
                Err(_) => {
                    return Err(io::Error::other(
                        "the event stream's reading thread stopped",
                    ))
                }
            };
            let spent_buf = std::mem::replace(chunk, buf);
            if let Some(spent) = spent {
                if spent_buf.capacity() > 0 {
                    // the thread may have stopped after its last buffer: then it is not needed
                    let _ = spent.send(spent_buf);
                }
            }
            Ok(n)
        })
    }
}

/// The reading thread's side.
struct Reader {
    spent: Receiver<Vec<u8>>,
    filled: Sender<Filled>,
    held: Arc<AtomicUsize>,
    /// The bytes of the buffers handed over and not given back yet.
    ahead: usize,
    /// The size of the buffer the next read goes into.
    size: usize,
    /// A buffer of `size` to read into, kept from the last read or given back.
    spare: Option<Vec<u8>>,
}

impl Reader {
    /// Fills a buffer with one read of the body and hands it (or a copy of what the read
    /// brought) over, until the body ends, a read fails, or the stream lets go (its channels
    /// close). Before each read it takes back what the caller decoded, and waits for more
    /// while the read could take it past [`AHEAD`].
    fn run(mut self, mut body: impl Read) {
        loop {
            loop {
                match self.spent.try_recv() {
                    Ok(buf) => self.given_back(buf),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            while self.ahead + self.size > AHEAD {
                match self.spent.recv() {
                    Ok(buf) => self.given_back(buf),
                    Err(_) => return,
                }
            }
            let mut buf = match self.spare.take() {
                Some(buf) => buf,
                None => {
                    self.held.fetch_add(self.size, Ordering::SeqCst);
                    vec![0; self.size]
                }
            };
            let got = loop {
                match body.read(&mut buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let n = match got {
                Ok(n) if n > 0 => n,
                other => {
                    let _ = self.filled.send(other.map(|n| (Vec::new(), n)));
                    return;
                }
            };
            let handed = if n > buf.len() / 2 {
                // most of the buffer: handed over whole, and the next one larger
                self.size = (self.size * 2).min(CHUNK);
                buf
            } else {
                let copy = buf[..n].to_vec();
                self.held.fetch_add(n, Ordering::SeqCst);
                if n <= buf.len() / 8 && self.size > MIN_CHUNK {
                    self.size /= 2;
                    self.held.fetch_sub(buf.len(), Ordering::SeqCst);
                } else {
                    self.spare = Some(buf);
                }
                copy
            };
            self.ahead += handed.capacity();
            if self.filled.send(Ok((handed, n))).is_err() {
                return;
            }
        }
    }

    /// Takes back a buffer the caller decoded: kept for the next read when it has the size
    /// that read wants and none is kept, dropped otherwise.
    fn given_back(&mut self, buf: Vec<u8>) {
        self.ahead -= buf.capacity();
        if self.spare.is_none() && buf.len() == self.size && buf.capacity() == self.size {
            self.spare = Some(buf);
        } else {
            self.held.fetch_sub(buf.capacity(), Ordering::SeqCst);
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // the thread waits for a buffer, blocks in a read, or has stopped: closing the
        // channels ends the first, shutting the connection down the second
        self.filled = None;
        self.spent = None;
        if let Some(connection) = self.connection.take() {
            connection.cut();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of `events` numbered events (`data: N`, padded to `pad` bytes), read in pieces
    /// of the sizes `pieces` names in turn (0: as much as the buffer takes); counts the bytes
    /// it has given.
    struct Body {
        text: Vec<u8>,
        at: usize,
        pieces: Vec<usize>,
        turn: usize,
        given: Arc<AtomicUsize>,
    }

    fn body(events: usize, pad: usize, pieces: &[usize]) -> (Body, Arc<AtomicUsize>) {
        let mut text = Vec::new();
        for i in 0..events {
            let line = format!("data: {i} {}\n\n", "x".repeat(pad));
            text.extend_from_slice(line.as_bytes());
        }
        let given = Arc::new(AtomicUsize::new(0));
        let b = Body {
            text,
            at: 0,
            pieces: pieces.to_vec(),
            turn: 0,
            given: given.clone(),
        };
        (b, given)
    }

    impl Read for Body {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let piece = self.pieces[self.turn % self.pieces.len()];
            self.turn += 1;
            let want = if piece == 0 { buf.len() } else { piece };
            let n = want.min(buf.len()).min(self.text.len() - self.at);
            buf[..n].copy_from_slice(&self.text[self.at..self.at + n]);
            self.at += n;
            self.given.fetch_add(n, Ordering::SeqCst);
            Ok(n)
        }
    }

    /// Waits until `given` reaches `at_least` bytes (or fails after a generous while: the
    /// reading thread must get there on its own).
    fn wait_for(given: &AtomicUsize, at_least: usize) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while given.load(Ordering::SeqCst) < at_least {
            assert!(
                std::time::Instant::now() < until,
                "the reading thread stopped at {} bytes, before {at_least}",
                given.load(Ordering::SeqCst)
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn small_reads_are_held_in_about_their_size() {
        // a live session: one small event a read, nobody decoding yet. Each read is held in
        // a buffer of its own size, not in a buffer a read could fill
        let (b, given) = body(10_000, 80, &[100]);
        let ahead = ReadAhead::start(b, None).unwrap();
        wait_for(&given, 200 * 100);
        let held = ahead.held();
        let read = given.load(Ordering::SeqCst);
        assert!(
            held <= read + MIN_CHUNK,
            "{held} bytes held for {read} bytes read"
        );
    }

    #[test]
    fn a_fast_body_is_read_at_most_the_bound_ahead_and_every_event_comes_in_order() {
        // full reads, small ones and odd ones in turn: buffers handed over whole and copies,
        // growing and shrinking; the caller decodes nothing at first, then everything
        let (b, given) = body(40_000, 120, &[0, 37, 0, 0, 5000, 3, 0]);
        let total = b.text.len();
        assert!(total > 4 * AHEAD);
        let mut ahead = ReadAhead::start(b, None).unwrap();
        wait_for(&given, AHEAD / 2);
        let (mut next, mut decoded) = (0usize, 0usize);
        while let Some(ev) = ahead.next_ref() {
            let ev = ev.unwrap();
            let n: usize = ev.data().split(' ').next().unwrap().parse().unwrap();
            assert_eq!(n, next);
            next += 1;
            decoded += "data: \n\n".len() + ev.data().len();
            let (held, read) = (ahead.held(), given.load(Ordering::SeqCst));
            assert!(held <= AHEAD + CHUNK, "{held} bytes held");
            assert!(
                read <= decoded + AHEAD + CHUNK,
                "{read} bytes read when {decoded} were decoded"
            );
        }
        assert_eq!(next, 40_000);
        assert_eq!(given.load(Ordering::SeqCst), total);
    }
}
