"""How SES answers are classified: retry, this recipient only, unknown, or stop the run."""

import pytest
from botocore.exceptions import (ClientError, ConnectionClosedError, EndpointConnectionError, NoCredentialsError,
                                 ReadTimeoutError)

from pipeline.errors import BadResponse, ConfigError, Unreachable
from pipeline.send.backend import FAILED, FATAL, RETRY, UNKNOWN
from pipeline.send.ses import SesBackend
from pipeline.settings import load_settings

SENDER = "newsletter@example.org"


@pytest.fixture
def ses():
    return SesBackend(load_settings(environ={}, dotenv_path=None, overrides={
        "email.from_address": SENDER, "ses.endpoint_url": "http://127.0.0.1:9"}))


def client_error(code, message="", status=400):
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail")


@pytest.mark.parametrize("code, status", [
    ("Throttling", 400), ("TooManyRequestsException", 429), ("LimitExceededException", 400), ("", 429),
])
def test_throttling_is_retried_and_slows_everyone(ses, code, status):
    got = ses.classify(client_error(code, "Maximum sending rate exceeded.", status))
    assert got.result == RETRY and got.throttled


@pytest.mark.parametrize("code, status", [("InternalFailure", 500), ("ServiceUnavailable", 503), ("502", 502)])
def test_server_errors_are_retried(ses, code, status):
    assert ses.classify(client_error(code, "", status)).result == RETRY


@pytest.mark.parametrize("code, message", [
    ("MessageRejected", "Email address is not verified. The following identities failed the check in region "
                        "US-EAST-1: viewer@example.net"),  # the SES sandbox: only this recipient
    ("MessageRejected", "Illegal address"),
    ("BadRequestException", "Missing final '@domain'"),
    ("InvalidParameterValue", "Missing domain"),
])
def test_a_bad_recipient_fails_alone(ses, code, message):
    got = ses.classify(client_error(code, message))
    assert got.result == FAILED and got.error == f"{code}: {message}"


@pytest.mark.parametrize("code, message, status, kind", [
    ("MessageRejected", f"Email address is not verified. The following identities failed the check in region "
                        f"US-EAST-1: {SENDER}", 400, ConfigError),
    ("MessageRejected", f"Did not have authority to send from email {SENDER}", 400, ConfigError),
    ("InvalidClientTokenId", "The security token included in the request is invalid.", 403, ConfigError),
    ("403", "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>", 403, ConfigError),
    ("AccessDeniedException", "not authorized to perform ses:SendEmail", 403, ConfigError),
    ("AccountSuspendedException", "suspended", 400, ConfigError),
    ("NotFoundException", "Configuration set <news> does not exist.", 404, ConfigError),
    ("Throttling", "Daily message quota exceeded.", 400, BadResponse),
])
def test_account_problems_stop_the_run(ses, code, message, status, kind):
    got = ses.classify(client_error(code, message, status))
    assert got.result == FATAL and isinstance(got.fatal, kind)
    assert "\n" not in str(got.fatal) and "testing" not in str(got.fatal)


def test_the_wrapped_xml_code_is_reported(ses):
    got = ses.classify(client_error("403", "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code>"
                                           "</Error></Errors></ErrorResponse>", 403))
    assert got.error == "InvalidClientTokenId" and "InvalidClientTokenId" in str(got.fatal)


def test_transport_errors(ses):
    assert ses.classify(ReadTimeoutError(endpoint_url="http://x")).result == UNKNOWN
    assert ses.classify(ConnectionClosedError(endpoint_url="http://x")).result == UNKNOWN
    refused = ses.classify(EndpointConnectionError(endpoint_url="http://x"))
    assert refused.result == RETRY and isinstance(refused.give_up, Unreachable)
    nocreds = ses.classify(NoCredentialsError())
    assert nocreds.result == FATAL and "AWS_ACCESS_KEY_ID" in str(nocreds.fatal)


def test_request_carries_list_management_and_configuration_set():
    settings = load_settings(environ={}, dotenv_path=None, overrides={
        "email.from_address": SENDER, "ses.configuration_set": "newsletter", "ses.contact_list": "plex",
        "ses.topic": "weekly"})
    from tests.fixtures.outgoing import message, recipients

    msg = message(recipients(1)[0])
    req = SesBackend(settings).request(msg)
    assert req["FromEmailAddress"] == SENDER
    assert req["Destination"] == {"ToAddresses": [msg.recipient.email]}
    assert req["Content"] == {"Raw": {"Data": msg.mime}}
    assert req["ConfigurationSetName"] == "newsletter"
    assert req["ListManagementOptions"] == {"ContactListName": "plex", "TopicName": "weekly"}
    assert {"Name": "marquee-key", "Value": "weekly-2026-W46"} in req["EmailTags"]
    bare = SesBackend(load_settings(environ={}, dotenv_path=None, overrides={"email.from_address": SENDER}))
    assert "ConfigurationSetName" not in bare.request(msg) and "ListManagementOptions" not in bare.request(msg)
