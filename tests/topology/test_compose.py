"""docker-compose.yml runs the production topology with every image pinned; the proxy, the
Prometheus scrape config and the alert rules fit it. (No container engine here: the files are
checked, not run.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from dpa_service.config import documented_variables

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_two_replicas_behind_a_proxy_two_workers_and_pins_every_image() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, service in services.items():
        image = service.get("image", "")
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), (name, image)
        assert not image.endswith(":latest"), name
    assert {"postgres", "redis", "s3", "s3-init", "mail", "proxy", "migrate"} <= set(services)
    replicas = [n for n, s in services.items() if s.get("command") == ["dpa-service", "serve"]]
    assert replicas == ["api-1", "api-2"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"][:2] == ["dpa-service", "worker"]
    assert services["worker"]["environment"]["DPA_METRICS_PORT"] == "9101"
    known = set(documented_variables())
    for name, service in services.items():
        env = service.get("environment") or {}
        unknown = {k for k in env if k.startswith("DPA_")} - known
        assert not unknown, (name, unknown)
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server api-1:8000" in nginx and "server api-2:8000" in nginx
    assert "location ~ ^/metrics/*$ { deny all; }" in nginx


def test_the_proxy_hides_metrics_however_spelled_and_sets_the_client_address_itself() -> None:
    """The replicas trust X-Forwarded-For from anyone (DPA_FORWARDED_ALLOW_IPS "*": only the
    proxy reaches them), and uvicorn then takes its first entry as the client. So the proxy
    must replace what the client sent, not append to it: `$proxy_add_x_forwarded_for` let any
    client pick its address for each request, and with it a fresh rate-limit count (signing
    codes, staff log-in, verification) and the IP recorded for a signature. And Litestar
    answers /metrics/ as /metrics, which an exact `location = /metrics` does not refuse."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["x-api"]["environment"]["DPA_FORWARDED_ALLOW_IPS"] == "*"
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "$proxy_add_x_forwarded_for" not in nginx
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    deny = re.search(r"location ~ (\S+) \{ deny all; \}", nginx)
    assert deny, nginx
    for path in ("/metrics", "/metrics/", "/metrics//"):
        assert re.search(deny.group(1), path), path
    assert not re.search(deny.group(1), "/metricsx")

    from uvicorn.middleware.proxy_headers import _TrustedHosts

    assert _TrustedHosts("*").get_trusted_client_address("6.6.6.6, 10.0.0.9")[0] == "6.6.6.6"


def test_prometheus_config_and_alerts_name_series_the_service_exports() -> None:
    from tests.topology.test_operations import SERIES

    yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    exported = {
        re.split(r"[{ ]", s)[0].removesuffix("_bucket").removesuffix("_count") for s in SERIES
    }
    exported |= {"dpa_http_requests_total", "up"}
    operations = (ROOT / "docs" / "operations.md").read_text()
    for rule in rules["groups"][0]["rules"]:
        names = set(re.findall(r"\b(dpa_[a-z_]+|up)\b", rule["expr"]))
        names = {n.removesuffix("_bucket") for n in names}
        assert names <= exported, (rule["alert"], names - exported)
        assert rule["alert"] in operations, f"docs/operations.md does not explain {rule['alert']}"
