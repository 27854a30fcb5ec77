"""Every XML file of the companion is well-formed metadata, and the project files are consistent."""

import json

import pytest
from companion_sfdx import CLASSES, FORCE_APP, MANIFEST, MD_NS, ROOT_FOR_SUFFIX, parse, suffix_of, text
from defusedxml import ElementTree
from paths import REPO

XML_FILES = sorted([*FORCE_APP.rglob("*.xml"), *(REPO / "metadata").rglob("*.xml")])


def test_there_is_metadata_to_check():
    assert len(XML_FILES) > 70, "force-app/ should hold the companion objects, fields and classes"
    assert MANIFEST in XML_FILES


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_xml_is_well_formed_metadata(path):
    root = parse(path)  # raises on malformed XML (and on entity tricks, via defusedxml)
    assert root.tag.startswith(f"{{{MD_NS}}}"), f"{path}: root {root.tag} is not in the metadata namespace"
    assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    suffix = suffix_of(path)
    if path != MANIFEST:
        assert suffix, f"{path.name}: unknown source-format file"
        assert root.tag == f"{{{MD_NS}}}{ROOT_FOR_SUFFIX[suffix]}"


def test_malformed_xml_is_rejected(tmp_path):
    broken = tmp_path / "Broken.field-meta.xml"
    broken.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<CustomField xmlns="{MD_NS}"><label>x</CustomField>')
    with pytest.raises(ElementTree.ParseError):
        parse(broken)


@pytest.mark.parametrize("suffix", [".field-meta.xml", ".listView-meta.xml"])
def test_full_names_match_file_names(suffix):
    paths = sorted(FORCE_APP.rglob(f"*{suffix}"))
    assert paths
    for path in paths:
        assert text(parse(path), "fullName") == path.name.removesuffix(suffix), path


def test_sfdx_project_json():
    project = json.loads((REPO / "sfdx-project.json").read_text())
    assert project["sourceApiVersion"] == "64.0"
    directories = project["packageDirectories"]
    assert [d["path"] for d in directories if d.get("default")] == ["force-app"]


def test_every_class_has_active_meta_at_api_64():
    classes = sorted(CLASSES.glob("*.cls"))
    metas = sorted(CLASSES.glob("*.cls-meta.xml"))
    assert {p.name for p in classes} == {m.name.removesuffix("-meta.xml") for m in metas}
    for meta in metas:
        root = parse(meta)
        assert text(root, "apiVersion") == "64.0", meta
        assert text(root, "status") == "Active", meta
