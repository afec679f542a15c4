"""Operator search through HTTP: only what is live, at once, and any input is safe."""
from __future__ import annotations

import dataclasses

import pytest

from tests.api.test_workflow_api import ALL_PASS


def publish_entry(people, **proposal):
    base = {"similar_questions": [], "keywords": [], "category_id": people.categories["社会民生"],
            "effective_on": "2026-01-01"}
    base.update(proposal)
    cr = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": base}).json
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json
    return r.json["entry_id"]


@pytest.fixture
def corpus(people):
    ids = {
        "social": publish_entry(people, question="社会保险中断缴费后如何补缴？", similar_questions=["养老保险断缴怎么办"],
                                answer="1. 携带身份证到区社保中心办理补缴。\n2. 灵活就业人员可在当年内补缴。",
                                keywords=["社会保险", "补缴"]),
        "school": publish_entry(people, question="小学一年级入学需要准备哪些材料？",
                                answer="1. 户口簿；\n2. 房产证明；\n3. 预防接种证。", keywords=["入学", "小学"]),
        "fund": publish_entry(people, question="住房公积金租房提取怎么办理？",
                              answer="1. 登录济南公积金APP；\n2. 选择租房提取。", keywords=["住房公积金"]),
        "expired": publish_entry(people, question="春节期间社保大厅停止办公的通知", answer="1. 停止办公至初七。",
                                 category_id=people.categories["通知公告"], effective_on="2026-01-01",
                                 expires_on="2026-02-28"),
        "future": publish_entry(people, question="明年社保缴费基数调整的通知", answer="1. 2027年起执行新基数。",
                                effective_on="2027-01-01"),
    }
    return ids


def search(caller, q, **params):
    r = caller.get("/api/v1/search", query_string={"q": q, **params})
    assert r.status_code == 200, r.json
    return r.json


def test_everyday_words_find_the_right_answer_first(people, corpus):
    hits = search(people.operator, "社保断交了怎么补")["hits"]
    assert hits[0]["entry_id"] == corpus["social"]
    assert "<em>" in "".join(hits[0]["highlights"].values())
    assert hits[0]["unit_code"] == "HX" and hits[0]["updated_at"] and hits[0]["effective_on"] == "2026-01-01"
    assert search(people.operator, "孩子上学要什么材料")["hits"][0]["entry_id"] == corpus["school"]
    assert search(people.operator, "公积金租房")["hits"][0]["entry_id"] == corpus["fund"]


def suggest(caller, prefix, **params):
    r = caller.get("/api/v1/search/suggest", query_string={"prefix": prefix, **params})
    assert r.status_code == 200, r.json
    assert r.json["prefix"] == prefix
    return r.json["suggestions"]


def related(caller, entry_id):
    r = caller.get(f"/api/v1/knowledge/{entry_id}/related")
    assert r.status_code == 200, r.json
    assert r.json["total"] >= len(r.json["items"])
    return r.json["items"]


