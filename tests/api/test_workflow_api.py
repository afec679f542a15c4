"""Collect → unit review → office publish, through HTTP, as the README walks it."""
from __future__ import annotations

ALL_PASS = {"no_typos": True, "clear": True, "answer_matches": True, "accurate_with_basis": True}


def new_draft(people, **overrides):
    proposal = {
        "question": "孩子上小学需要准备哪些入学材料？",
        "similar_questions": ["小学报名要带什么", "一年级入学材料"],
        "answer": "1. 户口簿原件及复印件；\n2. 房产证或购房合同；\n3. 儿童预防接种证。",
        "keywords": ["入学", "小学", "材料"],
        "category_id": people.categories["社会民生"],
        "policy_number": "济教发[2026]3号",
        "effective_on": "2026-03-01",
    }
    proposal.update(overrides)
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": proposal})
    assert r.status_code == 201, r.json
    return r.json


def publish(people, cr):
    r = people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    assert r.status_code == 200, r.json
    r = people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    assert r.status_code == 200, r.json
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json
    return r.json


def test_new_knowledge_goes_from_draft_to_published_and_operators_then_see_it(people):
    cr = new_draft(people)
    assert cr["state"] == "draft"
    assert cr["proposal"]["policy_number"] == "济教发〔2026〕3号"  # [] normalised to 〔〕
    assert people.operator.get("/api/v1/knowledge").json["total"] == 0

    published = publish(people, cr)

    assert published["state"] == "published" and published["published_version"] == 1
    listing = people.operator.get("/api/v1/knowledge").json
    assert listing["total"] == 1
    entry = listing["items"][0]
    assert entry["question"] == "孩子上小学需要准备哪些入学材料？"
    assert entry["unit_code"] == "HX" and entry["version"] == 1


def test_unit_review_records_each_of_the_four_checks_and_a_return_names_the_failed_ones(people):
    cr = new_draft(people)
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    r = people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                          json={"approve": False, "checks": {**ALL_PASS, "no_typos": False}})
    assert r.status_code == 200
    assert r.json["state"] == "returned"
    review = r.json["reviews"][-1]
    assert review["checks"]["no_typos"] is False and review["reason"] == "未通过：无错别字"


def test_approval_without_all_four_checks_is_refused(people):
    cr = new_draft(people)
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    r = people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                          json={"approve": True, "checks": {**ALL_PASS, "clear": False}})
    assert r.status_code == 422 and r.json["code"] == "validation_failed"
    r = people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                          json={"approve": True, "checks": {"no_typos": True}})
    assert r.status_code == 422
    assert people.maint_a.get(f"/api/v1/change-requests/{cr['id']}").json["state"] == "unit_review"


def test_returned_request_can_be_reworked_and_resubmitted(people):
    cr = new_draft(people)
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                           json={"decision": "return", "reason": "答案缺少办理时限"})
    assert r.json["state"] == "returned" and r.json["return_reason"] == "答案缺少办理时限"
    r = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}",
                             json={"proposal": {"answer": "1. 户口簿；\n2. 房产证；\n3. 办理时限：5个工作日。"},
                                   "revision": r.json["revision"]})
    assert r.status_code == 200
    assert publish(people, r.json)["state"] == "published"


def test_office_publishes_urgent_knowledge_directly_and_it_is_recorded(people):
    cr = new_draft(people, urgent=True, question="今日起暂停办理出入境业务吗？")
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 200
    assert r.json["published_directly"] is True
    events = people.office.get("/api/v1/audit-events?action=change_request.publish_urgent").json["items"]
    assert [e["object_id"] for e in events] == [cr["id"]]


def test_office_cannot_skip_unit_review_for_ordinary_knowledge(people):
    cr = new_draft(people)
    r = people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    assert r.status_code == 409 and r.json["code"] == "invalid_transition"


