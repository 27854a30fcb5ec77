"""metadata/package.xml and force-app/ list exactly the same components."""

from companion_sfdx import MANIFEST, manifest_components, source_components


def test_manifest_version_and_no_duplicates():
    pairs, version = manifest_components()
    assert version == "64.0"
    assert len(pairs) == len(set(pairs)), "a member is listed twice"


def test_every_source_component_is_in_the_manifest():
    listed = set(manifest_components()[0])
    missing = source_components() - listed
    assert not missing, f"in force-app but not in {MANIFEST.name}: {sorted(missing)}"


def test_every_manifest_member_exists_in_source():
    extra = set(manifest_components()[0]) - source_components()
    assert not extra, f"in {MANIFEST.name} but not in force-app: {sorted(extra)}"


def test_manifest_is_laid_out_like_sf_generate_manifest():
    pairs, _ = manifest_components()
    types = [t for t, _ in pairs]
    assert types == sorted(types), "types are sorted by name"
    for type_name in set(types):
        members = [m for t, m in pairs if t == type_name]
        assert members == sorted(members), f"{type_name} members are sorted"
    assert {t for t, _ in pairs} == {"ApexClass", "CustomField", "CustomObject", "ListView", "PermissionSet"}


def test_component_mapping_notices_a_new_file(tmp_path):
    fields = tmp_path / "main" / "default" / "objects" / "Thing__c" / "fields"
    fields.mkdir(parents=True)
    (fields / "Size__c.field-meta.xml").write_text("<x/>")
    (tmp_path / "main" / "default" / "objects" / "Thing__c" / "Thing__c.object-meta.xml").write_text("<x/>")
    assert source_components(tmp_path) == {("CustomObject", "Thing__c"), ("CustomField", "Thing__c.Size__c")}
