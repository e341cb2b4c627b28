from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "haopin.core"
    label = "core"
    verbose_name = "基础数据"

    def ready(self) -> None:
        from haopin.core import audit, services

        audit.declare(services.AUDIT_ACTIONS)
