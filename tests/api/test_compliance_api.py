"""The scoring engine pulls compliance counts and scores: one October of two units, hand-counted.

The scenario (Asia/Shanghai), unit HX (华山街道):

* 10-12 publishes E1 (Q&A, 社会民生), E2 (Q&A, 政策法规), E3 (document, 社会民生);
* 10-13 office feedback on E1 (5 working days), fixed the next day: on time;
  six city notices on E2 (2 working days, due 10-15), none fixed in October;
  the first is fixed on 11-03, after the period;
* 10-13 a policy (published 10-12, in effect 12-01) registered with HX as its unit: a policy-change task,
  never done, but due only on 11-30 (Art. 10(2): "…或实施之前");
* 10-14 an operator uses E2 v1 three times and E3 twenty-two times;
* 10-15 an operator flags E2 wrong; the office forwards it (a task, never done);
* 10-20 the reviewer verifies E3.

Unit RSJ has one entry published in 2025 and nothing since.
"""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.api.test_workflow_api import ALL_PASS

PERIOD = "2026-10"


def _publish(people, clock, at, category, question, fmt="qa", caller="maint_a", reviewer="rev_a"):
    clock.set(at)
    maint, rev = getattr(people, caller), getattr(people, reviewer)
    cr = maint.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": question, "answer": "1. 办理地点：便民服务中心。\n2. 所需材料：身份证。",
        "category_id": people.categories[category], "effective_on": "2025-01-01", "format": fmt}}).json
    assert maint.post(f"/api/v1/change-requests/{cr['id']}/submit", json={}).status_code == 200
    assert rev.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                    json={"approve": True, "checks": ALL_PASS}).status_code == 200
    done = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert done.status_code == 200, done.json
    return done.json["entry_id"]


