"""Knowledge in and out in the browser: the template, an import with its report, an export; a basis
document uploaded to a change request, published with it and downloaded by an operator."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.api.test_import_export_api import row, xlsx
from tests.browser.conftest import screenshot

# A minimal PDF whose text says what the policy says: found by search once published.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>"
       b"endobj\n4 0 obj<</Length 44>>stream\nBT /F1 18 Tf 20 60 Td (parking fee rules) Tj ET\nendstream endobj\n"
       b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def test_a_maintainer_imports_a_workbook_after_fixing_what_the_report_names(site, new_page, tmp_path):
    page = new_page("maint_hx")
    page.goto("/unit/import")
    with page.expect_download() as template:
        page.click("#template-link")
    assert template.value.suggested_filename.endswith(".xlsx")
    bad = tmp_path / "知识.xlsx"
    bad.write_bytes(xlsx([row("华山街道养犬登记在哪里办？"), row("华山街道犬只年检怎么办？", **{"答案*": None})]))
    page.set_input_files("#import-file", str(bad))
    page.click("#import-button")
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("答案")  # the row and column at fault, and nothing stored
    expect(page.locator("#import-report .flash.error")).to_contain_text("未导入任何内容")
    screenshot(page, "maintainer-import-report")
    good = tmp_path / "知识-改.xlsx"
    good.write_bytes(xlsx([row("华山街道养犬登记在哪里办？"), row("华山街道犬只年检怎么办？")]))
    page.set_input_files("#import-file", str(good))
    page.click("#import-button")
    expect(page.locator(".flash.ok")).to_contain_text("已导入 2 条")
    expect(page.locator("#import-created tbody tr")).to_have_count(2)
    with page.expect_download() as export:
        page.click("#export-xlsx")
    assert re.match(r"knowledge-\d{8}-\d{4}\.xlsx", export.value.suggested_filename)


def test_a_basis_document_is_uploaded_published_and_downloaded_by_an_operator(site, new_page, tmp_path):
    maintainer = new_page("maint_hx")
    maintainer.goto("/changes/new")
    maintainer.fill("#question", "华山街道停车收费标准是什么？")
    maintainer.fill("#answer", "1. 按政策文件执行。\n2. 详见附件。")
    maintainer.select_option("#category_id", value=str(site.categories["社会民生"]))
    maintainer.fill("#effective_on", "2026-01-01")
    maintainer.click("#save")
    pdf = tmp_path / "停车收费标准.pdf"
    pdf.write_bytes(PDF)
    maintainer.set_input_files("#attachment-file", str(pdf))
    maintainer.click("#upload-attachment")
    expect(maintainer.locator("#files")).to_contain_text("停车收费标准.pdf")
    fake = tmp_path / "伪装.pdf"
    fake.write_bytes(b"MZ this is not a pdf")
    maintainer.set_input_files("#attachment-file", str(fake))
    maintainer.click("#upload-attachment")
    expect(maintainer.locator(".flash.error")).to_contain_text("文件未上传")  # judged by content, not by name
    maintainer.click("#submit")
    cr_url = maintainer.url

    reviewer = new_page("rev_hx")
    reviewer.goto(cr_url)
    for check in ("no_typos", "clear", "answer_matches", "accurate_with_basis"):
        reviewer.check(f"#check_{check}")
    reviewer.click("#approve")
    office = new_page("office")
    office.goto(cr_url)
    office.click("#publish")
    expect(office.locator(".flash.ok")).to_contain_text("已发布")

    operator = new_page("operator")
    operator.fill("#q", "停车收费标准")
    operator.locator("#results .hit", has_text="停车收费标准").locator("h3 a").click()
    expect(operator.locator("#entry-files")).to_contain_text("停车收费标准.pdf")
    with operator.expect_download() as download:
        operator.click("#entry-files a")
    assert download.value.suggested_filename == "停车收费标准.pdf"
