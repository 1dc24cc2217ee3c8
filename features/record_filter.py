"""Keep only the images of some providers and/or under some licenses: the `--provider` / `--license` filter.

One filter for every command that reads image records or URLs (`ccimg score` now, `ccimg fetch`'s
input next): build it once with `ProviderLicenseFilter(providers, licenses, mapping)` from the
user's values, then `filter(item)` (True = keep) or `filter.apply(items)` per batch.  Bad values are
user mistakes and raise ValueError with a one-line message naming the value and what is known.

Values (case-insensitive; each option may be repeated or hold a comma-separated list; an item is kept
when it matches one provider value (if any is given) AND one license value (if any is given)):
  --provider flickr             the provider of the image (features/providers.py), by the mapping
  --provider flickr/nasa        a sub-provider of it (a collection, from the page URL)
  --provider none               images no provider of the mapping claims
  --license by-sa               that license, any version   (codes as in features/page/licenses.py)
  --license by-sa/4.0           that license and version
  --license any                 any CC license or public-domain tool
  --license none                no license found
A license filter needs records (the extraction's JSONL, with the license fields); a provider filter
also works on bare image URLs (the sub-provider needs the record's page_url).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from features.page.licenses import LICENSES
from features.providers import ProviderMap, default_mapping


def split_values(values: Iterable[str] | None) -> list[str]:
    """`["a,b", "c"]` -> `["a", "b", "c"]`, lower-cased, blanks dropped (the repeated or comma-separated option)."""
    return [v.strip().lower() for value in values or () for v in str(value).split(",") if v.strip()]


class ProviderLicenseFilter:
    """True for the items (image records or bare image URLs) to keep; see the module docstring."""

    def __init__(self, providers: Iterable[str] | None = None, licenses: Iterable[str] | None = None,
                 mapping: ProviderMap | None = None):
        self.mapping = mapping or default_mapping()
        self.providers = self._check_providers(split_values(providers))
        self.licenses = self._check_licenses(split_values(licenses))

    @property
    def active(self) -> bool:
        return bool(self.providers or self.licenses)

    @property
    def needs_records(self) -> bool:
        """A license (or sub-provider) can only be told from a record, not from a bare URL."""
        return bool(self.licenses) or any(sub for _p, sub in self.providers)

    def _check_providers(self, values: list[str]) -> list[tuple[str | None, str | None]]:
        known = {name.lower(): name for name in self.mapping.names}
        out = []
        for value in values:
            name, _, sub = value.partition("/")
            if name == "none" and not sub:
                out.append((None, None))
                continue
            if name not in known:
                raise ValueError(f"unknown provider {value!r}: the mapping knows {', '.join(sorted(known))}, "
                                 f"or 'none'")
            subs = {s.lower(): s for s in self.mapping.sub_names.get(known[name], ())}
            if sub and sub not in subs:
                raise ValueError(f"unknown sub-provider {value!r}: {known[name]} has "
                                 f"{', '.join(sorted(subs)) or 'none in the mapping'}")
            out.append((known[name], subs.get(sub)))
        return out

    @staticmethod
    def _check_licenses(values: list[str]) -> list[tuple[str, str | None]]:
        out = []
        for value in values:
            code, _, version = value.partition("/")
            if code in ("any", "none") and not version:
                out.append((code, None))
                continue
            if code not in LICENSES:
                raise ValueError(f"unknown license {value!r}: use one of {', '.join(sorted(LICENSES))}, "
                                 f"optionally with /VERSION (by-sa/4.0), or 'any' or 'none'")
            out.append((code, version or None))
        return out

    def _license_ok(self, item) -> bool:
        if isinstance(item, str):
            return False  # a bare URL carries no license (commands refuse this combination up front)
        code, version = item.get("license"), item.get("license_version")
        for want, want_version in self.licenses:
            if want == "any" and code or want == "none" and not code:
                return True
            if want == code and (want_version is None or want_version == version):
                return True
        return False

    def _provider_ok(self, item) -> bool:
        found = self.mapping.attribution(item)
        return any(want == found.provider and (sub is None or sub == found.sub_provider)
                   for want, sub in self.providers)

    def __call__(self, item) -> bool:
        if self.licenses and not self._license_ok(item):
            return False
        return not self.providers or self._provider_ok(item)

    def apply(self, items: Iterable) -> Iterator:
        """The items to keep, in their order."""
        return (item for item in items if self(item)) if self.active else iter(items)


def filter_by_provider_and_license(items: Iterable, providers: Iterable[str] | None = None,
                                   licenses: Iterable[str] | None = None,
                                   mapping: ProviderMap | None = None) -> Iterator:
    """The items (image records or URLs) of the given providers and licenses; see ProviderLicenseFilter."""
    return ProviderLicenseFilter(providers, licenses, mapping).apply(items)
