"""Read a book into chapters of paragraphs: plain text, Markdown or EPUB.

- `.txt`: a paragraph is a block of lines between blank lines; a one-line paragraph such as
  "Chapter 1", "CHAPTER IV. The Storm", "Part Two", "Prologue" or "Epilogue" starts a chapter.
- `.md`: `#` and `##` headings start chapters (markdown-it-py parses the rest; deeper headings
  are read as paragraphs). Fenced and indented code blocks are not spoken: they are listed in
  `Book.skipped` so the manifest can account for them.
- `.epub`: each document of the spine with text is a chapter (ebooklib); its first heading
  is the title.

Text before the first heading becomes a chapter of its own, titled by the file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from latentlm_common.errors import InputError

SUFFIXES = (".txt", ".md", ".markdown", ".epub")

_TXT_HEADING = re.compile(
    r"^(?:(?:chapter|part|book)\s+(?:\d+|[ivxlcdm]+|[a-z]+(?:[- ][a-z]+)?)\b.*"
    r"|prologue|epilogue|preface|introduction)$",
    re.IGNORECASE,
)


@dataclass
class Chapter:
    title: str
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Book:
    chapters: list[Chapter]
    skipped: list[str] = field(default_factory=list)  # blocks not spoken (code; text with nothing to pronounce)


def read_book(path: str | Path) -> Book:
    """Parse `path` by its suffix; raise `InputError` when it is missing, unknown or has no text."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unsupported book format '{suffix}'; use .txt, .md or .epub.")
    if suffix == ".epub":
        book = _read_epub(path)
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text.") from None
        book = _read_markdown(text, path.stem) if suffix in (".md", ".markdown") else _read_txt(text, path.stem)
    book.chapters = [c for c in book.chapters if c.paragraphs or c.title]
    if not any(c.paragraphs for c in book.chapters):
        raise InputError(f"{path}: the book has no text to read.")
    return book


def _squash(text: str) -> str:
    return " ".join(text.split())


def _read_txt(text: str, stem: str) -> Book:
    chapters = [Chapter(title=stem)]
    for block in re.split(r"\n\s*\n", text):
        para = _squash(block)
        if not para:
            continue
        if "\n" not in block.strip() and _TXT_HEADING.match(para):
            chapters.append(Chapter(title=para))
        else:
            chapters[-1].paragraphs.append(para)
    if not chapters[0].paragraphs:
        chapters.pop(0)
    return Book(chapters)


def _inline_text(token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _squash("".join(parts))


def _read_markdown(text: str, stem: str) -> Book:
    from markdown_it import MarkdownIt

    book = Book([Chapter(title=stem)])
    tokens = MarkdownIt("commonmark").parse(text)
    for i, tok in enumerate(tokens):
        if tok.type in ("fence", "code_block"):
            book.skipped.append(tok.content.strip())
        elif tok.type != "inline" or not _inline_text(tok):
            continue
        elif tokens[i - 1].type == "heading_open" and tokens[i - 1].tag in ("h1", "h2"):
            book.chapters.append(Chapter(title=_inline_text(tok)))
        else:
            book.chapters[-1].paragraphs.append(_inline_text(tok))
    if not book.chapters[0].paragraphs:
        book.chapters.pop(0)
    return book


class _HtmlBlocks(HTMLParser):
    """Collect the text of block elements (p, h1-h6, li, div, blockquote) in document order."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "blockquote", "br"}

    def __init__(self):
        super().__init__()
        self.blocks: list[tuple[str, str]] = []  # (tag, text)
        self._tag, self._buf, self._skip = "p", [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self._flush()
            self._tag = tag

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        if not self._skip:
            self._buf.append(data)

    def _flush(self):
        text = _squash("".join(self._buf))
        if text:
            self.blocks.append((self._tag, text))
        self._buf = []


def _read_epub(path: Path) -> Book:
    try:
        import ebooklib
        from ebooklib import epub
    except ImportError:
        raise InputError("reading .epub needs ebooklib: pip install 'latentlm-tts[audiobook]'.") from None
    try:
        doc = epub.read_epub(str(path), options={"ignore_ncx": True})
    except Exception as e:
        raise InputError(f"{path}: cannot read this file as EPUB ({type(e).__name__}).") from None
    chapters = []
    for item_id, _ in doc.spine:
        item = doc.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        parser = _HtmlBlocks()
        parser.feed(item.get_content().decode("utf-8", errors="replace"))
        parser.close()
        if not parser.blocks:
            continue
        first = next((i for i, (tag, _) in enumerate(parser.blocks) if tag[0] == "h"), None)
        title = parser.blocks[first][1] if first is not None else f"Section {len(chapters) + 1}"
        paragraphs = [t for i, (_, t) in enumerate(parser.blocks) if i != first]
        chapters.append(Chapter(title=title, paragraphs=paragraphs))
    return Book(chapters)
