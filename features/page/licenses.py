"""Creative Commons licenses declared on a page, and on the figures in it: what an image record's license is.

A page says it is under a CC license in several places, which disagree now and then; each place
found is kept with its name, and one is chosen by precedence (first wins):

  meta     <meta name|property|itemprop = license, dc.rights, dcterms.license, ...> (page-wide, for machines)
  jsonld   "license" of the page's own JSON-LD objects (top level or @graph; not of an ImageObject)
  link     rel="license" on <link> or <a> (the CC REL marking; in the body it may sit in a quoted widget)
  footer   <a href> to a creativecommons.org deed inside <footer> or an element whose id/class says footer
           (usually the site's license)
  body     any other <a href> to a deed (weakest: often a credit line about another work)

Anchors inside a <figure> never count for the page: a CC link under one photo is that photo's
credit.  An image inside a <figure> whose <figcaption> carries a license (a deed link, or text
such as "CC BY-SA 2.0", "CC0") gets that license instead, with place `figure`.

Licenses are normalised to (license, version, jurisdiction) as the Creative Commons catalog keeps
them: `by-sa`, `4.0`, `de` from https://creativecommons.org/licenses/by-sa/4.0/de/deed.en;
`cc0` and `pdm` for the public-domain tools.  Only CC licenses and tools are recognised: a
rel="license" that points elsewhere (a site's terms page, the GPL) gives nothing.

Cost: this runs on every page with images of a crawl: one extra walk of the tree (lexbor, in C: no
more than a byte search for a hint would cost), and the parents of each image only on the rare pages
where a caption names a license.  `python -m benchmarks.extract` measures it (README).
Works on both backends of `features.page.backends` (lexbor and BeautifulSoup) through `_Tree`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Places, in precedence order (first wins for the page license).
PLACES = ("meta", "jsonld", "link", "footer", "body")
FIGURE = "figure"
LICENSE_FIELDS = ("license", "license_version", "license_jurisdiction", "license_url", "license_place")

LICENSES = frozenset({
    "by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd", "sa", "nd", "nc", "nc-sa", "nd-nc",
    "sampling", "sampling+", "nc-sampling+", "devnations", "publicdomain", "cc0", "pdm",
})
_ALIASES = {"by-nd-nc": "by-nc-nd", "by-sa-nc": "by-nc-sa", "zero": "cc0", "mark": "pdm"}
_VERSION = re.compile(r"^\d\.\d$")
_JURISDICTION = re.compile(r"^[a-z]{2,9}(?:-[a-z]{2,4})?$")
_NOT_JURISDICTION = frozenset({"deed", "legalcode", "rdf", "index", "html"})
_META_NAMES = frozenset({"license", "licence", "dc.rights", "dcterms.rights", "dc.license", "dcterms.license",
                         "dc.rights.license", "og:license", "article:license", "rights", "copyright"})
_MEDIA_TYPES = frozenset({"imageobject", "videoobject", "audioobject", "mediaobject", "photograph"})
_CC_URL = re.compile(r"(?:https?:)?//(?:[a-z0-9-]+\.)*creativecommons\.org/[^\s\"'<>()\]]*", re.I)
# "CC BY-SA 4.0", "CC-BY-NC 2.0", "CC BY", "CC0 1.0": CC in capitals, so that "cc by the author" does not count.
_CC_TEXT = re.compile(r"(?<![A-Za-z0-9])CC[\s-]?(BY(?:[\s-]+(?:NC|SA|ND)){0,2})(?:[\s-]+(\d\.\d))?(?![A-Za-z])"
                      r"|(?<![A-Za-z0-9])CC0(?:[\s-]+(1\.0))?(?![A-Za-z0-9])")
# "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International" and older names.
_CC_NAME = re.compile(r"Creative\s+Commons\s+Attribution((?:[\s-]+(?:Non-?Commercial|Share-?Alike|No-?Derivs|"
                      r"No-?Derivatives))*)(?:\s+(?:License\s+)?(\d\.\d))?", re.I)
_NAME_PARTS = (("noncommercial", "nc"), ("sharealike", "sa"), ("noderiv", "nd"))
# A selector list that finds, in one walk, every element a page license can come from (deduplicated by node:
# lexbor yields a node once per selector it matches).
_PAGE_SELECTOR = ('[rel~="license" i], a[href*="creativecommons" i], script[type*="ld+json" i], '
                  'meta[name*="licen" i], meta[name*="rights" i], meta[property*="licen" i], '
                  'meta[itemprop*="licen" i], meta[name="copyright" i]')
_FIGURE_HOPS = 4  # an image sits in <figure>, <a>, <picture> or a wrapper <div> or two: look no higher
_HINTS = (b"licen", b"creativecommons", b"rights", b"copyright")


@dataclass(frozen=True)
class License:
    license: str
    version: str | None
    jurisdiction: str | None
    place: str

    @property
    def url(self) -> str:
        """The canonical deed URL (https, no language suffix)."""
        if self.license == "cc0":
            return f"https://creativecommons.org/publicdomain/zero/{self.version or '1.0'}/"
        if self.license == "pdm":
            return f"https://creativecommons.org/publicdomain/mark/{self.version or '1.0'}/"
        parts = [self.license, self.version, self.jurisdiction]
        return "https://creativecommons.org/licenses/" + "".join(f"{p}/" for p in parts if p)

    def fields(self) -> dict:
        return {"license": self.license, "license_version": self.version, "license_jurisdiction": self.jurisdiction,
                "license_url": self.url, "license_place": self.place}


NO_LICENSE = dict.fromkeys(LICENSE_FIELDS)


def parse_license_url(url: str | None, place: str = "link") -> License | None:
    """The CC license or public-domain tool a creativecommons.org URL names, or None.

    Accepts deed and legal-code URLs (`/licenses/by/4.0/legalcode`, `deed.de`), ported licenses with a
    jurisdiction (`/licenses/by-sa/3.0/de/`), `/publicdomain/zero/1.0/`, `/publicdomain/mark/1.0/`, the
    old `/licenses/publicdomain/`, and the badge images (`i.creativecommons.org/l/by/4.0/88x31.png`).
    """
    if not url:
        return None
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    elif "://" not in url[:10]:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if host != "creativecommons.org" and not host.endswith(".creativecommons.org"):
        return None
    segments = [s for s in parts.path.lower().split("/") if s]
    if len(segments) < 2:
        return None
    kind, rest = segments[0], segments[1:]
    if kind in ("licenses", "l"):
        code = _ALIASES.get(rest[0], rest[0])
    elif kind in ("publicdomain", "p"):
        code = _ALIASES.get(rest[0])
    else:
        return None
    if code not in LICENSES:
        return None
    version = rest[1] if len(rest) > 1 and _VERSION.match(rest[1]) else None
    jurisdiction = None
    if version and len(rest) > 2:
        j = rest[2]
        if _JURISDICTION.match(j) and j.split(".")[0] not in _NOT_JURISDICTION:
            jurisdiction = j
    return License(code, version, jurisdiction, place)


def parse_license_text(text: str | None, place: str = "meta") -> License | None:
    """A license named in free text: a deed URL in it, "CC BY-SA 4.0" / "CC0", or "Creative Commons
    Attribution-ShareAlike 4.0".  For short texts that are about licensing (a meta value, a caption),
    not for a page's body text."""
    if not text:
        return None
    m = _CC_URL.search(text)
    if m is not None:
        found = parse_license_url(m.group(0), place)
        if found is not None:
            return found
    m = _CC_TEXT.search(text)
    if m is not None:
        if m.group(1):
            code = "-".join(re.split(r"[\s-]+", m.group(1).lower()))
            code = _ALIASES.get(code, code)
            if code in LICENSES:
                return License(code, m.group(2), None, place)
        else:
            return License("cc0", m.group(3) or "1.0", None, place)
    m = _CC_NAME.search(text)
    if m is not None:
        words = m.group(1).lower().replace("-", "")
        code = "-".join(["by", *(short for long, short in _NAME_PARTS if long in words)])
        return License(code, m.group(2), None, place)
    return None


