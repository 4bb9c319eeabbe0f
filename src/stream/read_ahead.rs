//! An event stream's body read ahead on a thread of its own: the socket is read while the
//! caller decodes what came before, in a few large buffers that go round between the two
//! (memory bounded, nothing copied), and the connection is shut down and the thread joined
//! when the stream lets go of it.

use crate::sse::{Chunks, Decoder, EventRef, SseError};
use std::io::{self, Read};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;

/// The size of one buffer: what one read of the body may fill.
const CHUNK: usize = 64 * 1024;

/// How many buffers go round: at most this many (1 MiB) are read ahead of the decoding, enough
/// to ride out the reading or the decoding thread waiting for a core on a busy machine. A
/// buffer is allocated when first filled, so a stream that is read as fast as it comes (the
/// usual case, a live session) uses one or two.
const BUFFERS: usize = 16;

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
    /// The connection's own agent: shutting it down wakes a read blocked on the socket.
    agent: Option<ureq::Agent>,
    thread: Option<JoinHandle<()>>,
    /// The span of the call that opened the connection, ended when the connection is let go.
    #[cfg(feature = "tracing")]
    pub(crate) span: Option<crate::trace::ConnectionSpan>,
}

impl ReadAhead {
    /// Starts reading `body` (from a connection of `agent`, which is used for nothing else)
    /// on a new thread.
    pub(crate) fn start(
        body: impl Read + Send + 'static,
        agent: ureq::Agent,
    ) -> io::Result<ReadAhead> {
        let (filled_tx, filled) = channel::<Filled>();
        let (spent, spent_rx) = channel::<Vec<u8>>();
        let thread = std::thread::Builder::new()
            .name("managed-agents-events".into())
            .spawn(move || read_into(body, &spent_rx, &filled_tx))?;
        Ok(ReadAhead {
            chunks: Chunks::new(Decoder::new(), Vec::new()),
            filled: Some(filled),
            spent: Some(spent),
            agent: Some(agent),
            thread: Some(thread),
            #[cfg(feature = "tracing")]
            span: None,
        })
    }

    /// The decoder (for its reconnection time).
    pub(crate) fn decoder(&self) -> &Decoder {
        self.chunks.decoder()
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

/// The reading thread: fills a buffer with one read of the body and hands it over, until the
/// body ends, a read fails, or the stream lets go (its channels close). It takes a buffer the
/// caller gave back when there is one, makes a new one while there are fewer than [`BUFFERS`],
/// and otherwise waits for one.
fn read_into(mut body: impl Read, spent: &Receiver<Vec<u8>>, filled: &Sender<Filled>) {
    let mut made = 0;
    loop {
        let mut buf = match spent.try_recv() {
            Ok(buf) => buf,
            Err(TryRecvError::Empty) if made < BUFFERS => {
                made += 1;
                vec![0; CHUNK]
            }
            Err(TryRecvError::Empty) => match spent.recv() {
                Ok(buf) => buf,
                Err(_) => return,
            },
            Err(TryRecvError::Disconnected) => return,
        };
        let got = loop {
            match body.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let more = matches!(got, Ok(n) if n > 0);
        if filled.send(got.map(|n| (buf, n))).is_err() || !more {
            return;
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // the thread waits for a buffer, blocks in a read, or has stopped: closing the
        // channels ends the first, shutting the connection down the second
        self.filled = None;
        self.spent = None;
        if let Some(agent) = self.agent.take() {
            agent.shutdown();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
