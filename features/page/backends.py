"""Two HTML parsers behind one small interface: BeautifulSoup (the reference) and lexbor (fast).

Both build a WHATWG (browser) DOM tree: BeautifulSoup runs on the `html5lib` tree builder for
that reason, since `html.parser` and `lxml` build different trees from the same broken markup,
and `dom_depth` / `dom_siblings` would then disagree with lexbor (and with browsers).
Everything else (which elements count, URL resolution, lazy loading) is decided once, in
`features.page.images`, so the two backends can only differ in how they walk a tree.

A backend exposes:
  parse(html, utf8=None) -> doc, base_href(doc) -> str | None,
  candidates(doc) -> [(tag, node)], each element once, in document order,
  attribute(node, name) -> str | None, attributes(node) -> {name: str value}, parent_tag(node),
  context(node) -> (parent_tag, parent_text, dom_depth, dom_siblings, in_noscript, ancestors)
`attribute` reads one attribute without building the dict of all of them: the rules use it to
drop ordinary links early.  `utf8` is optional: the exact UTF-8 encoding of `html`, which a
backend that parses bytes (lexbor) may use instead of `html`; the reference ignores it.

Both parse as a browser with scripting disabled (the WHATWG "scripting flag" off), so
<noscript> content is markup, not text: its images are found, and flagged `in_noscript`
(most are fallbacks for lazy-loaded images that appear again outside).
"""
from __future__ import annotations

from collections.abc import Iterator

CANDIDATE_TAGS = ("img", "source", "a", "link", "embed", "object", "iframe")
TEXT_SKIP_TAGS = frozenset({"script", "style", "template"})
ANCESTORS_MAX = 6  # elements described, nearest first
ANCESTOR_CHARS = 60  # per element
ANCESTORS_STOP = frozenset({"body", "html"})


def collapse(text: str) -> str:
    return " ".join(text.split())


def describe_element(tag: str, cls: str | None, id_: str | None) -> str:
    """`tag.class1.class2#id`, at most ANCESTOR_CHARS characters: one ancestor in the `ancestors` field.

    Why: the landmarks around an image (figure, article, .entry-content; header, nav, .sidebar,
    .related, .author) say what the image is on any site, where URL n-grams only know the sites seen.
    """
    text = tag
    if cls:
        text += "".join("." + c for c in cls.split())
    if id_:
        text += "#" + "".join(id_.split())
    return text[:ANCESTOR_CHARS]


class _TextBudget:
    """Collects text pieces until the collapsed text is longer than `limit`.

    Why bounded: an image whose parent is <body> would otherwise cost a walk over the
    whole page per image.  The collapsed text of a prefix is a prefix of the collapsed
    text of the whole, so stopping early gives the same first `limit` characters.
    """

    __slots__ = ("limit", "pieces", "raw_len", "next_check")

    def __init__(self, limit: int):
        self.limit = limit
        self.pieces: list[str] = []
        self.raw_len = 0
        self.next_check = limit

    def add(self, piece: str) -> bool:
        """Add a piece; return True when enough text has been seen."""
        self.pieces.append(piece)
        self.raw_len += len(piece)
        if self.raw_len > self.next_check:
            if len(collapse("".join(self.pieces))) > self.limit:
                return True
            self.next_check = self.raw_len * 2
        return False

    def text(self) -> str:
        return collapse("".join(self.pieces))[: self.limit]


