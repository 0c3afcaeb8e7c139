from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "xinyu.staff"
    verbose_name = "Staff register (师资名册)"
