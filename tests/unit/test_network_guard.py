"""network.guard: the strict URL parser, the public-address check and the Resolver's all-or-nothing rule.

Why so many hostile URLs: each one is a form that two URL parsers read differently (and so a way to make
the address check look at one host while the connection goes to another), or a form that is not a plain
http(s) URL at all.  All of them must be refused before anything is resolved or connected.
"""
from __future__ import annotations

import threading
import time

import pytest

from network.errors import FetchError, TransientError
from network.guard import Resolver, _call_with_timeout, check_url, is_public_address, join_redirect

# -- check_url: what is accepted, and how it is normalised -------------------------------------------------


@pytest.mark.parametrize("url, scheme, host, port, target", [
    ("http://example.com", "http", "example.com", 80, "/"),
    ("HTTPS://Example.COM:443/a?b=c#frag", "https", "example.com", 443, "/a?b=c"),
    ("http://example.com:8080/x/y.png", "http", "example.com", 8080, "/x/y.png"),
    ("http://bücher.example/straße.jpg", "http", "xn--bcher-kva.example", 80, "/stra%C3%9Fe.jpg"),
    ("http://example.com/a b/c.png?w=1 2", "http", "example.com", 80, "/a%20b/c.png?w=1%202"),
    ("http://example.com/%7Euser/%C3%A9", "http", "example.com", 80, "/%7Euser/%C3%A9"),  # escapes kept
    ("http://example.com/a\"<>`{}.png", "http", "example.com", 80, "/a%22%3C%3E%60%7B%7D.png"),
    ("http://example.com?q", "http", "example.com", 80, "/?q"),
    ("http://my_host.blogspot.com/i.gif", "http", "my_host.blogspot.com", 80, "/i.gif"),  # underscores exist
    ("http://example.com./x", "http", "example.com", 80, "/x"),  # one trailing dot: the same name
    ("http://[2001:DB8::1]:8443/", "http", "2001:db8::1", 8443, "/"),
    ("http://93.184.216.34/", "http", "93.184.216.34", 80, "/"),
    ("http://8.8.8.8#@127.0.0.1/", "http", "8.8.8.8", 80, "/"),  # all parsers agree: '@...' is the fragment
    # UTS 46 maps full-width digits and dots to ASCII, as browsers do: the guard then sees 127.0.0.1
    ("http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", "http", "127.0.0.1", 80, "/"),
])
def test_check_url_accepts_and_normalises(url, scheme, host, port, target):
    checked = check_url(url)
    assert (checked.scheme, checked.host, checked.port, checked.target) == (scheme, host, port, target)
    assert checked.url == url
    assert checked.target.isascii() and " " not in checked.target


def test_checked_url_views():
    checked = check_url("https://Example.com:8443/p/q.png?token=SECRET#x")
    assert checked.netloc == "example.com:8443"
    assert checked.origin == "https://example.com:8443"
    assert checked.normalized == "https://example.com:8443/p/q.png?token=SECRET"
    assert "SECRET" not in checked.redacted and "SECRET" not in str(checked)
    assert check_url("http://[::1]:80/").netloc == "[::1]"


HOSTILE = [
    "http://127.0.0.1:80\\@8.8.8.8/x",        # backslash: WHATWG reads host 127.0.0.1, RFC 3986 reads 8.8.8.8
    "http://example.com\\.evil.com/",
    "http:\\\\example.com\\x",
    "http://example.com/\\evil.com/x",         # a browser would turn /\ into // (another host) on redirect
    "http://user:pass@example.com/",           # userinfo
    "http://example.com@127.0.0.1/",
    "http://exa\tmple.com/",                   # tabs and newlines are silently removed by WHATWG
    "http://example.com/a\nb",
    "http://example.com/\r\nX-Injected: 1",
    "http://example.com/\x00",
    "http://example.com/\x85",                 # C1 control (NEL)
    " http://example.com/",                    # leading/trailing whitespace is stripped by some parsers
    "http://example.com/ ",
    "http://exa mple.com/",                    # whitespace in the host
    "http://example.com:99999/",               # ports
    "http://example.com:0/",
    "http://example.com:8o/",
    "http://example.com:/",
    "http://example.com:+80/",
    "http://example.com:-1/",
    "http://example.com:\u0668\u0660/",        # Arabic-Indic digits: int() would take them
    "http:///path",                            # empty host
    "http://:80/",
    "http:/example.com/",                      # not scheme://
    "//example.com/",
    "example.com/x.png",
    "ftp://example.com/x",                     # schemes
    "file:///etc/passwd",
    "javascript:alert(1)",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "http://0x7f.1/",                          # numeric shortcuts that inet_aton and WHATWG read as 127.0.0.1
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.0.01/",
    "http://%31%32%37.0.0.1/",                 # percent-encoded host (WHATWG decodes it)
    "http://ex%41mple.com/",
    "http://[fe80::1%25eth0]/",                # IPv6 zone identifier
    "http://[::1/",                            # brackets
    "http://[::1]x/",
    "http://[v1.fe]/",
    "http://[127.0.0.1]/",
    "http://a:b:c/",
    "http://a..b/",                            # not DNS names
    "http://exa<mple.com/",
    "http://a.b\u202ec/",                      # right-to-left override: not a valid IDN
    "http://" + "a" * 64 + ".com/",            # label over 63
    "http://example.com/" + "a" * 9000,        # over MAX_URL_LENGTH
]


