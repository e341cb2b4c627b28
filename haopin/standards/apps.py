from django.apps import AppConfig


class StandardsConfig(AppConfig):
    name = "haopin.standards"
    label = "standards"
    verbose_name = "标准与评价细则"

    def ready(self) -> None:
        from haopin.core import audit
        from haopin.standards import services

        audit.declare(services.AUDIT_ACTIONS)
