"""Secrets sealed at rest (kb.sealing): the key setting, the key file, a key change."""
from __future__ import annotations

import stat

import pytest

from kb.sealing import SecretBox, SecretUnreadable, new_key
from service.config import Settings


def test_a_sealed_secret_holds_nothing_readable_and_opens_to_the_secret():
    box = SecretBox([new_key()])
    sealed = box.seal("whsec-南康-0001")
    assert "whsec" not in sealed and "南康" not in sealed
    assert box.seal("whsec-南康-0001") != sealed  # a fresh nonce each time: equal secrets do not show as equal
    assert box.open(sealed) == "whsec-南康-0001"


def test_another_key_does_not_open_it():
    sealed = SecretBox([new_key()]).seal("s3cret-value")
    with pytest.raises(SecretUnreadable):
        SecretBox([new_key()]).open(sealed)
    with pytest.raises(SecretUnreadable):
        SecretBox([new_key()]).open("s3cret-value")  # a value stored in clear is not taken for a sealed one


def test_a_key_change_new_key_first_then_reseal_then_the_old_key_can_go():
    old, new = new_key(), new_key()
    sealed = SecretBox([old]).seal("robot-secret")
    both = SecretBox.from_setting(f"{new}, {old}")
    assert both.open(sealed) == "robot-secret"  # the old key still opens while listed
    resealed = both.reseal(sealed)
    assert SecretBox([new]).open(resealed) == "robot-secret"
    with pytest.raises(SecretUnreadable):
        SecretBox([old]).open(resealed)


@pytest.mark.parametrize("value", ["not-a-key", "abc,", " "])
def test_a_malformed_key_stops_start_up_naming_the_setting(value):
    with pytest.raises(ValueError, match="KB_SECRETS_KEY"):
        Settings.from_env({"KB_SECRETS_KEY": value})


def test_without_the_setting_a_key_is_made_once_in_the_key_file_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "keys" / "secrets_key"
    environ = {"KB_SECRETS_KEY_FILE": str(path)}
    first = Settings.from_env(environ).secret_box
    sealed = first.seal("whsec-0001")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings.from_env(environ).secret_box  # the next start (or another worker) reads the same key
    assert again.open(sealed) == "whsec-0001"
    assert path.read_text().strip() != ""
