"""Single points of the rules, read as the seeds word them, each through the API."""
from __future__ import annotations

from tests.api.test_compliance_api import _publish, _task
from tests.api.test_workflow_api import ALL_PASS


def _units(response):
    assert response.status_code == 200, response.json
    return {u["unit_code"]: u for u in response.json["units"]}


def test_a_fix_the_unit_reported_in_time_is_not_overdue_while_it_waits_for_the_office(people, clock):
    """Licheng Art. 13 "承办单位…应在5个工作日内办结，并将更新情况上报": the unit is judged at its report."""
    entry = _publish(people, clock, "2026-10-12T10:00:00+08:00", "政策法规", "华山街道老年人补贴标准是多少？")
    task = _task(people, clock, "2026-10-13T10:00:00+08:00", source="office_feedback", entry_id=entry,
                 reason="unclear", detail="补贴标准表述不清")  # 5 working days: due 10-20
    clock.set("2026-10-15T10:00:00+08:00")
    version = people.operator.get(f"/api/v1/knowledge/{entry}").json["version"]
    cr = people.maint_a.post(f"/api/v1/tasks/{task}/change-requests",
                             json={"base_version": version, "proposal": {"answer": "1. 补贴标准：每月200元。"}}).json
    assert people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={}).status_code == 200
    assert people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                             json={"approve": True, "checks": ALL_PASS}).status_code == 200

    clock.set("2026-11-02T10:00:00+08:00")  # the office has still not published
    tally = _units(people.scorer.get("/api/v1/compliance?period=2026-10&unit=HX"))["HX"]["tasks_by_source"][
        "office_feedback"]
    assert (tally["open_overdue"], tally["office_late"], tally["office_late_task_ids"]) == (0, 1, [task])

    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json
    done = people.office.get(f"/api/v1/tasks/{task}").json
    assert done["on_time"] is True and done["outcome"] != "resolved_late"
    tally = _units(people.scorer.get("/api/v1/compliance?period=2026-11&unit=HX"))["HX"]["tasks_by_source"][
        "office_feedback"]
    # Resolved in November, on time; the office's delay was counted in October, when the deadline passed.
    assert (tally["resolved_on_time"], tally["resolved_late"], tally["office_late"]) == (1, 0, 0)
    october = _units(people.scorer.get("/api/v1/compliance?period=2026-10&unit=HX"))["HX"]["tasks_by_source"][
        "office_feedback"]
    assert (october["open_overdue"], october["office_late_task_ids"]) == (0, [task])
    score = people.scorer.get("/api/v1/scores?profile=huantai-2017&period=2026-11&unit=HX").json["units"][0]
    assert score["points"] == 10


def test_a_usage_of_an_entry_not_in_effect_is_a_404_like_reading_it(people, clock):
    clock.set("2026-10-12T10:00:00+08:00")
    cr = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "华山街道新的养老补贴如何申领？", "answer": "1. 申领地点：便民服务中心。",
        "category_id": people.categories["社会民生"], "effective_on": "2026-12-01"}}).json
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    entry = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                               json={"decision": "publish"}).json["entry_id"]
    assert people.operator.get(f"/api/v1/knowledge/{entry}").status_code == 404
    r = people.operator.post(f"/api/v1/knowledge/{entry}/usages", json={})
    assert r.status_code == 404 and r.json["code"] == "entry_not_found"
    clock.set("2026-12-01T09:00:00+08:00")
    assert people.operator.post(f"/api/v1/knowledge/{entry}/usages", json={}).status_code == 201


def test_only_a_forwarded_wrong_answer_flag_can_carry_a_cause(people, clock):
    entry = _publish(people, clock, "2026-10-12T10:00:00+08:00", "政策法规", "华山街道老年人补贴标准是多少？")
    suggestion = people.operator.post(f"/api/v1/knowledge/{entry}/flags",
                                      json={"kind": "suggestion", "text": "建议补充办理时间"}).json
    r = people.office.post(f"/api/v1/flags/{suggestion['id']}/triage", json={"decision": "task", "cause": "late_policy"})
    assert r.status_code == 422 and "cause" in r.json["errors"]
    wrong = people.operator.post(f"/api/v1/knowledge/{entry}/flags",
                                 json={"kind": "wrong_answer", "text": "标准已调整"}).json
    r = people.office.post(f"/api/v1/flags/{wrong['id']}/triage",
                           json={"decision": "dismiss", "reason": "标准未变", "cause": "late_policy"})
    assert r.status_code == 422 and "cause" in r.json["errors"]
    r = people.office.post(f"/api/v1/flags/{wrong['id']}/triage", json={"decision": "task", "cause": "typo"})
    assert r.status_code == 422
    r = people.office.post(f"/api/v1/flags/{wrong['id']}/triage", json={"decision": "task", "cause": "late_policy"})
    assert r.status_code == 200 and (r.json["cause"], r.json["cause_label"]) == ("late_policy", "新政策对接不及时")


