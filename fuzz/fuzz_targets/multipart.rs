//! The multipart writer: whatever the field name, file name, content type and bytes, the body
//! is well formed (headers stay on their lines) and the file's bytes come back intact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents::{Multipart, UploadFile};
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    // name \0 filename \0 content type \0 bytes
    let mut parts = data.splitn(4, |b| *b == 0);
    let (Some(name), Some(filename), Some(ct), Some(content)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let name = String::from_utf8_lossy(name).into_owned();
    let filename = String::from_utf8_lossy(filename).into_owned();
    let ct = String::from_utf8_lossy(ct).into_owned();
    let form = Multipart::new().file(name, UploadFile::bytes(filename, content.to_vec()).content_type(ct));
    let delim = format!("--{}", form.boundary()).into_bytes();
    let mut body = Vec::new();
    form.into_reader().read_to_end(&mut body).expect("an in-memory form reads");
    assert!(body.starts_with(&delim));
    let head_end = body.windows(4).position(|w| w == b"\r\n\r\n").expect("the part's headers end");
    let head = &body[delim.len() + 2..head_end];
    // exactly two header lines, nothing smuggled in
    let lines: Vec<&[u8]> = head.split(|b| *b == b'\n').collect();
    assert_eq!(lines.len(), 2, "{:?}", String::from_utf8_lossy(head));
    assert!(lines[0].ends_with(b"\r") && !lines[0][..lines[0].len() - 1].contains(&b'\r'));
    assert!(!lines[1].contains(&b'\r'));
    let mut tail = b"\r\n".to_vec();
    tail.extend_from_slice(&delim);
    tail.extend_from_slice(b"--\r\n");
    assert!(body.ends_with(&tail));
    assert_eq!(&body[head_end + 4..body.len() - tail.len()], content);
});
