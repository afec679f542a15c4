"""Oversight in the browser: a unit's own standing, the office's monthly 通报, a 督办通知 issued and
confirmed. Screenshots of each go to docs/screens for the README."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from kb import compliance
from kb.calendar import SHANGHAI
from kb.services import tasks
from service.jobs import close_month
from tests.browser.conftest import _clock, screenshot


def _close_last_month(site):
    from kb import jobs
    from kb.db import UnitOfWork

    factory = site.app.extensions["kb"].session_factory
    close_month(jobs.JobContext(uow_factory=lambda write=True: UnitOfWork(factory, write=write), clock=_clock))
    return compliance.last_ended_month(_clock())


def test_a_maintainer_sees_its_own_units_standing_and_nothing_else(site, new_page):
    page = new_page("maint_hx")
    page.goto("/standing")
    expect(page.locator("#my-score h2")).to_contain_text("华山街道办事处")
    expect(page.locator("#trend svg")).to_be_visible()
    screenshot(page, "unit-standing")
    response = page.goto("/standing?unit=RSJ")  # another unit's: not by changing the address either
    expect(page.locator("#my-score h2")).to_contain_text("华山街道办事处")
    assert "区人力资源" not in page.content()
    assert response.status == 200


def test_the_office_prints_the_monthly_bulletin_of_a_closed_month(site, new_page):
    period = _close_last_month(site)
    office = new_page("office")
    office.goto(f"/office/bulletin?period={period.label}")
    expect(office.locator(".doc-title")).to_contain_text(f"{period.start.year}年{period.start.month}月")
    expect(office.locator("#bulletin table tbody tr")).to_have_count(2)
    expect(office.locator("#bulletin svg")).to_be_visible()
    screenshot(office, "office-bulletin")
    with office.expect_download() as download:
        office.click("text=下载 Excel")
    assert download.value.suggested_filename == f"bulletin-{period.label}.xlsx"
    running = compliance.Period.parse(_clock().astimezone(SHANGHAI).strftime("%Y-%m"))  # not closed yet
    response = office.goto(f"/office/bulletin?period={running.label}")
    assert response.status == 409
    expect(office.locator(".error-message")).to_contain_text("尚未结账")


def test_a_supervision_notice_is_issued_printed_and_confirmed(site, new_page):
    office_actor = site.users["office"][1]
    task = tasks.create_task(site.world.uow(), office_actor, source="office_feedback", reason="incomplete",
                             detail="停车场收费标准已调整，请更新", now=_clock(), unit_code="HX",
                             received_at=_clock() - timedelta(days=30))
    office = new_page("office")
    office.goto(f"/tasks/{task.id}")
    office.click("#issue-notice")
    expect(office.locator(".flash.ok")).to_contain_text(re.compile(r"督（\d{4}）\d+号"))
    expect(office.locator("#notice")).to_contain_text("停车场收费标准已调整")
    notice_url = office.url
    maintainer = new_page("maint_hx")
    maintainer.goto("/notices")
    expect(maintainer.locator("#notice-list")).to_contain_text("未签收")
    maintainer.goto(notice_url)
    maintainer.fill("#reply", "已更新收费标准")
    maintainer.click("#confirm-notice")
    expect(maintainer.locator("#notice")).to_contain_text("已更新收费标准")
    expect(maintainer.locator("#notice .signature")).to_contain_text("签收")
    screenshot(maintainer, "notice")
