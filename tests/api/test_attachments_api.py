"""Basis documents: uploaded to a change request, published with its version, found by their text, read like the entry.

Every test runs on both stores: the local file system, and an S3-compatible
object store (moto's server, started as its own process on loopback and
reached through boto3 over HTTP).
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from docx import Document

from kb.storage import LocalFileStore, open_store
from tests.support.factories import ALL_CHECKS_PASS

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose text layer says `text` (ASCII; Helvetica)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def docx_with_text(*paragraphs: str) -> bytes:
    document = Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3-compatible server in a process of its own, on loopback."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def store(request, app, tmp_path, monkeypatch):
    """The app's attachment store, one backend per run, built from settings as the service builds it."""
    if request.param == "local":
        built = open_store("local", directory=str(tmp_path / "files"))
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            monkeypatch.setenv(name, value)
        bucket = f"kb-{os.getpid()}-{time.monotonic_ns()}"
        built = open_store("s3", directory="", bucket=bucket, endpoint_url=endpoint, region="us-east-1")
        built.client.create_bucket(Bucket=bucket)
    app.extensions["kb"].attachments = built
    return built


def _draft(people, caller="maint_a", **proposal):
    body = {"question": "城乡居民如何申请临时救助？", "answer": "1. 向户籍所在地街道提出申请；\n2. 提交身份证明。",
            "keywords": ["临时救助"], "category_id": people.categories["社会民生"], "effective_on": "2026-01-01",
            "format": "document", **proposal}
    r = getattr(people, caller).post("/api/v1/change-requests", json={"kind": "new", "proposal": body})
    assert r.status_code == 201, r.json
    return r.json


def _attach(caller, cr_id, data, name):
    return caller.post(f"/api/v1/change-requests/{cr_id}/attachments", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _carry_through(people, cr_id, maintainer="maint_a", reviewer="rev_a"):
    getattr(people, maintainer).post(f"/api/v1/change-requests/{cr_id}/submit", json={})
    getattr(people, reviewer).post(f"/api/v1/change-requests/{cr_id}/unit-review",
                                   json={"approve": True, "checks": ALL_CHECKS_PASS})
    r = people.office.post(f"/api/v1/change-requests/{cr_id}/office-review", json={"decision": "publish"})
    assert r.status_code == 200, r.json
    return r.json


def test_files_are_published_with_the_version_counted_and_found_by_their_text(people, store):
    cr = _draft(people)
    docx = docx_with_text("历城区城乡居民临时救助审批暂行办法", "第一条 遭遇突发性困难的家庭可申请临时救助。")
    r = _attach(people.maint_a, cr["id"], docx, "临时救助办法.docx")
    assert r.status_code == 201, r.json
    assert r.json["media_type"].endswith("wordprocessingml.document") and r.json["has_text"]
    pdf = pdf_with_text("Licheng emergency relief approval measures")
    assert _attach(people.maint_a, cr["id"], pdf, "办法.pdf").json["has_text"]
    assert [a["file_name"] for a in people.maint_a.get(f"/api/v1/change-requests/{cr['id']}/attachments").json["items"]] \
        == ["临时救助办法.docx", "办法.pdf"]

    entry_id = _carry_through(people, cr["id"])["entry_id"]
    entry = people.operator.get(f"/api/v1/knowledge/{entry_id}").json
    assert entry["policy_attachments"] == 2  # Art. 9(4): the number of files
    files = people.operator.get(f"/api/v1/knowledge/{entry_id}/attachments").json["items"]
    assert [f["file_name"] for f in files] == ["临时救助办法.docx", "办法.pdf"]
    download = people.operator.get(f"/api/v1/attachments/{files[0]['id']}")
    assert download.status_code == 200 and download.data == docx
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]

    hits = people.operator.get("/api/v1/search", query_string={"q": "突发性困难"}).json["hits"]
    assert [h["entry_id"] for h in hits][:1] == [entry_id]
    assert "<em>" in "".join(hits[0]["highlights"].values())
    hits = people.operator.get("/api/v1/search", query_string={"q": "emergency relief"}).json["hits"]
    assert entry_id in [h["entry_id"] for h in hits]