def has_license_hint(html: str, utf8: bytes | None = None) -> bool:
    """False when the page cannot declare a license by any page-level rule here, on a quick text search.

    Every page-level source needs one of these words: rel="license", a meta name with "licen", "rights"
    or "copyright", a JSON-LD "license", or an href to creativecommons.org.  Searched in the payload bytes
    where there are some (bytes.find: about 1.6 GB/s here).  Used before BeautifulSoup's walk (Python,
    slow); lexbor's walk in C costs no more than this search itself, so lexbor always walks (see scan_page).
    """
    text = utf8 if utf8 is not None else html
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    low = text.lower()
    return any(word in low for word in _HINTS)


class _Tree:
    """The few tree operations license detection needs, on either backend's document."""

    def __init__(self, backend):
        self.lexbor = backend.name == "lexbor"

    def select(self, node, css: str) -> list:
        if self.lexbor:
            return node.css(css)
        return [n for n in node.select(css) if not any(p.name == "template" for p in n.parents)]

    def attr(self, node, name: str) -> str | None:
        return node.attributes.get(name) if self.lexbor else node.get(name)

    def tag(self, node) -> str | None:
        return node.tag if self.lexbor else node.name

    def parent(self, node):
        p = node.parent
        if p is None or self.tag(p) in ("-document", "[document]", "html", "body"):
            return None  # stop at <body>: the page itself is no figure and no footer
        return p

    def key(self, node) -> int:
        return node.mem_id if self.lexbor else id(node)

    def text(self, node) -> str:
        return node.text(separator=" ") if self.lexbor else node.get_text(" ")

    def script_text(self, node) -> str:
        """A <script>'s source (BeautifulSoup's get_text leaves script strings out)."""
        return node.text() if self.lexbor else "".join(str(c) for c in node.contents)

    def ancestors(self, node, limit: int | None = None):
        p, n = self.parent(node), 0
        while p is not None and (limit is None or n < limit):
            yield p
            p, n = self.parent(p), n + 1


