"""deploy/: the Kubernetes manifests are valid against the Kubernetes API's JSON schemas (the
kubernetes-validate package ships them offline), agree with the code (probe paths, settings
names), commit no secret, and the Dagster chart values agree with the manifests and
dagster.yaml. `kubectl kustomize` and `helm template` run too when those tools are on PATH."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from api.routers.health import router as health_router
from mirobody_assets.settings import Settings

KUBERNETES_VERSION = "1.32"  # the oldest minor version the manifests promise to work on
# Settings that hold credentials (or URLs that embed them): only ever in the Secret.
SECRET_SETTINGS = {"DATABASE_URL", "DAGSTER_PG_URL", "REDIS_URL", "PROVIDER_CREDENTIALS"} | {
    name.upper()
    for name, field in Settings.model_fields.items()
    if field.annotation is not None and "SecretStr" in str(field.annotation)
}


@pytest.fixture(scope="module")
def deploy(project_root: Path) -> Path:
    return project_root / "deploy"


def _manifests(deploy: Path) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted((deploy / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(f"{path.name}:{d['kind']}", d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _by_kind(deploy: Path, kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in _manifests(deploy) if doc["kind"] == kind]


def test_every_manifest_is_valid_against_its_kubernetes_schema(deploy: Path) -> None:
    manifests = _manifests(deploy)
    assert {doc["kind"] for _, doc in manifests} >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "ConfigMap",
        "Job",
        "PersistentVolumeClaim",
    }
    for name, doc in manifests:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {exc.message} at {'/'.join(map(str, exc.path))}")


def test_the_schema_check_refuses_a_misspelt_field(deploy: Path) -> None:
    (deployment,) = _by_kind(deploy, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_api_probes_call_the_apis_health_routes(deploy: Path) -> None:
    routes = {route.path for route in health_router.routes}  # type: ignore[attr-defined]
    (deployment,) = _by_kind(deploy, "Deployment")
    (api,) = deployment["spec"]["template"]["spec"]["containers"]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {api[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe")} <= routes
    (hpa,) = _by_kind(deploy, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    (service,) = _by_kind(deploy, "Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_the_settings_configmap_names_only_real_settings_and_no_secret(deploy: Path) -> None:
    (config,) = _by_kind(deploy, "ConfigMap")
    keys = set(config["data"])
    known = {name.upper() for name in Settings.model_fields}
    assert keys <= known, f"not settings: {sorted(keys - known)}"
    assert not keys & SECRET_SETTINGS, sorted(keys & SECRET_SETTINGS)
    assert "JWT_SIGNING_KEY" in SECRET_SETTINGS  # the SecretStr fields were found
    assert not _by_kind(deploy, "Secret")
    # The values parse as their settings (production itself would also need the secrets).
    Settings(**{k.lower(): v for k, v in config["data"].items() if k != "ENVIRONMENT"})


def test_the_dagster_values_launch_runs_on_kubernetes_with_the_apps_settings(
    deploy: Path,
    project_root: Path,
) -> None:
    values = yaml.safe_load((deploy / "helm" / "dagster-values.yaml").read_text())
    (config,) = _by_kind(deploy, "ConfigMap")
    settings_refs = [{"name": config["metadata"]["name"]}]
    (location,) = values["dagster-user-deployments"]["deployments"]
    assert location["codeServerArgs"] == ["-m", "mirobody_assets.definitions"]
    assert (project_root / "mirobody_assets" / "definitions.py").exists()
    assert location["envConfigMaps"] == settings_refs
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert launcher["config"]["k8sRunLauncher"]["envConfigMaps"] == settings_refs
    local = yaml.safe_load((project_root / "dagster.yaml").read_text())
    assert values["concurrency"]["enabled"] is True
    assert (
        values["concurrency"]["pools"]["defaultLimit"]
        == local["concurrency"]["pools"]["default_limit"]
    )
    assert (
        values["postgresql"]["enabled"] is False
        and "postgresqlPassword" not in values["postgresql"]
    )


def test_kubectl_builds_the_kustomization(deploy: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH")
    built = subprocess.run(
        ["kubectl", "kustomize", str(deploy / "k8s")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    kinds = {d["kind"] for d in yaml.safe_load_all(built.stdout) if d}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap"} <= kinds


def test_helm_renders_the_dagster_chart_with_these_values(deploy: Path) -> None:
    helm = shutil.which("helm")
    if helm is None:
        pytest.skip("helm is not on PATH")
    found = subprocess.run(
        [helm, "show", "chart", "dagster/dagster"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if found.returncode != 0:
        pytest.skip(
            "the dagster/dagster chart is not available here (helm repo add dagster "
            "https://dagster-io.github.io/helm)"
        )
    rendered = subprocess.run(
        [
            helm,
            "template",
            "dagster",
            "dagster/dagster",
            "-f",
            str(deploy / "helm" / "dagster-values.yaml"),
            "--set",
            "postgresql.postgresqlPassword=x",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "K8sRunLauncher" in rendered.stdout


def test_every_pod_that_reads_or_writes_data_dir_mounts_the_shared_volume(deploy: Path) -> None:
    (config,) = _by_kind(deploy, "ConfigMap")
    data_dir = config["data"]["DATA_DIR"]
    (claim,) = _by_kind(deploy, "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    pods = [
        d["spec"]["template"]["spec"]
        for d in _by_kind(deploy, "Deployment") + _by_kind(deploy, "Job")
    ]
    values = yaml.safe_load((deploy / "helm" / "dagster-values.yaml").read_text())
    pods += [
        values["dagster-user-deployments"]["deployments"][0],
        values["runLauncher"]["config"]["k8sRunLauncher"],
    ]
    for pod in pods:
        mounts = (
            pod["containers"][0]["volumeMounts"] if "containers" in pod else pod["volumeMounts"]
        )
        (mount,) = [m for m in mounts if m["mountPath"] == data_dir]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