@pytest.mark.parametrize("url", HOSTILE)
def test_check_url_refuses_hostile_forms(url):
    with pytest.raises(FetchError) as info:
        check_url(url)
    assert info.value.kind == "bad_url"
    assert len(str(info.value)) < 400  # a bounded, escaped rendering of the URL, never the whole thing


def test_refusals_and_reprs_do_not_show_the_query():
    with pytest.raises(FetchError) as info:
        check_url("http://user@example.com/x?token=SECRET")
    assert "SECRET" not in str(info.value)
    assert "SECRET" not in repr(check_url("http://example.com/x?token=SECRET"))


def test_check_url_refuses_non_strings():
    with pytest.raises(FetchError) as info:
        check_url(b"http://example.com/")
    assert info.value.kind == "bad_url"


# -- join_redirect ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("location, expected", [
    ("/b/c.png", "http://example.com/b/c.png"),
    ("c.png", "http://example.com/a/c.png"),
    ("//cdn.example.net/x", "http://cdn.example.net/x"),
    ("https://other.example/y?z=1", "https://other.example/y?z=1"),
])
def test_join_redirect_resolves_relative_locations(location, expected):
    assert join_redirect(check_url("http://example.com/a/b"), location).normalized == expected


@pytest.mark.parametrize("location", [
    "javascript:alert(1)", "file:///etc/passwd", "ftp://example.com/", "data:text/html,hi",
    "http://127.0.0.1:80\\@8.8.8.8/", "/\\evil.com/", "http://evil.com/\r\nSet-Cookie: a=b", "\thttp://x/",
    "http://user@example.com/", "http://0x7f.1/", "",
])
def test_join_redirect_refuses_bad_locations(location):
    with pytest.raises(FetchError) as info:
        join_redirect(check_url("http://example.com/a"), location)
    assert info.value.kind == "bad_redirect"


# -- is_public_address -------------------------------------------------------------------------------------

PUBLIC = [
    "8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",          # IPv4-mapped: judged by the IPv4 address
    "64:ff9b::8.8.8.8",        # NAT64 well-known prefix (RFC 6052, global): judged by the IPv4 address
    "2002:808:808::1",         # 6to4 (RFC 3056) around 8.8.8.8
]
NOT_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254",         # cloud metadata
    "100.64.0.1", "100.127.255.254",  # CGNAT shared space
    "0.0.0.0", "0.1.2.3", "255.255.255.255", "240.0.0.1",
    "224.0.0.1", "239.255.255.250", "233.252.0.1",  # multicast (Python 3.11 calls 224.0.0.1 global)
    "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "192.88.99.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "fec0::1",
    "ff02::1", "ff0e::1",      # multicast, even with global scope
    "2001:db8::1", "3fff::1", "100::1", "5f00::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:224.0.0.1",
    "::127.0.0.1", "::8.8.8.8",  # IPv4-compatible: deprecated, never public even around a public address
    "::ffff:0:8.8.8.8",        # SIIT IPv4-translated
    "64:ff9b::127.0.0.1", "64:ff9b::a00:1", "64:ff9b::169.254.169.254",
    "64:ff9b:1::8.8.8.8",      # local-use NAT64 (RFC 8215): never public
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:a00:1::", "2002:c0a8:101::1",  # 6to4 around private IPv4
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo: never public
    "2001::1",
    "not an address", "", "999.1.1.1",
]


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses(ip):
    assert is_public_address(ip) is True


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_not_public_addresses(ip):
    assert is_public_address(ip) is False