def withdraw(people, entry_id):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "revoke", "entry_id": entry_id,
                                                              "base_version": 1, "reason": "业务已调整"}).json
    people.maint_a.post(f"/api/v1/change-requests/{r['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{r['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    r = people.office.post(f"/api/v1/change-requests/{r['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json


def test_expired_and_not_yet_effective_entries_are_never_found(people, corpus):
    found = {h["entry_id"] for h in search(people.operator, "社保 通知 缴费 停止办公 基数")["hits"]}
    assert corpus["expired"] not in found and corpus["future"] not in found
    assert suggest(people.operator, "春节") == []
    assert not any("明年" in s for s in suggest(people.operator, "明年社保"))


def test_type_ahead_suggests_questions_and_similar_phrasings_in_effect(people, corpus):
    assert suggest(people.operator, "社会保险")[0] == "社会保险中断缴费后如何补缴？"
    assert "养老保险断缴怎么办" in suggest(people.operator, "养老")
    assert suggest(people.operator, "住房公积金") == ["住房公积金租房提取怎么办理？"]
    assert suggest(people.operator, "小学", limit=1) == ["小学一年级入学需要准备哪些材料？"]
    assert people.anonymous.get("/api/v1/search/suggest", query_string={"prefix": "社保"}).status_code == 401
    assert people.operator.get("/api/v1/search/suggest", query_string={"prefix": ""}).status_code == 422


def test_drafts_withdrawn_and_expired_entries_never_appear_in_suggestions_or_related(people, corpus):
    live = publish_entry(people, question="社会保险补缴需要哪些材料？", answer="1. 身份证；\n2. 劳动合同。",
                         keywords=["社会保险", "补缴"])
    withdrawn = publish_entry(people, question="社会保险补缴窗口搬迁了吗？", answer="1. 补缴窗口已搬到二楼。",
                              keywords=["社会保险", "补缴"])
    expired = publish_entry(people, question="社会保险补缴春节期间暂停的通知", answer="1. 春节期间暂停补缴。",
                            keywords=["社会保险", "补缴"], effective_on="2026-01-01", expires_on="2026-02-28")
    future = publish_entry(people, question="社会保险补缴明年起执行新标准", answer="1. 2027年起补缴执行新标准。",
                           keywords=["社会保险", "补缴"], effective_on="2027-01-01")
    draft = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "社会保险补缴可以网上办理吗？", "answer": "1. 可以在网上补缴。", "keywords": ["社会保险", "补缴"],
        "category_id": people.categories["社会民生"], "effective_on": "2026-01-01"}})
    assert draft.status_code == 201
    withdraw(people, withdrawn)

    suggestions = suggest(people.operator, "社会保险", limit=20)
    assert {"社会保险中断缴费后如何补缴？", "社会保险补缴需要哪些材料？"} <= set(suggestions)
    assert not {"社会保险补缴窗口搬迁了吗？", "社会保险补缴春节期间暂停的通知", "社会保险补缴明年起执行新标准",
                "社会保险补缴可以网上办理吗？"} & set(suggestions)
    assert not any("搬迁" in s or "春节" in s or "明年" in s or "网上" in s
                   for s in suggest(people.operator, "补缴", limit=20))

    related_ids = {h["entry_id"] for h in related(people.operator, corpus["social"])}
    assert live in related_ids
    assert related_ids.isdisjoint({withdrawn, expired, future, corpus["expired"], corpus["future"]})
    assert {withdrawn, expired, future}.isdisjoint({h["entry_id"] for h in related(people.operator, live)})


def test_related_knowledge_of_an_unknown_or_unpublished_entry_is_404(people, corpus):
    r = people.operator.get("/api/v1/knowledge/987654/related")
    assert r.status_code == 404 and r.json["code"] == "entry_not_found"
    assert people.operator.get(f"/api/v1/knowledge/{corpus['expired']}/related").status_code == 404
    related(people.operator, corpus["social"])  # a live entry answers 200


def test_drafts_are_never_found_and_a_publish_is_visible_on_the_next_search(people, corpus):
    cr = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "电动自行车如何上牌照？", "answer": "1. 到车管所办理。", "category_id": people.categories["社会民生"],
        "effective_on": "2026-01-01"}}).json
    assert search(people.operator, "电动自行车上牌")["total"] == 0
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    hits = search(people.office, "电动自行车上牌")["hits"]
    assert hits and hits[0]["question"] if "question" in hits[0] else hits
    assert hits[0]["entry_id"] == people.office.get(f"/api/v1/change-requests/{cr['id']}").json["entry_id"]


