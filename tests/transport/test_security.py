"""SASL and TLS settings reach the kafka-python clients."""

from __future__ import annotations

import ssl

from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr

from pipeline.settings import Settings
from pipeline.stream.app import broker_credentials
from pipeline.transport.client import connection_options


def test_plaintext_by_default_with_no_credentials() -> None:
    options = connection_options(Settings())
    assert options["security_protocol"] == "PLAINTEXT"
    assert "sasl_mechanism" not in options
    assert "ssl_context" not in options


def test_sasl_scram_over_tls_passes_credentials_and_a_verifying_context() -> None:
    settings = Settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="alice",
        sasl_password=SecretStr("s3cret"),
    )
    options = connection_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "alice"
    assert options["sasl_plain_password"] == "s3cret"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_sasl_plaintext_has_no_tls_context() -> None:
    options = connection_options(
        Settings(security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password="p")
    )
    assert options["sasl_mechanism"] == "PLAIN"
    assert "ssl_context" not in options


def test_the_password_is_not_shown_in_the_settings_repr() -> None:
    settings = Settings(security_protocol="SASL_SSL", sasl_username="u", sasl_password="hunter2")
    assert "hunter2" not in repr(settings)


def test_the_worker_gets_the_same_sasl_credentials_and_tls() -> None:
    settings = Settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="alice",
        sasl_password=SecretStr("s3cret"),
    )
    auth = credentials_to_aiokafka_auth(broker_credentials(settings))
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-256"
    assert auth["sasl_plain_username"] == "alice"
    assert auth["sasl_plain_password"] == "s3cret"
    assert isinstance(auth["ssl_context"], ssl.SSLContext)


def test_the_worker_gets_tls_alone_and_nothing_for_plaintext() -> None:
    auth = credentials_to_aiokafka_auth(broker_credentials(Settings(security_protocol="SSL")))
    assert auth["security_protocol"] == "SSL"
    assert broker_credentials(Settings()) is None


def test_exactly_once_is_passed_to_faust_when_chosen() -> None:
    from faust.types.enums import ProcessingGuarantee

    from pipeline.stream.app import create_app

    chosen: object = create_app(Settings(processing_guarantee="exactly_once")).conf
    default: object = create_app(Settings()).conf
    assert getattr(chosen, "processing_guarantee") == ProcessingGuarantee.EXACTLY_ONCE  # noqa: B009
    assert getattr(default, "processing_guarantee") == ProcessingGuarantee.AT_LEAST_ONCE  # noqa: B009


def test_a_child_process_gets_the_real_password_not_the_mask() -> None:
    env = Settings(security_protocol="SASL_SSL", sasl_password="hunter2").as_env()
    assert env["MEDIAMON_SASL_PASSWORD"] == "hunter2"
    assert (
        Settings.model_validate({"sasl_password": "hunter2"}).as_env()["MEDIAMON_SASL_PASSWORD"]
        == env["MEDIAMON_SASL_PASSWORD"]
    )
