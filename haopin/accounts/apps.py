from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "haopin.accounts"
    label = "accounts"
    verbose_name = "账户与单位"

    def ready(self) -> None:
        from haopin.accounts import services
        from haopin.core import audit

        audit.declare(services.AUDIT_ACTIONS)
