from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from gateway.policy import BundleError, PolicyError, build_bundle, bundle_revision, load_bundle
from gateway.policy.bundle import content_of


@pytest.fixture
def ok_copy(tmp_path: Path, policies_dir: Path) -> Path:
    """A writable copy of the ok fixture bundle."""
    target = tmp_path / "policies"
    shutil.copytree(policies_dir / "ok", target)
    return target


def test_load_reads_every_rego_file_recursively_with_relative_paths(ok_copy: Path) -> None:
    root = ok_copy
    (root / "engagement" / "lib").mkdir()
    (root / "engagement" / "lib" / "text.rego").write_text("package engagement.lib\n")
    (root / "input.schema.json").write_text("{}")  # not part of the bundle

    bundle = load_bundle(root)

    assert list(bundle.files) == [
        "engagement/decision.rego",
        "engagement/decision_test.rego",
        "engagement/lib/text.rego",
    ]
    assert bundle.data == {"max_contacts_24h": 3, "blocked_terms": ["guaranteed", "free money"]}
    assert list(bundle.policy_files) == ["engagement/decision.rego", "engagement/lib/text.rego"]


def test_revision_is_stable_for_equal_content(policies_dir: Path, ok_copy: Path) -> None:
    first = load_bundle(policies_dir / "ok")
    second = load_bundle(ok_copy)
    rebuilt = build_bundle(dict(reversed(first.files.items())), dict(first.data))

    assert first.revision == second.revision == rebuilt.revision
    assert first.revision.startswith("sha256:")
    assert len(first.revision) == len("sha256:") + 64


def test_revision_is_the_hash_of_canonical_json() -> None:
    files = {"engagement/a.rego": "package engagement\n# é\n"}
    data = {"z": 1, "a": {"y": [1, "ü"], "b": None}}
    canonical = json.dumps(
        {"files": files, "data": data}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()

    assert bundle_revision(files, data) == "sha256:" + hashlib.sha256(canonical).hexdigest()


def test_revision_changes_when_a_file_or_the_data_changes(ok_copy: Path) -> None:
    root = ok_copy
    original = load_bundle(root).revision

    decision = root / "engagement" / "decision.rego"
    decision.write_text(decision.read_text().replace("opted out", "opted-out"))
    edited_policy = load_bundle(root).revision

    (root / "engagement" / "data.json").write_text('{"max_contacts_24h": 4, "blocked_terms": []}')
    edited_data = load_bundle(root).revision

    assert len({original, edited_policy, edited_data}) == 3


def test_revision_changes_when_a_file_is_renamed() -> None:
    text = "package engagement\n"
    assert bundle_revision({"a.rego": text}, {}) != bundle_revision({"b.rego": text}, {})


def test_missing_data_file_means_empty_data(ok_copy: Path) -> None:
    root = ok_copy
    (root / "engagement" / "data.json").unlink()

    assert load_bundle(root).data == {}


def test_missing_directory_is_refused_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(BundleError, match="nope"):
        load_bundle(missing)


def test_directory_without_rego_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "engagement").mkdir()
    (tmp_path / "engagement" / "data.json").write_text("{}")

    with pytest.raises(BundleError, match=r"no \.rego files"):
        load_bundle(tmp_path)


def test_invalid_data_json_names_the_file_and_line(ok_copy: Path) -> None:
    root = ok_copy
    (root / "engagement" / "data.json").write_text('{\n  "max_contacts_24h": 3,\n  "x": \n}\n')

    with pytest.raises(BundleError) as caught:
        load_bundle(root)

    assert "engagement/data.json" in str(caught.value)
    assert "line 4" in str(caught.value)
    assert isinstance(caught.value, PolicyError)


def test_data_json_must_be_an_object(ok_copy: Path) -> None:
    root = ok_copy
    (root / "engagement" / "data.json").write_text("[1, 2]")

    with pytest.raises(BundleError, match="must hold a JSON object"):
        load_bundle(root)


def test_nan_in_data_json_is_refused(ok_copy: Path) -> None:
    root = ok_copy
    (root / "engagement" / "data.json").write_text('{"cap": NaN}')

    with pytest.raises(BundleError, match="NaN"):
        load_bundle(root)


def test_a_number_too_large_for_json_is_refused_naming_it(ok_copy: Path) -> None:
    """1e400 would read as infinity and be stored as null: a different policy."""
    root = ok_copy
    (root / "engagement" / "data.json").write_text('{"cap": 1e400}')

    with pytest.raises(BundleError, match=r"the number 1e400 is too large"):
        load_bundle(root)


def test_the_stored_bytes_read_back_as_the_same_revision() -> None:
    data = {"z": -0.0, "huge": 1e300, "long": 12345678901234567890.5, "big": 10**30}
    bundle = build_bundle({"a.rego": "package a\n"}, data)
    content = content_of(bundle)
    assert bundle_revision(bundle.files, bundle.data) == bundle.revision
    assert "sha256:" + hashlib.sha256(content).hexdigest() == bundle.revision
    assert b'"z":-0.0' in content and b'"huge":1e300' in content
    with pytest.raises(BundleError, match=r"data\.x\[1\] is nan"):
        content_of(build_bundle({"a.rego": "package a\n"}, {"x": [1, float("nan")]}))


def test_non_utf8_policy_is_refused_with_its_name(ok_copy: Path) -> None:
    root = ok_copy
    (root / "engagement" / "bad.rego").write_bytes(b"package engagement\n# \xff\n")

    with pytest.raises(BundleError, match=r"bad\.rego is not UTF-8"):
        load_bundle(root)
