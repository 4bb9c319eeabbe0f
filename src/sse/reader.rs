//! [`EventReader`]: the events of any [`Read`], decoded chunk by chunk with one [`Decoder`];
//! [`Chunks`]: the same loop over buffers filled elsewhere and handed over whole (no copy).

use super::{Decoder, Event, EventRef, SseError};
use std::io::Read;

/// The events of any reader, as an iterator of owned [`Event`]s, or borrowed one at a time
/// with [`next_ref`](Self::next_ref).
///
/// ```
/// use managed_agents::sse::EventReader;
///
/// let body = &b"data: {\"n\":1}\n\ndata: {\"n\":2}\n\n"[..];
/// let datas: Vec<String> = EventReader::new(body).map(|e| e.unwrap().into_data()).collect();
/// assert_eq!(datas, [r#"{"n":1}"#, r#"{"n":2}"#]);
/// ```
pub struct EventReader<R> {
    reader: R,
    chunks: Chunks,
}

/// A decoder and the chunk it is reading: the loop of [`EventReader::next_ref`], with the
/// next chunk coming from whoever calls it (read into the chunk, or a whole buffer swapped in).
#[derive(Debug)]
pub(crate) struct Chunks {
    decoder: Decoder,
    chunk: Vec<u8>,
    /// `chunk[pos..len]` is read but not decoded yet.
    pos: usize,
    len: usize,
    done: bool,
}

impl Chunks {
    /// Starts with `chunk` (its length is what a refill may fill; empty for buffers swapped in).
    pub(crate) fn new(decoder: Decoder, chunk: Vec<u8>) -> Chunks {
        Chunks {
            decoder,
            chunk,
            pos: 0,
            len: 0,
            done: false,
        }
    }

    /// The decoder (for its last event id and reconnection time).
    pub(crate) fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The next event, borrowed from the chunk. When the chunk is used up, `refill` gives the
    /// next one: it fills (or replaces) the buffer and says how many bytes at its start are new;
    /// 0 is the end of the stream. `None` at the end; after an error, `None` from then on.
    pub(crate) fn next_ref(
        &mut self,
        mut refill: impl FnMut(&mut Vec<u8>) -> std::io::Result<usize>,
    ) -> Option<Result<EventRef<'_>, SseError>> {
        loop {
            if self.done {
                return None;
            }
            match self.decoder.scan(&self.chunk[..self.len], &mut self.pos) {
                Some(Ok(())) => return Some(Ok(self.decoder.view(&self.chunk[..self.len]))),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {}
            }
            match refill(&mut self.chunk) {
                Ok(0) => self.done = true,
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(SseError::Io(e)));
                }
            }
        }
    }
}

impl<R: Read> EventReader<R> {
    /// Reads events from `reader` with the default limits.
    pub fn new(reader: R) -> EventReader<R> {
        EventReader::with_decoder(reader, Decoder::new())
    }

    /// Reads events from `reader` with a configured decoder.
    pub fn with_decoder(reader: R, decoder: Decoder) -> EventReader<R> {
        EventReader {
            reader,
            chunks: Chunks::new(decoder, vec![0; 64 * 1024]),
        }
    }

    /// Returns the decoder (for its last event id).
    pub fn decoder(&self) -> &Decoder {
        self.chunks.decoder()
    }

    /// Returns the reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Returns the next event, borrowed from the reader's buffer: no copy of its data unless it spans
    /// two reads. `None` at the end of the stream; after an error, `None` from then on.
    ///
    /// ```
    /// use managed_agents::sse::EventReader;
    ///
    /// let mut r = EventReader::new(&b"data: {\"n\":1}\n\ndata: {\"n\":2}\n\n"[..]);
    /// let mut sum = 0;
    /// while let Some(ev) = r.next_ref() {
    ///     let v: serde_json::Value = serde_json::from_str(ev.unwrap().data()).unwrap();
    ///     sum += v["n"].as_i64().unwrap();
    /// }
    /// assert_eq!(sum, 3);
    /// ```
    pub fn next_ref(&mut self) -> Option<Result<EventRef<'_>, SseError>> {
        let reader = &mut self.reader;
        self.chunks.next_ref(|chunk| reader.read(chunk))
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<Event, SseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_ref().map(|r| r.map(|ev| ev.to_event()))
    }
}
