"""What the search log may keep of what an operator typed: no caller data.

Operators paste call notes and sometimes type a caller's number into the box.
The log feeds the knowledge-gap report, which needs the words of a query, not
the caller's phone number, ID number or name. So, before a row is logged:

* every query (any mode) has its long digit runs masked: seven or more digits,
  optionally split by single spaces or hyphens, with an optional trailing X
  (mobile and landline numbers, 15/18-character ID numbers, bank cards) become
  ``***``. Shorter numbers (2024年, 3号楼, 12345) stay: they are rarely
  personal and often what the query is about. E-mail addresses become ``***``
  too.
* names and street addresses typed into a short query cannot be told apart
  reliably from what the query is about (a street's name is often the
  question), so they are not masked; the log keeps rows only
  KB_SEARCH_LOG_RETENTION_DAYS (default 180) and the ``purge_search_log`` job
  deletes older ones.
* a ticket (``mode="ticket"``, a citizen's description) is never logged as
  text. Only its top TF-IDF keywords are kept, the ones the search itself used
  most, minus words that carry a digit and words the segmenter tags as
  person names (jieba's ``nr`` tags). What is logged is those keywords joined
  by spaces, best first.
"""
from __future__ import annotations

import re

from kb.search import analyzer

MASK = "***"
TICKET_LOG_KEYWORDS = 8

# Seven or more digits, single spaces or hyphens allowed between them, an optional check letter X.
_LONG_DIGITS = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){6,}(?:[xX](?![a-zA-Z]))?")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.ASCII)
_FOLD = {**{0xFF10 + i: ord("0") + i for i in range(10)}, 0xFF0D: ord("-"), 0x3000: ord(" "),
         0xFF38: ord("X"), 0xFF58: ord("x")}


def mask_numbers(text: str) -> str:
    """``text`` with phone-number- and ID-number-like digit runs replaced by ``***``.

    Full-width digits, hyphens and spaces count too (``１３８…``).
    """
    if not text:
        return ""
    if "@" in text or "＠" in text:
        text = _EMAIL.sub(MASK, text.replace("＠", "@"))
    folded = text.translate(_FOLD)  # same length, so match positions hold in ``text``
    return "".join(_pieces(text, folded)) if _LONG_DIGITS.search(folded) else text


def _pieces(text: str, folded: str):
    cursor = 0
    for match in _LONG_DIGITS.finditer(folded):
        yield text[cursor:match.start()]
        yield MASK
        cursor = match.end()
    yield text[cursor:]


def ticket_log_text(text: str, limit: int = TICKET_LOG_KEYWORDS) -> str:
    """What the log keeps of a ticket: its best keywords, no digits and no person names."""
    normalized = analyzer.normalize(text)
    names = analyzer.person_names(normalized)
    kept = [word for word, _ in analyzer.ticket_keywords(normalized, top_k=limit * 3)
            if word not in names and not any(ch.isdigit() for ch in word)]
    return " ".join(kept[:limit])


def loggable_query(text: str, mode: str) -> str:
    """The query as the search log stores it."""
    if mode == "ticket":
        return ticket_log_text(text)
    return mask_numbers(text)
