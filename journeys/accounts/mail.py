"""Mail without a mail server."""

import logging

from django.core.mail.backends.base import BaseEmailBackend

mail_logger = logging.getLogger("journeys.mail")


class UnsentMailBackend(BaseEmailBackend):
    """For production without a mail server: says a mail was due, never what it said.

    The console backend prints whole messages, and a password-reset message carries a link that
    lets whoever reads the log take over the account.
    """

    def send_messages(self, email_messages):
        for message in email_messages:
            mail_logger.warning(
                "A mail (%s) would have been sent, but no mail server is configured: set EMAIL_HOST. "
                "Its text is not logged.",
                message.subject,
            )
        return len(email_messages)
