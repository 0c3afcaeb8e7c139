from django.apps import AppConfig


class MailboxConfig(AppConfig):
    name = "xinyu.mailbox"
    verbose_name = "Psychological mailbox (心理信箱)"
