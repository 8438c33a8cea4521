"""The Markdown of evaluate's report, cell by cell."""

import pytest

from pmtype.report import _cell


def _gfm_cells(row: str) -> list[str]:
    """A table row split as GitHub's Markdown splits it: a backslash escapes the character after it."""
    cells, cell, i = [], "", 0
    body = row.strip()[1:-1]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            cell += body[i:i + 2]
            i += 2
            continue
        if body[i] == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += body[i]
        i += 1
    return cells + [cell]


@pytest.mark.parametrize("text", ["plain", "a | b", "C:\\|x", "ends with \\", "\\\\|\\", "two\nlines\there"])
def test_a_cell_stays_one_cell_whatever_its_bars_and_backslashes(text):
    row = f"| 1 | {_cell(text)} | technical |"
    assert len(_gfm_cells(row)) == 3
    assert "\n" not in row


@pytest.mark.parametrize("text", ["PM | Platform *APIs* and __init__", "Senior PM ![pixel](http://x/p.png) [apply](http://x)",
                                  "<b>Growth</b> PM `code` ~~old~~ &amp; C:\\|x", "_Data_ PM, not_pm rows \\*"])
def test_a_cell_shows_a_posting_s_markup_as_written_not_rendered(text):
    """A first line's emphasis, code, links, images, HTML and entities are shown as the posting wrote them."""
    from markdown_it import MarkdownIt

    from pmtype.report import _cell

    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(f"| row | posting |\n|---|---|\n| 1 | {_cell(text)} |\n")
    cell = html.split("<td>")[2].split("</td>")[0]
    shown = cell.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert shown == text


@pytest.mark.parametrize("text", ["# ref.csv: left out 1 row", "- ref.csv", "+ x", "* x", "> quoted", "1. ref.csv",
                                  "12) x", "---", "#hashtag", "2024.csv: 1. fine", "1.5 years"])
def test_a_note_or_cell_that_starts_like_a_heading_or_a_list_is_shown_as_written(text):
    """A note (a list item) or a cell that begins with a heading's, a quote's or a list's marker is that
    text, not a heading, quote or list nested in the report's list of notes."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    assert md.render(f"- {_cell(text)}\n") == f"<ul>\n<li>{text.replace('>', '&gt;')}</li>\n</ul>\n"
    cell = md.render(f"| row | posting |\n|---|---|\n| 1 | {_cell(text)} |\n").split("<td>")[2].split("</td>")[0]
    assert cell == text.replace(">", "&gt;")
