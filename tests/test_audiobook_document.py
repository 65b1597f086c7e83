import pytest

from latentlm_common.errors import InputError
from tts.audiobook.document import read_book


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_txt_chapters_from_headings(tmp_path):
    p = write(
        tmp_path,
        "book.txt",
        "A short preface line.\n\nCHAPTER I\n\nIt was a dark night.\nThe wind blew.\n\n"
        "Second paragraph.\n\nChapter 2: The Morning\n\nThe sun rose.\n",
    )
    book = read_book(p)
    assert [c.title for c in book.chapters] == ["book", "CHAPTER I", "Chapter 2: The Morning"]
    assert book.chapters[0].paragraphs == ["A short preface line."]
    assert book.chapters[1].paragraphs == ["It was a dark night. The wind blew.", "Second paragraph."]
    assert book.chapters[2].paragraphs == ["The sun rose."]


def test_txt_without_headings_is_one_chapter(tmp_path):
    book = read_book(write(tmp_path, "essay.txt", "One.\n\nTwo.\n"))
    assert len(book.chapters) == 1 and book.chapters[0].title == "essay"
    assert book.chapters[0].paragraphs == ["One.", "Two."]


def test_a_sentence_starting_with_chapter_is_not_a_heading_when_it_spans_lines(tmp_path):
    book = read_book(write(tmp_path, "b.txt", "Chapter one was long\nand boring, she said.\n"))
    assert len(book.chapters) == 1 and book.chapters[0].paragraphs == ["Chapter one was long and boring, she said."]


def test_markdown_chapters_inline_markup_and_code(tmp_path):
    md = (
        "# Part One\n\nSome *emphasis* and a [link](http://x) here.\n\n- a list item\n\n"
        "### A subheading\n\n```python\nprint('code')\n```\n\n## Part Two\n\n> A quote.\n"
    )
    book = read_book(write(tmp_path, "b.md", md))
    assert [c.title for c in book.chapters] == ["Part One", "Part Two"]
    assert book.chapters[0].paragraphs == ["Some emphasis and a link here.", "a list item", "A subheading"]
    assert book.chapters[1].paragraphs == ["A quote."]
    assert book.skipped == ["print('code')"]


def test_epub_chapters(tmp_path):
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("id1")
    book.set_title("T")
    book.set_language("en")
    items = []
    for i, body in enumerate(["<h1>First</h1><p>Hello there.</p><p>Second para.</p>", "<h2>Next</h2><p>Bye.</p>"]):
        item = epub.EpubHtml(title=f"c{i}", file_name=f"c{i}.xhtml", lang="en")
        item.content = f"<html><body>{body}</body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = items
    path = tmp_path / "b.epub"
    epub.write_epub(str(path), book)
    parsed = read_book(path)
    assert [c.title for c in parsed.chapters] == ["First", "Next"]
    assert parsed.chapters[0].paragraphs == ["Hello there.", "Second para."]
    assert parsed.chapters[1].paragraphs == ["Bye."]


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("missing.txt", None, "no such file"),
        ("b.pdf", "x", "unsupported book format"),
        ("empty.md", "\n\n   \n", "no text"),
        ("bad.epub", "not a zip", "cannot read this file as EPUB"),
    ],
)
def test_bad_books(tmp_path, name, content, match):
    p = tmp_path / name
    if content is not None:
        p.write_text(content)
    with pytest.raises(InputError, match=match):
        read_book(p)


def test_non_utf8_text(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("caf\xe9 ol\xe9".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_book(p)
