"""KB_WEBHOOK_ALLOWED_HOSTS: which receiver URLs a deployment lets webhooks go to."""
from __future__ import annotations

import pytest

from kb.services.webhooks import ReceiverHosts


def test_unset_allows_any_host():
    for raw in (None, "", " , "):
        hosts = ReceiverHosts.parse(raw)
        assert not hosts.restricted and hosts.allows("http://127.0.0.1:6379/")


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
