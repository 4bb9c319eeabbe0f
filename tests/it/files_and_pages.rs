//! Pagination over several pages, and files: multipart upload byte for byte (from memory, from
//! disk with a retry, from a reader), errors that name the file, and large downloads intact.

use crate::support::{respond, respond_json, tempdir, TestServer};
use managed_agents::types::*;
use managed_agents::{Client, Error, UploadFile};
use serde_json::{json, Value};
use std::io::Read;
use std::time::Duration;

fn client(url: &str, retries: u32) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(url)
        .max_retries(retries)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn file_json(id: &str) -> Value {
    let text = std::fs::read_to_string("tests/fixtures/types/FileMetadata.json").unwrap();
    let mut v: Value = serde_json::from_str::<Value>(&text).unwrap()["minimal"].clone();
    v["id"] = json!(id);
    v
}

#[test]
fn auto_paging_walks_three_pages_lazily_and_in_order() {
    let server = TestServer::start(|_, req, conn| {
        let (items, next) = if req.target.contains("page=page_2") {
            (
                vec![file_json("file_3"), file_json("file_4")],
                json!("page_3"),
            )
        } else if req.target.contains("page=page_3") {
            (vec![file_json("file_5")], Value::Null)
        } else {
            (
                vec![file_json("file_1"), file_json("file_2")],
                json!("page_2"),
            )
        };
        respond_json(conn, &json!({"data": items, "next_page": next}).to_string());
    });
    let c = client(&server.url, 0);
    let first = c
        .files()
        .list(&FileListParams::scope("sesn_1").limit(2))
        .unwrap();
    assert!(first.has_next_page());
    let mut iter = first.auto_paging();
    let a = iter.next().unwrap().unwrap();
    let b = iter.next().unwrap().unwrap();
    assert_eq!((a.id.as_str(), b.id.as_str()), ("file_1", "file_2"));
    assert_eq!(
        server.count(),
        1,
        "the next page is fetched only when needed"
    );
    let rest: Vec<String> = iter.map(|f| f.unwrap().id).collect();
    assert_eq!(rest, ["file_3", "file_4", "file_5"]);
    assert_eq!(server.count(), 3);
    // the next pages keep the query and add the cursor
    let second = server.request(1).target;
    assert!(
        second.contains("scope_id=sesn_1")
            && second.contains("limit=2")
            && second.contains("page=page_2"),
        "{second}"
    );
}

#[test]
fn auto_paging_stops_at_the_first_error_with_it() {
    let server = TestServer::start(|i, _, conn| {
        if i == 0 {
            respond_json(
                conn,
                &json!({"data": [file_json("file_1")], "next_page": "page_2"}).to_string(),
            );
        } else {
            respond(
                conn,
                500,
                &[],
                br#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#,
            );
        }
    });
    let items: Vec<_> = client(&server.url, 0)
        .files()
        .list(&Default::default())
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert_eq!(items[1].as_ref().unwrap_err().status(), Some(500));
}

fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1).unwrap();
    let delim = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    assert!(rest.starts_with(delim.as_bytes()));
    loop {
        rest = &rest[delim.len()..];
        if rest.starts_with(b"--\r\n") {
            assert_eq!(rest.len(), 4, "bytes after the closing boundary");
            break;
        }
        rest = &rest[2..]; // CRLF
        let head_end = find(rest, b"\r\n\r\n").unwrap();
        let head = String::from_utf8(rest[..head_end].to_vec()).unwrap();
        rest = &rest[head_end + 4..];
        let end = find(rest, format!("\r\n{delim}").as_bytes()).unwrap();
        parts.push((head, rest[..end].to_vec()));
        rest = &rest[end + 2..];
    }
    parts
}

#[test]
fn upload_sends_the_file_byte_for_byte() {
    let content: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let server =
        TestServer::start(|_, _, conn| respond_json(conn, &file_json("file_up").to_string()));
    let meta = client(&server.url, 0)
        .files()
        .upload(UploadFile::bytes("report \"final\".pdf", content.clone()))
        .unwrap();
    assert_eq!(meta.id, "file_up");
    let req = server.request(0);
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/v1/files");
    let parts = multipart_parts(req.header("content-type").unwrap(), &req.body);
    assert_eq!(parts.len(), 1);
    assert_eq!(
        parts[0].0,
        "Content-Disposition: form-data; name=\"file\"; filename=\"report %22final%22.pdf\"\r\nContent-Type: application/pdf"
    );
    assert!(parts[0].1 == content, "the body differs");
}

