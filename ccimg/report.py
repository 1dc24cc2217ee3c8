"""The statistics of `jobs.corpus_stats` as charts and one static HTML page: `ccimg report STATS.json -o DIR`.

Why charts: "how many images, how big, from where, under which license" is read faster from a bar
than from JSON.  Writes into DIR: index.html (the numbers and the charts, no script, nothing fetched
from elsewhere), summary.md (the key numbers as a Markdown table), and one PNG per chart
(size_classes, images_per_page, top_hosts, licenses, providers, elements_types).
matplotlib runs on its Agg backend: no display needed.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

CHARTS = ("size_classes", "images_per_page", "top_hosts", "licenses", "providers", "elements_types")
TOP_BARS = 15
_COLOR = "#3b6ea5"


class ReportError(ValueError):
    """The input is not a statistics file of jobs.corpus_stats (a user mistake: one line, exit 2)."""


def load_stats(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        stats = json.loads(lines[0] if len(lines) == 1 else text)
    except (ValueError, IndexError):
        raise ReportError(f"{path} is not JSON: expected the one-line output of jobs.corpus_stats") from None
    if not isinstance(stats, dict) or not {"images", "pages", "unique", "declared"} <= set(stats):
        raise ReportError(f"{path} is not the output of jobs.corpus_stats (no images/pages/unique/declared)")
    return stats


def _share(n: int | None, total: int | None) -> str:
    return f"{100 * n / total:.1f} %" if n is not None and total else ""


def _num(n) -> str:
    if n is None:
        return "n/a"
    return f"{n:,.1f}" if isinstance(n, float) else f"{n:,}"


def _unique(entry: dict) -> str:
    return _num(entry["value"]) + ("" if entry.get("exact") else " (approx.)")


def summary_rows(stats: dict) -> list[tuple[str, str, str]]:
    """(what, number, share) rows: the table of the page and of summary.md."""
    images = stats["images"]
    pages = stats["pages"]
    dec = stats["declared"]
    per_page = stats["images_per_page"]
    lic = stats["licenses"]["images"]
    licensed = images - lic.get("none", 0)
    page_lic = stats["licenses"]["pages"]
    licensed_pages = sum(v for k, v in page_lic.items() if k != "none")
    prov = stats["providers"]["images"]
    attributed = images - prov.get("none", 0)
    rows = [
        ("HTML pages read", _num(pages.get("html")), ""),
        ("pages with images", _num(pages["with_images"]), _share(pages["with_images"], pages.get("html"))),
        ("image occurrences", _num(images), ""),
        ("unique image URLs", _unique(stats["unique"]["image_urls"]), _share(stats["unique"]["image_urls"]["value"],
                                                                            images)),
        ("unique image hosts", _unique(stats["unique"]["image_hosts"]), ""),
        ("unique page domains", _unique(stats["unique"]["page_domains"]), ""),
        ("images per page: mean / median / 90th pct / max",
         f"{_num(per_page['mean'])} / {_num(per_page['median'])} / {_num(per_page['p90'])} / {_num(per_page['max'])}",
         ""),
        ("declared width and height", _num(dec["both"]), _share(dec["both"], images)),
        ("declared BIG (both > 400 px)", _num(dec["BIG"]), _share(dec["BIG"], images)),
        ("declared SMALL (both < 200 px)", _num(dec["SMALL"]), _share(dec["SMALL"], images)),
        ("declared in between", _num(dec["between"]), _share(dec["between"], images)),
        ("one side declared", _num(dec["one"]), _share(dec["one"], images)),
        ("no size declared", _num(dec["none"]), _share(dec["none"], images)),
        ("same site as the page", _num(stats["same_site"]), _share(stats["same_site"], images)),
        ("lazy-loaded (data-src & co. or loading=lazy)", _num(stats["lazy"]["either"]),
         _share(stats["lazy"]["either"], images)),
        ("under a Creative Commons license", _num(licensed), _share(licensed, images)),
        ("pages with a Creative Commons license", _num(licensed_pages), _share(licensed_pages, pages["with_images"])),
        ("from a known provider", _num(attributed), _share(attributed, images)),
    ]
    model = stats.get("model")
    if model:
        rows += [
            ("predicted BIG by the model", _num(model["predicted_big"]), _share(model["predicted_big"],
                                                                               model["scored"])),
            ("fetches saved (occurrences not predicted BIG)", _num(model["fetches_saved"]["occurrences"]),
             _share(model["fetches_saved"]["occurrences"], model["scored"])),
            ("fetches saved (unique URLs not predicted BIG)", _num(model["fetches_saved"]["unique_urls"]),
             _share(model["fetches_saved"]["unique_urls"], stats["unique"]["image_urls"]["value"])),
        ]
    return [r for r in rows if r[1] != "n/a"]


def markdown_table(rows) -> str:
    out = ["| what | number | share |", "|---|---:|---:|"]
    out += [f"| {what} | {number} | {share} |" for what, number, share in rows]
    return "\n".join(out) + "\n"


def _plt():
    try:
        import matplotlib
    except ImportError:
        raise ReportError("the charts need matplotlib: pip install -e '.[report]'") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _barh(ax, items: list[tuple[str, int]], title: str, total: int | None = None) -> None:
    items = items[:TOP_BARS][::-1]
    labels = [name if len(name) <= 40 else name[:37] + "..." for name, _ in items]
    values = [n for _, n in items]
    ax.barh(range(len(values)), values, color=_COLOR)
    ax.set_yticks(range(len(values)), labels, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("image occurrences")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,}" + (f" ({100 * v / total:.1f} %)" if total else ""), va="center", fontsize=7)
    if not items:
        ax.text(0.5, 0.5, "none found", ha="center", va="center", transform=ax.transAxes)
    ax.margins(x=0.25)


def _chart_size_classes(plt, stats, path):
    dec = stats["declared"]
    names = ["BIG\n(> 400 px)", "between", "SMALL\n(< 200 px)", "one side\ndeclared", "none\ndeclared"]
    values = [dec["BIG"], dec["between"], dec["SMALL"], dec["one"], dec["none"]]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(names, values, color=["#2a7f3f", "#999999", "#c0504d", "#bbbbbb", "#dddddd"])
    total = stats["images"]
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:,}\n{100 * v / total:.1f} %" if total else f"{v:,}", ha="center", va="bottom", fontsize=8)
    model = stats.get("model")
    title = "Declared image sizes (width and height attributes)"
    if model and model["scored"]:
        title += f"\nthe model predicts BIG for {100 * model['predicted_big'] / model['scored']:.1f} % of the images"
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("image occurrences")
    ax.margins(y=0.2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _chart_images_per_page(plt, stats, path):
    hist = {int(k.rstrip("+")): v for k, v in stats["images_per_page"]["histogram"].items()}
    edges = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 10 ** 9]
    labels, values = [], []
    for lo, hi in zip(edges, edges[1:]):
        labels.append(str(lo) if hi == lo + 1 else (f"{lo}-{hi - 1}" if hi < 10 ** 9 else f"{lo}+"))
        values.append(sum(v for k, v in hist.items() if lo <= k < hi))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(labels, values, color=_COLOR)
    ax.set_xlabel("images on the page")
    ax.set_ylabel("pages")
    pp = stats["images_per_page"]
    ax.set_title(f"Images per page (pages with images; mean {_num(pp['mean'])}, median {_num(pp['median'])})",
                 fontsize=10)
    for i, v in enumerate(values):
        if v:
            ax.text(i, v, f"{v:,}", ha="center", va="bottom", fontsize=7)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _two_bar_panels(plt, path, total: int, left: tuple[list, str], right: tuple[list, str],
                    height: float = 4.5) -> None:
    """Two horizontal bar charts side by side: (items, title) each, shares of `total`."""
    fig, axes = plt.subplots(1, 2, figsize=(12, height))
    for ax, (items, title) in zip(axes, (left, right)):
        _barh(ax, items, title, total)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _without_none(table: dict) -> list[tuple[str, int]]:
    return [(k, v) for k, v in table.items() if k != "none"]


def _chart_top_hosts(plt, stats, path):
    _two_bar_panels(plt, path, stats["images"], ([tuple(x) for x in stats["top_image_hosts"]], "Top image hosts"),
                    ([tuple(x) for x in stats["top_page_domains"]], "Top page domains (by their images)"), height=5)


def _chart_licenses(plt, stats, path):
    lic = stats["licenses"]
    _two_bar_panels(plt, path, stats["images"],
                    (_without_none(lic["images"]),
                     f"Creative Commons licenses ({lic['images'].get('none', 0):,} images without)"),
                    (_without_none(lic["places"]), "Where the license was found"))


def _chart_providers(plt, stats, path):
    prov = stats["providers"]
    _two_bar_panels(plt, path, stats["images"],
                    (_without_none(prov["images"]),
                     f"Providers ({prov['images'].get('none', 0):,} images from no known provider)"),
                    (list(prov["sub_providers"].items()), "Sub-providers (collections)"))


def _chart_elements_types(plt, stats, path):
    _two_bar_panels(plt, path, stats["images"], (list(stats["elements"].items()), "Elements"),
                    (list(stats["file_types"].items()), "File types (URL extension)"))


_DRAW = {"size_classes": _chart_size_classes, "images_per_page": _chart_images_per_page,
         "top_hosts": _chart_top_hosts, "licenses": _chart_licenses, "providers": _chart_providers,
         "elements_types": _chart_elements_types}
_CAPTIONS = {
    "size_classes": "Declared sizes: BIG and SMALL by the paper's rule, from the width and height attributes.",
    "images_per_page": "How many image occurrences a page has (pages with at least one).",
    "top_hosts": "Where the images are served from, and the sites whose pages show them.",
    "licenses": "Creative Commons licenses carried into the image records, and where on the page they were found.",
    "providers": "Providers and collections by the provider mapping (features/providers.json or --providers).",
    "elements_types": "Which elements the images came from, and their file types.",
}


def _table_html(title: str, table: dict, total: int) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td class=n>{v:,}</td><td class=n>{_share(v, total)}</td></tr>"
                   for k, v in list(table.items())[:25])
    return (f"<table><caption>{html.escape(title)}</caption><tr><th>value</th><th>images</th><th>share</th></tr>"
            f"{rows}</table>")


def page_html(stats: dict, rows, source: str) -> str:
    table = "".join(f"<tr><td>{html.escape(w)}</td><td class=n>{html.escape(n)}</td><td class=n>{html.escape(s)}</td>"
                    f"</tr>" for w, n, s in rows)
    figures = "".join(f'<figure><img src="{name}.png" alt="{html.escape(_CAPTIONS[name])}">'
                      f"<figcaption>{html.escape(_CAPTIONS[name])}</figcaption></figure>" for name in CHARTS)
    unique = "".join(f"<li>{html.escape(k.replace('_', ' '))}: {html.escape(v['method'])}</li>"
                     for k, v in stats["unique"].items())
    tables = "".join([
        _table_html("Licenses (images)", stats["licenses"]["images"], stats["images"]),
        _table_html("Providers (images)", stats["providers"]["images"], stats["images"]),
        _table_html("Top image hosts", dict(map(tuple, stats["top_image_hosts"])), stats["images"]),
    ])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ccimg corpus statistics</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 75em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 2em 1em 0; display: inline-table; vertical-align: top; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.2em 0.8em; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
caption {{ font-weight: bold; text-align: left; }}
figure {{ margin: 1.5em 0; }} img {{ max-width: 100%; border: 1px solid #eee; }}
figcaption {{ color: #555; font-size: 0.9em; }}
</style></head>
<body>
<h1>Corpus statistics</h1>
<p>From <code>{html.escape(source)}</code>, the output of <code>jobs.corpus_stats</code>.</p>
<table><caption>Key numbers</caption><tr><th>what</th><th>number</th><th>share</th></tr>{table}</table>
{figures}
<h2>Tables</h2>
{tables}
<h2>How the unique counts were made</h2><ul>{unique}</ul>
</body></html>
"""


def write_report(stats: dict, out_dir: str | Path, source: str = "stats.json") -> dict[str, Path]:
    """Write the charts, index.html and summary.md into out_dir; return {name: path}."""
    plt = _plt()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in CHARTS:
        paths[name] = out / f"{name}.png"
        _DRAW[name](plt, stats, paths[name])
    rows = summary_rows(stats)
    paths["summary"] = out / "summary.md"
    paths["summary"].write_text(markdown_table(rows), encoding="utf-8")
    paths["index"] = out / "index.html"
    paths["index"].write_text(page_html(stats, rows, source), encoding="utf-8")
    return paths
