"""Amazon SES (v2 API, raw MIME): pre-flight checks, the suppression list, and one call per message.

botocore's own retries are off: the run loop retries, so that every call takes a token from the
shared bucket and a throttled call slows every thread, not just the one that was throttled.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from pipeline.errors import BadResponse, ConfigError, Unreachable
from pipeline.send.backend import FAILED, FATAL, RETRY, SENT, UNKNOWN, Attempt

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.render.email.message import OutgoingMessage

log = logging.getLogger(__name__)

AUTH_CODES = {"UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch",
              "InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken",
              "MissingAuthenticationTokenException", "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId",
              "AccessDenied", "AccessDeniedException", "NotAuthorized", "403"}
THROTTLE_CODES = {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException",
                  "RequestLimitExceeded", "SlowDown", "ServiceUnavailable", "RequestThrottled", "429"}
# Problems of the account or its configuration: every further message would fail the same way.
STOP_CODES = {"AccountSuspendedException", "SendingPausedException", "AccountSendingPausedException",
              "MailFromDomainNotVerifiedException", "MailFromDomainNotVerified", "NotFoundException",
              "ConfigurationSetDoesNotExist", "ConfigurationSetDoesNotExistException",
              "ConfigurationSetSendingPausedException", "404"}
_INNER_CODE = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _code(error: dict, status: int | None) -> str:
    code = str(error.get("Code") or status or "")
    inner = _INNER_CODE.search(str(error.get("Message", "")))
    # moto (and some proxies) wrap the real error in an XML body behind a bare status code.
    return inner.group(1) if inner and code.isdigit() else code


def _message(error: dict) -> str:
    text = str(error.get("Message", "")).strip()
    if text.startswith("<"):
        text = ""  # an HTML or XML page, not a message
    return " ".join(text.split())[:300]


class SesBackend:
    """Sends through sesv2 `send_email` with Raw content, paced to the account's sending rate."""

    name = "ses"

    def __init__(self, settings: "Settings", *, session: Any = None) -> None:
        self.settings, self.conf = settings, settings.ses
        self.sender = settings.email.from_address.strip()
        self.concurrency = self.conf.concurrency
        self.rate: float | None = self.conf.max_send_rate or None
        self._session = session
        self.v2: Any = None
        self.v1: Any = None

    @property
    def where(self) -> str:
        return self.conf.endpoint_url or f"SES in {self.conf.region}"

    # -- set-up ---------------------------------------------------------------------------------------
    def _clients(self) -> None:
        import boto3
        from botocore.config import Config

        config = Config(region_name=self.conf.region, connect_timeout=10, read_timeout=30,
                        retries={"total_max_attempts": 1, "mode": "standard"},
                        max_pool_connections=max(10, self.concurrency * 2))
        session = self._session or boto3.session.Session()
        endpoint = self.conf.endpoint_url or None
        self.v2 = session.client("sesv2", endpoint_url=endpoint, config=config)
        self.v1 = session.client("ses", endpoint_url=endpoint, config=config)

    def open(self) -> None:
        if not self.sender:
            raise ConfigError("email.from_address is empty; set it to an address SES has verified")
        self._clients()
        if self.rate is None:
            self.rate = self._account_rate()
        self._check_sender()

    def check(self) -> dict:
        """Raise unless the sender is verified (no mail goes out); return SESv2's account (quota, sandbox)."""
        if not self.sender:
            raise ConfigError("email.from_address is empty; set it to an address SES has verified")
        self._clients()
        self._check_sender()
        account, failed = self._call(self.v2.get_account)
        if failed is not None:
            raise failed.fatal or failed.give_up or BadResponse(f"{self.where} failed reading the account: "
                                                                f"{failed.error}")
        return account

    def verified(self, address: str) -> bool:
        """Whether SES may send to this address from a sandboxed account (it, or its domain, is verified)."""
        if self.v2 is None:
            self._clients()
        for identity in (address, address.rsplit("@", 1)[-1]):
            found, failed = self._call(self.v2.get_email_identity, EmailIdentity=identity)
            if failed is None and found.get("VerificationStatus") in (None, "SUCCESS"):
                return True
        return False

    def _call(self, fn: Any, **kwargs: Any) -> tuple[Any, Attempt | None]:
        """Run one set-up call: (response, None) or (None, what went wrong)."""
        try:
            return fn(**kwargs), None
        except Exception as exc:  # classified below; set-up never retries
            return None, self.classify(exc)

    def _account_rate(self) -> float:
        quota, failed = self._call(self.v1.get_send_quota)
        if failed is not None:
            if failed.give_up is not None:
                raise failed.give_up
            if failed.result == FATAL and not self._denied(failed):
                raise failed.fatal  # type: ignore[misc]
            log.warning("SES: cannot read the account's MaxSendRate (%s); pacing at 1 message/s. "
                        "Set ses.max_send_rate to your account's rate", failed.error)
            return 1.0
        rate = float(quota.get("MaxSendRate") or 1.0)
        left = float(quota.get("Max24HourSend", 0)) - float(quota.get("SentLast24Hours", 0))
        log.info("SES: pacing at the account's MaxSendRate of %g messages/s; %d left in the 24-hour quota",
                 rate, max(0, int(left)))
        return rate

    def _denied(self, attempt: Attempt) -> bool:
        return attempt.error is not None and attempt.error.startswith(("AccessDenied", "NotAuthorized"))

    def _check_sender(self) -> None:
        """The From address, or its domain, must be a verified identity; anything else fails every message."""
        domain = self.sender.rsplit("@", 1)[-1]
        unverified = []
        for identity in (self.sender, domain):
            found, failed = self._call(self.v2.get_email_identity, EmailIdentity=identity)
            if failed is None:
                status = found.get("VerificationStatus")
                if status in (None, "SUCCESS"):
                    return
                unverified.append(f"{identity} is {status}")
                continue
            if self._denied(failed):
                log.info("SES: not allowed to read identities (%s); sending without checking %s", failed.error,
                         self.sender)
                return
            if failed.result == FATAL and (failed.error or "").startswith("NotFound"):
                continue
            raise failed.fatal or failed.give_up or BadResponse(
                f"{self.where} failed checking the sender: {failed.error}")
        if unverified:
            raise ConfigError(f"SES identity {' and '.join(unverified)}, not verified; finish the verification "
                              "before sending")
        raise ConfigError(f"neither {self.sender} nor {domain} is a verified identity in {self.where}; verify one "
                          "(SES console > Identities) or change email.from_address")

    def suppressed(self) -> dict[str, str]:
        """The account-level suppression list (bounces, complaints), read once per run."""
        found: dict[str, str] = {}
        token = None
        while True:
            kwargs = {"PageSize": 1000, **({"NextToken": token} if token else {})}
            page, failed = self._call(self.v2.list_suppressed_destinations, **kwargs)
            if failed is not None:
                if failed.result == FATAL and not (self._denied(failed) or failed.error in ("404", "NotFound")):
                    raise failed.fatal  # type: ignore[misc]
                log.warning("SES: the account suppression list is not available at %s (%s); sending without "
                            "checking it", self.where, failed.error)
                return {}
            for item in page.get("SuppressedDestinationSummaries", []):
                found[str(item["EmailAddress"]).lower()] = f"on the SES suppression list ({item.get('Reason', '?')})"
            token = page.get("NextToken")
            if not token:
                return found

    # -- sending --------------------------------------------------------------------------------------
    def request(self, msg: "OutgoingMessage") -> dict:
        """The send_email arguments for one message."""
        kwargs: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [msg.recipient.email]},
            "Content": {"Raw": {"Data": msg.mime}},
            # Tags reach SES event publishing (bounces, opens) so events can be joined to the ledger.
            "EmailTags": [{"Name": "marquee-kind", "Value": _TAG_UNSAFE.sub("_", msg.kind)[:256]},
                          {"Name": "marquee-key", "Value": _TAG_UNSAFE.sub("_", msg.key)[:256]}],
        }
        if self.conf.configuration_set:
            kwargs["ConfigurationSetName"] = self.conf.configuration_set
        if self.conf.contact_list:
            kwargs["ListManagementOptions"] = {"ContactListName": self.conf.contact_list,
                                               **({"TopicName": self.conf.topic} if self.conf.topic else {})}
        return kwargs

    def attempt(self, msg: "OutgoingMessage") -> Attempt:
        try:
            response = self.v2.send_email(**self.request(msg))
        except Exception as exc:
            return self.classify(exc, msg)
        return Attempt(SENT, provider_id=response.get("MessageId"))

    def classify(self, exc: Exception, msg: "OutgoingMessage | None" = None) -> Attempt:
        """Turn a boto3 exception into retry / failed / unknown / fatal, with a one-line reason."""
        from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectionError,
                                         NoCredentialsError, PartialCredentialsError, ReadTimeoutError)

        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return Attempt(FATAL, error="NoCredentials", fatal=ConfigError(
                "no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"))
        if isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
            # The request may have reached SES: sending again could duplicate it.
            return Attempt(UNKNOWN, error=f"no answer from {self.where} ({type(exc).__name__})")
        if isinstance(exc, ConnectionError):
            return Attempt(RETRY, error=f"cannot reach {self.where}",
                           give_up=Unreachable(f"cannot reach {self.where}; check ses.endpoint_url / ses.region "
                                               "and the network"))
        if not isinstance(exc, ClientError):
            if isinstance(exc, BotoCoreError):
                return Attempt(UNKNOWN, error=f"{type(exc).__name__}: {exc}"[:300])
            raise exc
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code, text = _code(error, status), _message(error)
        line = f"{code}: {text}" if text else code
        if code in AUTH_CODES or status == 403:
            return Attempt(FATAL, error=line, fatal=ConfigError(
                f"{self.where} refused the credentials or permissions ({line}); check the AWS keys and that "
                "they allow ses:SendEmail"))
        if "daily message quota" in text.lower() or "Max24HourSend" in text:
            return Attempt(FATAL, error=line, fatal=BadResponse(
                "SES daily sending quota reached; the rest stay pending, run send again in 24 hours"))
        if code in THROTTLE_CODES or status == 429:
            return Attempt(RETRY, error=line, throttled=True)
        if status is not None and status >= 500:
            return Attempt(RETRY, error=line)
        if code in STOP_CODES:
            return Attempt(FATAL, error=line, fatal=ConfigError(f"{self.where} refused to send: {line}; check "
                                                                "ses.configuration_set, ses.contact_list and the "
                                                                "account's sending status"))
        if code == "MessageRejected" and self._sender_rejected(text):
            return Attempt(FATAL, error=line, fatal=ConfigError(
                f"SES will not send from {self.sender} ({text}); verify it or change email.from_address"))
        # MessageRejected for this message, an invalid address, a bad request: this recipient only.
        return Attempt(FAILED, error=line)

    def _sender_rejected(self, text: str) -> bool:
        lowered = text.lower()
        if "send from" in lowered or "from address" in lowered:
            return True
        # "Email address is not verified. The following identities failed the check: ..." names the
        # sender when the sender is the problem, and only the recipient in the SES sandbox.
        return "not verified" in lowered and self.sender.lower() in lowered

    def delivered(self, msg: "OutgoingMessage") -> bool | None:
        return None  # SES cannot be asked whether a message left

    def close(self) -> None:
        for client in (self.v1, self.v2):
            if client is not None:
                client.close()
