"""The deployment files agree with the app: Kubernetes probes and ports, the compose file's
variables and health checks, the image's port. (`.ci/run` also validates them with
`docker-compose config` and `kubernetes-validate`.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import ScoringSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
# What the compose file and .env.example may set besides the app's own settings.
EXTRA_VARIABLES = {"POSTGRES_PASSWORD", "PROMETHEUS_MULTIPROC_DIR"}
_ASSIGNED = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def documents() -> list[dict[str, Any]]:
    docs = []
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            assert isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"), path
            docs.append(doc)
    return docs


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in documents() if d["kind"] == kind]


def configured_port() -> int:
    (config,) = of_kind("ConfigMap")
    values = {k: str(v) for k, v in config["data"].items()}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    return settings.port


def app_settings() -> set[str]:
    """The variables the app reads (not the removed ones it only refuses, ``removed_*``)."""
    return {f.alias for name, f in Settings.model_fields.items()
            if f.alias and not name.startswith("removed_")}


def known_variables() -> set[str]:
    scoring = {f.alias or f"OKR_SCORING_{name.upper()}"
               for name, f in ScoringSettings.model_fields.items()}
    return app_settings() | scoring | EXTRA_VARIABLES


def env_example() -> tuple[set[str], set[str]]:
    """(variables set, variables set or shown commented out) in .env.example."""
    text = (ROOT / ".env.example").read_text()
    found = _ASSIGNED.findall(text)
    return {name for comment, name in found if not comment}, {name for _, name in found}


def test_every_kind_the_deployment_needs_is_there() -> None:
    kinds = sorted(d["kind"] for d in documents())
    assert kinds == sorted(["ConfigMap", "Deployment", "Deployment", "Ingress", "Job",
                            "PodDisruptionBudget", "Secret", "Service"])
    serve, worker = (d for d in of_kind("Deployment") if d["metadata"]["name"].endswith(
        "serve")), (d for d in of_kind("Deployment") if d["metadata"]["name"].endswith("worker"))
    assert next(serve)["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "okr", "serve", "--no-scheduler"]
    assert next(worker)["spec"]["template"]["spec"]["containers"][0]["command"][:2] == [
        "okr", "worker"]
    (job,) = of_kind("Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["okr", "db",
                                                                          "upgrade"]


@pytest.mark.parametrize("name", ["okr-checkin-serve", "okr-checkin-worker"])
def test_probes_ask_the_apps_health_route_on_its_port(name: str) -> None:
    (deployment,) = [d for d in of_kind("Deployment") if d["metadata"]["name"] == name]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    port = configured_port()
    assert [p["containerPort"] for p in container["ports"]] == [port]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": port}, probe
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    if "worker" in container["command"]:
        assert container["command"][-2:] == ["--port", str(port)]


def test_the_health_route_is_the_one_the_app_serves() -> None:
    from app.bootstrap import bootstrap
    from app.metrics_http import standalone_app
    from app.web import create_web_app

    container = bootstrap(Settings(_env_file=None, DATABASE_URL="sqlite://"))  # type: ignore[call-arg]
    try:
        for web in (create_web_app(container), standalone_app(container)):
            assert "/healthz" in {r.rule for r in web.url_map.iter_rules()}
    finally:
        container.close()


def test_every_pod_runs_as_non_root_with_resources() -> None:
    pods = [d["spec"]["template"]["spec"] for d in of_kind("Deployment") + of_kind("Job")]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert "memory" in container["resources"]["limits"]
            assert {e.get("secretRef", e.get("configMapRef", {})).get("name")
                    for e in container["envFrom"]} == {"okr-checkin"}
    assert "--uid 10001" in (ROOT / "Dockerfile").read_text()


def test_the_secret_example_names_only_settings_and_holds_no_real_secret() -> None:
    (secret,) = of_kind("Secret")
    assert set(secret["stringData"]) <= app_settings()
    assert all("replace-me" in v or "change-me" in v for v in secret["stringData"].values())


def test_compose_uses_only_variables_of_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    set_there, _ = env_example()
    assert referenced, "the compose file interpolates its password and port"
    assert referenced <= set_there, referenced - set_there
    compose = yaml.safe_load(text)
    for name in ("serve", "worker"):
        service = compose["services"][name]
        assert service["env_file"] == ".env"
        assert service["depends_on"]["db"] == {"condition": "service_healthy"}
        assert set(service["environment"]) <= app_settings()
        check = " ".join(service["healthcheck"]["test"])
        assert "/healthz" in check and "OKR_PORT" in check
    assert compose["services"]["worker"]["depends_on"]["serve"] == {
        "condition": "service_healthy"}
    db = compose["services"]["db"]
    assert db["image"] == "postgres:15" and "healthcheck" in db
    assert any(v.startswith("pgdata:") for v in db["volumes"]) and "pgdata" in compose["volumes"]


def test_env_example_covers_every_setting_and_names_no_other() -> None:
    _, shown = env_example()
    assert app_settings() - shown == set()
    assert shown - known_variables() == set()
    text = (ROOT / ".env.example").read_text()
    assert not re.search(r"xox[bpa]-[0-9]", text)  # no real-looking token


def test_the_image_honours_the_port_setting() -> None:
    text = (ROOT / "Dockerfile").read_text()
    healthcheck = text.split("HEALTHCHECK", 1)[1].split("\n#", 1)[0]
    command = [line for line in text.splitlines() if line.startswith("CMD")]
    assert "/healthz" in healthcheck and "OKR_PORT" in healthcheck
    assert "3000" not in healthcheck and command == ['CMD ["okr", "serve"]']
    assert "OKR_PORT=3000" in text  # the default, set once
