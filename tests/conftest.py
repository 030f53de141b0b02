import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from tests import factories

CONTENT_DIR = Path(django_settings.BASE_DIR) / "journeys" / "content"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached curriculum reads must not leak between tests."""
    from django.core.cache import cache

    from journeys.pages.content_version import forget_local

    cache.clear()
    forget_local()
    yield
    cache.clear()
    forget_local()


@pytest.fixture(autouse=True)
def _fast_test_settings(settings, tmp_path_factory):
    settings.STATIC_ROOT = tmp_path_factory.getbasetemp() / "static-root"
    settings.STATIC_ROOT.mkdir(exist_ok=True)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def user(db):
    return factories.UserFactory()


@pytest.fixture
def staff_user(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def curriculum(db):
    """The real curriculum from journeys/content, loaded into the test database."""
    call_command("load_journeys", verbosity=0)


@pytest.fixture
def content_copy(tmp_path):
    """A writable copy of the real curriculum, for tests that break or change files."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


@pytest.fixture(scope="session")
def helm():
    """The helm binary deploy/get-helm.sh installs (or one on PATH); CI fails without it, elsewhere the test skips."""
    found = Path(django_settings.BASE_DIR) / ".tools" / "bin" / "helm"
    binary = str(found) if found.exists() else shutil.which("helm")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("helm is missing: deploy/get-helm.sh installs it")
        pytest.skip("helm is not installed; run deploy/get-helm.sh")
    return binary
