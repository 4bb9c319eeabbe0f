//! `multipart/form-data` bodies that stream their file part from disk or any reader.

use crate::error::{Error, Result};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file to upload: a name, a content type and a reader that is read as the request is sent.
///
/// ```no_run
/// use managed_agents::UploadFile;
///
/// let from_disk = UploadFile::path("data.csv")?;
/// let from_memory = UploadFile::bytes("notes.txt", b"hello".to_vec());
/// # let _ = (from_disk, from_memory);
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub struct UploadFile {
    filename: String,
    content_type: String,
    source: Source,
}

/// Where a file's bytes come from; all but `Reader` can be read again for a retry.
enum Source {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
    Reader(Box<dyn Read + Send>),
}

/// The prefix of the message of an I/O error that came from reading a file of the body.
const LOCAL_READ: &str = "reading ";

/// Whether an I/O error of a request came from reading one of its files (not from the network).
pub(crate) fn is_local_read_error(e: &std::io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<LocalReadError>())
}

#[derive(Debug)]
struct LocalReadError(String);

impl std::fmt::Display for LocalReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LocalReadError {}

/// A reader whose errors name the file being read.
struct Named<R> {
    name: String,
    inner: R,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            std::io::Error::other(LocalReadError(format!("{LOCAL_READ}{}: {e}", self.name)))
        })
    }
}

impl std::fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadFile")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl UploadFile {
    /// Creates an upload of a file on disk; its name is the path's last component. An error
    /// names the file. The file is opened when the request is sent (and again for a retry),
    /// and read as it goes.
    pub fn path(path: impl AsRef<Path>) -> Result<UploadFile> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| Error::Io {
            message: format!("opening {} for upload", path.display()),
            source: e,
        })?;
        if !meta.is_file() {
            return Err(Error::invalid_input(
                "file",
                format!("{} is not a file", path.display()),
            ));
        }
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "unnamed".into());
        let content_type = guess_content_type(&filename).to_string();
        Ok(UploadFile {
            filename,
            content_type,
            source: Source::Path(path.to_path_buf()),
        })
    }

    /// Any reader, under a file name. It is read once: a request with it is not retried.
    pub fn reader(filename: impl Into<String>, reader: impl Read + Send + 'static) -> UploadFile {
        let filename = filename.into();
        let content_type = guess_content_type(&filename).to_string();
        UploadFile {
            filename,
            content_type,
            source: Source::Reader(Box::new(reader)),
        }
    }

    /// Bytes in memory, under a file name.
    pub fn bytes(filename: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> UploadFile {
        let filename = filename.into();
        let content_type = guess_content_type(&filename).to_string();
        UploadFile {
            filename,
            content_type,
            source: Source::Bytes(bytes.into()),
        }
    }

    /// A copy that reads the same bytes again, or `None` for a one-shot reader.
    fn reopen(&self) -> Option<UploadFile> {
        let source = match &self.source {
            Source::Path(p) => Source::Path(p.clone()),
            Source::Bytes(b) => Source::Bytes(b.clone()),
            Source::Reader(_) => return None,
        };
        Some(UploadFile {
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            source,
        })
    }

    /// The bytes, as a reader whose errors name the file.
    fn into_reader(self) -> Result<Box<dyn Read + Send>> {
        Ok(match self.source {
            Source::Path(p) => {
                let file = std::fs::File::open(&p).map_err(|e| Error::Io {
                    message: format!("opening {} for upload", p.display()),
                    source: e,
                })?;
                Box::new(Named {
                    name: p.display().to_string(),
                    inner: file,
                })
            }
            Source::Bytes(b) => Box::new(Cursor::new(b)),
            Source::Reader(r) => Box::new(Named {
                name: self.filename,
                inner: r,
            }),
        })
    }

    /// Sets the content type (default: guessed from the file name's extension).
    pub fn content_type(mut self, content_type: impl Into<String>) -> UploadFile {
        self.content_type = content_type.into();
        self
    }

    /// Returns the file name sent.
    pub fn filename(&self) -> &str {
        &self.filename
    }
}

fn guess_content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "jsonl" => "application/jsonl",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "py" => "text/x-python",
        "rs" => "text/x-rust",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        _ => "application/octet-stream",
    }
}

/// A `multipart/form-data` body: text fields and file parts, streamed in order.
pub struct Multipart {
    boundary: String,
    parts: Vec<(String, Part)>,
}

enum Part {
    Text(String),
    File(UploadFile),
}

impl std::fmt::Debug for Multipart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multipart")
            .field("boundary", &self.boundary)
            .field("parts", &self.parts.len())
            .finish()
    }
}