#[test]
fn an_upload_from_disk_is_sent_again_on_retry_and_fields_ride_along() {
    let dir = tempdir();
    let path = dir.path().join("data.csv");
    std::fs::write(&path, "a,b\n1,2\n").unwrap();
    let server = TestServer::start(|i, _, conn| {
        if i == 0 {
            respond(conn, 503, &[("retry-after-ms", "10")], b"{}");
        } else {
            respond_json(conn, &file_json("file_up").to_string());
        }
    });
    let form = managed_agents::Multipart::from(UploadFile::path(&path).unwrap())
        .text("expires_in_seconds", "3600");
    client(&server.url, 2).files().upload(form).unwrap();
    assert_eq!(server.count(), 2);
    for i in 0..2 {
        let req = server.request(i);
        let parts = multipart_parts(req.header("content-type").unwrap(), &req.body);
        assert_eq!(parts[0].1, b"a,b\n1,2\n");
        assert!(parts[0].0.contains("filename=\"data.csv\"") && parts[0].0.contains("text/csv"));
        assert_eq!(
            parts[1],
            (
                "Content-Disposition: form-data; name=\"expires_in_seconds\"".to_string(),
                b"3600".to_vec()
            )
        );
    }
}

#[test]
fn an_upload_from_a_reader_is_not_retried() {
    let server =
        TestServer::start(|_, _, conn| respond(conn, 503, &[("retry-after-ms", "10")], b"{}"));
    let err = client(&server.url, 3)
        .files()
        .upload(UploadFile::reader(
            "stream.bin",
            std::io::Cursor::new(vec![1u8; 10]),
        ))
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.count(), 1);
}

#[test]
fn a_file_that_cannot_be_read_is_named_in_the_error() {
    let err = UploadFile::path("/definitely/not/here.csv").unwrap_err();
    assert!(
        err.to_string().contains("/definitely/not/here.csv"),
        "{err}"
    );

    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let server = TestServer::start(|_, _, conn| respond_json(conn, "{}"));
    let err = client(&server.url, 2)
        .files()
        .upload(UploadFile::reader("notes.txt", Broken))
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(
        text.contains("notes.txt") && text.contains("disk on fire"),
        "{text}"
    );
}

#[test]
fn a_large_download_arrives_intact() {
    let content: Vec<u8> = (0..12 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let served = content.clone();
    let server = TestServer::start(move |_, _, conn| {
        respond(
            conn,
            200,
            &[("content-type", "application/octet-stream")],
            &served,
        )
    });
    let mut out = Vec::new();
    let n = client(&server.url, 0)
        .files()
        .download("file_big")
        .unwrap()
        .write_to(&mut out)
        .unwrap();
    assert_eq!(n, content.len() as u64);
    assert!(out == content, "the download differs");
    assert!(server
        .request(0)
        .target
        .starts_with("/v1/files/file_big/content"));
}

#[test]
fn a_json_body_over_64_mib_is_refused_with_a_clear_error() {
    let server = TestServer::start(|_, _, conn| {
        use std::io::Write;
        let n = 65 * 1024 * 1024;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {n}\r\n\r\n"
        );
        let _ = conn.write_all(head.as_bytes());
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..65 {
            if conn.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let err = client(&server.url, 0)
        .files()
        .retrieve_metadata("file_1")
        .unwrap_err();
    assert!(
        err.to_string().contains("max_body_size"),
        "the error says what to change: {err}"
    );
    assert!(
        matches!(err, Error::BodyTooLarge { limit, .. } if limit == 64 * 1024 * 1024),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[test]
fn the_body_limit_is_set_on_the_builder_and_downloads_stream_past_it() {
    let meta = file_json("file_1").to_string();
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/content") {
            respond(conn, 200, &[], &vec![b'x'; 64 * 1024]);
        } else {
            respond(
                conn,
                200,
                &[
                    ("content-type", "application/json"),
                    ("request-id", "req_big"),
                ],
                meta.as_bytes(),
            );
        }
    });
    let small = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .max_body_size(16)
        .build()
        .unwrap();
    let err = small.files().retrieve_metadata("file_1").unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 16, .. }),
        "{err:?}"
    );
    assert_eq!(err.request_id(), Some("req_big"));
    assert_eq!(server.count(), 1, "a body over the limit is not retried");
    let n = small
        .files()
        .download("file_1")
        .unwrap()
        .write_to(&mut std::io::sink())
        .unwrap();
    assert_eq!(n, 64 * 1024);
    let roomy = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .max_body_size(1024 * 1024)
        .build()
        .unwrap();
    assert_eq!(
        roomy.files().retrieve_metadata("file_1").unwrap().id,
        "file_1"
    );
}

