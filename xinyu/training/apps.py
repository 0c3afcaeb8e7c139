from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "xinyu.training"
    verbose_name = "Training and certificates (培训与证书)"