def test_modification_keeps_the_published_version_live_until_it_is_published(people):
    entry_cr = publish(people, new_draft(people))
    entry_id = entry_cr["entry_id"]
    r = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry_id, "base_version": 1,
        "proposal": {"answer": "1. 户口簿；\n2. 不动产权证书；\n3. 预防接种证。"}})
    assert r.status_code == 201
    modify = r.json
    people.maint_a.post(f"/api/v1/change-requests/{modify['id']}/submit", json={})
    assert "户口簿原件" in people.operator.get(f"/api/v1/knowledge/{entry_id}").json["answer"]

    people.rev_a.post(f"/api/v1/change-requests/{modify['id']}/unit-review", json={"approve": True, "checks": ALL_PASS})
    people.office.post(f"/api/v1/change-requests/{modify['id']}/office-review", json={"decision": "publish"})

    r = people.operator.get(f"/api/v1/knowledge/{entry_id}")
    assert r.json["version"] == 2 and "不动产权证书" in r.json["answer"]
    assert r.headers["ETag"] == '"v2"'
    versions = people.maint_a.get(f"/api/v1/knowledge/{entry_id}/versions").json["items"]
    assert [v["number"] for v in versions] == [1, 2]
    assert "户口簿原件" in versions[0]["answer"]


def test_two_edits_based_on_the_same_version_the_second_gets_409(people):
    entry_id = publish(people, new_draft(people))["entry_id"]
    first = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry_id, "proposal": {"answer": "第一人的修改：\n1. 户口簿。"}},
        headers={"If-Match": '"v1"'}).json
    second = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry_id, "base_version": 1,
        "proposal": {"answer": "第二人的修改：\n1. 房产证。"}}).json
    publish(people, first)

    people.maint_a.post(f"/api/v1/change-requests/{second['id']}/submit", json={})
    r = people.maint_a.post(f"/api/v1/change-requests/{second['id']}/submit", json={})
    assert r.status_code == 409
    assert people.operator.get(f"/api/v1/knowledge/{entry_id}").json["answer"].startswith("第一人的修改")


def test_stale_draft_revision_is_a_409_not_an_overwrite(people):
    cr = new_draft(people)
    ok = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}", json={"proposal": {"answer": "甲的答案"}},
                              headers={"If-Match": f'"r{cr["revision"]}"'})
    assert ok.status_code == 200
    stale = people.maint_a.patch(f"/api/v1/change-requests/{cr['id']}", json={"proposal": {"answer": "乙的答案"}},
                                 headers={"If-Match": f'"r{cr["revision"]}"'})
    assert stale.status_code == 409 and stale.json["code"] == "stale_version"
    assert people.maint_a.get(f"/api/v1/change-requests/{cr['id']}").json["proposal"]["answer"] == "甲的答案"


def test_deleting_invalid_knowledge_withdraws_it_but_keeps_its_history(people):
    entry_id = publish(people, new_draft(people))["entry_id"]
    r = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "delete", "entry_id": entry_id, "base_version": 1, "reason": "政策已废止"})
    assert r.status_code == 201
    publish(people, r.json)
    assert people.operator.get(f"/api/v1/knowledge/{entry_id}").status_code == 404
    assert people.operator.get("/api/v1/knowledge").json["total"] == 0
    history = people.maint_a.get(f"/api/v1/knowledge/{entry_id}").json
    assert history["status"] == "withdrawn"
    assert len(people.maint_a.get(f"/api/v1/knowledge/{entry_id}/versions").json["items"]) == 1


def test_submission_help_warns_but_saves(people):
    long_answer = "根据有关规定" + "办理相关业务需要提交申请材料并经审核后办理" * 20
    first = publish(people, new_draft(people))
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "new", "proposal": {
        "question": "孩子上小学需要准备哪些入学材料?", "answer": long_answer, "policy_number": "第12号文件"}})
    assert r.status_code == 201
    codes = {w["code"] for w in r.json["warnings"]}
    assert {"duplicate_question", "doc_number_format", "long_paragraph", "missing_field"} <= codes
    assert first["entry_id"]
    # Required fields are a wall only at submission.
    r = people.maint_a.post(f"/api/v1/change-requests/{r.json['id']}/submit", json={})
    assert r.status_code == 422 and "category_id" in r.json["errors"]


def test_every_state_change_is_in_the_audit_log_with_before_and_after(people):
    cr = publish(people, new_draft(people))
    events = people.office.get(f"/api/v1/audit-events?object_type=change_request&object_id={cr['id']}").json["items"]
    actions = [e["action"] for e in reversed(events)]
    assert actions == ["change_request.create", "change_request.submit", "change_request.unit_approve",
                       "change_request.publish"]
    assert events[0]["before"]["state"] == "office_review" and events[0]["after"]["state"] == "published"