def test_is_public_address_takes_ipaddress_objects():
    import ipaddress

    assert is_public_address(ipaddress.ip_address("8.8.4.4"))
    assert not is_public_address(ipaddress.ip_address("::ffff:192.168.0.1"))


# -- Resolver ----------------------------------------------------------------------------------------------


class Answers:
    """A scripted DNS: each lookup of a name takes the next answer from its list."""

    def __init__(self, **answers):
        self.answers = {name.replace("_", "."): list(a) for name, a in answers.items()}
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host, port):
        self.calls.append((host, port))
        queue = self.answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]


def test_resolver_refuses_if_any_address_is_private():
    dns = Answers(mixed_example=[["93.184.216.34", "10.0.0.7"]])
    resolver = Resolver(lookup=dns, ttl=0)
    with pytest.raises(FetchError) as info:
        resolver.checked_addresses("mixed.example", 80)
    assert info.value.kind == "private_address"
    assert "mixed.example" in str(info.value) and "10.0.0.7" in str(info.value)
    assert resolver.checked_addresses("mixed.example", 80, allow_private=True) == ["93.184.216.34", "10.0.0.7"]


def test_resolver_rebinding_is_checked_at_every_lookup():
    """The second answer (private) is refused: nothing resolved earlier is reused past the TTL."""
    dns = Answers(rebind_example=[["93.184.216.34"], ["169.254.169.254"]])
    resolver = Resolver(lookup=dns, ttl=0)
    assert resolver.checked_addresses("rebind.example", 443) == ["93.184.216.34"]
    with pytest.raises(FetchError) as info:
        resolver.checked_addresses("rebind.example", 443)
    assert info.value.kind == "private_address"


def test_resolver_cache_ttl_and_bound():
    now = [0.0]
    dns = Answers(a_example=[["93.184.216.34"]], b_example=[["93.184.216.35"]], c_example=[["93.184.216.36"]])
    resolver = Resolver(lookup=dns, ttl=30, max_entries=2, clock=lambda: now[0])
    resolver.checked_addresses("a.example", 80)
    resolver.checked_addresses("a.example", 80)
    assert len(dns.calls) == 1  # cached
    now[0] = 31.0
    resolver.checked_addresses("a.example", 80)
    assert len(dns.calls) == 2  # expired
    resolver.checked_addresses("b.example", 80)
    resolver.checked_addresses("c.example", 80)  # evicts a.example, the least recently used
    resolver.checked_addresses("a.example", 80)
    assert len(dns.calls) == 5


def test_resolver_ip_literals_need_no_lookup_and_duplicates_go():
    dns = Answers(dup_example=[["93.184.216.34", "93.184.216.34", "2606:2800:220:1::1"]])
    resolver = Resolver(lookup=dns)
    assert resolver.checked_addresses("8.8.8.8", 80) == ["8.8.8.8"]
    assert dns.calls == []
    assert resolver.checked_addresses("dup.example", 80) == ["93.184.216.34", "2606:2800:220:1::1"]
    with pytest.raises(FetchError):
        resolver.checked_addresses("127.0.0.1", 80)


def test_resolver_dns_failures_are_classified():
    import socket

    def no_such_name(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def try_again(host, port):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with pytest.raises(FetchError) as info:
        Resolver(lookup=no_such_name).checked_addresses("nx.example", 80)
    assert info.value.kind == "unknown_host"
    with pytest.raises(TransientError) as info2:
        Resolver(lookup=try_again).checked_addresses("slow.example", 80)
    assert info2.value.kind == "dns"
    with pytest.raises(TransientError):
        Resolver(lookup=lambda h, p: []).checked_addresses("empty.example", 80)


def test_lookup_timeout_bounds_a_hanging_resolver():
    """The system resolver has no timeout of its own: the lookup is abandoned after `timeout`."""
    release = threading.Event()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        _call_with_timeout(lambda: release.wait(30) and [], 0.3)
    assert time.monotonic() - start < 5
    release.set()
    assert _call_with_timeout(lambda: ["1.2.3.4"], 5) == ["1.2.3.4"]
