"""`--provider`, `--license` and `--providers`: the input filter of `ccimg score` (and of `ccimg fetch`).

A command adds the options with `add_filter_arguments(parser)` and builds the filter with
`filter_from_args(args)`, which raises ValueError with a one-line message on a bad value (the command
prints it and exits 2).  The filter itself is `features.record_filter.ProviderLicenseFilter`.
"""
from __future__ import annotations

from features.providers import ProviderMap
from features.record_filter import ProviderLicenseFilter


def add_filter_arguments(parser) -> None:
    parser.add_argument("--provider", action="append", metavar="NAME[/SUB]",
                        help="keep only images of this provider (flickr, wikimedia, ..., flickr/nasa, or none); "
                             "repeat or separate with commas")
    parser.add_argument("--license", action="append", metavar="CODE[/VERSION]",
                        help="keep only images under this Creative Commons license (by, by-sa, ..., cc0, pdm, "
                             "by-sa/4.0, any, none); needs extraction records; repeat or separate with commas")
    parser.add_argument("--providers", metavar="FILE",
                        help="provider mapping (JSON, or YAML with PyYAML; default: features/providers.json)")


def filter_from_args(args) -> ProviderLicenseFilter:
    mapping = ProviderMap.load(args.providers) if getattr(args, "providers", None) else None
    return ProviderLicenseFilter(getattr(args, "provider", None), getattr(args, "license", None), mapping)