def _task(people, clock, at, **body):
    clock.set(at)
    r = people.office.post("/api/v1/tasks", json={"detail": "请按市级通知更新", **body})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _fix(people, clock, at, task_id, entry_id, answer):
    """The unit drafts the fix from the task and carries it through to publication."""
    clock.set(at)
    version = people.operator.get(f"/api/v1/knowledge/{entry_id}").json["version"]
    cr = people.maint_a.post(f"/api/v1/tasks/{task_id}/change-requests",
                             json={"kind": "modify", "base_version": version, "proposal": {"answer": answer}})
    assert cr.status_code == 201, cr.json
    cr_id = cr.json["id"]
    assert people.maint_a.post(f"/api/v1/change-requests/{cr_id}/submit", json={}).status_code == 200
    assert people.rev_a.post(f"/api/v1/change-requests/{cr_id}/unit-review",
                             json={"approve": True, "checks": ALL_PASS}).status_code == 200
    r = people.office.post(f"/api/v1/change-requests/{cr_id}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json


@pytest.fixture
def october(people, clock):
    ids = {}
    ids["E4"] = _publish(people, clock, "2025-06-02T10:00:00+08:00", "社会民生", "区社保局在哪里办公？",
                         caller="maint_b", reviewer="rev_b")
    ids["E1"] = _publish(people, clock, "2026-10-12T10:00:00+08:00", "社会民生", "华山街道如何办理居住证？")
    ids["E2"] = _publish(people, clock, "2026-10-12T10:05:00+08:00", "政策法规", "华山街道老年人补贴标准是多少？")
    ids["E3"] = _publish(people, clock, "2026-10-12T10:10:00+08:00", "社会民生", "华山街道便民服务指南", fmt="document")
    ids["T1"] = _task(people, clock, "2026-10-13T10:00:00+08:00", source="office_feedback", entry_id=ids["E1"],
                      reason="unclear", detail="办理地点表述不清")
    ids["city"] = [_task(people, clock, "2026-10-13T10:00:00+08:00", source="city_notice", entry_id=ids["E2"],
                         detail=f"市级通知：补贴标准调整（{n}）") for n in range(6)]
    clock.set("2026-10-13T11:00:00+08:00")
    policy = people.office.post("/api/v1/policies", json={
        "doc_number": "济历政办字〔2026〕15号", "title": "关于调整老年人补贴标准的通知", "issuer": "历城区人民政府办公室",
        "published_on": "2026-10-12", "effective_on": "2026-12-01", "unit_code": "HX"})
    assert policy.status_code == 201, policy.json
    _fix(people, clock, "2026-10-14T09:00:00+08:00", ids["T1"], ids["E1"], "1. 办理地点：华山街道便民服务中心一楼3号窗口。")
    clock.set("2026-10-14T15:00:00+08:00")
    for entry, times in ((ids["E2"], 3), (ids["E3"], 22)):
        for _ in range(times):
            assert people.operator.post(f"/api/v1/knowledge/{entry}/usages", json={}).status_code == 201
    clock.set("2026-10-15T10:00:00+08:00")
    flag = people.operator.post(f"/api/v1/knowledge/{ids['E2']}/flags",
                                json={"kind": "wrong_answer", "text": "补贴标准已调整"}).json
    ids["flag"] = flag["id"]
    triaged = people.office.post(f"/api/v1/flags/{flag['id']}/triage", json={"decision": "task"})
    assert triaged.status_code == 200, triaged.json
    clock.set("2026-10-20T10:00:00+08:00")
    assert people.rev_a.post(f"/api/v1/knowledge/{ids['E3']}/verify", json={}).status_code == 200
    return ids


def _units(response):
    assert response.status_code == 200, response.json
    return {u["unit_code"]: u for u in response.json["units"]}


def test_october_counts_are_what_happened_in_october(people, clock, october):
    _fix(people, clock, "2026-11-03T10:00:00+08:00", october["city"][0], october["E2"], "1. 补贴标准：每月200元。")
    units = _units(people.scorer.get(f"/api/v1/compliance?period={PERIOD}"))
    hx, rsj = units["HX"], units["RSJ"]
    assert (hx["uploads_qa"], hx["uploads_document"]) == (2, 1)
    assert hx["uploads_by_category"] == {"社会民生": 2, "政策法规": 1}
    assert sorted(hx["upload_entry_ids"]) == sorted([october["E1"], october["E2"], october["E3"]])
    assert (hx["modifications"], hx["deletions"], hx["revocations"], hx["verifications"]) == (1, 0, 0, 1)
    assert (hx["published_entries"], hx["covered_entries"], hx["coverage"]) == (3, 3, 1.0)
    tasks = hx["tasks_by_source"]
    assert (tasks["office_feedback"]["received"], tasks["office_feedback"]["resolved_on_time"]) == (1, 1)
    # Fixed on 11-03: still open and overdue at the end of October.
    assert tasks["city_notice"] == {"received": 6, "resolved_on_time": 0, "resolved_late": 0, "open_overdue": 6,
                                    "declined": 0, "late_task_ids": [],
                                    "overdue_task_ids": sorted(october["city"]), "due_working_days": 2,
                                    "office_late": 0, "office_late_task_ids": []}
    # Due the day before the policy takes effect (11-30), so not overdue at the end of October.
    assert (tasks["policy_change"]["received"], tasks["policy_change"]["open_overdue"]) == (1, 0)
    assert (hx["suggestions_received"], hx["suggestions_acted_in_time"], hx["suggestions_not_acted"]) == (1, 0, 1)
    assert hx["suggestion_ids_not_acted"] == [october["flag"]]
    assert (hx["usages"], hx["usages_confirmed_wrong"], hx["usage_error_rate"]) == (25, 3, 0.12)
    assert hx["months_without_update"] == []
    assert rsj["months_without_update"] == [PERIOD]
    assert (rsj["published_entries"], rsj["covered_entries"]) == (1, 0)
    assert rsj["uncovered_entry_ids"] == [october["E4"]]

    # The six notices went late in October and count there only: one fixed late in November, five still
    # open, none is counted again in November.
    november = _units(people.scorer.get("/api/v1/compliance?period=2026-11&unit=HX"))["HX"]
    assert november["tasks_by_source"]["city_notice"]["resolved_late"] == 0
    assert november["tasks_by_source"]["city_notice"]["open_overdue"] == 0
    assert november["months_without_update"] == []


# Hand-computed: profile -> unit -> (points, max, {item: points})
EXPECTED = {
    # Q&A upload 10 + every entry updated or verified 10, six late city notices -12 capped at -10.
    "nankang-2023": {"HX": (10, 20), "RSJ": (0, 20)},
    # 3.1 six missed city notices -12 → 0 of 3; 3.2 one suggestion not acted -2 → 1 of 3; 3.3 no wrong answer
    # attributed to a late policy (and the policy is not late either) → 4 of 4.
    "huantai-2017": {"HX": (5, 10), "RSJ": (10, 10)},
    # error rate 12%: two points above 10% → -2; RSJ: October without update → -1.
    "changzhou-edu": {"HX": (8, 10), "RSJ": (9, 10)},
    # 0.1 a piece: three new entries and one modification.
    "licheng": {"HX": (0.4, 4), "RSJ": (0, 4)},
}


@pytest.mark.parametrize("profile", sorted(EXPECTED))
def test_each_profile_scores_the_october_scenario_as_counted_by_hand(people, clock, october, profile):
    clock.set("2026-11-02T10:00:00+08:00")
    r = people.scorer.get(f"/api/v1/scores?profile={profile}&period={PERIOD}")
    assert r.status_code == 200, r.json
    got = {u["unit_code"]: (u["points"], u["max_points"]) for u in r.json["units"]}
    assert got == EXPECTED[profile]


def test_deductions_name_their_evidence(people, clock, october):
    clock.set("2026-11-02T10:00:00+08:00")
    nankang = {u["unit_code"]: u for u in people.scorer.get(
        f"/api/v1/scores?profile=nankang-2023&period={PERIOD}").json["units"]}["HX"]
    [item] = nankang["items"]
    [late] = [d for d in item["deductions"] if d["evidence"].get("task_ids")]
    assert late["points"] == 10  # the cap, not 6 × 2
    assert sorted(late["evidence"]["task_ids"]) == sorted(october["city"])
    huantai = {u["unit_code"]: u for u in people.scorer.get(
        f"/api/v1/scores?profile=huantai-2017&period={PERIOD}").json["units"]}["HX"]
    suggestion = [i for i in huantai["items"] if i["item"].startswith("3.2")][0]
    assert suggestion["deductions"][0]["evidence"]["suggestion_ids"] == [october["flag"]]


def test_a_closed_month_reads_the_same_after_later_activity(people, clock, october):
    clock.set("2026-10-27T10:00:00+08:00")
    late_notice = _task(people, clock, "2026-10-27T10:00:00+08:00", source="city_notice", entry_id=october["E1"],
                        detail="市级通知：办理地点变更")
    clock.set("2026-11-01T01:00:00+08:00")
    closed = people.office.post("/api/v1/compliance/closed-months", json={"period": PERIOD})
    assert closed.status_code == 201, closed.json
    assert closed.json["announced"] is True
    before = people.scorer.get(f"/api/v1/compliance?period={PERIOD}").json
    assert before["frozen"] is True
    assert _units_of(before)["HX"]["tasks_by_source"]["city_notice"]["open_overdue"] == 7

    # November: fixes, a verification, and the office declaring 10-28 and 10-29 holidays after the fact,
    # which moves the late notice's deadline past the end of October.
    _fix(people, clock, "2026-11-03T10:00:00+08:00", october["city"][0], october["E2"], "1. 补贴标准：每月200元。")
    clock.set("2026-11-04T10:00:00+08:00")
    assert people.rev_a.post(f"/api/v1/knowledge/{october['E1']}/verify", json={}).status_code == 200
    for day in ("2026-10-28", "2026-10-29"):
        assert people.office.put(f"/api/v1/calendar/overrides/{day}", json={"kind": "holiday"}).status_code == 200
    again = people.office.post("/api/v1/compliance/closed-months", json={"period": PERIOD})
    assert again.status_code == 201 and again.json["frozen"] == 0 and again.json["announced"] is False
    assert people.scorer.get("/api/v1/compliance/closed-months").json["items"] == [
        {"period": PERIOD, "units": 2, "frozen_at": "2026-11-01T01:00:00+08:00", "recomputed_at": None}]

    after = people.scorer.get(f"/api/v1/compliance?period={PERIOD}").json
    assert after["units"] == before["units"]
    assert after["frozen_at"] == before["frozen_at"]
    # Read live (a range that is not the closed month), October's end sees the moved deadline.
    live = _units_of(people.scorer.get("/api/v1/compliance?from=2026-09-30&to=2026-10-31").json)
    assert live["HX"]["tasks_by_source"]["city_notice"]["overdue_task_ids"] == sorted(october["city"])
    assert late_notice not in live["HX"]["tasks_by_source"]["city_notice"]["overdue_task_ids"]

    # Only the office's explicit recount changes it, and the change is in the audit log.
    assert people.scorer.post(f"/api/v1/compliance/closed-months/{PERIOD}/recompute").status_code == 403
    recount = people.office.post(f"/api/v1/compliance/closed-months/{PERIOD}/recompute")
    assert recount.status_code == 200, recount.json
    assert recount.json["changed_units"] == ["HX"]
    recounted = _units_of(people.scorer.get(f"/api/v1/compliance?period={PERIOD}").json)
    assert recounted["HX"]["tasks_by_source"]["city_notice"]["open_overdue"] == 6
    audit = people.office.get("/api/v1/audit-events?action=compliance.recompute").json["items"]
    items = audit["items"] if isinstance(audit, dict) else audit
    assert any(e["action"] == "compliance.recompute" for e in items)
    assert people.scorer.get("/api/v1/compliance/closed-months").json == {"total": 1, "items": [
        {"period": PERIOD, "units": 2, "frozen_at": "2026-11-01T01:00:00+08:00",
         "recomputed_at": "2026-11-04T10:00:00+08:00"}]}


def _units_of(body):
    return {u["unit_code"]: u for u in body["units"]}


def test_counts_and_scores_come_as_csv_and_excel_with_chinese_headings(people, clock, october):
    clock.set("2026-11-02T10:00:00+08:00")
    r = people.scorer.get(f"/api/v1/compliance?period={PERIOD}&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="compliance-2026-10.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    hx = [row for row in rows if row["单位编码"] == "HX"][0]
    assert (hx["新增知识-一问一答"], hx["新增知识-其他形式"], hx["市级通知更新-逾期未办"]) == ("2", "1", "6")

    x = people.office.get(f"/api/v1/scores?profile=changzhou-edu&period={PERIOD}&format=xlsx")
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.data)).active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["单位编码", "单位名称"] and "得分" in header
    points = {row[0]: row[header.index("得分")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert points == {"HX": 8, "RSJ": 9}


def test_only_the_scorer_and_the_office_read_counts_and_scores(people):
    """Operators read none; a unit reads its own unit's counts and scores (its standing) and nothing else."""
    for url in (f"/api/v1/compliance?period={PERIOD}", f"/api/v1/scores?profile=licheng&period={PERIOD}",
                "/api/v1/scoring-profiles", "/api/v1/compliance/closed-months"):
        r = people.operator.get(url)
        assert r.status_code == 403, url
        assert r.json["code"] == "forbidden"
    for caller in ("maint_a", "rev_a"):
        for url in ("/api/v1/scoring-profiles", "/api/v1/compliance/closed-months"):
            assert getattr(people, caller).get(url).status_code == 403, url
        for url in (f"/api/v1/compliance?period={PERIOD}", f"/api/v1/scores?profile=licheng&period={PERIOD}"):
            r = getattr(people, caller).get(url)
            assert r.status_code == 200, url
            assert [u["unit_code"] for u in r.json["units"]] == ["HX"], url
            r = getattr(people, caller).get(url + "&unit=RSJ")
            assert r.status_code == 403 and "本单位" in r.json["message"], url


@pytest.mark.parametrize("query, code", [
    ("", "validation_failed"),
    ("period=2026-13", "validation_failed"),
    ("period=2026-10&from=2026-10-01&to=2026-10-31", "validation_failed"),
    ("from=2026-10-01", "validation_failed"),
    ("from=2026-10-31&to=2026-10-01", "validation_failed"),
    ("period=2026-10&unit=NOPE", "unit_not_found"),
    ("period=2026-10&format=pdf", "validation_failed"),
    ("period=2026-10&profile=nowhere", "profile_not_found"),
])
def test_bad_pull_queries_get_a_clear_4xx(people, query, code):
    r = people.scorer.get(f"/api/v1/compliance?{query}")
    assert r.status_code != 500
    assert 400 <= r.status_code < 500, r.json
    assert r.json["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json["message"])


def test_periods_by_month_quarter_year_and_range_share_one_count(people, clock, october):
    clock.set("2026-11-02T10:00:00+08:00")
    by = {q: _units_of(people.scorer.get(f"/api/v1/compliance?{q}&unit=HX").json)["HX"]
          for q in ("period=2026-10", "period=2026-Q4", "period=2026", "from=2026-10-01&to=2026-10-31")}
    assert {q: u["uploads_qa"] for q, u in by.items()} == dict.fromkeys(by, 2)
    assert by["period=2026-Q4"]["period"] == {"label": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31"}


def test_a_month_cannot_be_closed_before_it_ends(people, clock):
    clock.set("2026-10-31T12:00:00+08:00")
    r = people.office.post("/api/v1/compliance/closed-months", json={"period": PERIOD})
    assert r.status_code == 409
    assert r.json["code"] == "period_not_ended"


def test_lateness_is_judged_by_the_deadline_the_profile_names(app, people, clock):
    entry = _publish(people, clock, "2026-10-12T10:00:00+08:00", "政策法规", "华山街道老年人补贴标准是多少？")
    notice = _task(people, clock, "2026-10-13T10:00:00+08:00", source="city_notice", entry_id=entry,
                   detail="市级通知：补贴标准调整")  # 2 working days: due 10-15
    _fix(people, clock, "2026-10-16T10:00:00+08:00", notice, entry, "1. 补贴标准：每月200元。")
    clock.set("2026-11-02T10:00:00+08:00")
    system = _units_of(people.scorer.get(f"/api/v1/compliance?period={PERIOD}&unit=HX").json)["HX"]
    assert system["tasks_by_source"]["city_notice"]["late_task_ids"] == [notice]

    app.config["SCORING_SETTINGS"] = {"nankang-2023": {"task_deadlines": {"city_notice": 3}}}
    body = people.scorer.get(f"/api/v1/compliance?period={PERIOD}&unit=HX&profile=nankang-2023").json
    tally = _units_of(body)["HX"]["tasks_by_source"]["city_notice"]
    assert (tally["resolved_on_time"], tally["resolved_late"], tally["due_working_days"]) == (1, 0, 3)
    assert body["deadlines"]["city_notice"] == 3
    score = people.scorer.get(f"/api/v1/scores?profile=nankang-2023&period={PERIOD}&unit=HX").json["units"][0]
    assert not [d for d in score["items"][0]["deductions"] if d["evidence"].get("task_ids")]