def test_withdrawn_entries_leave_the_results(people, corpus):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "revoke", "entry_id": corpus["fund"],
                                                              "base_version": 1, "reason": "业务已调整"}).json
    people.maint_a.post(f"/api/v1/change-requests/{r['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{r['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    people.office.post(f"/api/v1/change-requests/{r['id']}/office-review", json={"decision": "publish"})
    assert corpus["fund"] not in {h["entry_id"] for h in search(people.operator, "公积金租房提取")["hits"]}


def test_filters_facets_and_pagination(people, corpus):
    result = search(people.operator, "社保 入学 公积金", per_page=1)
    # counted only as far as "there is a next page" unless asked (as Elasticsearch's track_total_hits)
    assert (result["total"], result["total_exact"], len(result["hits"])) == (2, False, 1)
    counted = search(people.operator, "社保 入学 公积金", per_page=1, exact_total=1)
    assert (counted["total"], counted["total_exact"]) == (3, True)
    page2 = search(people.operator, "社保 入学 公积金", per_page=1, page=2)
    assert page2["hits"][0]["entry_id"] != result["hits"][0]["entry_id"]
    last = search(people.operator, "社保 入学 公积金", per_page=1, page=3)
    assert (last["total"], last["total_exact"], len(last["hits"])) == (3, True, 1)
    assert "facets" not in result  # computed only when asked for
    faceted = search(people.operator, "社保 入学 公积金", per_page=1, facets=1)
    assert sum(f["count"] for f in faceted["facets"]["unit"]) == 3
    assert search(people.operator, "社保", category_id=people.categories["政策法规"])["total"] == 0
    assert search(people.operator, "社保", unit="RSJ")["total"] == 0


@pytest.mark.parametrize("q", ["", "AND", "*", '"', "(", ")", "社保 AND (", "a:b", "\x00\x01社保\x7f",
                               "社" * 1999, "OR NOT", "\\", "😀😀", "   "])
def test_any_query_gets_results_or_a_clear_4xx_never_a_500(people, corpus, q):
    r = people.operator.get("/api/v1/search", query_string={"q": q})
    assert r.status_code in (200, 422), r.data[:200]


def test_overlong_query_is_a_clear_422(people, corpus):
    r = people.operator.get("/api/v1/search", query_string={"q": "社" * 2500})
    assert r.status_code == 422 and r.json["code"] == "validation_failed"


def test_ticket_text_recommends_the_matching_entry(people, corpus):
    ticket = ("市民来电反映：本人原在企业上班，去年辞职后有半年没有交社会保险，现在想把中断的这几个月补上，"
              "不知道需要带什么材料、去哪里办理，希望相关部门给予答复。")
    r = people.operator.post("/api/v1/search/recommend", json={"text": ticket})
    assert r.status_code == 200 and r.json["hits"][0]["entry_id"] == corpus["social"]


def test_office_synonyms_apply_at_query_time(people, corpus):
    assert search(people.operator, "娃娃读书")["total"] == 0
    r = people.office.post("/api/v1/synonyms", json={"terms": ["入学", "娃娃读书"]})
    assert r.status_code == 201
    assert search(people.operator, "娃娃读书")["hits"][0]["entry_id"] == corpus["school"]
    assert people.operator.post("/api/v1/synonyms", json={"terms": ["a", "b"]}).status_code == 403


def test_synonyms_import(people, corpus):
    r = people.office.post("/api/v1/synonyms/import", json={"text": "# 口语\n入学/念书\n公积金,住房公积金\n"})
    assert r.status_code == 200 and r.json["added"] == 2
    assert search(people.operator, "念书")["hits"][0]["entry_id"] == corpus["school"]


def test_usage_feeds_the_hot_list_and_unused_searches_form_the_gap_report(people, corpus, clock):
    result = search(people.operator, "社保断交了怎么补")
    r = people.operator.post(f"/api/v1/knowledge/{corpus['social']}/usages",
                             json={"search_id": result["search_id"], "ticket_number": "GD20261102001"})
    assert r.status_code == 201
    hot = people.operator.get("/api/v1/search/hot").json["items"]
    assert hot[0]["entry_id"] == corpus["social"] and hot[0]["usages"] == 1
    search(people.operator, "护照过期了怎么换")  # nothing about passports
    search(people.operator, "公积金租房")  # found but nobody used it
    clock.set("2026-11-02T11:00:00+08:00")
    gaps = {g["query"]: g for g in people.office.get("/api/v1/search/gaps").json["items"]}
    assert gaps["护照过期了怎么换"]["zero_results"] == 1
    assert gaps["公积金租房"]["abandoned"] == 1
    assert "社保断交了怎么补" not in gaps
    assert people.operator.get("/api/v1/search/gaps").status_code == 403


def test_knowledge_list_with_q_searches(people, corpus):
    r = people.operator.get("/api/v1/knowledge", query_string={"q": "社保断交了怎么补"})
    assert r.status_code == 200 and r.json["items"][0]["id"] == corpus["social"]
    plain = people.operator.get("/api/v1/knowledge").json
    assert set(r.json) - {"search_id"} == set(plain) == {"total", "items"}  # one shape, with or without q
    assert set(r.json["items"][0]) == set(plain["items"][0])
    assert r.json["total"] >= len(r.json["items"]) and r.json["search_id"]
    second = people.operator.get("/api/v1/knowledge", query_string={"q": "社保断交了怎么补", "limit": 1, "offset": 1})
    assert [e["id"] for e in second.json["items"]] == [e["id"] for e in r.json["items"][1:2]]


def test_a_nearly_identical_question_is_flagged_at_submission(people, corpus):
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "社会保险中断缴费以后怎样补缴", "answer": "1. 到社保中心。"}})
    assert r.status_code == 201
    duplicates = [w for w in r.json["warnings"] if w["code"] == "duplicate_question"]
    assert duplicates and str(corpus["social"]) in duplicates[0]["message"]


