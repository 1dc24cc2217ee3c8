"""Which provider an image comes from (flickr, wikimedia, ...), and which collection of it (a sub-provider).

As the Creative Commons catalog attributes its images: a provider by the image's host (or a pattern
over the image URL), a sub-provider by the user id in the page URL, e.g. the owner in
`flickr.com/photos/<owner>/` mapped to a named collection (NASA's accounts -> `nasa`).

The mapping is data, not code: `features/providers.json` is the shipped default; a user passes
another (JSON, or YAML where PyYAML is installed) with `--providers FILE`.  Format:

    {"providers": [
       {"provider": "flickr", "hosts": ["*.staticflickr.com", "flic.kr"],
        "sub_providers": {"page_url_regex": "^https?://(?:www\\.)?flickr\\.com/photos/(?P<user>[^/?#]+)",
                          "users": {"24662369@N07": "nasa"}}},
       {"provider": "europeana", "url_regex": "^https?://api\\.europeana\\.eu/thumbnail/"}]}

`*.example.com` matches example.com and every host under it; the most specific host pattern wins,
and URL patterns are tried before hosts.  Lookups are cached per host: this runs on every image
record of a crawl.
"""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_MAPPING = Path(__file__).resolve().parent / "providers.json"


@dataclass(frozen=True)
class Attribution:
    provider: str | None
    sub_provider: str | None = None


NONE = Attribution(None, None)


def _host_of_url(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url[:12] else url.lstrip("/")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0].lower().rstrip(".")


class ProviderMap:
    """A compiled provider mapping: `attribution(record or URL)` -> Attribution."""

    def __init__(self, config: dict, source: str = "<mapping>"):
        rules = config.get("providers") if isinstance(config, dict) else None
        if not isinstance(rules, list):
            raise ValueError(f"{source}: expected an object with a \"providers\" list")
        self.names: list[str] = []
        self.sub_names: dict[str, set[str]] = {}
        self._exact: dict[str, str] = {}
        self._suffix: dict[str, str] = {}
        self._globs: list[tuple[str, str]] = []
        self._url_rules: list[tuple[re.Pattern, str]] = []
        self._subs: dict[str, tuple[re.Pattern, dict[str, str]]] = {}
        for i, rule in enumerate(rules):
            where = f"{source}: providers[{i}]"
            name = rule.get("provider") if isinstance(rule, dict) else None
            if not isinstance(name, str) or not name or "/" in name:
                raise ValueError(f"{where}: \"provider\" must be a name without '/'")
            hosts, url_regex = rule.get("hosts", []), rule.get("url_regex")
            if not hosts and not url_regex:
                raise ValueError(f"{where} ({name}): give \"hosts\" or \"url_regex\"")
            self.names.append(name)
            for pattern in hosts:
                pattern = str(pattern).lower().strip()
                if pattern.startswith("*.") and not any(c in pattern[2:] for c in "*?["):
                    self._suffix.setdefault(pattern[2:], name)
                elif any(c in pattern for c in "*?["):
                    self._globs.append((pattern, name))
                else:
                    self._exact.setdefault(pattern, name)
            if url_regex:
                self._url_rules.append((self._compile(url_regex, where), name))
            subs = rule.get("sub_providers")
            if subs:
                regex = self._compile(subs.get("page_url_regex", ""), f"{where}.sub_providers")
                if "user" not in regex.groupindex:
                    raise ValueError(f"{where}.sub_providers: page_url_regex needs a (?P<user>...) group")
                users = {str(k): str(v) for k, v in (subs.get("users") or {}).items()}
                self._subs[name] = (regex, users)
                self.sub_names[name] = set(users.values())
        self._host_cache = lru_cache(maxsize=65536)(self._provider_of_host)

    @staticmethod
    def _compile(regex: str, where: str) -> re.Pattern:
        try:
            return re.compile(regex)
        except (re.error, TypeError) as exc:
            raise ValueError(f"{where}: bad regular expression {regex!r}: {exc}") from None

    @classmethod
    def load(cls, path: str | Path | None = None) -> ProviderMap:
        """The mapping in `path` (JSON; .yaml/.yml with PyYAML), or the shipped default."""
        path = Path(path) if path else DEFAULT_MAPPING
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read the provider mapping {path}: {exc.strerror or exc}") from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                config = yaml.safe_load(text)
            else:
                config = json.loads(text)
        except ImportError:
            raise ValueError(f"{path}: reading YAML needs PyYAML (pip install pyyaml), or give JSON") from None
        except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError's common base here
            raise ValueError(f"{path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - yaml.YAMLError is not a ValueError
            raise ValueError(f"{path} is not valid YAML: {exc}") from None
        return cls(config, str(path))

    def _provider_of_host(self, host: str) -> str | None:
        found = self._exact.get(host)
        if found is not None:
            return found
        labels = host.split(".")
        for i in range(len(labels)):  # the longest suffix first: the most specific pattern wins
            found = self._suffix.get(".".join(labels[i:]))
            if found is not None:
                return found
        for pattern, name in self._globs:
            if fnmatch.fnmatchcase(host, pattern):
                return name
        return None

    def attribution(self, item) -> Attribution:
        """The provider and sub-provider of an image record (dict with img_url, page_url) or a bare image URL."""
        if isinstance(item, str):
            img_url, page_url, host = item, None, None
        else:
            img_url, page_url, host = item.get("img_url") or "", item.get("page_url"), item.get("img_host")
        provider = None
        for regex, name in self._url_rules:
            if regex.search(img_url):
                provider = name
                break
        if provider is None:
            provider = self._host_cache(host.lower() if host else _host_of_url(img_url))
        if provider is None:
            return NONE
        sub = None
        rule = self._subs.get(provider)
        if rule is not None and page_url:
            m = rule[0].search(page_url)
            if m is not None:
                sub = rule[1].get(m.group("user"))
        return Attribution(provider, sub)


@lru_cache(maxsize=1)
def default_mapping() -> ProviderMap:
    return ProviderMap.load(DEFAULT_MAPPING)


def provider_of(record, mapping: ProviderMap | None = None) -> Attribution:
    """The provider and sub-provider of an image record or URL, by `mapping` (default: the shipped one)."""
    return (mapping or default_mapping()).attribution(record)
