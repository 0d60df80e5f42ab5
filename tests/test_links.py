"""The repository's address is written once (pyproject.toml); tools/links.py makes the rest.

- every marked region of README.md, the instructor guide, CITATION.cff and CHANGELOG.md
  is what the tool makes now (`--check`), and no other line names the address;
- the README's Binder badge and link open lesson 00 of that repository;
- the JupyterHub (nbgitpuller) link decodes to that repository, its branch, and a
  lesson that exists in the folder nbgitpuller clones it into;
- after a fork, changing the one line is enough: the tool rewrites every link, and
  nothing outside the marked regions.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import links  # noqa: E402  (tools/ is not a package)

FORK = "https://github.com/acme/evtsim-fork"
HUB_LINK = re.compile(r"https://HUB/hub/user-redirect/git-pull\?\S+")


def text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def outside_regions(content: str) -> str:
    return links.REGION.sub(lambda m: m.group("begin") + m.group("end"), content)


def address_forms(repo: str) -> list[str]:
    owner_name = links.slug(repo)
    return [repo, f"gh/{owner_name}/", f"raw.githubusercontent.com/{owner_name}/",
            owner_name.replace("/", "%2F")]


def test_the_marked_links_are_what_tools_links_makes():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "links.py"), "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in links.FILES:
        assert links.REGION.search(text(name)), name


def test_the_address_is_in_pyproject_and_nowhere_else_by_hand():
    repo = links.repository()
    assert repo == "https://github.com/evtsim/evtsim"
    files = [ROOT / name for name in links.FILES] + sorted((ROOT / "docs").glob("*.md"))
    for path in files:
        rest = outside_regions(path.read_text(encoding="utf-8"))
        for form in address_forms(repo):
            assert form not in rest, f"{path.name} names {form} outside a links region"


def test_readme_binder_links_open_lesson_00_of_the_repository():
    repo = links.repository()
    found = re.findall(r"https://mybinder\.org/v2/gh/[^\s)\]]+", text("README.md"))
    assert found == [links.binder_url(repo)] * 2          # the badge and the link
    assert found[0] == ("https://mybinder.org/v2/gh/evtsim/evtsim/HEAD"
                        "?urlpath=lab/tree/notebooks/00-start-here.ipynb")
    assert (ROOT / "notebooks" / "00-start-here.ipynb").is_file()


def test_hub_link_decodes_to_the_repository_and_a_lesson_that_exists():
    repo = links.repository()
    readme_links = HUB_LINK.findall(text("README.md"))
    assert readme_links == [links.hub_url(repo)]
    assert HUB_LINK.findall(text("notebooks/instructor-guide.md")) == readme_links
    url = urlsplit(readme_links[0])
    assert url.path == "/hub/user-redirect/git-pull"
    query = parse_qs(url.query, strict_parsing=True)
    assert query["repo"] == [repo]
    assert query["branch"] == ["main"]
    [urlpath] = query["urlpath"]
    # nbgitpuller clones into ~/NAME (the repository's name); the lab opens a path in it
    folder, _, inside = urlpath.removeprefix("lab/tree/").partition("/")
    assert urlpath.startswith("lab/tree/") and folder == repo.rsplit("/", 1)[1]
    assert inside == "notebooks/00-start-here.ipynb"
    assert (ROOT / inside).is_file()


def test_hub_image_installs_the_pinned_lab_and_the_kit_from_the_repository():
    block = re.search(r"begin links:hub-image[^\n]*\n(.*?)\n[^\n]*end links:hub-image",
                      text("README.md"), re.S)
    assert block
    lines = [line.strip() for line in block.group(1).splitlines()]
    assert lines == [
        "pip install -r https://raw.githubusercontent.com/evtsim/evtsim/main/"
        "binder/requirements.txt nbgitpuller",
        'pip install --no-deps "evtsim @ git+https://github.com/evtsim/evtsim@main"',
    ]
    assert (ROOT / "binder" / "requirements.txt").is_file()


def test_a_fork_needs_only_the_one_line():
    repo = links.repository()
    for name in links.FILES:
        before = text(name)
        after = links.rewrite(before, FORK)
        assert outside_regions(after) == outside_regions(before), name
        for form in address_forms(repo):
            assert form not in after, f"{name} still names {form} after the fork"
        assert (links.slug(FORK) in after or FORK in after
                or links.pages_url(FORK) in after), name
        assert links.rewrite(after, repo) == before, name
    assert "gh/acme/evtsim-fork/HEAD" in links.rewrite(text("README.md"), FORK)
