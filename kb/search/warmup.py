"""Loading what search reads lazily, before an operator's first search has to wait for it.

Measured on the demo (issue 18): without it, the first pinyin search of a
worker took ~600 ms (pypinyin's dictionaries: ~0.35 s of JSON, the phrase
segmenter's training) and the first ticket recommendation ~390 ms (jieba's
reference IDF table, 270k lines); every later one 1.5–7 ms.

Two steps, because they belong to different moments of a server's life:

* :func:`load_analysis_data` fills the process-wide tables (segmenters,
  traditional→simplified conversion, the IDF table, the pinyin dictionaries).
  Pure data: no file left open, no thread, no database. ``kb serve`` calls it
  in the gunicorn master before the workers are forked, so the workers share
  those pages instead of each loading its own copy (service.gunicorn_conf).
* :func:`warm_up` runs one query of each kind through a process's own open
  index (a pinyin query, a pasted ticket, a suggestion), discarding the
  results and recording nothing, so what is built per index (the synonyms'
  pinyin index, the engine's first reader) is built before the first request.
"""
from __future__ import annotations

import logging
import time
from datetime import date

from kb.search import analyzer, embedding
from kb.search.backend import SearchQuery
from kb.search.sync import SearchIndex

log = logging.getLogger(__name__)

# One of each kind of input: a traditional-character question, a pinyin query, initials, a pasted ticket.
_QUESTION = "居住證怎麼辦理"
_PINYIN = "juzhuzheng"
_INITIALS = "jzz"
_TICKET = "市民来电反映，小区附近道路夜间施工噪音扰民，影响休息，希望相关部门尽快处理并答复。"


def load_analysis_data() -> None:
    """Load every process-wide table that analysis reads lazily (see the module's docstring)."""
    from pypinyin import Style, lazy_pinyin

    started = time.perf_counter()
    analyzer.tokenize_query(_QUESTION)  # conversion, the segmenter, the domain vocabulary
    analyzer.term_components(_QUESTION)  # the plain segmenter
    analyzer.ticket_keywords(_TICKET)  # the reference IDF table
    analyzer.person_names(analyzer.normalize(_TICKET))  # the part-of-speech tagger (search-log redaction)
    lazy_pinyin(_QUESTION)  # the pinyin dictionaries and phrase segmenter
    lazy_pinyin(_QUESTION, style=Style.FIRST_LETTER)
    log.debug("analysis tables loaded in %.0f ms", (time.perf_counter() - started) * 1000)


def load_packaged_encoder(setting: str | None) -> bool:
    """With the packaged encoder (``KB_EMBEDDER=use-m3``, the default), load its weights (numpy arrays,
    ~130 MiB) in this process; returns whether it did. ``kb serve`` calls it in the gunicorn master, so
    the workers share the weights copy-on-write instead of each holding its own (measured in
    docs/search.md). Nothing on onnxruntime is made here (the query graph of ``kb.search.use_graph``, or
    a model folder): its state is not meant to cross a fork, so each worker makes its own."""
    if (setting or embedding.DEFAULT_EMBEDDER).strip() != embedding.PACKAGED:
        return False
    started = time.perf_counter()
    embedding.shared_encoder().load()  # the weights only: each worker makes its onnxruntime graph itself
    log.debug("sentence encoder loaded in %.0f ms", (time.perf_counter() - started) * 1000)
    return True


def warm_up(index: SearchIndex, today: date) -> None:
    """Run a pinyin query, an initials query, a ticket and a suggestion through `index`; nothing is kept."""
    started = time.perf_counter()
    load_analysis_data()
    for text, mode in ((_PINYIN, "query"), (_INITIALS, "query"), (_QUESTION, "query"), (_TICKET, "ticket")):
        index.search(SearchQuery(text=text, today=today, mode=mode, facets=mode == "ticket"))  # type: ignore[arg-type]
    index.suggest("ju", today)
    log.info("search warmed up in %.0f ms", (time.perf_counter() - started) * 1000)
