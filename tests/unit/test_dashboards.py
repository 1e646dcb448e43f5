"""The sample Grafana dashboard and the alert rules use only metrics the app exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import Counter, Histogram

from app import metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "okr-checkin.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
_NAME = re.compile(r"\bokr_[a-z_]+\b")


def exported() -> set[str]:
    """Every sample name the app's metrics produce (prometheus_client's suffixes)."""
    names = {metrics.PENDING, metrics.LAG}
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            names.add(value._name + "_total")
        elif isinstance(value, Histogram):
            names |= {value._name + s for s in ("_bucket", "_sum", "_count")}
    return names


def used(expressions: list[str]) -> set[str]:
    return {name for e in expressions for name in _NAME.findall(e)}


def dashboard_expressions() -> list[str]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in data["panels"] for t in p["targets"]]


def test_names_lists_every_exported_family() -> None:
    families = {n.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
                for n in exported() if not n.endswith("_total")}
    counters = {n for n in exported() if n.endswith("_total")}
    assert families | counters == metrics.NAMES


def test_dashboard_uses_only_exported_metrics() -> None:
    expressions = dashboard_expressions()
    assert len(expressions) >= 8
    names = used(expressions)
    assert names and names <= exported(), names - exported()
    # Every metric the app exports has a panel.
    assert {n.removesuffix("_bucket").removesuffix("_count") for n in names} >= {
        n.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
        for n in exported()} - {"okr_tick_duration_seconds_sum",
                                "okr_http_request_duration_seconds_sum"}


def test_the_database_gauges_are_never_summed_across_processes() -> None:
    """Every scraped process reports the same install-wide backlog."""
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    for expr in dashboard_expressions() + [r["expr"] for r in rules]:
        for gauge in (metrics.PENDING, metrics.LAG):
            if gauge in expr:
                assert re.search(rf"max(\s+by\s*\([^)]*\))?\s*\(\s*{gauge}", expr), expr
    assert data["panels"]


def test_two_alert_rules_on_lag_and_failures() -> None:
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    assert [r["alert"] for r in rules] == ["OkrDeliveryLagHigh", "OkrDeliveryFailures"]
    for rule in rules:
        assert rule["for"] and rule["labels"]["severity"] and rule["annotations"]["summary"]
    names = used([r["expr"] for r in rules])
    assert names == {"okr_delivery_lag_seconds", "okr_deliveries_total"}
    assert names <= exported()
    states = set(re.findall(r'state=~"([^"]+)"', rules[1]["expr"]))
    assert {"failed|missed|unknown"} <= states
