from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "haopin.registry"
    label = "registry"
    verbose_name = "品牌登记"

    def ready(self) -> None:
        from haopin.core import audit
        from haopin.registry import services

        audit.declare(services.AUDIT_ACTIONS)
