"""deploy/grafana/agora.json and deploy/prometheus/alerts.yml: each query is PromQL that
parses (promql-parser, the Rust parser Prometheus-compatible tools use), and names only
series the server exports (the registry's families with their sample suffixes)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from core.metrics import exported_metric_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "agora.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"

# Grafana's variables, as Grafana would fill them in, so that the query parses as PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$job": ".*"}
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
SEVERITIES = {"page", "ticket"}


def metric_names(expression: str) -> set[str]:
    """The metric names an expression selects (``name{…}`` or ``{__name__="name"}``)."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(
                matcher.value for matcher in node.matchers.matchers if matcher.name == "__name__"
            )
        return True

    promql_parser.walk(promql_parser.parse(expression), visit)
    return names


def with_grafana_variables(expression: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expression = expression.replace(variable, value)
    assert "$" not in expression, f"an unknown Grafana variable in {expression!r}"
    return expression


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def dashboard_queries() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard()["panels"]
        for target in panel.get("targets", ())
    ]


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


# --- the helpers themselves -------------------------------------------------------------


def test_metric_names_finds_every_selector_of_an_expression() -> None:
    expression = (
        'sum(rate(a_total{x="1"}[5m])) / on() group_left b'
        ' + histogram_quantile(0.9, rate({__name__="c_bucket"}[1m]))'
    )

    assert metric_names(expression) == {"a_total", "b", "c_bucket"}


def test_a_malformed_expression_does_not_parse() -> None:
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        promql_parser.parse("sum(rate(http_requests_total[5m])")


def test_the_exported_names_carry_the_suffixes_prometheus_stores() -> None:
    names = exported_metric_names()

    assert {"http_requests_total", "event_loop_lag_seconds_bucket"} <= names
    assert {"event_loop_lag_seconds_sum", "event_loop_lag_seconds_count"} <= names
    assert {"db_pool_waiting", "process_cpu_seconds_total", "process_open_fds"} <= names
    assert "http_requests" not in names


# --- the dashboard ----------------------------------------------------------------------


def test_the_dashboard_is_grafana_json_with_unique_panel_ids() -> None:
    board = dashboard()

    assert board["uid"] == "agora-overview"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24 for panel in board["panels"])


@pytest.mark.parametrize(("title", "expression"), dashboard_queries())
def test_every_dashboard_query_parses_and_names_exported_metrics(
    title: str, expression: str
) -> None:
    names = metric_names(with_grafana_variables(expression))

    assert names, f"{title}: selects no metric"
    assert names <= exported_metric_names(), f"{title}: {names - exported_metric_names()}"


def test_the_dashboard_shows_each_subsystem() -> None:
    shown = set().union(*(metric_names(with_grafana_variables(e)) for _, e in dashboard_queries()))

    assert {
        "graphql_operation_duration_seconds_bucket",  # latency per operation
        "graphql_errors_total",  # error codes
        "graphql_query_cost_bucket",  # cost
        "cost_refusals_total",
        "db_pool_connections",  # pool
        "db_pool_waiting",
        "event_loop_lag_seconds_bucket",  # loop lag
        "python_gc_pause_seconds_bucket",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "subscription_connections_active",  # subscriptions
        "subscriptions_active",
        "subscription_deliveries_total",
        "subscription_drops_total",
        "job_queue_depth",  # jobs
        "jobs_in_process_pending",
        "jobs_failed_total",
        "job_retries_total",
        "cache_lookups_total",
        "login_failures_total",
        "attempts_throttled_total",
    } <= shown


# --- the alert rules --------------------------------------------------------------------


def test_the_rule_file_has_the_structure_prometheus_loads() -> None:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))

    assert set(document) == {"groups"}
    groups = [group["name"] for group in document["groups"]]
    assert len(groups) == len(set(groups))
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules"}
        assert group["rules"], group["name"]
    alerts = [rule["alert"] for rule in alert_rules()]
    assert len(alerts) == len(set(alerts))


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_is_well_formed(rule: dict[str, Any]) -> None:
    assert set(rule) <= RULE_KEYS
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"])
    if "for" in rule:  # optional: without it, the alert fires at the first evaluation
        promql_parser.parse_duration(rule["for"])
    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["annotations"]["summary"]
    assert all(isinstance(value, str) for value in rule["annotations"].values())


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_expression_parses_and_names_exported_metrics(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])

    assert names
    assert names <= exported_metric_names(), names - exported_metric_names()


def test_the_alerts_cover_what_operators_are_paged_for() -> None:
    alerts = {rule["alert"]: rule["expr"] for rule in alert_rules()}

    assert {
        "AgoraHighHTTPErrorRate",
        "AgoraLatencySLOBurnFast",
        "AgoraLatencySLOBurnSteady",
        "AgoraLatencySLOBurnSlow",
        "AgoraReadinessFlapping",
        "AgoraJobQueueBacklog",
        "AgoraDBPoolSaturated",
    } <= set(alerts)
    # Multi-window burn rates: each alert compares a long and a short window.
    for name in ("AgoraLatencySLOBurnFast", "AgoraLatencySLOBurnSteady"):
        windows = set(re.findall(r"\[(\w+)\]", alerts[name]))
        assert len(windows) == 2, (name, windows)