class LexborBackend:
    """selectolax's lexbor binding: a C HTML5 parser, about 30x faster than BeautifulSoup."""

    name = "lexbor"

    def __init__(self, text_limit: int = 500):
        from selectolax.lexbor import LexborHTMLParser

        self._parser_cls = LexborHTMLParser
        self._selector = ", ".join(CANDIDATE_TAGS)
        self.text_limit = text_limit
        self._new_page_caches()

    def _new_page_caches(self) -> None:
        """Per-page caches, keyed by node mem_id (the address of the C node: unique within one document).

        Why: the images of a page share few parents (a gallery, a list of products), and a walk up to
        the root, a count of siblings and a text walk per image cost more than the rest of the record.
        """
        self._context_cache: dict[int, tuple] = {}  # parent -> context() result for its children
        self._depth_cache: dict[int, tuple[int, bool]] = {}  # node -> (depth, inside a <noscript>)
        self._text_cache: dict[int, tuple[list, int, int, bool]] = {}  # node -> its text pieces (see _text)

    def parse(self, html: str, utf8: bytes | None = None):
        """Parse a page.  `utf8`, when given, must be exactly `html` encoded as UTF-8 (see
        features.page.charset.utf8_payload): lexbor parses those bytes as they are, which saves the copy
        selectolax would make to encode `html` back to UTF-8; the tree is the same."""
        self._new_page_caches()
        return self._parser_cls(utf8 if utf8 is not None else html)

    def base_href(self, doc) -> str | None:
        for node in doc.css("base"):
            href = node.attributes.get("href")
            if href is not None:
                return href
        return None

    def candidates(self, doc) -> Iterator[tuple[str, object]]:
        """(tag, node) of every candidate element, once each, in document order.

        lexbor walks the tree once, in document order, but yields an element once per selector of
        the list that it matches (`a, a[href$=".jpg"]` would give such a link twice): keep the
        selector one plain tag name per entry.  lexbor does not descend into <template> contents: inert markup,
        as in a browser.
        """
        for node in doc.css(self._selector):
            yield node.tag, node

    def parent_tag(self, node) -> str | None:
        parent = node.parent
        return parent.tag if parent is not None else None

    def attribute(self, node, name: str) -> str | None:
        """One attribute's value ("" for a valueless attribute, None if absent), without reading the others."""
        value = node.attrs.get(name)
        if value is None and name in node.attrs:
            return ""
        return value

    def attributes(self, node) -> dict:
        return {k: ("" if v is None else v) for k, v in node.attributes.items()}

    def context(self, node) -> tuple[str | None, str, int, int, bool, str]:
        """(parent_tag, parent_text, dom_depth, dom_siblings, in_noscript, ancestors): it depends on the
        parent only, so it is computed once per parent and page."""
        parent = node.parent
        if parent is None:
            return None, "", 0, 0, False, ""
        key = parent.mem_id
        found = self._context_cache.get(key)
        if found is None:
            found = self._context_cache[key] = self._parent_context(parent)
        return found

    def _parent_context(self, parent) -> tuple[str | None, str, int, int, bool, str]:
        if parent.tag == "-document":
            return None, "", 0, 0, False, ""
        depth, noscript = self._depth(parent)
        count = 0
        c = parent.child
        while c is not None:
            tag = c.tag  # None for a bogus comment such as <?php ?>
            if tag and not tag.startswith("-"):
                count += 1
            c = c.next
        return parent.tag, self._text(parent), depth, count - 1, noscript, self._ancestors(parent)

    @staticmethod
    def _ancestors(node) -> str:
        """The `ancestors` field: `node` and the elements above it, nearest first, up to <body>."""
        out = []
        while node is not None and len(out) < ANCESTORS_MAX:
            tag = node.tag
            if not tag or tag.startswith("-") or tag in ANCESTORS_STOP:
                break
            attrs = node.attrs
            out.append(describe_element(tag, attrs.get("class"), attrs.get("id")))
            node = node.parent
        return " ".join(out)

    def _depth(self, node) -> tuple[int, bool]:
        """(number of elements from `node` up to the root, whether one of them is a <noscript>).

        Cached per node, so the walk up stops at the first ancestor already seen: the images of a
        page cost one walk over their ancestors in all, not one walk to the root each.  A loop, not
        recursion: broken pages nest thousands of elements deep.
        """
        uncached = []
        depth, noscript = 0, False
        p = node
        while p is not None and p.tag != "-document":
            found = self._depth_cache.get(p.mem_id)
            if found is not None:
                depth, noscript = found
                break
            uncached.append(p)
            p = p.parent
        for p in reversed(uncached):  # from the top down
            depth += 1
            noscript = noscript or p.tag == "noscript"
            self._depth_cache[p.mem_id] = (depth, noscript)
        return depth, noscript

    def _text(self, node) -> str:
        """The collapsed text under `node` (script/style/template skipped), at most text_limit characters.

        Linear over a page, not quadratic on deep trees: the images of a page often sit in nested parents
        (a gallery of nested <div>s, broken markup that never closes a tag), and each parent's walk would
        go through the same subtree again (quadratic: 4,000 nested parents of images took 3.6 s).  So each
        walk remembers, for every element it entered, the text pieces found under it (`_text_cache`: a
        slice of the walk's own list of pieces, no copy): all of them when it went through the whole
        element ("complete"), or those found before the text limit was reached.  A later walk takes a
        complete element's text at once, and an incomplete one's when that text alone passes the limit
        (then it is enough: the collapsed text of a prefix is a prefix of the whole's).  The result is
        exactly the walk's without the cache.
        """
        limit = self.text_limit
        memo = self._text_cache
        budget = _TextBudget(limit)
        pieces = budget.pieces
        frames: list[tuple[object, int]] = [(node, 0)]  # elements entered and not left: (node, first piece)
        c = node.child
        while True:
            while c is None:
                done, start = frames.pop()
                memo[done.mem_id] = (pieces, start, len(pieces), True)
                if not frames:
                    return budget.text()
                c = done.next
            tag = c.tag
            if tag == "-text":
                if budget.add(c.text(deep=False)):
                    return self._text_cut(budget, frames)
                c = c.next
            elif not tag or tag.startswith("-") or tag in TEXT_SKIP_TAGS:
                c = c.next
            else:
                known = memo.get(c.mem_id)
                if known is not None:
                    found, start, end, complete = known
                    text = "".join(found[start:end])
                    if complete:
                        if text and budget.add(text):
                            return self._text_cut(budget, frames)
                        c = c.next
                        continue
                    if len(collapse(text)) > limit + 1:
                        budget.add(text)
                        return self._text_cut(budget, frames)
                frames.append((c, len(pieces)))
                c = c.child

    def _text_cut(self, budget: _TextBudget, frames: list) -> str:
        """The walk stopped at the text limit: every element still open keeps the pieces found under it so far."""
        pieces, end = budget.pieces, len(budget.pieces)
        for open_node, start in frames:
            self._text_cache[open_node.mem_id] = (pieces, start, end, False)
        return budget.text()