#[test]
fn a_download_cut_off_by_the_deadline_is_a_timeout() {
    let server = TestServer::start(|_, _, conn| {
        use std::io::Write;
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nx");
        for _ in 0..300 {
            std::thread::sleep(Duration::from_millis(100));
            if conn.write_all(b"x").is_err() {
                return;
            }
        }
    });
    let c = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .build()
        .unwrap();
    // the call's timeout bounds the answer's head; a deadline the caller sets bounds it all
    let opts = managed_agents::RequestOptions::new()
        .deadline(managed_agents::Deadline::after(Duration::from_secs(1)));
    let err = c
        .files()
        .download_with("file_1", &opts)
        .unwrap()
        .finish()
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

/// A download served in pieces: `pieces` of 1 KiB, `gap` apart, then the end (or, with
/// `cut`, the connection closed before the last piece).
fn trickled(pieces: usize, gap: std::time::Duration, cut: bool) -> TestServer {
    TestServer::start(move |_, _, conn| {
        use std::io::Write;
        let len = pieces * 1024;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {len}\r\n\r\n"
        );
        let _ = conn.write_all(head.as_bytes());
        for i in 0..pieces {
            if cut && i + 1 == pieces {
                return;
            }
            std::thread::sleep(gap);
            if conn.write_all(&[b'x'; 1024]).is_err() {
                return;
            }
        }
    })
}

#[test]
fn a_download_still_arriving_is_not_cut_by_the_calls_timeout() {
    // 8 pieces 250 ms apart: 2 s in all, past the 1 s call timeout, never 1 s without a byte
    let server = trickled(8, Duration::from_millis(250), false);
    let client = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .timeout(Duration::from_secs(1))
        .max_retries(0)
        .build()
        .unwrap();
    let dir = tempdir();
    let path = dir.path().join("slow.bin");
    let n = client
        .files()
        .download("file_slow")
        .unwrap()
        .copy_to_path(&path)
        .unwrap();
    assert_eq!(n, 8 * 1024);
    assert_eq!(std::fs::read(&path).unwrap().len(), 8 * 1024);
    // only the file is there: no temporary file left beside it
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("slow.bin")]);
}

#[test]
fn a_silent_download_ends_at_its_idle_timeout_and_a_deadline_stays_hard() {
    // silent for 3 s between pieces: the 1 s per-read timeout ends it
    let server = trickled(2, Duration::from_secs(3), false);
    let client = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .timeout(Duration::from_secs(1))
        .max_retries(0)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client
        .files()
        .download("file_slow")
        .unwrap()
        .write_to(&mut std::io::sink())
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");
    // a deadline the caller set cuts a body that keeps arriving
    let server = trickled(20, Duration::from_millis(200), false);
    let client = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .max_retries(0)
        .build()
        .unwrap();
    let opts = managed_agents::RequestOptions::new()
        .deadline(managed_agents::Deadline::after(Duration::from_secs(1)));
    let res = client
        .files()
        .download_with("file_slow", &opts)
        .and_then(|r| r.write_to(&mut std::io::sink()));
    assert!(res.is_err(), "a 4 s body passed a 1 s deadline");
}

#[test]
fn a_cut_download_leaves_the_target_as_it_was() {
    let server = trickled(4, Duration::from_millis(50), true);
    let dir = tempdir();
    let path = dir.path().join("kept.txt");
    std::fs::write(&path, "before").unwrap();
    let err = client(&server.url, 0)
        .files()
        .download("file_cut")
        .unwrap()
        .copy_to_path(&path)
        .unwrap_err();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "before", "{err}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("kept.txt")], "{err}");
}
