"""Help at submission: warnings that guide a maintainer, never a wall.

Pure functions over a proposal; the duplicate check takes its candidates from
the caller so it can use the database now and the search index later.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from kb.proposal import Proposal

# 鲁政办字〔2021〕126号 with 〔〕, [], (), 【】, （） or ［］ around the year.
_DOC_NUMBER = re.compile(
    r"^(?P<prefix>[\u4e00-\u9fffA-Za-z]{2,20})\s*[〔\[(（【［](?P<year>(19|20)\d{2})[〕\])）】］]\s*"
    r"第?(?P<seq>\d{1,5})\s*号$")

LONG_PARAGRAPH_CHARS = 300


@dataclass(frozen=True)
class Warning:
    code: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


def question_key(question: str) -> str:
    """Fold a question for exact-duplicate detection: width, case, spaces, punctuation."""
    text = unicodedata.normalize("NFKC", question).lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "S", "C")))[:500]


def normalize_doc_number(raw: str) -> str | None:
    """鲁政办字[2021]126号 → 鲁政办字〔2021〕126号; None when it does not look like a 文号."""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    # NFKC turns 〔〕 into plain brackets only for some fonts' variants; accept all.
    match = _DOC_NUMBER.match(text)
    if not match:
        return None
    return f"{match['prefix']}〔{match['year']}〕{int(match['seq'])}号"


def is_long_unstructured(answer: str) -> bool:
    """Art. 8 asks for no 文段式/篇幅式 answers: one long block without breaks or numbering."""
    text = answer.strip()
    if len(text) < LONG_PARAGRAPH_CHARS:
        return False
    has_breaks = "\n" in text
    has_numbering = bool(re.search(r"(^|[\s。；;])([一二三四五六七八九十]+、|\d+[.、．)）]|（[一二三四五六七八九十\d]+）)", text))
    return not (has_breaks or has_numbering)


def check_proposal(proposal: Proposal, *, duplicate_questions: Sequence[tuple[int, str]] = (),
                   repealed_numbers: AbstractSet[str] = frozenset()) -> list[Warning]:
    warnings: list[Warning] = []
    for field, label in (("question", "问题"), ("answer", "答案"), ("category_id", "分类"),
                         ("effective_on", "生效日期")):
        if not proposal.value(field):
            warnings.append(Warning("missing_field", field, f"尚未填写{label}，提交审核前须补全"))
    for entry_id, question in duplicate_questions:
        warnings.append(Warning("duplicate_question", "question",
                                f"知识库中已有相同或相近的问题（知识 {entry_id}：{question}），请确认是否重复"))
    raw_number = proposal.value("policy_number")
    if raw_number:
        normalized = normalize_doc_number(raw_number)
        if normalized is None:
            warnings.append(Warning("doc_number_format", "policy_number",
                                    f"文号“{raw_number}”格式不规范，应类似“鲁政办字〔2021〕126号”"))
        elif normalized in repealed_numbers:
            warnings.append(Warning("cites_repealed_policy", "policy_number",
                                    f"引用的文件 {normalized} 已废止或修订，请核实政策依据"))
    answer = proposal.value("answer") or ""
    if is_long_unstructured(answer):
        warnings.append(Warning("long_paragraph", "answer",
                                "答案为一整段长文，请分条、精简表述（避免文段式、篇幅式答案）"))
    return warnings
