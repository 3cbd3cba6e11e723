"""The settings objects of intake and bot, built from the config in this one place.

:mod:`assay.config` reads the file into frozen sections; here they become what the
transports take as arguments: a mailbox's connection settings, the mailer's, the Slack
app's, the reply and grievance policies. (The core's clock and sandbox limits come from
:class:`~assay.config.Config` itself, so a command that only screens never imports the
transports.) Secrets are read from the environment variables the ``*_env`` keys name,
here and nowhere else, and are never logged.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.mailer import SmtpSettings
from bot.slack_app import SlackSettings
from bot.slack_notifier import SlackDelivery
from intake.grievance import GrievancePolicy
from intake.mailbox import MailboxSettings
from intake.messages import MailLimits
from intake.supplier_mail import ReplyPolicy
from storage.crypto import Cipher, load_cipher

from .config import Config

MB = 1024 * 1024


def secret(env_var: str) -> str:
    """The value of the environment variable a ``*_env`` key names ("" when unset)."""
    return os.environ.get(env_var, "") if env_var else ""


def mailbox_settings(config: Config, name: str) -> MailboxSettings:
    """``[mail.suppliers]`` or ``[mail.grievances]``."""
    s = config.mail.grievances if name == "grievances" else config.mail.suppliers
    return MailboxSettings(
        kind=s.kind,
        path=s.path,
        host=s.host,
        port=s.port,
        security=s.security,
        user=s.user,
        password=secret(s.password_env),
        folder=s.folder,
        processed_folder=s.processed_folder,
        attention_folder=s.attention_folder,
        poll_seconds=s.poll_seconds,
        delete_processed=s.delete_processed,
    )


def mail_limits(config: Config) -> MailLimits:
    return MailLimits(
        max_message_bytes=int(config.mail.max_message_mb * MB),
        max_attachment_bytes=int(config.mail.max_attachment_mb * MB),
    )


def reply_policy(config: Config) -> ReplyPolicy:
    return ReplyPolicy(max_replies_per_hour=config.mail.max_replies_per_hour)


def grievance_policy(config: Config) -> GrievancePolicy:
    return GrievancePolicy(respond_days=config.grievance.respond_days)


def smtp_settings(config: Config) -> SmtpSettings:
    s = config.smtp
    return SmtpSettings(
        host=s.host,
        port=s.port,
        security=s.security,
        user=s.user,
        password=secret(s.password_env),
        outbox_dir=s.outbox_dir,
        retry_seconds=s.retry_seconds,
        max_attempts=s.max_attempts,
        permanent_attempts=s.permanent_attempts,
        lease_seconds=s.lease_seconds,
        reply_from=config.mail.reply_from,
        grievance_from=config.grievance.reply_from,
        signature=config.mail.signature,
        return_workbook=config.mail.return_workbook,
        limits=config.limits.to_limits(),
        current_versions=dict(config.screening.current_versions),
    )


def slack_settings(config: Config) -> SlackSettings | None:
    """The Slack app's settings; None without a bot token (the embedded default)."""
    s = config.slack
    token = secret(s.bot_token_env)
    if not token:
        return None
    return SlackSettings(
        bot_token=token,
        signing_secret=secret(s.signing_secret_env),
        channel=s.channel,
        officers=s.officers,
        workspace_id=s.workspace_id,
        api_url=s.api_url,
        max_file_bytes=int(config.mail.max_attachment_mb * MB),
        current_versions=dict(config.screening.current_versions),
        stale_after_days=config.campaigns.stale_after_days,
    )


def slack_delivery(config: Config) -> SlackDelivery:
    s = config.slack
    return SlackDelivery(
        backoff_seconds=s.retry_seconds,
        permanent_attempts=s.permanent_attempts,
        lease_seconds=s.lease_seconds,
    )


def alerts_log(config: Config) -> Path | None:
    return Path(config.alerts.log_file) if config.alerts.log_file else None


def grievance_cipher(config: Config) -> Cipher:
    g = config.grievance
    return load_cipher(g.key_env, Path(g.key_file) if g.key_file else None)


def mail_workers(config: Config) -> int:
    """Processes that screen supplier mail: ``[mail] workers``, 0 meaning one per CPU."""
    n = config.mail.workers
    return n if n > 0 else (os.cpu_count() or 1)
