from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "xinyu.outreach"
    verbose_name = "Lectures, volunteer services and parent education (讲座与家庭教育指导)"