def test_a_modification_taking_effect_later_waits_while_the_live_version_stays_live(people, clock, world):
    """Art. 10(2) "…录入知识库…或实施之前": entered before it applies, it must not hide today's answer."""
    from kb import jobs
    from kb.jobs import JobContext

    entry = _publish(people, clock, "2026-10-12T10:00:00+08:00", "政策法规", "华山街道老年人补贴标准是多少？")
    clock.set("2026-11-02T10:00:00+08:00")
    cr = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry, "base_version": 1,
        "proposal": {"answer": "1. 补贴标准：自12月1日起每月200元。", "effective_on": "2026-12-01"}}).json
    assert people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={}).status_code == 200
    assert people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                             json={"approve": True, "checks": ALL_PASS}).status_code == 200
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json

    live = people.operator.get(f"/api/v1/knowledge/{entry}")
    assert live.status_code == 200
    assert live.json["version"] == 1 and "12月1日" not in live.json["answer"]
    assert live.json["scheduled_update"] == {"version": 2, "effective_on": "2026-12-01", "label": "将于 2026-12-01 更新"}
    hits = people.operator.get("/api/v1/search", query_string={"q": "老年人补贴标准"}).json["hits"]
    [hit] = [h for h in hits if h["entry_id"] == entry]
    assert hit["version"] == 1 and hit["scheduled_update"]["label"] == "将于 2026-12-01 更新"

    # Another change of the entry waits until this one has taken effect.
    again = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry, "base_version": 1, "proposal": {"answer": "1. 补贴标准：另议。"}}).json
    people.maint_a.post(f"/api/v1/change-requests/{again['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{again['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    r = people.office.post(f"/api/v1/change-requests/{again['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 409 and r.json["code"] == "update_scheduled"

    context = JobContext(uow_factory=world.uow, clock=clock)
    clock.set("2026-11-30T23:59:59.999+08:00")  # the last instant of the day before: not yet
    assert jobs.switch_scheduled_versions(context) == {"switched": 0}
    assert people.operator.get(f"/api/v1/knowledge/{entry}").json["version"] == 1
    clock.set("2026-12-03T08:00:00+08:00")  # the host was down over the day boundary: it catches up
    run = jobs.run_job("switch_scheduled_versions", context)
    assert (run.outcome, run.counts) == ("ok", {"switched": 1})
    assert jobs.switch_scheduled_versions(context) == {"switched": 0}
    now_live = people.operator.get(f"/api/v1/knowledge/{entry}").json
    assert now_live["version"] == 2 and "12月1日" in now_live["answer"] and now_live["scheduled_update"] is None
    hits = people.operator.get("/api/v1/search", query_string={"q": "老年人补贴标准"}).json["hits"]
    [hit] = [h for h in hits if h["entry_id"] == entry]
    assert hit["version"] == 2 and hit["scheduled_update"] is None


def test_the_waiting_version_takes_over_at_the_first_instant_of_its_day_in_shanghai(people, clock, world):
    from kb import jobs
    from kb.jobs import JobContext

    entry = _publish(people, clock, "2026-10-12T10:00:00+08:00", "政策法规", "华山街道老年人补贴标准是多少？")
    clock.set("2026-11-02T10:00:00+08:00")
    cr = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry, "base_version": 1,
        "proposal": {"answer": "1. 补贴标准：自12月1日起每月200元。", "effective_on": "2026-12-01"}}).json
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    assert people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                              json={"decision": "publish"}).status_code == 200
    context = JobContext(uow_factory=world.uow, clock=clock)
    clock.set("2026-11-30T16:00:00+00:00")  # 00:00:00 on 1 December in Shanghai, still 30 November in UTC
    run = jobs.run_job("switch_scheduled_versions", context)
    assert (run.outcome, run.counts) == ("ok", {"switched": 1})  # recorded in job_runs
    assert people.operator.get(f"/api/v1/knowledge/{entry}").json["version"] == 2


