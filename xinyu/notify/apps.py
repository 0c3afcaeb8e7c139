from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "xinyu.notify"
    label = "notify"
    verbose_name = "Notifications"
