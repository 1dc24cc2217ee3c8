"""The image record: one JSON object per image occurrence on a page.

This is the contract between the extraction job (which writes these) and everything
downstream (aggregation, labelling, training, scoring).  Field names are fixed; adding a
field is fine, renaming one breaks saved data.
"""
from __future__ import annotations

# field -> meaning.  Order here is the order in which records are written.
FIELDS: dict[str, str] = {
    "page_url": "URL of the page (WARC-Target-URI)",
    "img_url": "absolute image URL, resolved against <base href> then the page URL",
    "src": "the raw attribute value img_url came from (src, data-src, srcset candidate, href, data)",
    "src_attr": "which attribute that was: src, data-src, ..., srcset, href, data",
    "element": "img, source, a, link, embed, object or iframe",
    "alt": "alt attribute (raw) or null",
    "title": "title attribute (raw) or null",
    "width_attr": "width attribute (raw string) or null",
    "height_attr": "height attribute (raw string) or null",
    "srcset": "srcset (or data-srcset) attribute (raw) or null",
    "sizes": "sizes attribute (raw) or null",
    "class": "class attribute (raw) or null",
    "id": "id attribute (raw) or null",
    "style": "style attribute (raw, first 200 chars) or null",
    "loading": "loading attribute (raw) or null",
    "fetchpriority": "fetchpriority attribute (raw) or null: `high` marks a page's main image",
    "decoding": "decoding attribute (raw) or null",
    "lazy": "true when img_url came from a lazy-loading attribute instead of src",
    "in_noscript": "inside <noscript> (parsed as markup, as by a browser without scripts): mostly fallbacks",
    "rel": "rel attribute of <link>/<a> (raw) or null",
    "parent_tag": "tag name of the parent element",
    "parent_text": "text of the parent element, whitespace collapsed, at most 500 characters",
    "ancestors": "the parent and the elements above it up to <body>, nearest first, at most 6, each as tag.class#id "
                 "(at most 60 characters each), space-separated: the landmarks around the image",
    "dom_depth": "number of element ancestors (an <img> directly in <body> has depth 2)",
    "dom_siblings": "number of sibling elements (the parent's element children minus this one)",
    "position": "0-based index of this occurrence among the page's emitted occurrences",
    "page_images": "number of occurrences emitted for the page",
    "page_url_count": "how often this img_url occurs on the page (this occurrence included)",
    "page_folder_count": "how many occurrences on the page share this image's folder (URL minus query and file name)",
    "page_declared_others": "how many occurrences of other image files on the page declare both width and height "
                            "(another file: not the same URL minus query and extension, lower-cased)",
    "page_declared_big": "how many of those declare a BIG size (both sides over 400)",
    "page_declared_longest": "the mean of their declared longer sides, rounded, or null where there are none",
    "folder_declared_others": "page_declared_others, counting only the image's folder",
    "folder_declared_big": "page_declared_big, counting only the image's folder",
    "folder_declared_longest": "page_declared_longest, counting only the image's folder",
    "same_domain": "image host equals page host (case-insensitive, port ignored)",
    "license": "Creative Commons license of the image (features/page/licenses.py): by, by-sa, by-nc-nd, ..., "
               "cc0 or pdm (public-domain tools); the figure caption's where the image is in a <figure> that "
               "has one, else the page's; null where none is declared",
    "license_version": "its version (4.0, 3.0, ...) or null",
    "license_jurisdiction": "the jurisdiction of a ported license (de, fr, ...) or null",
    "license_url": "the canonical deed URL of that license, or null",
    "license_place": "where it was found: figure, or for the page meta, jsonld, link (rel=license), footer, "
                     "body (an anchor to a deed); the page's comes from the first of these places",
    "page_host": "host of the page URL",
    "img_host": "host of the image URL",
    "warc_filename": "the WARC file (as given in the input line) the page came from",
    "warc_offset": "byte offset of the page's WARC record in that file",
    "warc_record_id": "WARC-Record-ID of the page's record",
    "crawl": "crawl id such as CC-MAIN-2024-22 (from the file name or the warcinfo record) or null",
    "fetch_time": "WARC-Date of the page's record",
}

REQUIRED = (
    "page_url", "img_url", "src", "element", "alt", "title", "width_attr", "height_attr", "srcset",
    "parent_text", "dom_depth", "dom_siblings", "same_domain", "warc_filename", "warc_offset", "crawl",
    "fetch_time",
)

PARENT_TEXT_MAX = 500
