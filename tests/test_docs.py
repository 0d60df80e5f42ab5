"""The project stands on its own: every rule the code and tests cite is in docs/.

Code, tests and lessons cite the behaviour rules as "docs/semantics.md section N"; each
cited section must be a heading of that file, and nothing may cite a planning document
outside the repository.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = ROOT / "docs" / "semantics.md"
CITING = [p for folder in ("evtsim", "tests", "tools", "docs", "notebooks", "bench")
          for p in sorted((ROOT / folder).rglob("*"))
          if p.suffix in (".py", ".md", ".ipynb") and p.is_file()] + [ROOT / "README.md"]
CITATION = re.compile(r"docs/semantics\.md sections? (\d+)(?: and (\d+))?")


def test_semantics_has_its_numbered_sections_each_with_a_source():
    text = SEMANTICS.read_text(encoding="utf-8")
    headings = re.findall(r"^## (\d+)\. ", text, re.M)
    assert headings == [str(n) for n in range(1, len(headings) + 1)]
    assert len(headings) >= 9
    sections = re.split(r"^## \d+\. .*$", text, flags=re.M)[1:]
    for number, body in enumerate(sections[:9], 1):    # the behaviour sections
        assert re.search(r"\((MS |ReactOS |Wine |KB |DriverStudio)", body), (
            f"section {number} names no source")


def test_every_cited_section_exists():
    headings = set(re.findall(r"^## (\d+)\. ", SEMANTICS.read_text(encoding="utf-8"), re.M))
    cited = {}
    for path in CITING:
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            for number in filter(None, match.groups()):
                cited.setdefault(number, []).append(path.relative_to(ROOT).as_posix())
    assert cited, "nothing cites docs/semantics.md"
    missing = {n: files for n, files in cited.items() if n not in headings}
    assert not missing, f"cited sections that docs/semantics.md does not have: {missing}"


def test_nothing_cites_a_document_outside_the_repository():
    outside = [path.relative_to(ROOT).as_posix() for path in CITING
               if re.search(r"SEMANTICS\.md|\.\./shared", path.read_text(encoding="utf-8",
                                                                         errors="replace"))]
    assert outside == []
