"""The search use case as an operator's result page sees it, with a stand-in index."""
from __future__ import annotations

from datetime import date, datetime, timezone

from kb.access import Actor
from kb.models import Role
from kb.search.backend import SearchResult
from kb.services.search import FACET_BUCKETS, CategoryCount, search

OPERATOR = Actor(user_id=1, role=Role.OPERATOR, unit_id=None, name="话务员")


class StandInIndex:
    def __init__(self, result: SearchResult):
        self.result, self.queries = result, []

    def search(self, query):
        self.queries.append(query)
        return self.result


def test_facets_list_only_the_largest_buckets_largest_first():
    categories = {100 + i: i + 1 for i in range(60)}  # category 159 has the most matches
    units = {f"U{i:03d}": 1 for i in range(40)} | {"RSJ": 9, "YBJ": 5}
    index = StandInIndex(SearchResult(total=500, hits=(), facets={"category": categories, "unit": units}))
    page = search(index, None, OPERATOR, text="社保 补缴", today=date(2026, 11, 2),
                  now=datetime(2026, 11, 2, tzinfo=timezone.utc), facets=True)
    assert index.queries[0].facets is True
    assert page.facets is not None
    assert len(page.facets.category) == FACET_BUCKETS == 20
    assert page.facets.category[:2] == (CategoryCount(category_id=159, count=60),
                                        CategoryCount(category_id=158, count=59))
    assert [f.unit_code for f in page.facets.unit[:3]] == ["RSJ", "YBJ", "U000"]
    assert len(page.facets.unit) == 20


def test_facets_only_when_asked_for():
    index = StandInIndex(SearchResult(total=3, hits=(), facets={}))
    page = search(index, None, OPERATOR, text="社保 补缴", today=date(2026, 11, 2),
                  now=datetime(2026, 11, 2, tzinfo=timezone.utc))
    assert index.queries[0].facets is False and page.facets is None
