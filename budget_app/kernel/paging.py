"""One page of a list already in memory (an import preview), with the attributes the
``pagination`` macro of ``_macros.html`` reads (those of Flask-SQLAlchemy's pages): a
preview never shows the whole of a 50 000-row file at once (issue 21)."""
from dataclasses import dataclass

PREVIEW_PAGE_SIZE = 100


def page_number(text) -> int:
    """``?page=N``: 1 when missing or not plain ASCII digits (never a 500)."""
    text = text if isinstance(text, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return 1
    return max(1, int(text))


@dataclass
class ListPage:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """1-based position of the first item shown (0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_of(items: list, number: int, per_page: int = PREVIEW_PAGE_SIZE) -> ListPage:
    """Page ``number`` of ``items`` (the last page when past the end)."""
    pages = max(1, -(-len(items) // per_page))
    number = min(max(1, number), pages)
    start = (number - 1) * per_page
    return ListPage(items[start:start + per_page], number, per_page, len(items))
