from django.apps import AppConfig


class WellbeingConfig(AppConfig):
    name = "xinyu.wellbeing"
    verbose_name = "Staff wellbeing screening (教职工心理健康测评)"
