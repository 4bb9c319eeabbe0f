//! `multipart/form-data` bodies that stream their file part from disk or any reader.

use crate::error::{Error, Result};
use std::io::{Cursor, Read};
use std::path::Path;

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
    reader: Box<dyn Read + Send>,
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
    /// Opens a file; its name is the path's last component. An error names the file.
    pub fn path(path: impl AsRef<Path>) -> Result<UploadFile> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::Io {
            message: format!("opening {} for upload", path.display()),
            source: e,
        })?;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "unnamed".into());
        Ok(UploadFile::reader(filename, file))
    }

    /// Any reader, under a file name.
    pub fn reader(filename: impl Into<String>, reader: impl Read + Send + 'static) -> UploadFile {
        let filename = filename.into();
        let content_type = guess_content_type(&filename).to_string();
        UploadFile {
            filename,
            content_type,
            reader: Box::new(reader),
        }
    }

    /// Bytes in memory, under a file name.
    pub fn bytes(filename: impl Into<String>, bytes: Vec<u8>) -> UploadFile {
        UploadFile::reader(filename, Cursor::new(bytes))
    }

    /// Sets the content type (default: guessed from the file name's extension).
    pub fn content_type(mut self, content_type: impl Into<String>) -> UploadFile {
        self.content_type = content_type.into();
        self
    }

    /// The file name sent.
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
    /// An empty form with a fresh boundary.
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

    /// The boundary between parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    pub(crate) fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The whole body as one reader; files are read only as the body is sent.
    pub fn into_reader(self) -> impl Read + Send + 'static {
        let mut readers: Vec<Box<dyn Read + Send>> = Vec::new();
        for (name, part) in self.parts {
            match part {
                Part::Text(value) => {
                    let head = format!(
                        "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n",
                        self.boundary,
                        quote(&name),
                        value
                    );
                    readers.push(Box::new(Cursor::new(head.into_bytes())));
                }
                Part::File(file) => {
                    let head = format!(
                        "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                        self.boundary,
                        quote(&name),
                        quote(&file.filename),
                        file.content_type.replace(['\r', '\n'], "")
                    );
                    readers.push(Box::new(Cursor::new(head.into_bytes())));
                    readers.push(file.reader);
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

impl From<UploadFile> for Multipart {
    /// A form with the file as its `file` part, as `files.upload` sends it.
    fn from(file: UploadFile) -> Multipart {
        Multipart::new().file("file", file)
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
