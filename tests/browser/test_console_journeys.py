"""Each role's daily work in the console, end to end in a real Chromium.

The main pages are saved to docs/screens/ as they are passed through (the README shows them).
"""
from __future__ import annotations

import itertools
import re

from playwright.sync_api import expect

from kb.calendar import to_shanghai
from kb.services import accounts, changes, flags
from tests.browser.conftest import PASSWORD, _clock, log_in, published, screenshot

_n = itertools.count(1)


def _unique(text: str) -> str:
    return f"{text}{next(_n)}"


def test_operator_finds_copies_uses_and_flags_an_answer(site, new_page):
    entry = published(site, question="华山街道哪里办理居住证？", keywords=["居住证", "华山"],
                      answer="1. 办理地点：华山街道便民服务中心一楼。\n2. 携带身份证和租赁合同。",
                      similar=["华山居住证在哪办"])
    page = new_page("operator")
    expect(page).to_have_url(re.compile(r"/search$"))
    # The search box has focus on load: the operator types straight away, and results follow the keystrokes.
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("居住证在哪办", delay=30)
    hit = page.locator("#results .hit").first
    expect(hit).to_contain_text("华山街道哪里办理居住证")
    expect(page.locator("#results em").first).to_be_visible()  # the matched words are highlighted
    expect(hit).to_contain_text("华山街道办事处")  # the unit that answers for it
    screenshot(page, "operator-search")

    hit.locator("h3 a").click()
    expect(page.locator("#answer")).to_contain_text("便民服务中心一楼")
    page.keyboard.press("c")  # copy the answer with one key
    expect(page.locator("#copy-button")).to_have_text("已复制")
    assert "便民服务中心一楼" in page.evaluate("navigator.clipboard.readText()")
    screenshot(page, "operator-answer")

    page.locator("#used-button").click()
    expect(page.locator(".flash.ok")).to_contain_text("使用了此答案")

    page.locator("details summary").click()
    page.select_option("#flag-kind", "wrong_answer")
    page.click("text=提交反馈")  # no explanation: refused beside the field, the choice kept
    expect(page.locator("#err-text")).to_contain_text("请写明")
    expect(page.locator("#flag-kind")).to_have_value("wrong_answer")
    page.fill("#flag-text", "便民服务中心已搬到二楼")
    page.click("text=提交反馈")
    expect(page.locator(".flash.ok")).to_contain_text("反馈已提交")
    office = site.users["office"][1]
    _, pending = flags.list_flags(site.world.uow(write=False), office, entry_id=entry.entry_id)
    assert [f.text for f in pending] == ["便民服务中心已搬到二楼"]


def test_operator_gets_recommendations_for_a_pasted_ticket_and_sees_the_hot_list(site, new_page):
    published(site, question="灵活就业人员社保断缴了怎么补缴？", keywords=["社保", "补缴", "灵活就业"],
              answer="1. 携带身份证到区社保中心窗口办理补缴。\n2. 补缴须在断缴后三个月内。")
    page = new_page("operator")
    page.goto("/recommend")
    page.fill("#ticket", "市民来电称：本人是灵活就业人员，去年社保断缴了几个月，现在想补缴，请问怎么办理？")
    page.click("text=推荐答案")
    expect(page.locator(".hit").first).to_contain_text("社保断缴了怎么补缴")


def test_maintainer_creates_edits_after_a_return_and_submits(site, new_page):
    question = _unique("华山街道老年人优待证怎么办理？")
    maintainer = new_page("maint_hx")
    maintainer.goto("/changes/new")
    maintainer.fill("#answer", "1. 到社区居委会申请。\n2. 携带身份证和一寸照片。")
    maintainer.click("#save-submit")  # no question, no category: errors beside the fields, the answer kept
    expect(maintainer.locator("#err-question")).to_contain_text("问题")
    expect(maintainer.locator("#err-category_id")).to_contain_text("分类")
    expect(maintainer.locator("#answer")).to_have_value("1. 到社区居委会申请。\n2. 携带身份证和一寸照片。")
    maintainer.fill("#question", question)
    maintainer.fill("#similar_questions", "老年优待证在哪办")
    maintainer.fill("#keywords", "优待证、老年人")
    maintainer.select_option("#category_id", value=str(site.categories["社会民生"]))
    maintainer.fill("#effective_on", "2026-01-01")
    screenshot(maintainer, "maintainer-new")
    maintainer.click("#save-submit")
    expect(maintainer.locator("h1")).to_contain_text("单位审核中")
    cr_id = int(re.search(r"/changes/(\d+)", maintainer.url).group(1))

    reviewer = new_page("rev_hx")
    reviewer.goto("/review")
    reviewer.click(f"#change-list a[href='/changes/{cr_id}'] >> nth=0")
    for check in ("no_typos", "answer_matches", "accurate_with_basis"):
        reviewer.check(f"#check_{check}")
    reviewer.fill("#review-reason", "表述不够清晰：写明社区居委会的办公时间")
    reviewer.click("#return")
    expect(reviewer.locator(".flash.ok")).to_contain_text("已退回")

    maintainer.goto("/changes")
    row = maintainer.locator("#change-list tr", has_text=question)
    expect(row).to_contain_text("退回原因：表述不够清晰")
    row.locator("a").first.click()
    maintainer.click("#edit")
    maintainer.fill("#answer", "1. 到社区居委会申请（工作日 9:00–17:00）。\n2. 携带身份证和一寸照片。")
    maintainer.click("#save-submit")
    expect(maintainer.locator("h1")).to_contain_text("单位审核中")


