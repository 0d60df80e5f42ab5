"""Licences, citation and changelog: an instructor may reuse and adapt the kit, and knows how.

- LICENSE is the MIT licence for the code; LICENSE-TEXT is the whole legal code of
  Creative Commons Attribution 4.0 International for the lessons and docs (the plain-text
  legal code that creativecommons.org publishes, as choosealicense.com ships it; its
  SHA-256 is pinned here, so any edit shows); the README says which covers what;
- pyproject.toml names both (PEP 639), and a wheel built from the checkout carries both
  files and says `License-Expression: MIT AND CC-BY-4.0`;
- CITATION.cff has the keys of CFF 1.2.0 with the package's version, licence and
  address; CHANGELOG.md names the current version with the same release date.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import yaml

import evtsim

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# https://creativecommons.org/licenses/by/4.0/legalcode.txt (choosealicense.com's copy,
# without its front matter)
CC_BY_4_SHA256 = "f5b745ef98087f531e719ee8ca6a96809444573ecc7173c6fa68eaad39b3cc3f"
MIT_GRANT = ("Permission is hereby granted, free of charge, to any person obtaining a copy\n"
             "of this software and associated documentation files (the \"Software\"), to deal\n"
             "in the Software without restriction")


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_code_licence_is_mit_by_the_evtsim_authors():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the evtsim authors\n\n")
    assert MIT_GRANT in text
    assert text.rstrip().endswith("OTHER DEALINGS IN THE\nSOFTWARE.")


def test_lessons_licence_is_the_whole_cc_by_4_legal_code():
    text = (ROOT / "LICENSE-TEXT").read_text(encoding="utf-8")
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == CC_BY_4_SHA256
    assert text.startswith("Attribution 4.0 International\n")
    assert "Creative Commons Attribution 4.0 International Public License" in text
    sections = re.findall(r"^Section (\d) -- ", text, re.M)
    assert sections == [str(n) for n in range(1, 9)]
    # the last lettered item of the last section, and the closing notice
    assert "  d. Nothing in this Public License constitutes or may be interpreted" in text
    assert text.rstrip().endswith("Creative Commons may be contacted at creativecommons.org.")


def test_pyproject_names_both_licences():
    meta = project()
    assert meta["license"] == "MIT AND CC-BY-4.0"
    assert meta["license-files"] == ["LICENSE", "LICENSE-TEXT"]
    assert not any(c.startswith("License ::") for c in meta.get("classifiers", []))
    build = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["build-system"]
    assert "setuptools>=77" in build["requires"]        # the first to read PEP 639 fields


@pytest.mark.slow
def test_a_wheel_carries_both_licences_and_the_type_marker(tmp_path):
    """The wheel a learner's pip builds (isolated, with setuptools>=77), from a copy of
    what the build reads: setuptools writes build/ and *.egg-info/ next to the sources,
    and another test (the JupyterLite build) may build the checkout at the same time."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "evtsim", source / "evtsim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [wheel] = out.glob("evtsim-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        info = f"evtsim-{evtsim.__version__}.dist-info"
        meta = Parser().parsestr(archive.read(f"{info}/METADATA").decode("utf-8"))
        assert meta["License-Expression"] == "MIT AND CC-BY-4.0"
        assert sorted(meta.get_all("License-File")) == ["LICENSE", "LICENSE-TEXT"]
        for name in ("LICENSE", "LICENSE-TEXT"):
            assert archive.read(f"{info}/licenses/{name}") == (ROOT / name).read_bytes()
        names = archive.namelist()
    # the same wheel carries the type marker (tests/test_code_quality.py checks its source)
    assert "evtsim/py.typed" in names and "evtsim/machine.py" in names


def test_readme_says_which_licence_covers_what():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Licence\n(.*?)(?=^## )", readme, re.M | re.S)
    assert section, "README.md has no '## Licence' section"
    text = section.group(1)
    code = text.index("**The code**")
    lessons = text.index("**The lessons and the docs**")
    assert "MIT" in text[code:lessons] and "`LICENSE`" in text[code:lessons]
    assert "CC BY 4.0" in text[lessons:] and "`LICENSE-TEXT`" in text[lessons:]


def test_citation_file_has_the_cff_keys_and_the_package_version():
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"].strip() and cff["title"].strip()
    assert cff["type"] == "software"
    assert cff["authors"] == [{"name": "The evtsim authors"}]
    assert cff["version"] == evtsim.__version__ == project()["version"]
    # CFF's licence is one SPDX identifier (a list would mean "either"): the code's
    assert cff["license"] == "MIT" and "MIT" in project()["license"].split(" AND ")
    assert cff["repository-code"] == project()["urls"]["Repository"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cff["date-released"])


def test_changelog_names_the_current_version_with_the_citation_date():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## \[Unreleased\]$", text, re.M)
    version = re.escape(evtsim.__version__)
    released = re.search(rf"^## \[{version}\] - (\d{{4}}-\d{{2}}-\d{{2}})$", text, re.M)
    assert released, f"CHANGELOG.md has no '## [{evtsim.__version__}] - DATE' section"
    assert released.group(1) == citation()["date-released"]
    unreleased = text[text.index("## [Unreleased]"):released.start()]
    assert len(re.findall(r"^- ", unreleased, re.M)) >= 5, "say what this round changed"
