"""Four units' 2026, built through the use cases, scored by every profile as the seeds' words say.

The year (Asia/Shanghai; every date below is a working day unless said):

HX 华山街道 (exists from 2026-01-05)
  * 01-06 publishes E1 and E2 (one question, one answer).
  * 03-10 its reviewer verifies E1 (校核: confirms, changes nothing).
  * 04-01 an operator uses E1 twenty times; 04-02 flags E1 wrong; the office forwards it (a task); 04-03 the
    unit asks to decline ("the answer is right") and the office agrees.
  * 05-11 10:00 office feedback on E2 (Art. 13: 5 working days, due 05-18). The unit's reviewer approves the
    fix on 05-13; the office publishes it on 05-20.
RSJ 人社局 (exists from 2026-01-05)
  * 02-02 publishes E3 as a document (not Q&A).
  * 06-01 10:00 a city notice on E3 (2 working days, due 06-03); fixed and published on 07-06.
  * 12-28 10:00 another city notice on E3 (due 12-30), still open at the year's end.
JT 交通局 (exists from 2025-06-01)
  * 2025-06-02 publishes E4 and E5.
  * 04-07 its reviewer verifies E4. E5 is never touched in 2026.
  * 08-03 an operator uses E4 three times and E5 twenty-two times, then flags E4 wrong; the office forwards it
    and names the cause: a new policy handed over late (Huantai 3.3). The unit fixes E4 on 08-04.
WJ 卫健局 (created 2026-07-01)
  * 07-02, 08-05 new entries; 09-01 a policy registered for WJ (published 09-01, in effect 10-15: due by the
    later of 09-08 and 10-14, Art. 10(2)); the unit answers it with a new entry published 09-30.
  * 10-20 verifies its July entry (only a verification in October); nothing in November; 12-21 a new entry.

By hand, the year 2026 read on 2027-01-05:

nankang-2023 (知识库信息采集、更新 20: Q&A upload 10 / other form 5; "全年更新（或校核）一次" 10;
city notice not done in 2 working days −2 each, off the whole item):
  HX 10 + 10 (modified in May, verified in March)                         = 20
  RSJ 5 (document only) + 10 (modified E3 in July) − 2 × 2 (two notices)   = 11
  JT 0 (no upload in 2026) + 10 (verified E4; E5 untouched does not matter) = 10
  WJ 10 + 10 (verified in October)                                        = 20
huantai-2017 (3.1 not updated in time −2 each, of 3; 3.2 suggestion not acted −2, of 3; 3.3 each wrong answer
caused by a late new policy −1, of 4):
  HX 3.1: the unit reported E2's fix on 05-13, in time (the office's late publication is not the unit's) → 10
  RSJ 3.1: two notices missed −4 → 0 of 3                                  = 7
  JT 3.3: one wrong answer caused by a late policy −1                       = 9
  WJ (its policy entered before it took effect: in time)                   = 10
changzhou-edu (monthly update −1 each month missed; error rate above 10% −1 a whole point; of 10):
  HX no change in Feb, Mar (only a verification), Apr, Jun–Dec: 10 months −10; the twenty uses of E1 are not
     wrong (the office agreed the answer was right)                        = 0
  RSJ no change in Jan, Mar–Jun, Aug–Dec: 10 months                         = 0
  JT no change in 11 months (all but August)                                = 0
  WJ judged Jul–Dec only (created in July): Oct (verification only) and Nov missed −2 = 8
licheng (0.1 per piece: new entries and modifications):
  HX 2 new + 1 modified = 0.3; RSJ 1 + 1 = 0.2; JT 0 + 1 = 0.1; WJ 4 new = 0.4.
"""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.api.conftest import Caller
from tests.api.test_workflow_api import ALL_PASS

ANSWER = "1. 办理地点：便民服务中心。\n2. 所需材料：身份证。"


