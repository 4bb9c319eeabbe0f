//! Issue 21, defect 8: a memory store is downloaded page by page (each page written before
//! the next is asked for, each request bounded), and the download stops when the item must
//! stop, instead of listing the whole store into memory first.

use super::worker_memories::{item_dir, store, with_store};
use super::worker_skills::all_files;
use crate::support::emulated::setup;
use crate::support::emulated::worker;
use crate::support::tempdir;
use managed_agents_emulator::{Faults, Script};
use std::time::Duration;

#[test]
fn a_memory_store_is_written_page_by_page_and_the_download_stops_on_a_stop() {
    let (emu, client) = setup();
    let memories: Vec<(String, String)> = (0..200)
        .map(|i| (format!("/m{i:03}.md"), format!("memory {i}")))
        .collect();
    let pairs: Vec<(&str, &str)> = memories
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let notes = store(&client, "notes", &pairs);
    emu.set_script(Script::new().say("done"));
    let (env, _) = with_store(&client, &notes);
    let workdir = tempdir();
    let dir = item_dir(&client, &env, workdir.path());
    // every request answered slowly: the store's ten pages of 20 take seconds
    emu.set_faults(Faults {
        slow: Some(Duration::from_millis(400)),
        ..Faults::default()
    });
    let worker = worker(&client, &env, workdir.path());
    let stop = worker.stop_signal();
    let run = std::thread::spawn(move || worker.run());
    let mut most = 0;
    while !run.is_finished() {
        let written = if dir.exists() {
            all_files(&dir)
                .iter()
                .filter(|f| f.ends_with(".md"))
                .count()
        } else {
            0
        };
        most = most.max(written);
        if written > 0 {
            // the first page is on disk while the rest is still being listed: stop the item
            stop.set();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    run.join().unwrap().unwrap();
    assert!(most > 0, "no memory file was ever seen");
    assert!(
        most < 200,
        "the whole store was written after the stop ({most} files)"
    );
}
