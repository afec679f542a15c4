"""Channels that carry reminders: e-mail over SMTP and the group robots of 企业微信 and 钉钉.

One small interface, ``send(channel, address, subject, body, key)``, raising on failure so the
queue (kb.services.oversight.deliver_due) retries. ``key`` identifies the message: the e-mail's
Message-ID is made from it, so a mail client drops a resend of the same message.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import requests

ROBOT_TIMEOUT_SECONDS = 10


class ChannelError(RuntimeError):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 25
    security: str = "none"  # none | starttls | ssl
    user: str | None = None
    password: str | None = None
    sender: str = "kb@localhost"


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """钉钉 "加签": timestamp and HMAC-SHA256(secret, "timestamp\\nsecret"), base64, URL-encoded, on the URL."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


class Sender:
    """The channels of one deployment."""

    def __init__(self, smtp: SmtpSettings, *, robot_secrets: dict[str, str] | None = None,
                 session: requests.Session | None = None):
        self.smtp = smtp
        self.robot_secrets = robot_secrets or {}  # robot URL → signing secret
        self.http = session or requests.Session()

    def __call__(self, channel: str, address: str, subject: str, body: str, key: str) -> None:
        if channel == "email":
            self.email(address, subject, body, key)
        elif channel in ("wecom", "dingtalk"):
            self.robot(channel, address, f"{subject}\n{body}" if not body.startswith(subject) else body)
        else:
            raise ChannelError(f"未知的通知渠道：{channel}")

    def email(self, to: str, subject: str, body: str, key: str) -> None:
        if not self.smtp.host:
            raise ChannelError("未配置邮件服务器（KB_SMTP_HOST）")
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        domain = self.smtp.sender.rsplit("@", 1)[-1]
        message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
        message.set_content(body)
        try:
            client: smtplib.SMTP
            if self.smtp.security == "ssl":
                client = smtplib.SMTP_SSL(self.smtp.host, self.smtp.port, timeout=30,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=30)
            with client:
                if self.smtp.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.smtp.user:
                    client.login(self.smtp.user, self.smtp.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"邮件发送失败：{exc}") from exc

    def robot(self, channel: str, url: str, text: str) -> None:
        secret = self.robot_secrets.get(url)
        target = dingtalk_signed_url(url, secret) if channel == "dingtalk" and secret else url
        try:
            response = self.http.post(target, json={"msgtype": "text", "text": {"content": text[:4000]}},
                                      timeout=ROBOT_TIMEOUT_SECONDS, allow_redirects=False)
        except requests.RequestException as exc:
            raise ChannelError(f"群机器人不可达：{exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        # Both robots answer 200 with {"errcode": 0} when the message was taken.
        if response.status_code != 200 or answer.get("errcode", 0) != 0:
            raise ChannelError(f"群机器人拒收：HTTP {response.status_code} {answer.get('errmsg', '')}".strip())
