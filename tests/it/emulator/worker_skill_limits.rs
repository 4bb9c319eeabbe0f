//! Issue 21, defect 4: a skill archive that unpacks to far more than it weighs (a zip bomb,
//! served by the emulator) is refused and logged while the item still runs; nothing of it
//! stays on disk.

use super::worker_skills::{session, text, tool_results};
use crate::support::emulated::{drain, setup};
use crate::support::tempdir;
use managed_agents::types::*;
use managed_agents::{Multipart, UploadFile};
use managed_agents_emulator::{Faults, Script};
use serde_json::json;
use std::io::Write;

/// A zip archive of raw entries: (name, method, data as stored, crc32, unpacked size).
pub(crate) fn raw_zip(entries: &[(&str, u16, &[u8], u32, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, method, data, crc, size) in entries {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: Unix
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&method.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // time
            h.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
                h.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x04034b50, false));
        out.extend_from_slice(data);
        central.extend(header(0x02014b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x06054b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A raw deflate stream of `mib` MiB of zeros, and its crc32: one MiB compressed once and
/// repeated (each copy ends on a sync flush, so the copies chain), then a final empty block.
pub(crate) fn deflated_zeros(mib: usize) -> (Vec<u8>, u32) {
    let zeros = vec![0u8; 1 << 20];
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut chunk = Vec::with_capacity(8 << 10);
    c.compress_vec(&zeros, &mut chunk, flate2::FlushCompress::Sync)
        .unwrap();
    assert_eq!(c.total_in(), 1 << 20);
    let mut stream = Vec::with_capacity(chunk.len() * mib + 2);
    let mut crc = flate2::Crc::new();
    for _ in 0..mib {
        stream.extend_from_slice(&chunk);
        crc.update(&zeros);
    }
    // a final fixed-Huffman block holding only its end
    stream.extend_from_slice(&[0x03, 0x00]);
    (stream, crc.sum())
}

#[test]
fn a_zip_bomb_skill_is_refused_and_the_item_runs() {
    // 256 MiB of zeros in one entry of a few hundred KB, as the probe's archive had it
    let (bomb, crc) = deflated_zeros(256);
    // the stream is sound: it unpacks to exactly what it says
    let mut check = flate2::write::DeflateDecoder::new(CountingSink(0));
    check.write_all(&bomb).unwrap();
    assert_eq!(check.finish().unwrap().0, 256 << 20);
    let skill_md = b"---\nname: bomb\ndescription: x\n---\n";
    let mut md_crc = flate2::Crc::new();
    md_crc.update(skill_md);
    let archive = raw_zip(&[
        (
            "bomb/SKILL.md",
            0,
            skill_md,
            md_crc.sum(),
            skill_md.len() as u32,
        ),
        ("bomb/zeros.bin", 8, &bomb, crc, 256 << 20),
    ]);
    assert!(archive.len() < 1 << 20, "{}", archive.len());

    let (emu, client) = setup();
    let upload = Multipart::new().file(
        "files[]",
        UploadFile::bytes("bomb/SKILL.md", skill_md.to_vec()),
    );
    let skill = client.skills().create(upload).unwrap();
    emu.set_faults(Faults {
        skill_content: Some(archive),
        ..Faults::default()
    });
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "ls -AR skills; echo end"}))
            .say("done"),
    );
    let (env, id) = session(
        &client,
        vec![SkillParams::Custom(CustomSkillParams::new(&skill.id))],
        vec![],
    );
    let workdir = tempdir();
    let stats = drain(&client, &env, workdir.path());
    // the skill is left out; the item still runs
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 1, "{results:?}");
    let listing = text(&results[0]);
    assert!(!listing.contains("zeros.bin"), "{listing}");
    assert!(!listing.contains("SKILL.md"), "{listing}");
}

/// A sink that only counts.
struct CountingSink(usize);

impl Write for CountingSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
