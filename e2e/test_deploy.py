"""The deployment artefacts: the Dockerfile, docker-compose.yml (two instances with PostgreSQL
and Redis) and the Helm chart (deploy/helm/llmgate).

Neither a container engine nor Helm is available to the test suite, so what can be checked
offline is: the compose file's and the Dockerfile's structure (a distroless runtime stage that
runs nothing), the compose config validated by the real binary (`--validate_config`), the
binary's `--healthcheck` probe against a running gateway, and the chart's templates against its values (every
`.Values` path they read exists, each resource kind and API version, the HPA's `behavior` taken
from values, probes, non-root, Secret references, balanced template blocks), and the chart
rendered without Helm (`helm_render.py`, a Go-template subset) into objects checked against the
Kubernetes API schemas by kubernetes-validate (strict, offline). When `helm` is on PATH, `helm
lint` and `helm template` run too and the rendered manifests get the same checks."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import LLMGATE_BIN, ROOT

CHART = ROOT / "deploy" / "helm" / "llmgate"


def test_compose_runs_two_instances_on_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "llmgate-1", "llmgate-2"} <= set(services)
    ports = set()
    for name in ["llmgate-1", "llmgate-2"]:
        s = services[name]
        assert s["build"] == "."
        env = s["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_HOST"] == "redis" and "LITELLM_MASTER_KEY" in env
        assert s["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                   "redis": {"condition": "service_healthy"}}
        assert "/health/readiness" in " ".join(s["healthcheck"]["test"])
        assert "./deploy/config.yaml:/app/config.yaml:ro" in s["volumes"]
        ports.update(s["ports"])
    assert ports == {"4000:4000", "4001:4000"}
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_compose_config_is_valid_for_the_binary():
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    env.update({"LITELLM_MASTER_KEY": "sk-" + "a1" * 16, "REDIS_HOST": "redis",
                "DATABASE_URL": "postgresql://llmgate:llmgate@postgres:5432/llmgate"})
    out = subprocess.run([LLMGATE_BIN, "--config", str(ROOT / "deploy" / "config.yaml"), "--validate_config"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "config OK" in out.stdout
    assert "ignored" not in out.stderr, out.stderr  # every key it sets is one llmgate acts on


def test_dockerfile_is_multi_stage_distroless_non_root_with_health_checks():
    lines = [l.strip() for l in (ROOT / "Dockerfile").read_text().splitlines() if l.strip() and not l.startswith("#")]
    froms = [i for i, l in enumerate(lines) if l.startswith("FROM ")]
    assert len(froms) == 2 and lines[froms[0]].endswith(" AS build")
    assert lines[froms[1]].startswith("FROM gcr.io/distroless/cc-debian12:nonroot")
    runtime = lines[froms[1]:]
    # Nothing runs in the runtime stage: no shell there, no package manager, no curl.
    assert not [l for l in runtime if l.startswith("RUN ")], runtime
    assert "apt-get" not in " ".join(runtime) and "curl" not in " ".join(runtime)
    assert any(l.startswith("COPY --from=build ") and "llmgate" in l for l in runtime)
    assert any(l.startswith("COPY --from=build --chown=65532:65532 ") and l.endswith(" /data") for l in runtime)
    user = [l for l in runtime if l.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("0", "root")
    text = (ROOT / "Dockerfile").read_text()
    # The health check is the binary's own probe, in exec form (no shell to run a string).
    assert re.search(r'HEALTHCHECK [^\n]*\\\n\s*CMD \["/usr/local/bin/llmgate", "--healthcheck"\]', text), text
    assert 'ENTRYPOINT ["/usr/local/bin/llmgate"]' in text and "EXPOSE 4000" in text
    assert "LLMGATE_SPEND_JOURNAL_DIR=/data/journal" in text
    # The compose file probes readiness the same way.
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    test = compose["services"]["llmgate-1"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "/usr/local/bin/llmgate", "--healthcheck"] and test[3].endswith("/health/readiness")
    # The chart runs as the image's user.
    assert values()["podSecurityContext"]["runAsUser"] == 65532


def test_the_binarys_probe_against_a_running_gateway(tmp_path):
    from conftest import Gateway, free_port

    cfg = "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-x\n"
    gw = Gateway(tmp_path, cfg, env={"LLMGATE_DB_PATH": str(tmp_path / "p.db")}).wait_ready()
    probe = lambda *args, **env: subprocess.run(
        [LLMGATE_BIN, "--healthcheck", *args], capture_output=True, text=True, timeout=20,
        env={**{k: v for k, v in os.environ.items() if k not in ("PORT", "HOST")}, **env})
    try:
        port = gw.base.rsplit(":", 1)[1]
        # Default URL: this instance's liveliness on loopback, from PORT (as in the image).
        ok = probe(PORT=port, HOST="0.0.0.0")
        assert ok.returncode == 0, ok.stderr
        ok = probe(f"{gw.base}/health/readiness")
        assert ok.returncode == 0, ok.stderr
        # A path that is not 2xx, and nothing listening: exit 1 with the reason.
        bad = probe(f"{gw.base}/no-such-path")
        assert bad.returncode == 1 and "404" in bad.stderr, bad.stderr
    finally:
        gw.stop()
    down = probe(PORT=str(free_port()))
    assert down.returncode == 1 and "health/liveliness" in down.stderr, down.stderr


def values():
    return yaml.safe_load((CHART / "values.yaml").read_text())


def templates():
    return {p.name: p.read_text() for p in (CHART / "templates").iterdir()}


def test_chart_templates_read_only_values_that_exist():
    v = values()
    for name, text in templates().items():
        for path in re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text):
            node = v
            for part in path.strip(".").split("."):
                assert isinstance(node, dict) and part in node, f"{name}: .Values{path} is not in values.yaml"
                node = node[part]
        opened = len(re.findall(r"\{\{-?\s*(if|range|with|define)\b", text))
        closed = len(re.findall(r"\{\{-?\s*end\s*-?\}\}", text))
        assert opened == closed, f"{name}: {opened} blocks opened, {closed} closed"


def test_chart_resources_probes_autoscaling_and_secrets():
    t = templates()
    kinds = {n: (re.search(r"^apiVersion: (\S+)", s, re.M), re.search(r"^kind: (\S+)", s, re.M)) for n, s in t.items()}
    got = {n: (a.group(1), k.group(1)) for n, (a, k) in kinds.items() if a and k}
    assert got == {"deployment.yaml": ("apps/v1", "Deployment"), "service.yaml": ("v1", "Service"),
                   "configmap.yaml": ("v1", "ConfigMap"), "hpa.yaml": ("autoscaling/v2", "HorizontalPodAutoscaler"),
                   "pdb.yaml": ("policy/v1", "PodDisruptionBudget")}
    assert "toYaml . | nindent 4" in t["hpa.yaml"] and "with .Values.autoscaling.behavior" in t["hpa.yaml"]
    v = values()
    behavior = v["autoscaling"]["behavior"]
    for direction in ["scaleUp", "scaleDown"]:
        assert behavior[direction]["policies"] and "stabilizationWindowSeconds" in behavior[direction]
    assert v["livenessProbe"]["httpGet"]["path"] == "/health/liveliness"
    assert v["readinessProbe"]["httpGet"]["path"] == "/health/readiness"
    assert v["podSecurityContext"]["runAsNonRoot"] is True and v["podSecurityContext"]["runAsUser"] != 0
    assert "secretKeyRef" in t["deployment.yaml"]
    assert set(v["secrets"]) == {"masterKey", "saltKey", "databaseUrl", "redisUrl"}
    assert v["podDisruptionBudget"]["enabled"] is True


OVERRIDES = {"autoscaling": {"enabled": True},
             "secrets": {"masterKey": {"secretName": "llmgate", "key": "master-key"}}}


def check_rendered(docs):
    """What the chart renders with OVERRIDES, however it was rendered."""
    docs = {d["kind"]: d for d in docs}
    assert set(docs) == {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    assert docs["HorizontalPodAutoscaler"]["spec"]["behavior"] == values()["autoscaling"]["behavior"]
    env = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "LITELLM_MASTER_KEY", "valueFrom": {"secretKeyRef": {"name": "llmgate", "key": "master-key"}}} in env
    assert not [e for e in env if e["name"] in ("LITELLM_SALT_KEY", "DATABASE_URL", "REDIS_URL")]
    assert "replicas" not in docs["Deployment"]["spec"]
    assert docs["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    # The config travels whole in the ConfigMap, and the pods roll when it changes.
    assert yaml.safe_load(docs["ConfigMap"]["data"]["config.yaml"]) == values()["config"]
    pod = docs["Deployment"]["spec"]["template"]
    assert re.fullmatch(r"[0-9a-f]{64}", pod["metadata"]["annotations"]["checksum/config"])
    assert pod["spec"]["securityContext"]["runAsUser"] == 65532
    return docs


@pytest.mark.skipif(shutil.which("helm") is None, reason="helm is not installed (the offline render below ran)")
def test_chart_renders_with_helm(tmp_path):
    subprocess.run(["helm", "lint", str(CHART)], check=True)
    over = tmp_path / "over.yaml"
    over.write_text(yaml.safe_dump(OVERRIDES))
    out = subprocess.run(["helm", "template", "t", str(CHART), "-f", str(over)], check=True,
                         capture_output=True, text=True).stdout
    check_rendered([d for d in yaml.safe_load_all(out) if d])


def test_chart_renders_offline_to_manifests_valid_for_kubernetes():
    """Without Helm: the templates rendered by e2e/helm_render.py (a Go-template subset that
    refuses what it does not know), every object checked against the Kubernetes API's own
    schemas (kubernetes-validate, offline, strict: unknown fields are errors)."""
    import kubernetes_validate

    from helm_render import manifests

    version = "1.30.0"
    for over in (OVERRIDES, {}, {"podDisruptionBudget": {"maxUnavailable": 1}, "extraEnv": [{"name": "X", "value": "1"}]}):
        docs = manifests(CHART, over)
        for d in docs:
            kubernetes_validate.validate(d, version, strict=True)
        if over is OVERRIDES:
            check_rendered(docs)
        kinds = {d["kind"]: d for d in docs}
        if not over:  # the defaults: no autoscaler, a fixed replica count
            assert "HorizontalPodAutoscaler" not in kinds and kinds["Deployment"]["spec"]["replicas"] == values()["replicaCount"]
        elif "extraEnv" in over:
            assert kinds["PodDisruptionBudget"]["spec"] == {
                "maxUnavailable": 1, "selector": kinds["PodDisruptionBudget"]["spec"]["selector"]}
            env = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
            assert env[-1] == {"name": "X", "value": "1"}
    # A broken object is refused: the check is not a formality.
    (bad,) = [d for d in manifests(CHART, OVERRIDES) if d["kind"] == "Deployment"]
    bad["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["prot"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, version, strict=True)