def test_moving_or_renaming_a_category_moves_its_entries_in_search(people, corpus):
    sub = people.office.post("/api/v1/categories", json={"name": "社保补缴", "parent_id": people.categories["社会民生"]})
    assert sub.status_code == 201, sub.json
    leaf = people.office.post("/api/v1/categories", json={"name": "灵活就业", "parent_id": sub.json["id"]}).json
    entry = publish_entry(people, question="灵活就业人员社保怎么补缴？", answer="1. 到社保中心补缴。",
                          category_id=leaf["id"])
    policy = people.categories["政策法规"]
    assert search(people.operator, "灵活就业补缴", category_id=policy)["total"] == 0

    r = people.office.patch(f"/api/v1/categories/{sub.json['id']}", json={"parent_id": policy})
    assert r.status_code == 200, r.json
    hits = search(people.operator, "灵活就业补缴", category_id=policy)["hits"]
    assert [h["entry_id"] for h in hits] == [entry]
    assert entry not in {h["entry_id"] for h in search(people.operator, "灵活就业补缴",
                                                        category_id=people.categories["社会民生"])["hits"]}

    r = people.office.patch(f"/api/v1/categories/{leaf['id']}", json={"name": "灵活就业人员"})
    assert r.status_code == 200, r.json
    assert search(people.operator, "灵活就业补缴")["hits"][0]["category_name"] == "灵活就业人员"


def logged_searches(session_factory):
    from sqlalchemy import select

    from kb.models.search import SearchLog

    with session_factory() as session:
        return [(row.mode, row.query, row.query_key)
                for row in session.scalars(select(SearchLog).order_by(SearchLog.id))]


def test_the_search_log_keeps_no_caller_data_and_tickets_stay_out_of_the_gap_report(
        people, corpus, clock, session_factory):
    ticket = ("市民张建国来电反映，联系电话13805318888，身份证号370102198001011234，本人去年辞职后有半年没有交"
              "社会保险，现在想把中断的几个月补缴上，不知道需要带什么材料、去哪里办理。")
    r = people.operator.post("/api/v1/search/recommend", json={"text": ticket})
    assert r.status_code == 200 and r.json["hits"][0]["entry_id"] == corpus["social"]
    search(people.operator, "护照 13805318888")
    search(people.operator, "驾驶证 370102198001011234 补办")

    rows = logged_searches(session_factory)
    assert [mode for mode, _, _ in rows] == ["ticket", "query", "query"]
    ticket_row = rows[0][1]
    assert "社会保险" in ticket_row.split() and "张建国" not in ticket_row and ticket_row not in ticket
    assert rows[1][1] == "护照 ***" and rows[2][1] == "驾驶证 *** 补办"
    logged = " ".join(q + " " + key for _, q, key in rows)
    assert "13805318888" not in logged and "370102198001011234" not in logged

    clock.set("2026-11-02T11:00:00+08:00")
    gaps = people.office.get("/api/v1/search/gaps").json["items"]
    assert sorted(g["query"] for g in gaps) == sorted(["驾驶证 *** 补办", "护照 ***"])


