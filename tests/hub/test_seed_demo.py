"""`seed_demo` never creates the published demo superuser in production by mistake."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from hub.demo import DEMO_EMAIL
from hub.models import User

pytestmark = pytest.mark.django_db


def test_refuses_to_run_with_debug_off(settings):
    """Finding: "`seed_demo` runs in production: it creates the superuser whose password the
    README publishes". Refuse with DEBUG=false unless --i-know-this-is-not-production."""
    settings.DEBUG = False
    with pytest.raises(CommandError, match="i-know-this-is-not-production"):
        call_command("seed_demo")
    assert not User.objects.filter(email=DEMO_EMAIL).exists()


def test_runs_with_debug_off_when_told_it_is_not_production(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--i-know-this-is-not-production")
    assert User.objects.get(email=DEMO_EMAIL).is_superuser


def test_demo_issuer_mapping_only_with_the_simulators(settings):
    """ "the demo issuer mapping only with the simulators": without them the configured issuer
    is a real operator's, whose every subject must not act for the demo organisation."""
    from flexready.models import OperatorIdentity

    settings.DEBUG = True
    settings.HUB_SIMULATORS = False
    call_command("seed_demo")
    assert not OperatorIdentity.objects.filter(subject="").exists()
