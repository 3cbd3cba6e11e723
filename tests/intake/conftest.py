"""The mail servers for this folder's end-to-end tests: one Dovecot for the session."""

from tests.intake.mail_support import dovecot as dovecot
from tests.intake.mail_support import smtp as smtp