class Year:
    """The callers and the ids of the scenario."""

    def __init__(self, app, world, clock):
        self.clock = clock
        self.client = app.test_client()
        clock.set("2025-06-01T09:00:00+08:00")
        self.categories = world.seed_categories()
        units = {"JT": world.make_unit("JT", "区交通运输局", "department")}
        clock.set("2026-01-05T09:00:00+08:00")
        units["HX"] = world.make_unit("HX", "华山街道办事处", "town")
        units["RSJ"] = world.make_unit("RSJ", "区人力资源和社会保障局", "department")
        clock.set("2026-07-01T09:00:00+08:00")
        units["WJ"] = world.make_unit("WJ", "区卫生健康委员会", "department")
        self.maint, self.rev = {}, {}
        for code, unit in units.items():
            self.maint[code] = Caller(self.client, world.make_user("maintainer", unit)[1])
            self.rev[code] = Caller(self.client, world.make_user("unit_reviewer", unit)[1])
        self.office = Caller(self.client, world.make_user("office_admin")[1])
        self.operator = Caller(self.client, world.make_user("operator")[1])
        self.scorer = Caller(self.client, world.make_user("scorer")[1])
        self.ids = {}

    def at(self, iso: str) -> None:
        self.clock.set(iso)

    def publish(self, code, at, question, fmt="qa", category="社会民生"):
        self.at(at)
        cr = self.maint[code].post("/api/v1/change-requests", json={"kind": "new", "proposal": {
            "question": question, "answer": ANSWER, "category_id": self.categories[category],
            "effective_on": "2025-01-01", "format": fmt}})
        assert cr.status_code == 201, cr.json
        return self.carry(code, cr.json["id"])

    def carry(self, code, cr_id, *, publish_at=None):
        """Submit and approve in the unit now; the office publishes now or at `publish_at`."""
        assert self.maint[code].post(f"/api/v1/change-requests/{cr_id}/submit", json={}).status_code == 200
        r = self.rev[code].post(f"/api/v1/change-requests/{cr_id}/unit-review",
                                json={"approve": True, "checks": ALL_PASS})
        assert r.status_code == 200, r.json
        if publish_at:
            self.at(publish_at)
        done = self.office.post(f"/api/v1/change-requests/{cr_id}/office-review", json={"decision": "publish"})
        assert done.status_code == 200, done.json
        return done.json["entry_id"]

    def fix(self, code, task_id, at, *, entry_id=None, publish_at=None, proposal=None):
        self.at(at)
        body = {"proposal": proposal or {"answer": ANSWER + "\n3. 办理时间：工作日。"}}
        if entry_id is not None:
            body["base_version"] = self.operator.get(f"/api/v1/knowledge/{entry_id}").json["version"]
        cr = self.maint[code].post(f"/api/v1/tasks/{task_id}/change-requests", json=body)
        assert cr.status_code == 201, cr.json
        return self.carry(code, cr.json["id"], publish_at=publish_at)

    def task(self, at, **body):
        self.at(at)
        r = self.office.post("/api/v1/tasks", json={"detail": "请更新", **body})
        assert r.status_code == 201, r.json
        return r.json["id"]

    def verify(self, code, entry_id, at):
        self.at(at)
        assert self.rev[code].post(f"/api/v1/knowledge/{entry_id}/verify", json={}).status_code == 200

    def use(self, entry_id, times):
        for _ in range(times):
            assert self.operator.post(f"/api/v1/knowledge/{entry_id}/usages", json={}).status_code == 201

    def flag(self, entry_id, at, **triage):
        self.at(at)
        flag = self.operator.post(f"/api/v1/knowledge/{entry_id}/flags",
                                  json={"kind": "wrong_answer", "text": "答案有误"}).json
        r = self.office.post(f"/api/v1/flags/{flag['id']}/triage", json={"decision": "task", **triage})
        assert r.status_code == 200, r.json
        return r.json


