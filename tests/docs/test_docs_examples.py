"""Every Python example in README.md and docs/ runs.

Each markdown file is one test: its ```python blocks are executed in order in one fresh module
namespace, so later blocks of a page may use what earlier ones defined. A block fenced as
```python no-run is shown but not executed (use it only for code that cannot run here).
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from event_sourcery import exceptions

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts, its info string and its text."""

    line: int
    info: str
    code: str

    @property
    def runs(self) -> bool:
        words = self.info.split()
        return bool(words) and words[0] == "python" and "no-run" not in words[1:]


def fenced_blocks(text: str) -> list[Block]:
    """The top-level fenced blocks of a markdown text (fences start at column 0)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and lines[index] != "```":
            index += 1
        if index == len(lines):
            raise ValueError(f"unclosed code block at line {start + 1}")
        code = "\n".join(lines[start + 1 : index])
        blocks.append(Block(start + 2, opening.group("info").strip(), code))
        index += 1
    return blocks


def module_name(page: Path) -> str:
    """A distinct module name per page, so default event names never collide across pages."""
    parts = page.relative_to(ROOT).with_suffix("").parts
    return "docs_examples." + ".".join(re.sub(r"\W", "_", part) for part in parts)


def run_page(page: Path) -> int:
    """Execute the page's runnable blocks in one fresh module; returns how many ran."""
    name = module_name(page)
    module = types.ModuleType(name)
    module.__file__ = str(page)
    sys.modules[name] = module
    ran = 0
    try:
        for block in fenced_blocks(page.read_text(encoding="utf-8")):
            if not block.runs:
                continue
            # Pad with newlines so tracebacks point at the markdown line of the code.
            source = "\n" * (block.line - 1) + block.code
            exec(compile(source, str(page), "exec"), module.__dict__)
            ran += 1
    finally:
        del sys.modules[name]
        gc.collect()  # drop the page's event classes before other tests scan Event subclasses
    return ran


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_examples_of_page_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if page.name == "kurrentdb.md":  # runs on the real server of KURRENTDB_URI, or the double
        from tests.backends.kurrentdb.server import target

        monkeypatch.setenv("KURRENTDB_URI", target().uri)
    run_page(page)


def test_readme_and_every_recipe_have_examples() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs" / "recipes").glob("*.md"))]
    assert len(pages) > 1
    for page in pages:
        blocks = fenced_blocks(page.read_text(encoding="utf-8"))
        assert any(b.runs for b in blocks), f"{page.name} has no runnable python example"


def test_exceptions_reference_documents_every_exception() -> None:
    page = (ROOT / "docs" / "reference" / "exceptions.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### (\w+)$", page, flags=re.MULTILINE))
    defined = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == exceptions.__name__
    }
    assert defined - documented == set(), "add a section to docs/reference/exceptions.md"
    assert documented - defined == set(), "documented exceptions that do not exist"


def test_readme_links_point_at_existing_files() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme = re.sub(r"^```.*?^```$", "", readme, flags=re.MULTILINE | re.DOTALL)  # prose only
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links to the docs"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert missing == []


def test_mkdocs_site_builds_strictly(tmp_path: Path) -> None:
    """Every page is in the nav and every link and anchor resolves (warnings fail the build)."""
    pytest.importorskip("mkdocs")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_fenced_blocks_parses_info_strings() -> None:
    text = "x\n```python\na = 1\n```\n```python no-run\nb = 2\n```\n```bash\nmake\n```\n"
    blocks = fenced_blocks(text)
    assert [(b.line, b.info, b.code, b.runs) for b in blocks] == [
        (3, "python", "a = 1", True),
        (6, "python no-run", "b = 2", False),
        (9, "bash", "make", False),
    ]