def test_a_new_version_keeps_the_old_files_and_the_old_version_keeps_its_list(people, store):
    cr = _draft(people)
    _attach(people.maint_a, cr["id"], pdf_with_text("first file"), "一.pdf")
    entry_id = _carry_through(people, cr["id"])["entry_id"]
    modify = people.maint_a.post("/api/v1/change-requests", json={
        "kind": "modify", "entry_id": entry_id, "base_version": 1, "proposal": {"answer": "1. 新的办理方式。"}}).json
    listed = people.maint_a.get(f"/api/v1/change-requests/{modify['id']}/attachments").json["items"]
    assert [(a["file_name"], a["inherited"]) for a in listed] == [("一.pdf", True)]
    assert _attach(people.maint_a, modify["id"], PNG, "照片.png").json["media_type"] == "image/png"
    _carry_through(people, modify["id"])
    now = people.office.get(f"/api/v1/knowledge/{entry_id}/attachments").json["items"]
    before = people.office.get(f"/api/v1/knowledge/{entry_id}/attachments?version=1").json["items"]
    assert [a["file_name"] for a in now] == ["一.pdf", "照片.png"] and [a["file_name"] for a in before] == ["一.pdf"]
    assert people.operator.get(f"/api/v1/knowledge/{entry_id}/attachments?version=1").status_code == 403


@pytest.mark.parametrize("data, name", [
    (b"just some text, not a PDF", "办法.pdf"), (b"MZ\x90\x00 an executable", "照片.png"),
    (b"PK\x03\x04 not a zip at all", "表格.xlsx"),
])
def test_the_type_is_judged_by_content_not_by_name(people, store, data, name):
    cr = _draft(people)
    r = _attach(people.maint_a, cr["id"], data, name)
    assert r.status_code == 422 and "按文件内容判断" in r.json["errors"]["file"]


def test_an_oversized_file_is_a_413_and_nothing_is_kept(app, people, store):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    cr = _draft(people)
    r = _attach(people.maint_a, cr["id"], pdf_with_text("x" * 2000), "大.pdf")
    assert r.status_code == 413 and r.json["code"] == "attachment_too_large"
    assert people.maint_a.get(f"/api/v1/change-requests/{cr['id']}/attachments").json["items"] == []


def test_downloads_are_authorized_like_the_entry(people, store):
    cr = _draft(people)
    file_id = _attach(people.maint_a, cr["id"], PNG, "照片.png").json["id"]
    assert people.operator.get(f"/api/v1/attachments/{file_id}").status_code == 404  # a draft's file
    assert people.maint_b.get(f"/api/v1/attachments/{file_id}").status_code == 404
    assert people.rev_a.get(f"/api/v1/attachments/{file_id}").status_code == 200
    assert people.office.get(f"/api/v1/attachments/{file_id}").status_code == 200
    assert people.scorer.get(f"/api/v1/attachments/{file_id}").status_code == 403
    assert _attach(people.maint_b, cr["id"], PNG, "照片.png").status_code == 403
    assert people.operator.get(f"/api/v1/change-requests/{cr['id']}/attachments").status_code == 403

    future = _draft(people, question="明年起如何申请？", effective_on="2030-01-01")
    future_file = _attach(people.maint_a, future["id"], PNG, "照片.png").json["id"]
    entry_id = _carry_through(people, future["id"])["entry_id"]
    assert people.operator.get(f"/api/v1/attachments/{future_file}").status_code == 404  # not in effect yet
    assert people.operator.get(f"/api/v1/knowledge/{entry_id}/attachments").status_code == 404
    assert people.maint_a.get(f"/api/v1/attachments/{future_file}").status_code == 200


def test_a_drafts_file_can_be_removed_and_a_published_request_takes_no_more(people, store):
    cr = _draft(people)
    file_id = _attach(people.maint_a, cr["id"], PNG, "照片.png").json["id"]
    assert people.maint_a.delete(f"/api/v1/change-requests/{cr['id']}/attachments/{file_id}").status_code == 204
    assert people.maint_a.get(f"/api/v1/change-requests/{cr['id']}/attachments").json["items"] == []
    assert people.office.get(f"/api/v1/attachments/{file_id}").status_code == 404
    if isinstance(store, LocalFileStore):
        assert not [p for p in store.root.rglob("*") if p.is_file()]
    _carry_through(people, cr["id"])
    r = _attach(people.maint_a, cr["id"], PNG, "照片.png")
    assert r.status_code == 409 and r.json["code"] == "invalid_transition"


def test_an_object_store_that_does_not_answer_is_a_503_and_nothing_is_stored(people, app, monkeypatch):
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    app.extensions["kb"].attachments = open_store("s3", directory="", bucket="kb-gone", endpoint_url=dead,
                                                  region="us-east-1")
    cr = _draft(people)
    r = _attach(people.maint_a, cr["id"], pdf_with_text("relief measures"), "办法.pdf")
    assert r.status_code == 503 and r.json["code"] == "store_unavailable" and "稍后" in r.json["message"]
    assert people.maint_a.get(f"/api/v1/change-requests/{cr['id']}/attachments").json["items"] == []
