#!/usr/bin/env python3
"""Write the kit's links from the one repository address in pyproject.toml.

    python3 tools/links.py           rewrite the marked lines of the files below
    python3 tools/links.py --check   exit 1 (and name the file) if one is out of date

The address is `[project.urls] Repository` in pyproject.toml (https://github.com/OWNER/NAME).
After a fork, change that one line and run this tool. It makes:

- the Binder badge and link (README.md, notebooks/instructor-guide.md): mybinder.org
  builds the repository and opens lesson 00;
- the nbgitpuller link for a class JupyterHub (README.md, the instructor guide): each
  learner who opens it gets their own copy of the repository in their home folder,
  updated from the branch on each click without losing their changes, and lands on
  lesson 00 in JupyterLab;
- `repository-code` in CITATION.cff and the version links at the end of CHANGELOG.md;
- where a `pages-site` or `pages-lesson` region asks for it, the address of the
  JupyterLite site on GitHub Pages.

A marked region starts with a line that contains `begin links:NAME` and ends with a line
that contains `end links:NAME` (in a comment of the file's kind: `<!-- -->` or `#`); the
tool replaces what is between them. Standard library only (Python 3.10 has no tomllib,
so the one line is read with a regular expression there).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
FIRST_LESSON = "notebooks/00-start-here.ipynb"
BRANCH = "main"
HUB = "https://HUB"            # the class hub's address: the instructor puts theirs
FILES = ["README.md", "notebooks/instructor-guide.md", "CITATION.cff", "CHANGELOG.md",
         "docs/jupyterlite.md"]
REGION = re.compile(r"^(?P<begin>[^\n]*\bbegin links:(?P<name>[\w-]+)\b[^\n]*\n)"
                    r"(?P<body>.*?)"
                    r"^(?P<end>[^\n]*\bend links:(?P=name)\b[^\n]*)$", re.M | re.S)
GITHUB = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+?(?=/|\s|$)")


def repository(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The repository's address, from pyproject.toml's [project.urls] Repository."""
    text = pyproject.read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib
        url = tomllib.loads(text)["project"].get("urls", {}).get("Repository")
    else:
        section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        found = section and re.search(r'^Repository\s*=\s*"([^"]+)"', section.group(1), re.M)
        url = found.group(1) if found else None
    if url is None:
        raise SystemExit("links.py: pyproject.toml has no [project.urls] Repository")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise SystemExit(f"links.py: Repository = {url!r} is not https://github.com/OWNER/NAME")
    return url


def slug(repo: str) -> str:
    """'https://github.com/evtsim/evtsim' -> 'evtsim/evtsim'."""
    return repo.removeprefix("https://github.com/")


def binder_url(repo: str, ref: str = "HEAD") -> str:
    return f"https://mybinder.org/v2/gh/{slug(repo)}/{ref}?urlpath=lab/tree/{FIRST_LESSON}"


def hub_url(repo: str, hub: str = HUB, branch: str = BRANCH) -> str:
    """nbgitpuller's link: the hub clones the repository into ~/NAME and opens lesson 00."""
    folder = slug(repo).split("/")[1]
    return (f"{hub}/hub/user-redirect/git-pull?repo={quote(repo, safe='')}"
            f"&branch={quote(branch, safe='')}"
            f"&urlpath={quote(f'lab/tree/{folder}/{FIRST_LESSON}', safe='')}")


def pages_url(repo: str) -> str:
    """Where GitHub Pages publishes the repository's site: https://OWNER.github.io/NAME/."""
    owner, name = slug(repo).split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def raw_url(repo: str, path: str, branch: str = BRANCH) -> str:
    """Where a file of the branch can be downloaded (for a hub image's build)."""
    return f"https://raw.githubusercontent.com/{slug(repo)}/{branch}/{path}"


def regions(repo: str) -> dict[str, str]:
    """What each marked region holds, made from the repository's address."""
    return {
        "binder-badge": (f"[![Open the first lesson on Binder](https://mybinder.org/badge_logo.svg)]"
                         f"({binder_url(repo)})\n"),
        "binder-url": f"{binder_url(repo)}\n",
        "binder-tag-url": f"    {binder_url(repo, '<tag>')}\n",
        "hub-url": f"    {hub_url(repo)}\n",
        "hub-image": (f"    pip install -r {raw_url(repo, 'binder/requirements.txt')} nbgitpuller\n"
                      f'    pip install --no-deps "evtsim @ git+{repo}@{BRANCH}"\n'),
        "citation": f'repository-code: "{repo}"\n',
        # the JupyterLite site on GitHub Pages (docs/jupyterlite.md)
        "pages-site": f"`{pages_url(repo)}`\n",
        "pages-lesson": f"`{pages_url(repo)}lab/index.html?path=00-start-here.ipynb`\n",
    }


def rewrite(text: str, repo: str) -> str:
    """Each marked region made again; a `links:versions` region (the changelog's version
    links) keeps its lines and gets the repository's address in each."""
    made = regions(repo)

    def one(match: re.Match) -> str:
        name, body = match.group("name"), match.group("body")
        if name == "versions":
            body = GITHUB.sub(repo, body)
        elif name in made:
            body = made[name]
        else:
            raise SystemExit(f"links.py: unknown region links:{name}")
        return match.group("begin") + body + match.group("end")
    return REGION.sub(one, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that every marked region is up to date")
    args = parser.parse_args(argv)
    repo = repository()
    stale = []
    for name in FILES:
        path = ROOT / name
        text = path.read_text(encoding="utf-8")
        if not REGION.search(text):
            raise SystemExit(f"links.py: {name} has no marked region")
        new = rewrite(text, repo)
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for name in stale:
        print(f"links.py: {name} {'is out of date' if args.check else 'rewritten'}",
              file=sys.stderr if args.check else sys.stdout)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