def test_reviewer_ticks_the_four_checks_office_publishes_and_the_operator_finds_it(site, new_page):
    question = _unique("华山街道独生子女父母奖励金在哪里领取？")
    maint = site.users["maint_hx"][1]
    cr = changes.create(site.world.uow(), maint, kind="new", now=_clock(), proposal=site.world.proposal(
        site.categories["社会民生"], question=question, keywords=["奖励金", "独生子女"],
        answer="1. 到华山街道计生办领取。\n2. 携带独生子女父母光荣证。"))
    changes.submit(site.world.uow(), maint, cr.id, revision=None, now=_clock())

    reviewer = new_page("rev_hx")
    reviewer.goto(f"/changes/{cr.id}")
    for check in ("no_typos", "clear", "answer_matches"):
        reviewer.check(f"#check_{check}")
    reviewer.click("#approve")  # three of four: refused, the ticks kept
    expect(reviewer.locator(".field-error")).to_contain_text("四项审核全部通过")
    expect(reviewer.locator("#check_clear")).to_be_checked()
    reviewer.check("#check_accurate_with_basis")
    screenshot(reviewer, "reviewer-checks")
    reviewer.click("#approve")
    expect(reviewer.locator(".flash.ok")).to_contain_text("审核通过")

    office = new_page("office")
    office.goto("/publish")
    screenshot(office, "office-publish-queue")
    office.click(f"#change-list a[href='/changes/{cr.id}'] >> nth=0")
    office.click("#publish")
    expect(office.locator(".flash.ok")).to_contain_text("已发布")

    operator = new_page("operator")
    operator.fill("#q", "独生子女奖励金哪里领")
    expect(operator.locator("#results .hit").first).to_contain_text(question)


def test_a_modification_is_reviewed_side_by_side_with_the_live_version(site, new_page):
    question = _unique("华山街道残疾人证换证需要什么材料？")
    entry = published(site, question=question, keywords=["残疾人证", "换证"],
                      answer="1. 身份证。\n2. 旧残疾人证。")
    maintainer = new_page("maint_hx")
    maintainer.goto(f"/knowledge/{entry.entry_id}")
    maintainer.click("text=提出修改")
    expect(maintainer.locator("#question")).to_have_value(question)  # the live version, ready to change
    maintainer.fill("#answer", "1. 身份证。\n2. 旧残疾人证。\n3. 近期二寸照片两张。")
    maintainer.fill("#reason", "新增照片要求")
    maintainer.click("#save-submit")
    expect(maintainer.locator("h1")).to_contain_text("单位审核中")

    reviewer = new_page("rev_hx")
    reviewer.goto(maintainer.url)
    diff = reviewer.locator("#diff")
    expect(diff.locator(".name.changed")).to_have_text(["答案"])  # only what changed is marked
    expect(diff.locator(".proposed.changed")).to_have_text(["1. 身份证。\n2. 旧残疾人证。\n3. 近期二寸照片两张。"])
    screenshot(reviewer, "reviewer-diff")


def test_a_stale_edit_shows_the_current_version_and_keeps_what_was_typed(site, new_page):
    maint = site.users["maint_hx"][1]
    cr = changes.create(site.world.uow(), maint, kind="new", now=_clock(), proposal=site.world.proposal(
        site.categories["社会民生"], question=_unique("华山街道门牌号变更怎么办？")))
    first, second = new_page("maint_hx"), new_page("maint_hx")
    first.goto(f"/changes/{cr.id}/edit")
    second.goto(f"/changes/{cr.id}/edit")
    first.fill("#answer", "第一位同事的答案")
    first.click("#save")
    expect(first.locator("h1")).to_contain_text("草稿")
    second.fill("#answer", "第二位同事的答案")
    second.click("#save")
    expect(second.locator("#stale-notice")).to_contain_text("第一位同事的答案")  # what is saved now
    expect(second.locator("#answer")).to_have_value("第二位同事的答案")  # what this person typed, kept
    second.click("#save")  # saving again, having seen the current version, goes through
    expect(second.locator("h1")).to_contain_text("草稿")
    assert changes.get(site.world.uow(write=False), maint, cr.id).proposal.answer == "第二位同事的答案"