@pytest.fixture
def year(app, world, clock):
    y = Year(app, world, clock)
    ids = y.ids
    ids["E4"] = y.publish("JT", "2025-06-02T10:00:00+08:00", "区交通局在哪里办公？")
    ids["E5"] = y.publish("JT", "2025-06-02T10:05:00+08:00", "公交卡如何办理？")
    # HX
    ids["E1"] = y.publish("HX", "2026-01-06T10:00:00+08:00", "华山街道如何办理居住证？")
    ids["E2"] = y.publish("HX", "2026-01-06T10:05:00+08:00", "华山街道老年人补贴标准是多少？")
    y.verify("HX", ids["E1"], "2026-03-10T10:00:00+08:00")
    y.at("2026-04-01T10:00:00+08:00")
    y.use(ids["E1"], 20)
    flag = y.flag(ids["E1"], "2026-04-02T10:00:00+08:00")
    y.at("2026-04-03T10:00:00+08:00")
    assert y.maint["HX"].post(f"/api/v1/tasks/{flag['task_id']}/decline",
                              json={"justification": "答案与现行规定一致"}).status_code == 200
    r = y.office.post(f"/api/v1/tasks/{flag['task_id']}/decline-ruling", json={"accept": True})
    assert r.status_code == 200, r.json
    ids["feedback"] = y.task("2026-05-11T10:00:00+08:00", source="office_feedback", entry_id=ids["E2"],
                             reason="unclear", detail="补贴标准表述不清")
    y.fix("HX", ids["feedback"], "2026-05-13T10:00:00+08:00", entry_id=ids["E2"],
          publish_at="2026-05-20T10:00:00+08:00")
    # RSJ
    ids["E3"] = y.publish("RSJ", "2026-02-02T10:00:00+08:00", "社保业务办理指南", fmt="document")
    ids["notice1"] = y.task("2026-06-01T10:00:00+08:00", source="city_notice", entry_id=ids["E3"])
    y.fix("RSJ", ids["notice1"], "2026-07-06T10:00:00+08:00", entry_id=ids["E3"])
    ids["notice2"] = y.task("2026-12-28T10:00:00+08:00", source="city_notice", entry_id=ids["E3"])
    # JT
    y.verify("JT", ids["E4"], "2026-04-07T10:00:00+08:00")
    y.at("2026-08-03T09:00:00+08:00")
    y.use(ids["E4"], 3)
    y.use(ids["E5"], 22)
    ids["late_policy_flag"] = y.flag(ids["E4"], "2026-08-03T10:00:00+08:00", cause="late_policy")
    y.fix("JT", ids["late_policy_flag"]["task_id"], "2026-08-04T10:00:00+08:00", entry_id=ids["E4"])
    # WJ
    ids["W1"] = y.publish("WJ", "2026-07-02T10:00:00+08:00", "如何办理健康证？")
    ids["W2"] = y.publish("WJ", "2026-08-05T10:00:00+08:00", "疫苗接种在哪里预约？")
    y.at("2026-09-01T10:00:00+08:00")
    policy = y.office.post("/api/v1/policies", json={
        "doc_number": "济历卫发〔2026〕7号", "title": "关于调整家庭医生签约服务的通知", "issuer": "区卫生健康委员会",
        "published_on": "2026-09-01", "effective_on": "2026-10-15", "unit_code": "WJ"})
    assert policy.status_code == 201, policy.json
    [ids["policy_task"]] = policy.json["opened_task_ids"]
    ids["W3"] = y.fix("WJ", ids["policy_task"], "2026-09-30T10:00:00+08:00", proposal={
        "question": "家庭医生签约服务有哪些调整？", "answer": ANSWER, "category_id": y.categories["政策法规"],
        "effective_on": "2026-10-15"})
    y.verify("WJ", ids["W1"], "2026-10-20T10:00:00+08:00")
    return y


EXPECTED = {
    "nankang-2023": {"HX": 20, "RSJ": 11, "JT": 10, "WJ": 20},
    "huantai-2017": {"HX": 10, "RSJ": 7, "JT": 9, "WJ": 10},
    "changzhou-edu": {"HX": 0, "RSJ": 0, "JT": 0, "WJ": 8},
    "licheng": {"HX": 0.3, "RSJ": 0.2, "JT": 0.1, "WJ": 0.4},
}


def _scores(year, profile, query="period=2026"):
    r = year.scorer.get(f"/api/v1/scores?profile={profile}&{query}")
    assert r.status_code == 200, r.json
    return {u["unit_code"]: u for u in r.json["units"]}


def _counts(year, query="period=2026"):
    r = year.scorer.get(f"/api/v1/compliance?{query}")
    assert r.status_code == 200, r.json
    return {u["unit_code"]: u for u in r.json["units"]}


@pytest.fixture
def ended(year):
    year.publish("WJ", "2026-12-21T10:00:00+08:00", "家庭医生如何续约？")
    year.at("2027-01-05T10:00:00+08:00")
    return year


@pytest.mark.parametrize("profile", sorted(EXPECTED))
def test_every_profile_scores_the_year_as_worked_out_from_the_seeds(ended, profile):
    got = {code: score["points"] for code, score in _scores(ended, profile).items()}
    assert got == EXPECTED[profile]


