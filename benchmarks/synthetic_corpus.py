"""A deterministic synthetic hotline knowledge base for index benchmarks.

Entries look like the real thing: a question built from a topic's matters and
actions, one to three similar phrasings, keywords, an answer of about 420
characters assembled from procedure sentences, a category path three levels
deep, one of 160 district departments, and dates (a few percent expired or
not yet in effect). Queries are 2-4 words an operator would type, some in
colloquial wording that only synonyms connect.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from kb.search.backend import SearchDocument


@dataclass(frozen=True)
class Topic:
    name: str
    department: str
    matters: tuple[str, ...]
    actions: tuple[str, ...]
    materials: tuple[str, ...]
    colloquial: tuple[str, ...]  # what callers say instead


TOPICS = (
    Topic("社会保险", "人力资源和社会保障局",
          ("社会保险", "基本养老保险", "失业保险金", "工伤保险", "生育津贴", "社会保障卡", "缴费基数", "养老金"),
          ("补缴", "转移接续", "参保登记", "申领", "停保", "查询", "变更", "挂失"),
          ("居民身份证", "社会保障卡", "劳动合同", "参保证明", "银行卡"), ("社保", "社保卡", "退休金", "断交")),
    Topic("医疗保障", "医疗保障局",
          ("城乡居民基本医疗保险", "职工基本医疗保险", "异地就医", "门诊慢特病", "大病保险", "医保电子凭证"),
          ("备案", "报销", "参保缴费", "结算", "认定", "激活"),
          ("居民身份证", "医保卡", "出院小结", "费用清单", "诊断证明"), ("医保", "新农合", "外地看病", "门特")),
    Topic("住房公积金", "住房公积金管理中心",
          ("住房公积金", "公积金贷款", "缴存基数", "租房提取", "退休提取", "异地转移"),
          ("提取", "申请", "缴存", "调整", "还款", "转移"),
          ("居民身份证", "购房合同", "租赁合同", "婚姻状况证明", "银行卡"), ("公积金", "取公积金", "公积金买房")),
    Topic("户籍管理", "公安局",
          ("户口迁移", "新生儿落户", "居民户口簿", "户籍证明", "集体户口", "投靠落户"),
          ("办理", "迁入", "迁出", "补办", "变更", "注销"),
          ("居民户口簿", "出生医学证明", "结婚证", "准予迁入证明", "房产证明"), ("户口", "上户口", "迁户口")),
    Topic("居民证件", "公安局",
          ("居民身份证", "临时居民身份证", "居住证", "出入境证件", "港澳通行证", "无犯罪记录证明"),
          ("申领", "换领", "补领", "签注", "开具", "挂失"),
          ("居民户口簿", "照片回执", "居住证明", "就业证明"), ("身份证", "暂住证", "护照")),
    Topic("义务教育", "教育局",
          ("小学入学", "初中入学", "随迁子女入学", "转学", "学籍", "幼儿园入园"),
          ("报名", "登记", "申请", "审核", "查询", "办理"),
          ("居民户口簿", "房屋产权证明", "居住证", "预防接种证", "务工证明"), ("上学", "孩子上学", "转校", "上幼儿园")),
    Topic("不动产登记", "不动产登记中心",
          ("不动产登记", "不动产权证书", "抵押登记", "转移登记", "预告登记", "更正登记"),
          ("办理", "申请", "补发", "注销", "查询", "变更"),
          ("不动产权证书", "买卖合同", "完税凭证", "居民身份证", "婚姻状况证明"), ("房产证", "房本", "过户")),
    Topic("婚姻登记", "民政局",
          ("结婚登记", "离婚登记", "补领结婚证", "婚姻状况证明", "涉外婚姻登记"),
          ("办理", "预约", "补领", "申请", "撤回"),
          ("居民户口簿", "居民身份证", "合影照片", "离婚协议书"), ("领证", "领结婚证", "办离婚")),
    Topic("社会救助", "民政局",
          ("最低生活保障", "特困人员供养", "临时救助", "残疾人两项补贴", "高龄津贴", "老年人优待证"),
          ("申请", "审核", "发放", "办理", "复核", "停发"),
          ("居民户口簿", "收入证明", "残疾人证", "家庭财产申报表"), ("低保", "五保", "老年证", "高龄补贴")),
    Topic("就业创业", "人力资源和社会保障局",
          ("失业登记", "就业创业证", "创业担保贷款", "职业技能培训补贴", "灵活就业社保补贴", "劳动争议仲裁"),
          ("申请", "办理", "领取", "认定", "登记", "申报"),
          ("居民身份证", "营业执照", "培训合格证书", "劳动合同"), ("失业证", "劳动仲裁", "欠薪")),
    Topic("税务", "税务局",
          ("个人所得税", "专项附加扣除", "增值税发票", "车船税", "契税", "房产税"),
          ("申报", "缴纳", "退税", "汇算", "开具", "减免"),
          ("居民身份证", "完税证明", "购房发票", "银行卡"), ("个税", "交税", "退税")),
    Topic("交通出行", "交通运输局",
          ("机动车驾驶证", "机动车行驶证", "交通违法处理", "网络预约出租汽车", "公交线路", "电动自行车登记"),
          ("换领", "补领", "处理", "投诉", "查询", "办理"),
          ("居民身份证", "驾驶证", "体检证明", "购车发票"), ("驾照", "违章", "网约车", "电动车")),
    Topic("水电燃气", "城市管理局",
          ("供水", "燃气开户", "集中供热", "用电报装", "水费", "燃气安全检查"),
          ("报修", "开户", "缴费", "过户", "停用", "投诉"),
          ("房屋产权证明", "居民身份证", "购房合同"), ("停水", "没电", "天然气", "暖气")),
    Topic("市场监管", "市场监督管理局",
          ("营业执照", "个体工商户", "食品经营许可证", "消费投诉", "商标注册", "企业年报"),
          ("办理", "变更", "注销", "投诉", "申请", "年报"),
          ("居民身份证", "经营场所证明", "公司章程"), ("执照", "个体户", "投诉商家")),
    Topic("卫生健康", "卫生健康委员会",
          ("出生医学证明", "预防接种", "独生子女父母奖励", "母婴保健", "生育登记", "健康证"),
          ("办理", "补发", "预约", "申请", "登记", "查询"),
          ("居民身份证", "结婚证", "出生医学证明", "预防接种证"), ("出生证", "打疫苗", "独生子女证")),
    Topic("住房保障", "住房和城乡建设局",
          ("公共租赁住房", "廉租住房", "棚户区改造", "住房租赁补贴", "经济适用住房", "房屋征收补偿"),
          ("申请", "轮候", "分配", "退出", "审核", "补偿"),
          ("居民户口簿", "收入证明", "住房情况证明"), ("公租房", "廉租房", "拆迁", "棚改")),
)

DISTRICTS = ("东城区", "西城区", "南湖区", "北塘区", "高新区", "经开区", "滨江区", "临港区", "清河县", "石门县")
QUESTION_TEMPLATES = (
    "{matter}{action}需要哪些材料",
    "如何{action}{matter}",
    "{district}{matter}在哪里{action}",
    "{matter}{action}的条件是什么",
    "{matter}{action}需要多长时间",
    "{matter}可以网上{action}吗",
    "{matter}{action}流程是怎样的",
)
SIMILAR_TEMPLATES = (
    "{colloquial}怎么{action}",
    "{colloquial}{action}要带什么",
    "想{action}{colloquial}去哪里",
    "{matter}{action}要多久",
)
ANSWER_SENTENCES = (
    "申请人可持{material}和{material2}到{district}政务服务中心{department}窗口办理{matter}{action}。",
    "符合条件的，{department}自受理之日起{days}个工作日内办结，材料不全的一次性告知需要补正的内容。",
    "也可以通过“{city}政务服务网”或“{city}通”APP在线申请{matter}{action}，全程网办无需到现场。",
    "办理{matter}{action}不收取任何费用，如需邮寄可选择到付。",
    "委托他人代办的，还需提供委托书和受托人的{material}。",
    "根据《{city}{matter}管理办法》第{article}条规定，{action}申请应当在{days}日内提出，逾期按相关规定处理。",
    "窗口办公时间为工作日上午9:00至12:00、下午13:30至17:00，节假日不办公。",
    "如对办理结果有异议，可在收到决定之日起60日内申请行政复议，或者6个月内提起行政诉讼。",
    "{matter}{action}完成后，可通过{city}通APP或拨打12345热线查询办理进度。",
    "{district}范围内的{matter}业务已实行“一窗受理、集成服务”，同一事项不再要求重复提交{material}。",
)
CITY = "江城"
FILLER_WORDS = ("办理", "申请", "材料", "需要", "时间", "地点", "流程", "条件", "费用", "网上", "窗口", "电话")


def _answer(rng: random.Random, topic: Topic, matter: str, action: str, district: str, target: int = 420) -> str:
    sentences: list[str] = []
    order = list(range(len(ANSWER_SENTENCES)))
    rng.shuffle(order)
    length = 0
    for index in order:
        sentence = ANSWER_SENTENCES[index].format(
            material=rng.choice(topic.materials), material2=rng.choice(topic.materials), district=district,
            department=district + topic.department, matter=matter, action=action, days=rng.choice((3, 5, 7, 10, 15, 20)),
            city=CITY, article=rng.randint(3, 40),
        )
        sentences.append(sentence)
        length += len(sentence)
        if length >= target:
            break
    return "".join(sentences)


def generate(n: int, seed: int = 12345, today: date = date(2024, 6, 1)) -> Iterator[SearchDocument]:
    rng = random.Random(seed)
    for entry_id in range(1, n + 1):
        topic_index = rng.randrange(len(TOPICS))
        topic = TOPICS[topic_index]
        matter, action = rng.choice(topic.matters), rng.choice(topic.actions)
        district_index = rng.randrange(len(DISTRICTS))
        district = DISTRICTS[district_index]
        question = rng.choice(QUESTION_TEMPLATES).format(matter=matter, action=action, district=district)
        similar = tuple(
            rng.choice(SIMILAR_TEMPLATES).format(colloquial=rng.choice(topic.colloquial), matter=matter, action=action)
            for _ in range(rng.randint(1, 3))
        )
        roll = rng.random()
        if roll < 0.03:
            effective, expires = today - timedelta(days=800), today - timedelta(days=rng.randint(1, 300))
        elif roll < 0.05:
            effective, expires = today + timedelta(days=rng.randint(1, 300)), None
        else:
            effective = today - timedelta(days=rng.randint(1, 2000))
            expires = today + timedelta(days=rng.randint(1, 900)) if rng.random() < 0.2 else None
        matter_index = topic.matters.index(matter)
        unit_code = f"U{district_index:02d}{topic_index:02d}"
        yield SearchDocument(
            entry_id=entry_id,
            question=question,
            similar_questions=similar,
            keywords=(matter, action + matter),
            answer=_answer(rng, topic, matter, action, district),
            category_path=(1000 + topic_index, 100_000 + topic_index * 100 + matter_index,
                           10_000_000 + topic_index * 10_000 + matter_index * 100 + topic.actions.index(action)),
            unit_code=unit_code,
            effective_on=effective,
            expires_on=expires,
            payload={"unit_name": district + topic.department, "category_name": matter,
                     "effective_on": effective.isoformat(), "expires_on": expires.isoformat() if expires else None},
        )


def queries(count: int, seed: int = 54321) -> list[str]:
    """Operator-style queries of 2-4 words: matters, actions, colloquial words, fillers."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        topic = rng.choice(TOPICS)
        words = [rng.choice(topic.matters + topic.colloquial), rng.choice(topic.actions)]
        for _ in range(rng.randint(0, 2)):
            words.append(rng.choice(topic.materials + FILLER_WORDS + DISTRICTS))
        rng.shuffle(words[1:])
        out.append(" ".join(words))
    return out