def test_a_deactivated_user_is_thrown_out_at_the_next_click(site, new_page):
    spare = new_page("spare")
    expect(spare.locator("#q")).to_be_visible()
    office = new_page("office")
    office.goto("/office/users")
    screenshot(office, "office-users")
    spare_id = site.users["spare"][1].user_id
    office.click(f"#toggle-{spare_id}")
    expect(office.locator(".flash.ok")).to_contain_text("已停用")
    spare.goto("/search?q=居住证")
    expect(spare).to_have_url(re.compile(r"/login"))
    log_in(spare, site.user("spare"))
    expect(spare.locator("#login-error")).to_contain_text("用户名或密码错误")
    accounts.set_active(site.world.uow(), site.users["office"][1], spare_id, active=True, now=_clock())


def test_a_role_that_may_not_see_a_page_gets_a_page_saying_so(site, new_page):
    operator = new_page("operator")
    response = operator.goto("/office/users")
    assert response.status == 403
    expect(operator.locator("h1")).to_have_text("无权访问")
    expect(operator.locator(".error-message")).to_contain_text("话务员无权打开此页面")


def test_office_pages_for_daily_work(site, new_page):
    office = new_page("office")
    for path, marker, name in (("/office/flags", "#flag-list", "office-flags"),
                               ("/tasks", "#task-list", "office-tasks"),
                               ("/office/gaps", "#gap-list", None),
                               ("/office/policies", "#policy-list", None),
                               ("/office/calendar", "#override-list", None)):
        office.goto(path)
        expect(office.locator(marker)).to_be_visible()
        if name:
            screenshot(office, name)
    office.goto("/office/synonyms")
    office.fill("#terms", "优待证")
    office.click("text=添加")
    expect(office.locator(".field-error")).to_contain_text("至少两个词")
    expect(office.locator("#terms")).to_have_value("优待证")
    office.fill("#terms", "优待证、老年证")
    office.click("text=添加")
    expect(office.locator("#synonym-list")).to_contain_text("优待证、老年证")


def test_log_in_page(site, new_page):
    page = new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    screenshot(page, "login")
    page.fill("input[name=username]", site.user("operator"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#q")).to_be_focused()


def test_a_maintainer_answers_a_task_by_a_change_and_sees_its_deadline(site, new_page):
    from kb.services import tasks

    question = _unique("华山街道低保申请需要多长时间？")
    entry = published(site, question=question, keywords=["低保"], answer="1. 约 30 个工作日。")
    task = tasks.create_task(site.world.uow(), site.users["office"][1], source="office_feedback",
                             reason="incomplete", detail="办理时限已改为 20 个工作日", now=_clock(),
                             unit_code="HX", entry_id=entry.entry_id)
    maintainer = new_page("maint_hx")
    maintainer.goto("/tasks")
    row = maintainer.locator("#task-list tr", has_text=question)
    expect(row).to_contain_text(to_shanghai(task.due_at).strftime("%Y-%m-%d"))  # the working-day deadline
    row.locator("a").first.click()
    maintainer.click("#answer-task")
    maintainer.fill("#answer", "1. 约 20 个工作日。")
    maintainer.fill("#reason", "按热线办反馈更新时限")
    maintainer.click("#save-submit")
    expect(maintainer.locator("h1")).to_contain_text("单位审核中")
    maintainer.goto(f"/tasks/{task.id}")
    expect(maintainer.locator("body")).to_contain_text("办理申请")  # the change is linked to the task


def test_the_office_publishes_urgent_knowledge_directly(site, new_page):
    question = _unique("华山街道临时停水通知")
    office = new_page("office")
    office.goto("/changes/new")
    office.select_option("#unit_code", "HX")
    office.fill("#question", question)
    office.fill("#answer", "1. 今日 14:00–18:00 华山街道全域停水。\n2. 请提前储水。")
    office.select_option("#category_id", value=str(site.categories["社会民生"]))
    office.fill("#effective_on", "2026-01-01")
    office.check("#urgent")
    office.click("#save")
    office.click("#publish")
    expect(office.locator(".flash.ok")).to_contain_text("已发布")
    operator = new_page("operator")
    operator.fill("#q", "华山停水")
    hit = operator.locator("#results .hit", has_text=question)
    expect(hit.locator(".badge.urgent")).to_have_text("紧急")
