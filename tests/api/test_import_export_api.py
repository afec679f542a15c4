"""Knowledge in and out: the Excel template, imports (all rows or none), exports that re-import."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from tests.support.factories import ALL_CHECKS_PASS

HEADINGS = ["知识编号", "版本", "类目*", "内容类型*", "问题*", "相似问法", "答案*", "关键字*", "依据文件名称", "文号",
            "附件数", "生效日期*", "失效日期", "紧急"]


def row(question="灵活就业人员如何办理社保参保登记？", **over):
    values = {"知识编号": None, "版本": None, "类目*": "社会民生", "内容类型*": "一问一答", "问题*": question,
              "相似问法": "自由职业怎么交社保\n灵活就业社保在哪办", "答案*": "一、地点：政务服务中心。\n二、材料：身份证。",
              "关键字*": "社保、灵活就业", "依据文件名称": "关于做好灵活就业人员参保工作的通知", "文号": "鲁人社字[2021]12号",
              "附件数": 2, "生效日期*": datetime(2026, 1, 1), "失效日期": None, "紧急": "否"}
    values.update(over)
    return [values[h] for h in HEADINGS]


def xlsx(rows, headings=HEADINGS, build=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "知识"
    sheet.append(headings)
    for values in rows:
        sheet.append(values)
    if build:
        build(workbook, sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8", headings=HEADINGS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings)
    for values in rows:
        writer.writerow(["" if v is None else (v.date().isoformat() if isinstance(v, datetime) else v) for v in values])
    return buffer.getvalue().encode(encoding)


def upload(caller, data: bytes, name="知识.xlsx", **query):
    return caller.post("/api/v1/imports", query_string=query, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def change_requests(people, caller=None):
    return (caller or people.office).get("/api/v1/change-requests?limit=200").json


def publish(people, question, caller="maint_a", reviewer="rev_a", **proposal):
    body = {"question": question, "answer": "1. 到社区登记；\n2. 领取。", "keywords": ["居住证"],
            "category_id": people.categories["社会民生"], "effective_on": "2026-01-01", **proposal}
    cr = getattr(people, caller).post("/api/v1/change-requests", json={"kind": "new", "proposal": body}).json
    getattr(people, caller).post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    getattr(people, reviewer).post(f"/api/v1/change-requests/{cr['id']}/unit-review",
                                   json={"approve": True, "checks": ALL_CHECKS_PASS})
    return people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review",
                              json={"decision": "publish"}).json["entry_id"]


# --- the template ----------------------------------------------------------------------------------------


def test_template_has_marked_headings_dropdowns_an_example_and_instructions(people):
    r = people.maint_a.get("/api/v1/imports/template")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(r.data))
    sheet = workbook["知识"]
    headings = [c.value for c in sheet[1]]
    assert "类目*" in headings and "问题*" in headings and "答案*" in headings and "知识编号" in headings
    assert sheet["A2"].value is None and sheet.cell(2, headings.index("问题*") + 1).value.startswith("【示例】")
    lists = {str(dv.sqref)[0]: dv.formula1 for dv in sheet.data_validations.dataValidation
             if dv.type == "list"}
    assert lists["C"].startswith("'选项'!$A$1") and lists["D"].startswith("'选项'!$B$1")
    options = workbook["选项"]
    assert options.sheet_state == "hidden"
    assert "社会民生" in [c.value for c in options["A"]] and [c.value for c in options["B"] if c.value] == ["一问一答", "其他形式"]
    assert "填写说明" in workbook.sheetnames
    assert people.operator.get("/api/v1/imports/template").status_code == 403


def test_a_filled_in_template_imports_as_drafts_skipping_the_example(people):
    template = load_workbook(io.BytesIO(people.maint_a.get("/api/v1/imports/template").data))
    sheet = template["知识"]
    for i in range(3):
        sheet.append(row(f"华山街道如何办理居住证（{i}）？"))
    buffer = io.BytesIO()
    template.save(buffer)
    r = upload(people.maint_a, buffer.getvalue())
    assert r.status_code == 201, r.json
    assert r.json["rows"] == 3 and r.json["examples_skipped"] == 1 and r.json["valid"]
    created = r.json["created"]
    assert [c["row"] for c in created] == [3, 4, 5] and {c["state"] for c in created} == {"draft"}
    cr = people.maint_a.get(f"/api/v1/change-requests/{created[0]['change_request_id']}").json
    assert cr["kind"] == "new" and cr["unit_code"] == "HX"
    p = cr["proposal"]
    assert p["similar_questions"] == ["自由职业怎么交社保", "灵活就业社保在哪办"] and p["keywords"] == ["社保", "灵活就业"]
    assert p["policy_number"] == "鲁人社字〔2021〕12号" and p["policy_attachments"] == 2
    assert p["effective_on"] == "2026-01-01" and p["format"] == "qa" and p["urgent"] is False
    events = people.office.get("/api/v1/audit-events?action=knowledge.import").json["items"]
    assert events[0]["after"]["file_name"] == "知识.xlsx" and events[0]["after"]["rows"] == 3
    assert events[0]["after"]["created"] == [c["change_request_id"] for c in created]
    assert events[0]["actor_id"] == people.maint_a.actor.user_id


# --- all or nothing ----------------------------------------------------------------------------------------


def test_dry_run_checks_every_row_and_stores_nothing(people):
    before = change_requests(people)["total"]
    r = upload(people.maint_a, xlsx([row("问题一？"), row("问题二？")]), dry_run=1)
    assert r.status_code == 200, r.json
    assert r.json["dry_run"] and r.json["valid"] and len(r.json["created"]) == 2
    assert change_requests(people)["total"] == before


def test_one_bad_row_stores_nothing_and_the_report_names_row_column_value(people):
    before = change_requests(people)["total"]
    rows = [row("问题一？"), row("问题二？", **{"类目*": "不存在的类目"}), row("问题三？", **{"生效日期*": "明年春天"}),
            row("问题四？", **{"答案*": None}), row("问题一？"), row("问题六？", **{"问题*": "长" * 501}),
            row("问题七？", 失效日期=datetime(2025, 1, 1)), row("问题八？", 附件数="两个")]
    r = upload(people.maint_a, xlsx(rows))
    assert r.status_code == 422 and r.json["code"] == "import_rows_invalid"
    assert "未导入任何内容" in r.json["message"] and r.json["rows"] == 8
    by_row = {(e["row"], e["column"]): e for e in r.json["errors"]}
    assert by_row[(3, "类目")]["value"] == "不存在的类目" and "类目不存在" in by_row[(3, "类目")]["message"]
    assert "日期无法识别" in by_row[(4, "生效日期")]["message"]
    assert by_row[(5, "答案")]["code"] == "required"
    assert by_row[(6, "问题")]["code"] == "duplicate_in_file" and "第 2 行" in by_row[(6, "问题")]["message"]
    assert "最多 500 字" in by_row[(7, "问题")]["message"]
    assert "失效日期不能早于生效日期" in by_row[(8, "失效日期")]["message"]
    assert by_row[(9, "附件数")]["value"] == "两个"
    assert change_requests(people)["total"] == before


def test_report_xlsx_returns_the_upload_with_bad_cells_marked(people):
    data = xlsx([row("问题一？"), row("问题二？", **{"类目*": "不存在的类目"})])
    r = upload(people.maint_a, data, report="xlsx")
    assert r.status_code == 200 and r.headers["X-Import-Errors"] == "1"
    workbook = load_workbook(io.BytesIO(r.data))
    assert workbook.sheetnames[0] == "错误报告"
    assert [c.value for c in workbook["错误报告"][2]][:3] == [3, "类目", "C3"]
    bad = workbook["知识"]["C3"]
    assert bad.fill.fgColor.rgb.endswith("FFC7CE") and "类目不存在" in bad.comment.text
    assert workbook["知识"]["C2"].comment is None
    assert change_requests(people)["total"] == 0


def test_a_question_already_published_is_a_duplicate(people):
    entry_id = publish(people, "如何办理居住证？")
    r = upload(people.maint_b, xlsx([row("如何办理居住证?")]))
    assert r.status_code == 422
    error = r.json["errors"][0]
    assert error["code"] == "duplicate_question" and f"知识 {entry_id}" in error["message"]


def test_submit_sends_every_row_to_unit_review(people):
    r = upload(people.maint_a, xlsx([row("问题一？"), row("问题二？")]), submit=1)
    assert r.status_code == 201, r.json
    assert {c["state"] for c in r.json["created"]} == {"unit_review"}
    inbox = people.rev_a.get("/api/v1/change-requests?state=unit_review").json
    assert inbox["total"] == 2


# --- what a real file looks like --------------------------------------------------------------------------


def test_gb18030_and_utf8_bom_csv_import(people):
    rows = [row("华山街道社保在哪里办？", **{"类目*": "社会民生", "内容类型*": "其他形式"})]
    r = upload(people.maint_a, csv_bytes(rows, "gb18030"), name="知识.csv", dry_run=1)
    assert r.status_code == 200, r.json
    assert r.json["format"] == "csv"
    r = upload(people.maint_a, csv_bytes(rows, "utf-8-sig"), name="知识.csv")
    assert r.status_code == 201, r.json
    cr = people.maint_a.get(f"/api/v1/change-requests/{r.json['created'][0]['change_request_id']}").json
    assert cr["proposal"]["question"] == "华山街道社保在哪里办？" and cr["proposal"]["format"] == "document"


def test_merged_cells_formulas_hidden_sheets_and_empty_trailing_rows(people):
    def build(workbook, sheet):
        sheet.merge_cells("C2:C4")  # one category for three rows
        sheet["L3"] = "=DATE(2026,3,1)"
        hidden = workbook.create_sheet("旧数据", 0)
        hidden.append(HEADINGS)
        hidden.append(row("不应导入的问题？"))
        hidden.sheet_state = "hidden"
        for r in range(5, 40):
            sheet.cell(r, 1).value = "   "  # blank-looking rows below the data

    rows = [row("问题一？"), row("问题二？", **{"类目*": None}), row("问题三？", **{"类目*": None})]
    data = xlsx(rows, build=build)
    # openpyxl does not compute formulas: store the value Excel would have cached, as a real Excel file has
    data = _with_cached_value(data, "L3", 46082)  # 2026-03-01
    r = upload(people.maint_a, data)
    assert r.status_code == 201, r.json
    assert r.json["rows"] == 3 and r.json["sheet"] == "知识"
    proposals = [people.maint_a.get(f"/api/v1/change-requests/{c['change_request_id']}").json["proposal"]
                 for c in r.json["created"]]
    assert {p["category_id"] for p in proposals} == {people.categories["社会民生"]}
    assert proposals[1]["effective_on"] == "2026-03-01"
    assert "不应导入的问题？" not in [p["question"] for p in proposals]


def _with_cached_value(data: bytes, ref: str, value) -> bytes:
    """Put a cached result next to a formula in the sheet XML (what Excel writes on save)."""
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml" or (item.filename.startswith("xl/worksheets/sheet")
                                                                and f'r="{ref}"'.encode() in body
                                                                and b"<f>" in body):
                body = re.sub(rb'(<c r="' + ref.encode() + rb'"[^>]*>)<f>([^<]*)</f><v\s*/?>(</v>)?',
                              lambda m: m.group(1) + b"<f>" + m.group(2) + b"</f><v>" + str(value).encode() + b"</v>",
                              body)
            target.writestr(item, body)
    return out.getvalue()


def _soffice() -> str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    return soffice


def _libreoffice_convert(source, tmp_path, *options) -> bytes:
    out = tmp_path / "converted"
    subprocess.run([_soffice(), "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", *options,
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=180)
    return (out / (source.stem + ".xlsx")).read_bytes()


def test_a_workbook_saved_by_libreoffice_imports(people, tmp_path):
    source = tmp_path / "knowledge.csv"
    source.write_bytes(csv_bytes([row("问题一？"), row("问题二？")], "utf-8"))
    r = upload(people.maint_a, _libreoffice_convert(source, tmp_path, "--infilter=CSV:44,34,76"))
    assert r.status_code == 201, r.json
    assert r.json["rows"] == 2 and r.json["format"] == "xlsx"


def test_libreoffice_computes_the_formulas_and_keeps_merged_cells_and_the_import_reads_them(people, tmp_path):
    def build(workbook, sheet):
        sheet.merge_cells("C2:C3")
        sheet["L2"] = "=DATE(2026,3,1)"
        sheet["K3"] = "=1+2"

    source = tmp_path / "formulas.xlsx"
    source.write_bytes(xlsx([row("问题一？"), row("问题二？", **{"类目*": None})], build=build))
    saved = _libreoffice_convert(source, tmp_path)
    r = upload(people.maint_a, saved)
    assert r.status_code == 201, r.json
    proposals = [people.maint_a.get(f"/api/v1/change-requests/{c['change_request_id']}").json["proposal"]
                 for c in r.json["created"]]
    assert proposals[0]["effective_on"] == "2026-03-01" and proposals[1]["policy_attachments"] == 3
    assert proposals[1]["category_id"] == people.categories["社会民生"]


def test_a_thousand_rows_import_and_one_more_is_refused(people):
    rows = [row(f"第{i}个问题：如何办理居住证？") for i in range(1000)]
    r = upload(people.maint_a, xlsx(rows), dry_run=1)
    assert r.status_code == 200, r.json
    assert r.json["rows"] == 1000 and r.json["valid"]
    r = upload(people.maint_a, xlsx(rows + [row("多出的一行？")]))
    assert r.status_code == 413 and r.json["code"] == "import_too_many_rows" and "1000" in r.json["message"]
    assert change_requests(people)["total"] == 0


def test_a_file_over_the_size_limit_is_refused(app, people):
    app.config["IMPORT_MAX_BYTES"] = 2000
    r = upload(people.maint_a, xlsx([row()]))
    assert r.status_code == 413 and r.json["code"] == "import_file_too_large" and "2000" in r.json["message"]


@pytest.mark.parametrize("data, code", [
    (b"", "unreadable_file"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "unreadable_file"),
    (b"PK\x03\x04 not really a zip", "unreadable_file"), (b"\xff\xfe\x00\x01\x02", "unreadable_file"),
    ("问题,答案\n如何办理？,去窗口\n".encode(), "import_missing_columns"),
])
def test_files_that_are_not_a_knowledge_table_are_a_clear_422(people, data, code):
    r = upload(people.maint_a, data)
    assert r.status_code == 422 and r.json["code"] == code, r.json
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json["message"])


def test_no_file_is_a_422(people):
    r = people.maint_a.post("/api/v1/imports", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.json["errors"]["files"]


# --- who may import -----------------------------------------------------------------------------------------


def test_maintainers_import_for_their_unit_only_and_the_office_names_one(people):
    data = xlsx([row("问题一？")])
    assert upload(people.operator, data).status_code == 403
    assert upload(people.rev_a, data).status_code == 403
    r = upload(people.maint_a, data, unit="RSJ")
    assert r.status_code == 403 and "本单位" in r.json["message"]
    r = upload(people.office, data)
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "unit_required"
    r = upload(people.office, data, unit="NOPE")
    assert r.status_code == 422
    r = upload(people.office, data, unit="RSJ")
    assert r.status_code == 201, r.json
    assert people.office.get(f"/api/v1/change-requests/{r.json['created'][0]['change_request_id']}").json[
        "unit_code"] == "RSJ"


# --- export, and the round trip ------------------------------------------------------------------------------


def test_export_xlsx_has_every_field_and_the_roles_rules(people):
    entry_id = publish(people, "如何办理居住证？", policy_number="鲁政办字〔2021〕126号", expires_on="2027-12-31")
    publish(people, "人社局在哪里？", caller="maint_b", reviewer="rev_b")
    r = people.maint_a.get("/api/v1/knowledge/export?format=xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.data)).active
    headings = [c.value for c in sheet[1]]
    assert headings[:5] == ["知识编号", "版本", "单位编码", "单位名称", "状态"]
    assert {"类目", "问题", "答案", "文号", "生效日期", "失效日期", "最后更新时间", "最后校核时间"} <= set(headings)
    rows = [dict(zip(headings, (c.value for c in r_))) for r_ in sheet.iter_rows(min_row=2)]
    assert [r_["知识编号"] for r_ in rows] == [entry_id]  # its own unit only
    assert rows[0]["版本"] == 1 and rows[0]["文号"] == "鲁政办字〔2021〕126号" and rows[0]["类目"] == "社会民生"
    assert rows[0]["失效日期"].date() == date(2027, 12, 31) and rows[0]["状态"] == "已发布"
    assert len(people.office.get("/api/v1/knowledge/export").data) > 0
    office_rows = list(load_workbook(io.BytesIO(people.office.get("/api/v1/knowledge/export").data)).active
                       .iter_rows(min_row=2))
    assert len(office_rows) == 2
    assert people.maint_a.get("/api/v1/knowledge/export?unit=RSJ").status_code == 403
    assert people.rev_a.get("/api/v1/knowledge/export").status_code == 403
    assert people.operator.get("/api/v1/knowledge/export").status_code == 403


def test_export_csv_filters_by_unit_category_status_and_update_date(people, clock):
    publish(people, "如何办理居住证？")
    clock.set("2026-11-20T10:00:00+08:00")
    later = publish(people, "人社局在哪里？", caller="maint_b", reviewer="rev_b")
    r = people.office.get("/api/v1/knowledge/export?format=csv&updated_since=2026-11-20")
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.data.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert records[0][0] == "知识编号" and [rec[0] for rec in records[1:]] == [str(later)]
    r = people.office.get("/api/v1/knowledge/export?format=csv&unit=HX")
    assert len(list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))) == 2
    r = people.office.get(f"/api/v1/knowledge/export?format=csv&category_id={people.categories['政策法规']}")
    assert len(list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))) == 1
    r = people.office.get("/api/v1/knowledge/export?format=csv&status=withdrawn")
    assert len(list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))) == 1
    assert people.office.get("/api/v1/knowledge/export?format=pdf").status_code == 422


def test_export_edit_import_round_trip_makes_modifications_and_refuses_a_stale_row(people):
    first = publish(people, "如何办理居住证？")
    second = publish(people, "居住证多久能办好？")
    exported = load_workbook(io.BytesIO(people.maint_a.get("/api/v1/knowledge/export").data))
    sheet = exported.active
    headings = [c.value for c in sheet[1]]
    answer = headings.index("答案") + 1
    for cells in sheet.iter_rows(min_row=2):
        if cells[0].value == first:
            cells[answer - 1].value = "1. 到社区登记；\n2. 领取居住证；\n3. 五个工作日内办结。"
    buffer = io.BytesIO()
    exported.save(buffer)
    edited = buffer.getvalue()

    # unchanged as exported: nothing to do
    r = upload(people.maint_a, people.maint_a.get("/api/v1/knowledge/export").data)
    assert r.status_code == 201 and r.json["created"] == [] and len(r.json["unchanged"]) == 2

    r = upload(people.maint_a, edited)
    assert r.status_code == 201, r.json
    [created] = r.json["created"]
    assert created["kind"] == "modify" and created["entry_id"] == first and len(r.json["unchanged"]) == 1
    cr = people.maint_a.get(f"/api/v1/change-requests/{created['change_request_id']}").json
    assert cr["base_version"] == 1 and "五个工作日" in cr["proposal"]["answer"]

    # someone else publishes that change; the same edited file is now based on a stale version
    people.maint_a.post(f"/api/v1/change-requests/{cr['id']}/submit", json={})
    people.rev_a.post(f"/api/v1/change-requests/{cr['id']}/unit-review", json={"approve": True, "checks": ALL_CHECKS_PASS})
    people.office.post(f"/api/v1/change-requests/{cr['id']}/office-review", json={"decision": "publish"})
    sheet.cell(2 if sheet.cell(2, 1).value == first else 3, answer).value = "又改了一次。"
    buffer = io.BytesIO()
    exported.save(buffer)
    before = change_requests(people)["total"]
    r = upload(people.maint_a, buffer.getvalue())
    assert r.status_code == 422
    [error] = r.json["errors"]
    assert error["code"] == "stale_version" and error["column"] == "版本" and "当前版本 2" in error["message"]
    assert change_requests(people)["total"] == before
    assert second  # untouched row: unchanged, not an error


def test_a_modification_row_of_another_unit_is_refused(people):
    theirs = publish(people, "人社局在哪里？", caller="maint_b", reviewer="rev_b")
    data = people.maint_b.get("/api/v1/knowledge/export").data
    workbook = load_workbook(io.BytesIO(data))
    workbook.active.cell(2, 8).value = "改一下问题？"  # 问题 column of the export
    buffer = io.BytesIO()
    workbook.save(buffer)
    r = upload(people.maint_a, buffer.getvalue())
    assert r.status_code == 422 and r.json["errors"][0]["code"] == "forbidden"
    assert str(theirs) == str(r.json["errors"][0]["value"])


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_opened(people, monkeypatch):
    from kb import spreadsheets

    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_BYTES", 4000)
    r = upload(people.maint_a, xlsx([row(f"问题{i}？") for i in range(20)]))
    assert r.status_code == 413 and r.json["code"] == "import_file_too_large" and "解压后" in r.json["message"]


def test_a_cell_of_any_kind_is_reported_as_text(people):
    from datetime import time, timedelta

    r = upload(people.maint_a, xlsx([row("问题一？", **{"生效日期*": time(10, 30)}),
                                     row("问题二？", 失效日期=timedelta(days=3))]))
    assert r.status_code == 422
    values = {e["row"]: e["value"] for e in r.json["errors"]}
    assert values[2] == "10:30:00" and isinstance(values[3], str)
