"""KB_WEBHOOK_ALLOWED_HOSTS: which receiver URLs a deployment lets webhooks go to."""
from __future__ import annotations

import pytest

from kb.services.webhooks import ReceiverHosts


def test_unset_allows_any_public_host_and_no_loopback():
    for raw in (None, "", " , "):
        hosts = ReceiverHosts.parse(raw)
        assert not hosts.restricted and hosts.allows("https://scoring.example.cn/kb")
        assert hosts.allows("http://8.8.8.8/kb") and not hosts.allows("http://127.0.0.1:6379/")


@pytest.mark.parametrize("url, allowed", [
    ("https://scoring.licheng.gov.cn/hooks", True),
    ("https://SCORING.Licheng.gov.cn./hooks", True),  # case and a trailing dot do not matter
    ("https://a.b.licheng.gov.cn/hooks", True),
    ("https://licheng.gov.cn/hooks", False),  # *.domain is the names under it
    ("https://evil-licheng.gov.cn/hooks", False),
    ("https://licheng.gov.cn.evil.com/hooks", False),
    ("https://score.example.cn:8443/kb", True),
    ("https://www.score.example.cn/kb", False),
    ("http://10.20.3.4:8080/kb", True),
    ("http://10.21.0.1/kb", False),
    ("http://127.0.0.1/kb", False),
    ("http://[fd00::5]/kb", True),
    ("http://[::1]/kb", False),
    ("http://2130706433/kb", False),  # 127.0.0.1 spelled as a number is no name on the list
    ("not a url", False),
])
def test_names_domains_and_networks(url, allowed):
    hosts = ReceiverHosts.parse("score.example.cn, *.licheng.gov.cn 10.20.0.0/16,fd00::/8")
    assert hosts.allows(url) is allowed


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "*.", "*.a*.cn", "a/b", "*"])
def test_a_bad_entry_is_refused(raw):
    with pytest.raises(ValueError, match="KB_WEBHOOK_ALLOWED_HOSTS"):
        ReceiverHosts.parse(raw)


UNSET = ReceiverHosts.parse(None)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/", "http://100.100.100.200/", "http://127.0.0.1:8209/", "http://127.1/",
    "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://localhost:8000/", "http://a.localhost/", "http://0.0.0.0/", "http://[fe80::1]/", "http://10.1.2.3/",
    "http://192.168.1.5/", "http://172.16.0.1/", "http://100.64.0.1/", "http://[fd12::1]/",
])
def test_unset_refuses_loopback_link_local_metadata_and_private_addresses_in_any_spelling(url):
    assert UNSET.allows(url) is False


@pytest.mark.parametrize("url", ["http://127.0.0.1:8209\\@allowed.host/", "http://allowed.host\\@127.0.0.1/",
                                 "http://user@allowed.host/", "http://127.0.0.1:8209@allowed.host/"])
def test_backslashes_and_user_info_are_refused_whatever_is_listed(url):
    assert ReceiverHosts.parse("allowed.host, 127.0.0.0/8").allows(url) is False


def test_private_ranges_are_allowed_when_listed_and_loopback_only_as_an_address():
    intranet = ReceiverHosts.parse("10.20.0.0/16")
    assert intranet.allows("http://10.20.3.4:8080/kb") and not intranet.allows("http://10.21.0.1/kb")
    assert ReceiverHosts.parse("127.0.0.1").allows("http://127.0.0.1:9000/")
    assert ReceiverHosts.parse("127.0.0.1").allows("http://127.1:9000/")  # the same address, spelled short


@pytest.mark.parametrize("hosts, host, peer, allowed", [
    (None, "scoring.example.cn", "8.8.8.8", True),  # a public name at a public address
    (None, "scoring.example.cn", "127.0.0.1", False),  # a public name resolving to loopback
    (None, "scoring.example.cn", "169.254.169.254", False),
    (None, "scoring.example.cn", "10.0.0.5", False),  # private: only when listed
    (None, "scoring.example.cn", "::ffff:127.0.0.1", False),
    ("scoring.example.cn", "scoring.example.cn", "10.0.0.5", True),  # an intranet engine listed by name
    ("scoring.example.cn", "scoring.example.cn", "127.0.0.1", False),  # but never loopback by name
    ("scoring.example.cn", "scoring.example.cn", "169.254.169.254", False),
    ("scoring.example.cn, 127.0.0.1", "scoring.example.cn", "127.0.0.1", True),
    ("10.20.0.0/16", "10.20.1.1", "10.20.1.1", True),
    ("10.20.0.0/16", "other.example.cn", "10.20.1.1", True),  # the address is listed
    ("10.20.0.0/16", "other.example.cn", "8.8.8.8", False),  # something listed: only that
    ("allowed.host", "allowed.host", "127.0.0.1", False),  # issue 18's backslash URL, had it got through
])
def test_the_address_a_connection_reaches_is_checked(hosts, host, peer, allowed):
    assert ReceiverHosts.parse(hosts).connection_allowed(host, peer) is allowed
