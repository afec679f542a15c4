"""Demo data: units of every kind, one user per role, a few hundred realistic entries in every state.

Everything goes through the use cases, so the demo has real versions,
reviews and audit history.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from kb.access import Actor
from kb.errors import Conflict
from kb.models import KnowledgeEntry, Role, Unit
from kb.services import categories, changes, directory
from kb.workflow import Check

UNITS = (
    ("HS", "华山街道办事处", "town"), ("WJ", "王舍人街道办事处", "town"), ("DX", "东风街道办事处", "town"),
    ("TZ", "唐王街道办事处", "town"),
    ("RSJ", "区人力资源和社会保障局", "department"), ("YBJ", "区医疗保障局", "department"),
    ("JYJ", "区教育和体育局", "department"), ("ZJJ", "区住房和城乡建设局", "department"),
    ("GJJ", "区住房公积金管理中心", "department"),
    ("GS", "历城区供水有限公司", "company"), ("GD", "国网历城供电公司", "company"),
    ("XH", "幸福社区居委会", "community"),
)

# (unit code, category, question, similar questions, answer lines, keywords, policy number)
KNOWLEDGE = (
    ("RSJ", "社会民生", "灵活就业人员如何参加职工养老保险？", ["自由职业怎么交社保", "个体户交养老保险在哪办"],
     ["办理地点：区政务服务中心社保窗口或“爱山东”APP。", "所需材料：居民身份证。",
      "缴费基数：在全省上年度平均工资的60%至300%之间自选。"], ["社保", "灵活就业", "养老保险"], "鲁人社发〔2021〕18号"),
    ("RSJ", "社会民生", "社保断缴了怎么补缴？", ["社保中断了能补吗", "养老保险漏交了怎么办"],
     ["职工因单位原因漏缴的，由单位向社保经办机构申请补缴。", "灵活就业人员中断缴费的，可在当年度内补缴。",
      "补缴需携带身份证到区社保中心办理。"], ["社保", "补缴", "断缴"], "鲁人社字〔2020〕97号"),
    ("RSJ", "社会民生", "失业保险金怎么申领？", ["失业了能领多少钱", "失业金在哪申请"],
     ["申领条件：非因本人意愿中断就业，已办理失业登记，缴费满一年。", "申领渠道：山东省人社网上服务大厅或区就业服务中心。",
      "领取期限：按缴费年限确定，最长24个月。"], ["失业保险", "失业金"], "鲁人社规〔2022〕5号"),
    ("RSJ", "社会民生", "退休人员养老金资格认证怎么做？", ["养老金认证在哪弄", "退休金每年要认证吗"],
     ["认证方式：“山东人社”APP刷脸认证，或到社区服务站认证。", "认证周期：每年一次。"], ["养老金", "资格认证"], None),
    ("YBJ", "社会民生", "城乡居民医保怎么缴费？", ["新农合怎么交", "居民医疗保险在哪里交"],
     ["缴费时间：每年9月至12月集中缴费。", "缴费渠道：微信“山东医保”小程序、各银行网点。",
      "2027年度个人缴费标准以当年通知为准。"], ["医保", "居民医保", "缴费"], "鲁医保发〔2023〕25号"),
    ("YBJ", "社会民生", "异地就医怎么备案？", ["在外地看病医保能报吗", "医保异地备案怎么弄"],
     ["备案渠道：国家医保服务平台APP或区医保服务大厅。", "备案类型：异地长期居住、临时外出就医。",
      "备案后直接结算，无需回参保地报销。"], ["医保", "异地就医", "备案"], "医保发〔2022〕22号"),
    ("YBJ", "社会民生", "门诊慢特病怎么申请？", ["慢性病医保怎么办", "高血压能办门诊慢病吗"],
     ["申请材料：身份证、医保电子凭证、二级以上医院诊断证明。", "受理地点：定点医疗机构医保办。",
      "审核通过后次月起享受待遇。"], ["门诊慢特病", "医保"], None),
    ("JYJ", "社会民生", "孩子上小学需要准备哪些材料？", ["一年级报名要带什么", "小学入学材料清单"],
     ["户口簿原件及复印件。", "房产证或不动产权证书。", "儿童预防接种证。",
      "报名时间以当年招生简章为准。"], ["入学", "小学", "材料"], "济教发〔2026〕3号"),
    ("JYJ", "社会民生", "随迁子女怎么在本区上学？", ["外地孩子在济南上学要什么条件", "进城务工子女入学"],
     ["条件：父母一方在本区稳定就业并居住一年以上。", "材料：居住证、就业证明、户口簿。",
      "由区教体局统筹安排学位。"], ["随迁子女", "入学"], None),
    ("JYJ", "热点问题", "幼儿园保育费收费标准是多少？", ["公办幼儿园一个月多少钱", "幼儿园收费"],
     ["省级示范园每生每月按物价部门核定标准收取。", "不得以任何名义收取与入园挂钩的费用。"], ["幼儿园", "收费"], None),
    ("ZJJ", "社会民生", "公租房怎么申请？", ["廉租房在哪申请", "住房困难怎么办公租房"],
     ["申请条件：本区户籍，家庭人均收入和住房面积符合标准。", "申请地点：户籍所在街道办事处。",
      "审核公示后轮候配租。"], ["公租房", "住房保障"], "济建发〔2022〕14号"),
    ("ZJJ", "热点问题", "小区加装电梯有补贴吗？", ["老楼装电梯政府给钱吗", "加装电梯怎么申请"],
     ["既有住宅加装电梯每台补贴标准以当年政策为准。", "需本单元业主协商一致并公示。",
      "向所在街道提出申请。"], ["加装电梯", "补贴"], None),
    ("GJJ", "社会民生", "住房公积金怎么提取？", ["公积金能取出来吗", "租房提取公积金"],
     ["提取情形：购房、租房、退休、离职等。", "办理渠道：“济南公积金”APP或服务大厅。",
      "租房提取每年一次。"], ["公积金", "提取"], "济公积金发〔2021〕6号"),
    ("GJJ", "社会民生", "公积金贷款额度是多少？", ["公积金能贷多少", "公积金贷款上限"],
     ["单缴职工最高贷款额度按当年政策执行。", "额度与账户余额、还款能力挂钩。"], ["公积金", "贷款"], None),
    ("GS", "社会民生", "家里停水了怎么办？", ["没水了找谁", "自来水突然停了"],
     ["先查看小区公告是否计划停水。", "拨打供水服务热线报修。", "抢修一般在4小时内到达现场。"], ["停水", "报修"], None),
    ("GS", "社会民生", "水费怎么交？", ["自来水费在哪交", "水费缴费方式"],
     ["支付宝、微信“生活缴费”。", "供水营业厅柜台缴费。"], ["水费", "缴费"], None),
    ("GD", "社会民生", "家里停电了怎么报修？", ["没电了打哪个电话", "电路故障报修"],
     ["拨打95598供电服务热线。", "“网上国网”APP在线报修。"], ["停电", "报修"], None),
    ("GD", "通知公告", "近期计划停电通知在哪里查？", ["什么时候停电", "停电公告"],
     ["登录“网上国网”APP查询停电信息。", "关注供电公司公众号推送。"], ["停电", "通知"], None),
    ("XH", "行政区划", "幸福社区的管辖范围是哪里？", ["幸福社区包括哪些小区", "我家属于哪个社区"],
     ["幸福社区辖幸福家园、阳光花园、和平小区三个小区。", "社区服务站位于幸福家园南门。"], ["社区", "管辖范围"], None),
    ("XH", "社会民生", "社区能开居住证明吗？", ["居住证明去哪开", "社区开证明需要什么"],
     ["社区可出具实际居住情况说明。", "需本人身份证及房屋租赁合同或房产证。"], ["居住证明", "社区"], None),
)

TOWN_TEMPLATES = (
    ("行政区划", "{town}管辖哪些社区？", ["{short}有几个社区", "{short}的辖区范围"],
     ["{town}下辖社区名录以区政府公布为准。", "可到{town}便民服务中心查询。"], ["行政区划", "辖区"]),
    ("社会民生", "{town}便民服务中心在哪里，办公时间是什么？", ["{short}办事大厅在哪", "{short}政务服务中心几点上班"],
     ["地址：{town}便民服务中心一楼。", "办公时间：工作日上午9:00-12:00，下午13:30-17:00。"], ["便民服务中心", "办公时间"]),
    ("社会民生", "在{town}怎么申请低保？", ["{short}低保怎么办", "{short}最低生活保障申请"],
     ["向户籍所在地社区提出申请。", "所需材料：身份证、户口簿、家庭收入证明。", "街道审核后报区民政局审批。"], ["低保", "社会救助"]),
    ("热点问题", "{town}的老旧小区改造什么时候开始？", ["{short}小区改造", "{short}旧改进度"],
     ["改造计划以区住建局年度计划为准。", "具体小区名单在{town}公示栏公布。"], ["老旧小区改造"]),
    ("社会民生", "在{town}办理高龄津贴需要什么材料？", ["{short}老人补贴怎么领", "{short}80岁老人津贴"],
     ["申请人年满80周岁，具有本区户籍。", "材料：身份证、户口簿、银行卡。", "到社区服务站申请。"], ["高龄津贴", "老年人"]),
    ("通知公告", "{town}冬季供暖报修电话是多少？", ["{short}暖气不热找谁", "{short}供暖问题反映"],
     ["供暖季期间可拨打{town}供暖专班电话。", "也可拨打12345热线反映。"], ["供暖", "报修"]),
    ("政策法规", "{town}的垃圾分类有什么规定？", ["{short}垃圾怎么分", "{short}垃圾分类罚款吗"],
     ["生活垃圾分为可回收物、有害垃圾、厨余垃圾和其他垃圾四类。", "依据《济南市生活垃圾减量与分类管理条例》执行。"],
     ["垃圾分类"]),
    ("社会民生", "{town}怎么办理残疾人证？", ["{short}残疾证怎么办", "{short}残疾评定"],
     ["向户籍所在街道残联提出申请。", "到指定医院进行残疾评定。", "审核通过后由区残联发证。"], ["残疾人证"]),
)

ALL_PASS = {c.value: True for c in Check}


def _entries():
    for unit, category, question, similar, lines, keywords, number in KNOWLEDGE:
        yield unit, category, question, similar, lines, keywords, number
    for code, name, kind in UNITS:
        if kind != "town":
            continue
        short = name.removesuffix("办事处")
        for category, question, similar, lines, keywords in TOWN_TEMPLATES:
            yield (code, category, question.format(town=name, short=short),
                   [s.format(town=name, short=short) for s in similar],
                   [line.format(town=name, short=short) for line in lines], keywords, None)


def _proposal(category_ids, category, question, similar, lines, keywords, number, rng):
    answer = "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
    effective = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300))
    expires = effective + timedelta(days=90) if category == "通知公告" and rng.random() < 0.5 else None
    return {
        "question": question, "similar_questions": similar, "answer": answer, "keywords": keywords,
        "category_id": category_ids[category], "policy_number": number, "policy_attachments": rng.randrange(0, 3),
        "policy_title": "相关政策文件" if number else None, "effective_on": effective, "expires_on": expires,
        "urgent": False, "format": "qa" if rng.random() < 0.85 else "document",
    }


def load_demo(uow_factory, clock, *, seed: int = 12345, skip_if_loaded: bool = False) -> list[dict] | None:
    rng = random.Random(seed)
    with uow_factory(write=False) as uow:
        if skip_if_loaded and uow.session.scalar(select(func.count()).select_from(KnowledgeEntry)):
            return None
        loaded = uow.session.scalars(select(Unit.code).where(Unit.code.in_([code for code, _, _ in UNITS]))
                                     .order_by(Unit.code)).all()
    if loaded:  # refused before anything is written, not half-way through the units
        if skip_if_loaded:
            return None
        raise Conflict(f"演示数据已加载：单位 {'、'.join(loaded[:3])}{' 等' if len(loaded) > 3 else ''}已存在",
                       code="demo_loaded")
    with uow_factory() as uow:
        categories.seed_categories(uow.session)
        uow.commit()
    category_ids = {c["name"]: c["id"] for c in categories.list_categories(uow_factory(write=False))}
    created: list[dict] = []
    actors: dict[tuple[str, str | None], Actor] = {}

    def add_user(name: str, role: str, unit_code: str | None, unit_id: int | None) -> Actor:
        user, token = directory.create_user(uow_factory(), None, name=name, role=role, unit_code=unit_code,
                                            now=clock())
        created.append({"id": user["id"], "name": name, "role": role, "unit_code": unit_code, "token": token})
        actor = Actor(user_id=user["id"], role=Role(role), unit_id=unit_id, name=name)
        actors[(role, unit_code)] = actor
        return actor

    units = {}
    for code, name, kind in UNITS:
        units[code] = directory.create_unit(uow_factory(), None, code=code, name=name, kind=kind,
                                            parent_code=None, now=clock())
    office = add_user("热线办管理员", "office_admin", None, None)
    add_user("话务员小李", "operator", None, None)
    add_user("考核引擎", "scorer", None, None)
    for code in units:
        add_user(f"{code}知识员", "maintainer", code, units[code]["id"])
        add_user(f"{code}审核人", "unit_reviewer", code, units[code]["id"])

    entries = list(_entries())
    # Most entries published; the rest spread over every workflow state.
    states = ["published"] * 6 + ["draft", "unit_review", "office_review", "returned"]
    for index, (unit, category, question, similar, lines, keywords, number) in enumerate(entries * 5):
        round_ = index // len(entries)
        if round_:
            question = _reword(question, round_)
        maintainer, reviewer = actors[("maintainer", unit)], actors[("unit_reviewer", unit)]
        proposal = _proposal(category_ids, category, question, similar, lines, keywords, number, rng)
        cr = changes.create(uow_factory(), maintainer, kind="new", now=clock(), proposal=proposal)
        target = states[index % len(states)]
        if target == "draft":
            continue
        cr = changes.submit(uow_factory(), maintainer, cr["id"], revision=None, now=clock())
        if target == "unit_review":
            continue
        if target == "returned":
            changes.unit_review(uow_factory(), reviewer, cr["id"], approve=False,
                                checks={**ALL_PASS, "clear": False}, reason="表述不够清晰，请补充办理时限",
                                revision=None, now=clock())
            continue
        changes.unit_review(uow_factory(), reviewer, cr["id"], approve=True, checks=ALL_PASS, reason=None,
                            revision=None, now=clock())
        if target == "office_review":
            continue
        changes.office_review(uow_factory(), office, cr["id"], decision="publish", reason=None,
                              revision=None, now=clock())
    return created


_REWORDINGS = ("请问", "咨询一下：", "市民来电询问：", "想了解一下，")


def _reword(question: str, round_: int) -> str:
    return f"{_REWORDINGS[(round_ - 1) % len(_REWORDINGS)]}{question}"