def test_the_unit_reviewer_may_amend_the_proposal_before_approving_and_the_edit_is_theirs(people, clock):
    """Art. 8(2) "对其中有错误的或难以确定的部分进行修改或完善，并予以审定"."""
    clock.set("2026-10-12T10:00:00+08:00")
    cr = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "华山街道如何办理居住证？", "answer": "1. 办理地点：便民服务中心。",
        "category_id": people.categories["社会民生"], "effective_on": "2026-01-01"}}).json
    submitted = people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={}).json
    url = f"/api/v1/change-requests/{cr['id']}/unit-review"
    amended = {"answer": "1. 办理地点：华山街道便民服务中心一楼。\n2. 所需材料：身份证。"}

    r = people.rev_a.post(url, json={"approve": True, "checks": ALL_PASS, "amendments": amended})
    assert r.status_code == 428  # an amendment names the revision it was made on
    r = people.rev_a.post(url, json={"approve": True, "checks": ALL_PASS, "amendments": amended,
                                     "revision": submitted["revision"] - 1})
    assert r.status_code == 409
    r = people.rev_a.post(url, json={"approve": False, "checks": {**ALL_PASS, "clear": False},
                                     "amendments": amended, "revision": submitted["revision"]})
    assert r.status_code == 422 and "amendments" in r.json["errors"]

    r = people.rev_a.post(url, json={"approve": True, "checks": ALL_PASS, "amendments": amended,
                                     "revision": submitted["revision"]})
    assert r.status_code == 200, r.json
    assert r.json["state"] == "office_review" and r.json["proposal"]["answer"] == amended["answer"]
    [review] = r.json["reviews"]
    assert review["reviewer_id"] == people.rev_a.actor.user_id
    assert review["based_on_revision"] == submitted["revision"]
    assert review["amendments"] == {"answer": {"before": "1. 办理地点：便民服务中心。", "after": amended["answer"]}}
    entry = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                               json={"decision": "publish"}).json["entry_id"]
    assert people.operator.get(f"/api/v1/knowledge/{entry}").json["answer"] == amended["answer"]


def test_a_units_suggestion_is_accepted_or_declined_with_a_reason_the_unit_reads_and_is_counted(app, people, clock):
    """Art. 7(一) 知识建议: the unit suggests, the office takes it up or says why not."""
    clock.set("2026-10-12T10:00:00+08:00")

    def suggest(text):
        cr = people.maint_a.post("/api/v1/change-requests", json={"kind": "suggestion", "reason": text}).json
        assert people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={}).status_code == 200
        r = people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                              json={"approve": True, "checks": ALL_PASS})
        assert r.status_code == 200, r.json
        return cr["id"]

    category, wording = suggest("建议增设“养老服务”分类"), suggest("建议统一“办理地点”的表述")
    def decide(cr_id, **body):
        return people.office.post(f"/api/v1/change-requests/{cr_id}/office-review", json=body)
    r = decide(category, decision="decline")
    assert r.status_code == 422 and "reason" in r.json["errors"]
    r = decide(category, decision="decline", reason="已有“社会民生—养老”分类")
    assert r.status_code == 200, r.json
    assert (r.json["state"], r.json["suggestion_outcome"]["label"]) == ("declined", "未采纳：已有“社会民生—养老”分类")
    r = decide(wording, decision="accept", reason="将纳入答复规范")
    assert (r.json["state"], r.json["suggestion_outcome"]["outcome"]) == ("published", "accepted")
    seen = people.maint_a.get(f"/api/v1/change-requests/{category}").json
    assert seen["suggestion_outcome"]["outcome"] == "declined" and seen["state_label"] == "未采纳"

    entry = _publish(people, clock, "2026-10-13T10:00:00+08:00", "政策法规", "华山街道老年人补贴标准是多少？")
    cr = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry, "base_version": 1, "proposal": {"answer": "1. 每月200元。"}}).json
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    assert decide(cr["id"], decision="accept").status_code == 422  # accept/decline are for suggestions

    clock.set("2026-11-02T10:00:00+08:00")
    hx = _units(people.scorer.get("/api/v1/compliance?period=2026-10&unit=HX"))["HX"]
    assert (hx["unit_suggestions_accepted"], hx["unit_suggestions_declined"]) == (1, 1)
    app.config["SCORING_SETTINGS"] = {"licheng": {"piece_kinds": ["new", "modify", "suggestion"]}}
    licheng = people.scorer.get("/api/v1/scores?profile=licheng&period=2026-10&unit=HX").json["units"][0]
    assert licheng["report"]["suggestions_accepted"] == 1
    assert licheng["points"] == 0.2  # one new entry and one accepted suggestion (the modification is in review)
