"""`manage.py check` (run before every start of the image) names sandbox settings provisioning cannot use.

The environment is checked as the settings are read (portal/env.py); this catches values a settings
module sets in code. While any is wrong, provisioning stays off rather than fail at a learner's click.
"""

from django.conf import settings
from django.core.checks import Error, register

from .sandbox.provisioning import ProvisionerSettings


@register()
def sandbox_provisioning_settings(app_configs, **kwargs):
    if not settings.SANDBOX_PROVISIONING:
        return []
    return [
        Error(problem, hint="Provisioning stays off until this is mended.", id="journeys.E101")
        for problem in ProvisionerSettings.from_django().problems()
    ]
