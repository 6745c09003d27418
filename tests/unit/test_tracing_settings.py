"""The OTEL_* settings: tracing is off unless an exporter is named, OTEL_SDK_DISABLED wins,
and malformed values are refused with the setting's name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import sampling

from core.settings import ConfigurationError, Settings, load_settings
from core.tracing import otlp_traces_url, sampler_of


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def problems_of(**overrides: object) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env_file=None, **overrides)
    return caught.value.problems


def test_tracing_is_off_by_default() -> None:
    assert not load_settings(_env_file=None).tracing_enabled


def test_an_exporter_from_the_environment_turns_tracing_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.01")

    settings = load_settings(_env_file=None)

    assert settings.tracing_enabled
    assert settings.otel_traces_sampler_arg == 0.01


def test_otel_sdk_disabled_turns_tracing_off_whatever_the_exporter() -> None:
    settings = load_settings(_env_file=None, otel_traces_exporter="otlp", otel_sdk_disabled=True)

    assert not settings.tracing_enabled


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("otel_traces_exporter", "jaeger"),
        ("otel_traces_sampler", "sometimes"),
        ("otel_traces_sampler_arg", "1.5"),
        ("otel_exporter_otlp_endpoint", "collector:4318"),
        ("otel_service_name", ""),
    ],
)
def test_a_malformed_otel_setting_is_refused_by_name(setting: str, value: str) -> None:
    problems = problems_of(**{setting: value})

    assert any(setting.upper() in problem for problem in problems), problems


def test_the_traces_path_is_added_to_the_base_endpoint() -> None:
    assert otlp_traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"


def test_a_parent_based_ratio_sampler_follows_the_parent_and_samples_roots_by_ratio() -> None:
    sampler = sampler_of("parentbased_traceidratio", 0.01)

    assert isinstance(sampler, sampling.ParentBased)
    assert "TraceIdRatioBased{0.01}" in sampler.get_description()  # type: ignore[no-untyped-call]


def test_a_plain_sampler_ignores_the_parent() -> None:
    assert sampler_of("always_off", 1.0) is sampling.ALWAYS_OFF