impl Default for Multipart {
    fn default() -> Self {
        Self::new()
    }
}

/// A field name or file name inside a quoted header parameter, escaped as browsers do.
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl Multipart {
    /// Creates an empty form with a fresh boundary.
    pub fn new() -> Multipart {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x6d61);
        let a = h.finish();
        h.write_u64(a);
        Multipart {
            boundary: format!("managed-agents-{:016x}{:016x}", a, h.finish()),
            parts: Vec::new(),
        }
    }

    /// Adds a text field.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Multipart {
        self.parts.push((name.into(), Part::Text(value.into())));
        self
    }

    /// Adds a file part.
    pub fn file(mut self, name: impl Into<String>, file: UploadFile) -> Multipart {
        self.parts.push((name.into(), Part::File(file)));
        self
    }

    /// Returns the boundary between parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// A copy that sends the same bytes again (files are opened anew), or `None` when a part
    /// is a one-shot reader.
    pub(crate) fn reopen(&self) -> Result<Option<Multipart>> {
        let mut parts = Vec::with_capacity(self.parts.len());
        for (name, part) in &self.parts {
            let part = match part {
                Part::Text(v) => Part::Text(v.clone()),
                Part::File(f) => match f.reopen() {
                    Some(f) => Part::File(f),
                    None => return Ok(None),
                },
            };
            parts.push((name.clone(), part));
        }
        Ok(Some(Multipart {
            boundary: self.boundary.clone(),
            parts,
        }))
    }

    /// The length of the whole body when every part's is known now (files on disk by their
    /// size, bytes by theirs), as httpx computes it; `None` with a one-shot reader, which is
    /// then sent chunked.
    pub(crate) fn content_length(&self) -> Option<u64> {
        let mut len = 0u64;
        for (name, part) in &self.parts {
            len += match part {
                Part::Text(value) => text_head(&self.boundary, name, value).len() as u64,
                Part::File(file) => {
                    let size = match &file.source {
                        Source::Path(p) => std::fs::metadata(p).ok()?.len(),
                        Source::Bytes(b) => b.len() as u64,
                        Source::Reader(_) => return None,
                    };
                    file_head(&self.boundary, name, file).len() as u64 + size + 2
                }
            };
        }
        Some(len + format!("--{}--\r\n", self.boundary).len() as u64)
    }

    pub(crate) fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// Returns the whole body as one reader; files are read only as the body is sent.
    pub fn into_reader(self) -> impl Read + Send + 'static {
        let mut readers: Vec<Box<dyn Read + Send>> = Vec::new();
        for (name, part) in self.parts {
            match part {
                Part::Text(value) => {
                    let head = text_head(&self.boundary, &name, &value);
                    readers.push(Box::new(Cursor::new(head.into_bytes())));
                }
                Part::File(file) => {
                    let head = file_head(&self.boundary, &name, &file);
                    readers.push(Box::new(Cursor::new(head.into_bytes())));
                    readers.push(match file.into_reader() {
                        Ok(r) => r,
                        Err(e) => Box::new(Failing(Some(e.to_string()))),
                    });
                    readers.push(Box::new(Cursor::new(b"\r\n".to_vec())));
                }
            }
        }
        readers.push(Box::new(Cursor::new(
            format!("--{}--\r\n", self.boundary).into_bytes(),
        )));
        Chain { readers, index: 0 }
    }
}

/// A text part, whole.
fn text_head(boundary: &str, name: &str, value: &str) -> String {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
        quote(name)
    )
}

/// The head of a file part: its boundary and headers, before the bytes.
fn file_head(boundary: &str, name: &str, file: &UploadFile) -> String {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
        quote(name),
        quote(&file.filename),
        file.content_type.replace(['\r', '\n'], "")
    )
}

impl From<UploadFile> for Multipart {
    /// A form with the file as its `file` part, as `files.upload` sends it.
    fn from(file: UploadFile) -> Multipart {
        Multipart::new().file("file", file)
    }
}

/// A reader that fails once with a message (a file that could not be opened at send time).
struct Failing(Option<String>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        let msg = self
            .0
            .take()
            .unwrap_or_else(|| "the file could not be read".into());
        Err(std::io::Error::other(LocalReadError(msg)))
    }
}

struct Chain {
    readers: Vec<Box<dyn Read + Send>>,
    index: usize,
}

impl Read for Chain {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.index < self.readers.len() {
            let n = self.readers[self.index].read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            self.index += 1;
        }
        Ok(0)
    }
}