def test_the_year_counts_behind_the_scores(ended):
    counts = _counts(ended)
    hx, rsj, jt, wj = counts["HX"], counts["RSJ"], counts["JT"], counts["WJ"]
    # A declined flag: the answer was right, its twenty uses are not wrong uses.
    assert (hx["usages"], hx["usages_confirmed_wrong"]) == (20, 0)
    # The unit reported in time; the office published late: the office's figure, not the unit's.
    feedback = hx["tasks_by_source"]["office_feedback"]
    assert (feedback["resolved_on_time"], feedback["resolved_late"], feedback["office_late_task_ids"]) == (
        1, 0, [ended.ids["feedback"]])
    assert "2026-03" in hx["months_without_change"] and "2026-03" not in hx["months_without_update"]
    notices = rsj["tasks_by_source"]["city_notice"]
    assert (notices["resolved_late"], notices["open_overdue"]) == (1, 1)
    assert (jt["wrong_answers_late_policy"], jt["late_policy_flag_ids"]) == (1, [ended.ids["late_policy_flag"]["id"]])
    assert (jt["usages"], jt["usages_confirmed_wrong"]) == (25, 3)
    assert (jt["published_entries"], jt["covered_entries"]) == (2, 1)  # coverage is reported, not the rule
    assert wj["months_without_change"] == ["2026-10", "2026-11"]
    policy = wj["tasks_by_source"]["policy_change"]
    assert (policy["resolved_on_time"], policy["resolved_late"]) == (1, 0)  # before it took effect: on time
    assert ended.scorer.get("/api/v1/compliance?period=2026").json["provisional"] is False


def test_a_task_late_across_two_months_is_deducted_once(ended):
    # The June notice was open and overdue at the end of June and fixed late in July: Huantai 3.1 takes
    # its 2 points in June only.
    months = [_scores(ended, "huantai-2017", f"period=2026-{m}&unit=RSJ")["RSJ"] for m in ("06", "07")]
    assert [m["points"] for m in months] == [8, 10]
    [late] = [d for m in months for d in m["items"][0]["deductions"]]
    assert (late["rule"], late["points"], late["evidence"]["task_ids"]) == ("update_late", 2, [ended.ids["notice1"]])


def test_a_running_year_is_provisional_in_every_format_and_its_running_month_is_not_judged(year):
    year.at("2026-12-15T10:00:00+08:00")  # WJ's December entry is not there yet
    body = year.scorer.get("/api/v1/scores?profile=changzhou-edu&period=2026&unit=WJ").json
    assert body["provisional"] is True
    [wj] = body["units"]
    assert wj["provisional"] is True and wj["points"] == 8  # Oct and Nov; December is still running
    assert wj["items"][0]["deductions"][0]["evidence"]["months"] == ["2026-10", "2026-11"]
    assert year.scorer.get("/api/v1/compliance?period=2026&unit=WJ").json["units"][0]["provisional"] is True

    r = year.scorer.get("/api/v1/scores?profile=changzhou-edu&period=2026&unit=WJ&format=csv")
    [row] = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert row["数据状态"] == "临时（期间未结束）"
    r = year.scorer.get("/api/v1/compliance?period=2026&unit=WJ&format=xlsx")
    sheet = load_workbook(io.BytesIO(r.data)).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=header.index("数据状态") + 1).value == "临时（期间未结束）"


def test_a_period_that_has_not_begun_is_refused_with_a_clear_message(year):
    year.at("2026-12-15T10:00:00+08:00")
    for url in ("/api/v1/compliance?period=2027", "/api/v1/scores?profile=licheng&period=2027-01"):
        r = year.scorer.get(url)
        assert r.status_code == 422, r.json
        assert r.json["code"] == "validation_failed" and "尚未开始" in r.json["message"]


def test_as_of_of_a_period_long_past_has_the_standard_offset(year):
    r = year.scorer.get("/api/v1/compliance?period=1900")
    assert r.status_code == 200, r.json
    assert r.json["as_of"] == "1900-12-31T23:59:59+08:00"


def test_the_licheng_report_is_in_the_csv_and_xlsx_exports_and_the_csv_names_its_charset_once(ended):
    r = ended.scorer.get("/api/v1/scores?profile=licheng&period=2026&format=csv")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = {row["单位编码"]: row for row in csv.DictReader(io.StringIO(r.data.decode("utf-8-sig")))}
    assert (rows["HX"]["信息报送篇数"], rows["HX"]["新增知识"], rows["HX"]["修改"]) == ("3", "2", "1")
    assert (rows["HX"]["热线办反馈-按时办结"], rows["HX"]["热线办反馈-热线办发布超期"]) == ("1", "1")
    r = ended.scorer.get("/api/v1/scores?profile=licheng&period=2026&format=xlsx")
    sheet = load_workbook(io.BytesIO(r.data)).active
    header = [c.value for c in sheet[1]]
    assert "信息报送篇数" in header and "校核" in header