class Bs4Backend:
    """BeautifulSoup on html5lib: slow, pure Python, the reference the fast parser is checked against."""

    name = "bs4"

    def __init__(self, text_limit: int = 500):
        from bs4 import BeautifulSoup, NavigableString
        from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction, Tag

        self._soup_cls = BeautifulSoup
        self._string_cls = NavigableString
        self._not_text = (Comment, Declaration, Doctype, ProcessingInstruction)
        self._tag_cls = Tag
        self.text_limit = text_limit
        self._sibling_cache: dict[int, int] = {}

    def parse(self, html: str, utf8: bytes | None = None):
        """Parse the decoded text; `utf8` is ignored (the reference always reads the same text)."""
        self._sibling_cache = {}
        # multi_valued_attributes=None keeps `class` as the raw string, as lexbor gives it.
        return self._soup_cls(html, "html5lib", multi_valued_attributes=None)

    def base_href(self, doc) -> str | None:
        for node in doc.find_all("base"):
            if node.get("href") is not None and not self._in_template(node):
                return node["href"]
        return None

    def _in_template(self, node) -> bool:
        return any(p.name == "template" for p in node.parents)

    def candidates(self, doc):
        for node in doc.find_all(CANDIDATE_TAGS):
            if self._in_template(node):
                continue
            yield node.name, node

    def attribute(self, node, name: str) -> str | None:
        return node.get(name)

    def parent_tag(self, node) -> str | None:
        parent = node.parent
        return parent.name if parent is not None else None

    def attributes(self, node) -> dict:
        return dict(node.attrs)

    def context(self, node):
        parent = node.parent
        names = [p.name for p in node.parents if p.name != "[document]"]
        depth = len(names)
        noscript = "noscript" in names
        if parent is None or parent.name == "[document]":
            return None, "", depth, 0, noscript, ""
        key = id(parent)
        siblings = self._sibling_cache.get(key)
        if siblings is None:
            siblings = self._sibling_cache[key] = sum(
                1 for c in parent.contents if isinstance(c, self._tag_cls)) - 1
        return parent.name, self._text(parent), depth, siblings, noscript, self._ancestors(parent)

    @staticmethod
    def _ancestors(node) -> str:
        out = []
        while node is not None and len(out) < ANCESTORS_MAX and node.name not in ANCESTORS_STOP | {"[document]"}:
            cls, id_ = node.get("class"), node.get("id")
            out.append(describe_element(node.name, cls if isinstance(cls, str) else None,
                                        id_ if isinstance(id_, str) else None))
            node = node.parent
        return " ".join(out)

    def _text(self, node) -> str:
        budget = _TextBudget(self.text_limit)
        stack = [iter(node.contents)]
        while stack:
            for c in stack[-1]:
                if isinstance(c, self._tag_cls):
                    if c.name not in TEXT_SKIP_TAGS:
                        stack.append(iter(c.contents))
                        break
                elif isinstance(c, self._string_cls) and not isinstance(c, self._not_text):
                    if budget.add(str(c)):
                        return budget.text()
            else:
                stack.pop()
        return budget.text()


BACKENDS = {"lexbor": LexborBackend, "bs4": Bs4Backend}


def make_backend(name: str, text_limit: int = 500):
    try:
        return BACKENDS[name](text_limit=text_limit)
    except KeyError:
        raise ValueError(f"unknown HTML parser {name!r}: choose one of {sorted(BACKENDS)}") from None
