"""Billing settings from the environment: read as documented, a bad one is one clear line."""

from __future__ import annotations

import pytest

from magpie.config import ConfigError, load_settings


def test_billing_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLING_PRICES", '{"offline": {"output": 100}}')
    monkeypatch.setenv("BILLING_PACKAGES", "250, 50,100,50")
    monkeypatch.setenv("BILLING_FREE_DAILY", "0")
    settings = load_settings(env_file=None)
    assert settings.billing_packages == [50, 100, 250]
    assert settings.billing_free_daily == 0
    assert settings.billing_prices == '{"offline": {"output": 100}}'


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("BILLING_PRICES", '{"offline": {"output": 1.5}}', "prices are whole credits"),
        ("BILLING_PRICES", "not json", "not JSON"),
        ("BILLING_PACKAGES", "0,50", "expected Stars amounts from 1 to 100000"),
        ("BILLING_FREE_DAILY", "-1", "BILLING_FREE_DAILY="),
    ],
)
def test_a_bad_billing_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(env_file=None)
    assert said in str(error.value) and "\n" not in str(error.value)
