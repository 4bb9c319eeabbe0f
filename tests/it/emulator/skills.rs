//! Skills and versions through the crate's client: created from an uploaded folder, listed,
//! retrieved, a new version, content downloaded as a zip archive of the folder, deleted.

use crate::support::emulated::setup;
use managed_agents::{Multipart, UploadFile};
use std::io::Read;

fn folder(name: &str, description: &str) -> Multipart {
    let skill_md = format!("---\nname: {name}\ndescription: {description}\n---\n\n# Use it well\n");
    Multipart::new()
        .file(
            "files[]",
            UploadFile::bytes(format!("{name}/SKILL.md"), skill_md.into_bytes()),
        )
        .file(
            "files[]",
            UploadFile::bytes(format!("{name}/scripts/run.sh"), b"echo hi\n".to_vec()),
        )
}

#[test]
fn a_skill_from_a_folder_with_versions_and_content() {
    let (_emu, c) = setup();
    let skill = c
        .skills()
        .create(folder("pdf-tools", "Reads PDFs"))
        .unwrap();
    assert!(skill.id.starts_with("skill_"));
    assert_eq!(skill.display_name, "pdf-tools", "from the front matter");
    assert_eq!(c.skills().retrieve(&skill.id).unwrap(), skill);
    let v1 = c
        .skills()
        .versions()
        .retrieve(&skill.id, &skill.latest_version_id)
        .unwrap();
    assert_eq!(
        (
            v1.name.as_str(),
            v1.description.as_str(),
            v1.skill_id.as_str()
        ),
        ("pdf-tools", "Reads PDFs", skill.id.as_str())
    );

    let v2 = c
        .skills()
        .versions()
        .create(&skill.id, folder("pdf-tools", "Reads and writes PDFs"))
        .unwrap();
    assert!(v2.id > v1.id, "version numbers grow");
    assert_eq!(
        c.skills().retrieve(&skill.id).unwrap().latest_version_id,
        v2.id
    );
    let versions = c
        .skills()
        .versions()
        .list(&skill.id, &Default::default())
        .unwrap();
    assert_eq!(versions.data, vec![v2.clone(), v1.clone()]);
    // a version of another skill's name is refused
    let err = c
        .skills()
        .versions()
        .create(&skill.id, folder("other", "x"))
        .unwrap_err();
    assert_eq!(err.status(), Some(400));

    let mut zip = Vec::new();
    c.skills()
        .versions()
        .download(&skill.id, &v2.id)
        .unwrap()
        .write_to(&mut zip)
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["pdf-tools/SKILL.md", "pdf-tools/scripts/run.sh"]);
    let mut text = String::new();
    archive
        .by_name("pdf-tools/SKILL.md")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains("Reads and writes PDFs"));

    let deleted = c.skills().versions().delete(&skill.id, &v2.id).unwrap();
    assert_eq!(deleted.id, v2.id);
    assert_eq!(
        c.skills().retrieve(&skill.id).unwrap().latest_version_id,
        v1.id
    );
    let only = c.skills().versions().delete(&skill.id, &v1.id).unwrap_err();
    assert_eq!(
        only.status(),
        Some(400),
        "a skill keeps at least one version"
    );

    let listed = c.skills().list(&Default::default()).unwrap();
    assert_eq!(listed.data.len(), 1);
    c.skills().delete(&skill.id).unwrap();
    assert_eq!(
        c.skills().retrieve(&skill.id).unwrap_err().status(),
        Some(404)
    );
    assert_eq!(
        c.skills()
            .versions()
            .retrieve(&skill.id, &v1.id)
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[test]
fn a_folder_without_skill_md_or_with_two_roots_is_refused() {
    let (_emu, c) = setup();
    let no_md = Multipart::new().file("files[]", UploadFile::bytes("a/readme.txt", b"x".to_vec()));
    assert_eq!(c.skills().create(no_md).unwrap_err().status(), Some(400));
    let two_roots =
        folder("a", "x").file("files[]", UploadFile::bytes("b/SKILL.md", b"x".to_vec()));
    assert_eq!(
        c.skills().create(two_roots).unwrap_err().status(),
        Some(400)
    );
    let display = folder("named", "x").text("display_name", "Shown Name");
    assert_eq!(
        c.skills().create(display).unwrap().display_name,
        "Shown Name"
    );
}