def _footerish(tree: _Tree, node) -> bool:
    tag = tree.tag(node)
    if tag == "footer":
        return True
    marks = f"{tree.attr(node, 'id') or ''} {tree.attr(node, 'class') or ''}".lower()
    return "footer" in marks


def _jsonld_licenses(text: str) -> list[str]:
    """The "license" values of a JSON-LD script's own objects (top level and @graph), not of media objects."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    objects = data if isinstance(data, list) else [data]
    found: list[str] = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        members = [obj, *[g for g in obj.get("@graph", []) if isinstance(g, dict)]] if isinstance(
            obj.get("@graph"), list) else [obj]
        for o in members:
            types = o.get("@type")
            types = {t.lower() for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}
            if types & _MEDIA_TYPES:
                continue
            values = o.get("license")
            for v in values if isinstance(values, list) else [values]:
                if isinstance(v, dict):
                    v = v.get("@id") or v.get("url") or v.get("name")
                if isinstance(v, str):
                    found.append(v)
    return found


def _caption_license(tree: _Tree, caption) -> License | None:
    """The license a <figcaption> names: a deed link in it, else a license in its text ("CC BY 2.0")."""
    for a in tree.select(caption, 'a[href*="creativecommons" i]'):
        found = parse_license_url(tree.attr(a, "href"), FIGURE)
        if found is not None:
            return found
    text = tree.text(caption)
    if "CC" in text or "reative" in text:  # every form parse_license_text knows holds one of these
        return parse_license_text(text, FIGURE)
    return None


def scan_page(backend, doc, html: str = "", utf8: bytes | None = None) -> tuple[list[License], dict[int, License]]:
    """(every CC license the page declares for itself, one per place, in precedence order (see PLACES);
    figure node key -> the license its <figcaption> names).

    One tree walk finds the page's license sources and the figure captions.  With lexbor it always
    walks: measured on 1,200 real pages (297 MB), the walk in C costs 0.20-0.26 s, a byte search for
    two words 0.18-0.25 s, the parse 0.78 s, so a pre-check would only add to the walk it could save.
    BeautifulSoup's walk is Python (soupsieve): there the page's sources are looked for only where
    has_license_hint says they can be, and the captions (text such as "CC0" needs no hint) always.
    """
    tree = _Tree(backend)
    hinted = tree.lexbor or has_license_hint(html, utf8)
    best: dict[str, License] = {}
    figures: dict[int, License] = {}
    seen: set[int] = set()
    for node in tree.select(doc, _PAGE_SELECTOR + ", figcaption" if hinted else "figcaption"):
        tag = tree.tag(node)
        if tag == "figcaption":
            figure = node.parent
            if figure is not None and tree.tag(figure) == "figure":
                found = _caption_license(tree, node)
                if found is not None:
                    figures.setdefault(tree.key(figure), found)
            continue
        key = tree.key(node)
        if key in seen:
            continue
        seen.add(key)
        found = None
        if tag == "meta":
            name = (tree.attr(node, "name") or tree.attr(node, "property") or tree.attr(node, "itemprop") or "")
            if name.strip().lower() in _META_NAMES:
                found = parse_license_text(tree.attr(node, "content"), "meta")
        elif tag == "script":
            text = tree.script_text(node)
            if "license" in text:
                for value in _jsonld_licenses(text):
                    found = parse_license_text(value, "jsonld")
                    if found:
                        break
        else:
            href = tree.attr(node, "href")
            ancestors = list(tree.ancestors(node))
            if any(tree.tag(a) == "figure" for a in ancestors):
                continue  # a photo credit: the figure's license, not the page's
            rels = (tree.attr(node, "rel") or "").lower().split()
            if "license" in rels:
                found = parse_license_url(href, "link")
            elif tag == "a":
                place = "footer" if any(_footerish(tree, a) for a in ancestors) else "body"
                found = parse_license_url(href, place)
        if found is not None and found.place not in best:
            best[found.place] = found
    return [best[p] for p in PLACES if p in best], figures


def page_licenses(backend, doc, html: str = "", utf8: bytes | None = None) -> list[License]:
    """Every CC license the page declares for itself, one per place, in precedence order (see PLACES)."""
    return scan_page(backend, doc, html, utf8)[0]


def attach_licenses(images: list[dict], nodes: list, backend, doc, html: str = "", utf8: bytes | None = None) -> None:
    """Set the license fields (LICENSE_FIELDS) of a page's image records: the figure's, else the page's, else null.

    `nodes[i]` is the element `images[i]` came from.  Pages without images never get here; the parents of
    the images are looked at only on pages where a figure caption names a license.
    """
    found, figures = scan_page(backend, doc, html, utf8)
    page = found[0].fields() if found else NO_LICENSE
    if not figures:
        for rec in images:
            rec.update(page)
        return
    tree = _Tree(backend)
    for rec, node in zip(images, nodes):
        fig = next((figures[k] for k in map(tree.key, tree.ancestors(node, _FIGURE_HOPS)) if k in figures), None)
        rec.update(fig.fields() if fig is not None else page)
