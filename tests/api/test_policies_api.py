"""The policy register: repealing opens one task per citing entry, once; new policies reach their unit."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kb.models import CorrectionTask
from tests.api.test_tasks_api import fix, published_entry, submit_and_approve

REPEALED = "鲁人社字〔2021〕12号"


def register(people, doc_number=REPEALED, **fields):
    body = {"doc_number": doc_number, "title": "关于进一步做好灵活就业人员参保工作的通知", "issuer": "山东省人力资源和社会保障厅",
            "published_on": "2021-03-01", **fields}
    r = people.office.post("/api/v1/policies", json=body)
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def citing(people):
    """Three published entries citing the document (two of unit A, one of unit B), one citing another."""
    ids = [published_entry(people, question="灵活就业人员如何参保？", policy_number="鲁人社字[2021]12号"),
           published_entry(people, question="灵活就业参保缴费基数是多少？", policy_number="鲁人社字（2021）12号"),
           published_entry(people, unit="b", question="灵活就业参保在哪里办？", policy_number=REPEALED)]
    published_entry(people, question="居住证怎么办？", policy_number="鲁公字〔2020〕3号")
    return ids


def tasks_of(people, **params):
    return people.office.get("/api/v1/tasks", query_string={"limit": 200, **params}).json["items"]


def test_repealing_a_document_opens_one_task_per_citing_entry_once_however_often_repeated(people, citing):
    doc = register(people)
    assert doc["doc_number"] == REPEALED and doc["status"] == "in_force" and doc["opened_task_ids"] == []
    assert sorted(people.operator.get(f"/api/v1/policies/{doc['id']}").json["citing_entry_ids"]) == sorted(citing)

    r = people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "repealed", "note": "被 2026 年新文件废止"})
    assert r.status_code == 200 and r.json["status"] == "repealed" and len(r.json["opened_task_ids"]) == 3
    for _ in range(2):
        again = people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "repealed"})
        assert again.status_code == 200 and again.json["opened_task_ids"] == []

    opened = tasks_of(people)
    assert sorted(t["entry_id"] for t in opened) == sorted(citing)
    assert {(t["entry_id"], t["unit_code"]) for t in opened} == {
        (citing[0], "HX"), (citing[1], "HX"), (citing[2], "RSJ")}
    assert {(t["source"], t["reason"], t["reason_label"]) for t in opened} == {
        ("office_feedback", "cites_repealed", "引用失效或废止文件")}
    assert all(t["policy_document_id"] == doc["id"] and "废止" in t["detail"] for t in opened)
    assert len(people.maint_a.get("/api/v1/tasks").json["items"]) == 2


def test_each_further_status_change_opens_its_own_tasks(people, citing):
    doc = register(people)
    people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "amended"})
    people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "repealed"})
    assert len(tasks_of(people)) == 6
    back = people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "in_force"})
    assert back.json["opened_task_ids"] == [] and len(tasks_of(people)) == 6


def test_the_database_refuses_a_second_task_for_the_same_entry_and_status_change(people, citing, session_factory):
    doc = register(people)
    people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "repealed"})
    with session_factory() as s:
        task = s.scalars(select(CorrectionTask).where(CorrectionTask.policy_document_id == doc["id"])).first()
        columns = [c.key for c in CorrectionTask.__table__.columns if c.key != "id"]
        copy = CorrectionTask(**{key: getattr(task, key) for key in columns})
        s.add(copy)
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_tasks_for_a_repealed_citation_resolve_only_when_the_fix_is_published(people, citing, clock):
    doc = register(people)
    people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "repealed"})
    task = next(t for t in tasks_of(people) if t["entry_id"] == citing[0])
    cr = fix(people, task)
    clock.set("2026-11-12T10:00:00+08:00")  # the unit reports the fix after the five working days
    submit_and_approve(people, cr)
    assert people.office.get(f"/api/v1/tasks/{task['id']}").json["state"] == "in_progress"
    people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    done = people.office.get(f"/api/v1/tasks/{task['id']}").json
    assert done["state"] == "resolved" and done["on_time"] is False and done["outcome"] == "resolved_late"
    still_open = [t for t in tasks_of(people) if t["state"] == "open"]
    assert len(still_open) == 2


def test_citing_a_repealed_document_is_flagged_at_submission_and_in_search(people, citing):
    doc = register(people)
    draft = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "灵活就业人员断缴怎么办？", "answer": "1. 补缴。", "category_id": people.categories["社会民生"],
        "effective_on": "2026-01-01", "policy_number": "鲁人社字[2021]12号"}}).json
    assert "cites_repealed_policy" not in {w["code"] for w in draft["warnings"]}
    people.office.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "repealed"})
    warnings = people.maint_a.get(f"/api/v1/change-requests/{draft['id']}").json["warnings"]
    assert {"code": "cites_repealed_policy", "field": "policy_number",
            "message": f"引用的文件 {REPEALED}《关于进一步做好灵活就业人员参保工作的通知》已废止，请核实政策依据"} in warnings
    hits = people.operator.get("/api/v1/search", query_string={"q": "灵活就业参保"}).json["hits"]
    warned = {h["entry_id"]: h["policy_warning"] for h in hits}
    assert warned[citing[0]] and "已废止" in warned[citing[0]]


def test_registering_a_new_policy_with_a_unit_and_a_date_of_effect_opens_a_policy_change_task(people, clock):
    clock.set("2026-09-28T10:00:00+08:00")
    doc = register(people, "济人社发[2026]8号", title="关于调整城乡居民基础养老金的通知", published_on="2026-09-25",
                   effective_on="2026-10-01", unit_code="RSJ")
    assert len(doc["opened_task_ids"]) == 1
    task = people.rev_b.get(f"/api/v1/tasks/{doc['opened_task_ids'][0]}").json
    assert task["source"] == "policy_change" and task["entry_id"] is None and task["unit_code"] == "RSJ"
    # Art. 10(2) "公布实施后的5个工作日内或实施之前", whichever is later: five working days after
    # publication on Fri Sep 25 (Mid-Autumn): Sep 28, 29, 30, Oct 8, 9 — later than the day before Oct 1.
    assert task["due_at"] == "2026-10-09T23:59:59+08:00"
    assert register(people, "济人社发〔2026〕9号", published_on="2026-09-25")["opened_task_ids"] == []

    r = people.office.patch(f"/api/v1/policies/{doc['id']}", json={"effective_on": "2026-12-01"})
    assert r.status_code == 200
    # Now the day before it takes effect is the later alternative.
    assert people.office.get(f"/api/v1/tasks/{task['id']}").json["due_at"] == "2026-11-30T23:59:59+08:00"
    r = people.office.patch(f"/api/v1/policies/{doc['id']}", json={"unit_code": "HX"})
    assert r.status_code == 409


def test_a_policy_change_is_due_five_working_days_after_publication_not_after_registration(people, clock):
    # Published and in effect Mon Oct 26, registered a week later (Mon Nov 2, 10:00). (In effect already,
    # so only the five working days apply: a later date of effect would give until the day before it.)
    doc = register(people, "济人社发〔2026〕11号", published_on="2026-10-26", effective_on="2026-10-26",
                   unit_code="RSJ")
    task = people.rev_b.get(f"/api/v1/tasks/{doc['opened_task_ids'][0]}").json
    assert task["received_at"] == "2026-11-02T10:00:00+08:00"  # when the unit got it
    assert task["due_at"] == "2026-11-02T23:59:59+08:00"  # Oct 27, 28, 29, 30, Nov 2
    assert task["events"][0]["data"]["counted_from"] == "2026-10-26T00:00:00+08:00"

    # A recount after a calendar change counts from the same day, so it moves only for days in that window.
    r = people.office.put("/api/v1/calendar/overrides/2026-11-20", json={"kind": "holiday"})
    assert task["id"] not in r.json["recomputed_task_ids"]
    r = people.office.put("/api/v1/calendar/overrides/2026-10-28", json={"kind": "holiday"})
    assert r.json["recomputed_task_ids"] == [task["id"]]
    assert people.rev_b.get(f"/api/v1/tasks/{task['id']}").json["due_at"] == "2026-11-03T23:59:59+08:00"
    people.office.delete("/api/v1/calendar/overrides/2026-10-28")
    assert people.rev_b.get(f"/api/v1/tasks/{task['id']}").json["due_at"] == "2026-11-02T23:59:59+08:00"

    # A corrected publication date recounts it too.
    r = people.office.patch(f"/api/v1/policies/{doc['id']}", json={"published_on": "2026-10-29", "effective_on": "2026-10-29"})
    assert r.status_code == 200, r.json
    assert people.rev_b.get(f"/api/v1/tasks/{task['id']}").json["due_at"] == "2026-11-05T23:59:59+08:00"


def test_a_policy_registered_before_its_publication_date_counts_from_registration(people):
    doc = register(people, "济人社发〔2026〕12号", published_on="2026-11-10", effective_on="2026-11-10",
                   unit_code="RSJ")
    task = people.rev_b.get(f"/api/v1/tasks/{doc['opened_task_ids'][0]}").json
    assert task["due_at"] == "2026-11-09T23:59:59+08:00"  # five working days after Mon Nov 2
    assert "counted_from" not in task["events"][0]["data"]


def test_a_unit_and_date_given_later_open_the_policy_change_task_then(people):
    doc = register(people, "济人社发〔2026〕10号", published_on="2026-10-01")
    r = people.office.patch(f"/api/v1/policies/{doc['id']}", json={"unit_code": "HX", "effective_on": "2027-01-01"})
    assert len(r.json["opened_task_ids"]) == 1 and r.json["unit_code"] == "HX"


def test_registering_an_already_repealed_document_flags_the_entries_citing_it(people, citing):
    doc = register(people, status="repealed")
    assert len(doc["opened_task_ids"]) == 3


def test_register_input_is_checked(people):
    register(people)
    r = people.office.post("/api/v1/policies", json={"doc_number": "鲁人社字[2021]12号", "title": "重复",
                                                      "issuer": "某厅", "published_on": "2021-03-01"})
    assert r.status_code == 409 and r.json["code"] == "policy_exists"
    r = people.office.post("/api/v1/policies", json={"doc_number": "第十二号", "title": "t", "issuer": "i",
                                                      "published_on": "2021-03-01"})
    assert r.status_code == 422 and "doc_number" in r.json["errors"]
    r = people.office.post("/api/v1/policies", json={"doc_number": "鲁政发〔2021〕1号", "title": "t", "issuer": "i",
                                                      "published_on": "2021-03-01", "effective_on": "2021-01-01"})
    assert r.status_code == 422 and "effective_on" in r.json["errors"]
    r = people.office.post("/api/v1/policies", json={"doc_number": "鲁政发〔2021〕1号", "title": "t", "issuer": "i",
                                                      "published_on": "2021-03-01", "unit_code": "NOPE"})
    assert r.status_code == 422
    assert people.office.post("/api/v1/policies/999999/status", json={"status": "repealed"}).status_code == 404
    assert people.office.post("/api/v1/policies/1/status", json={"status": "void"}).status_code == 422


def test_the_register_is_read_by_everyone_who_reads_knowledge_and_changed_by_the_office_only(people):
    doc = register(people)
    for caller in (people.operator, people.maint_a, people.rev_b):
        listing = caller.get("/api/v1/policies", query_string={"q": "12号"})
        assert listing.status_code == 200 and listing.json["total"] == 1
    assert people.operator.get("/api/v1/policies?q=鲁人社字[2021]12号").json["total"] == 1
    assert people.operator.get("/api/v1/policies?status=repealed").json["total"] == 0
    assert people.scorer.get("/api/v1/policies").status_code == 403
    for caller in (people.operator, people.maint_a, people.rev_a, people.scorer):
        for r in (caller.post("/api/v1/policies", json={"doc_number": "鲁政发〔2021〕2号", "title": "t", "issuer": "i",
                                                        "published_on": "2021-03-01"}),
                  caller.post(f"/api/v1/policies/{doc['id']}/status", json={"status": "repealed"}),
                  caller.patch(f"/api/v1/policies/{doc['id']}", json={"title": "x"})):
            assert r.status_code == 403 and "热线办" in r.json["message"]