def test_the_office_opens_a_gap_task_for_a_unit_straight_from_a_gap_report_row(people, corpus, clock):
    search(people.operator, "护照过期了怎么换")
    search(people.operator, "护照过期了怎么换")
    row = next(g for g in people.office.get("/api/v1/search/gaps").json["items"] if g["query"] == "护照过期了怎么换")
    assert row["zero_results"] == 2 and row["tasks"] == []

    r = people.office.post("/api/v1/search/gaps/tasks", json={
        "query_key": row["query_key"], "unit_code": "RSJ", "detail": "请补充护照换发的办理指引"})
    assert r.status_code == 201, r.json
    task = r.json
    assert task["entry_id"] is None and task["unit_code"] == "RSJ" and task["state"] == "open"
    assert task["source"] == "office_feedback" and task["reason"] == "incomplete"
    assert task["detail"].startswith("请补充护照换发的办理指引") and "护照过期了怎么换" in task["detail"]
    assert "2 次" in task["detail"]
    assert task["due_at"] == "2026-11-09T23:59:59+08:00"  # five working days from Monday 2 November

    assert people.maint_b.get(f"/api/v1/tasks/{task['id']}").json["id"] == task["id"]  # the unit sees it
    row = next(g for g in people.office.get("/api/v1/search/gaps").json["items"] if g["query"] == "护照过期了怎么换")
    assert row["tasks"] == [{"id": task["id"], "unit_code": "RSJ", "state": "open"}]

    again = people.office.post("/api/v1/search/gaps/tasks", json={"query_key": row["query_key"], "unit_code": "RSJ"})
    assert again.status_code == 409 and again.json["code"] == "gap_task_exists"
    other_unit = people.office.post("/api/v1/search/gaps/tasks", json={"query_key": row["query_key"],
                                                                        "unit_code": "HX"})
    assert other_unit.status_code == 201 and other_unit.json["detail"].startswith("知识缺口：")


def test_a_gap_task_needs_a_row_of_the_report_a_real_unit_and_the_office(people, corpus):
    search(people.operator, "护照过期了怎么换")
    key = people.office.get("/api/v1/search/gaps").json["items"][0]["query_key"]
    r = people.office.post("/api/v1/search/gaps/tasks", json={"query_key": "从没人搜过的话", "unit_code": "RSJ"})
    assert r.status_code == 404 and r.json["code"] == "gap_not_found"
    r = people.office.post("/api/v1/search/gaps/tasks", json={"query_key": key, "unit_code": "NOPE"})
    assert r.status_code == 422
    r = people.operator.post("/api/v1/search/gaps/tasks", json={"query_key": key, "unit_code": "RSJ"})
    assert r.status_code == 403
    r = people.maint_b.post("/api/v1/search/gaps/tasks", json={"query_key": key, "unit_code": "RSJ"})
    assert r.status_code == 403
    assert people.office.get("/api/v1/tasks").json["total"] == 0


def test_the_light_dump_of_the_hot_endpoint_equals_the_schema_dump(app, people, corpus):
    from kb.services import search as use_case
    from service.schemas.search import SearchResultSchema, dump_search_page

    ctx = app.extensions["kb"]
    for facets in (False, True):
        r = people.operator.get("/api/v1/search", query_string={"q": "社保 入学 公积金", "facets": int(facets)})
        page = use_case.search(ctx.search, None, people.operator.actor, text="社保 入学 公积金", today=ctx.today(),
                               now=ctx.now(), facets=facets)
        assert page.hits and dump_search_page(page) == SearchResultSchema().dump(page)
        assert ("facets" in dump_search_page(page)) is facets
        page = dataclasses.replace(page, search_id=r.json["search_id"], took_ms=r.json["took_ms"])
        assert r.json == SearchResultSchema().dump(page)
